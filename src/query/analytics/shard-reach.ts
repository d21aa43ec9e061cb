/**
 * Whether a row scan's filter can reach any row of a shard, from what is known without scanning: the shard's
 * time span and its zone maps (per block of kBlockRows rows: time, latitude and longitude extremes), against
 * the filter's window (retention floor folded in) and the conservative box of its area (filter-plan.ts).
 *
 * The planner keeps every shard whose span meets the analysis' planning window; for multi-site that window is
 * the union of the sites' windows, so three incidents a fortnight apart plan every shard of the fortnight,
 * though each site's hour and 500 m touch one or two shards. Asking this per shard and filter before
 * dispatching lets the row scan skip the shards no filter reaches (no task, no round trip, no per-shard id
 * tables) and size the remaining work by the pairs that are left.
 *
 * False only when no row of the shard can pass: the kernels prune blocks on the same zone maps
 * (src/core/segment.ts: they hold the exact extremes, or wider).
 */
import { zoneMayMatch, type PreparedFilter } from '../filter-plan.js';
import type { ShardSource } from '../sources.js';

/** `p`: the filter prepared with the shard's retention floor (prepareFilter(filter, src.minTs)). */
export function filterReachesShard(src: ShardSource, p: PreparedFilter): boolean {
  const s = src.shard;
  if (s.rows === 0 || p.empty || s.meta.maxTs < p.lo || s.meta.minTs >= p.hi) return false;
  const z = s.zones;
  const blocks = Math.floor(z.length / 6);
  if (blocks === 0) return true; // no zone maps: only the span is known
  for (let b = 0; b < blocks; b++) {
    const o = b * 6;
    if (zoneMayMatch(p, z[o]!, z[o + 1]!, z[o + 2]!, z[o + 3]!, z[o + 4]!, z[o + 5]!)) return true;
  }
  return false;
}
