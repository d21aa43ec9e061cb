/**
 * A plate pattern's distances for the shards that read their plates through their tenant's dictionary
 * (docs/storage-v2.md, "Round 4", step 4 as the cheaper fallback). Such a shard keeps its own codes in
 * its plate lane, but its 16-byte slots are out of its arena region, so its segment task cannot match its
 * own dictionary. Instead the pattern is matched once per query against the tenant dictionary the shard
 * reads through (`matchPlatesOnce`, src/query/plate-distances.ts), and each covered shard's task is given
 * the distances of its own codes through its code → tenant id map: `dist[c] = tenant[ids[c]]`, 1 B a shard
 * plate, gathered here (on the calling thread, over the codes the pattern's prefix range allows) into
 * memory of the shard's arena: a region for a pool task, the calling thread's scratch for its own.
 *
 * The task then reads no slot at all (a given `dist` skips the match: src/query/segment-task.ts), which is
 * what the leases (LoadedShard.leaseSlots: 16 B a shard plate gathered back per query) cost before.
 */
import type { ArenaSet, Region } from '../core/arena.js';
import type { Kernels } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import type { PlateMatch } from '../model/query.js';
import type { PlateEpoch } from '../store/plate-epoch.js';
import { gatherById, idLowerBound } from '../store/plate-id-lane.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { matchPlatesOnce, type PlateDistances } from './plate-distances.js';

/** A tenant dictionary's distances under the query's pattern: entries outside [lo, hi) are kNoMatch. */
interface TenantDistances {
  dist: Uint8Array;
  lo: number;
  hi: number;
  matched: number;
}

/** How covered shards' distances were made since the process started (tests and benchmarks). */
export const coveredDistanceCounts = { tenantMatches: 0, shardGathers: 0 };

/** Per query: the tenant distances made once per dictionary epoch, and the shards' regions to free. */
export class CoveredDistances {
  private readonly byEpoch = new Map<PlateEpoch, TenantDistances | null>();
  private readonly regions: Region[] = [];

  constructor(
    private readonly arenas: ArenaSet,
    private readonly match: PlateMatch,
    private readonly kernelsFor: (arena: number) => Kernels | undefined,
  ) {}

  /**
   * The distances of `shard`'s codes in a fresh region of its arena (freed by `release`), for a pool task;
   * undefined when the shard reads its own slots (not covered), or there is no room (the caller then
   * leaves the shard to the calling thread).
   */
  inRegion(shard: LoadedShard): PlateDistances | undefined {
    return this.gather(shard, (bytes) => {
      const arena = shard.layout.arena;
      const ptr = this.arenas.allocIn(arena, bytes, 16);
      if (ptr >= 0) this.regions.push({ arena, ptr, bytes });
      return ptr;
    });
  }

  /**
   * The same in `k`'s scratch (the calling thread's kernels over the shard's arena; the caller releases
   * the scratch after the task). Throws RangeError when the scratch has no room.
   */
  inScratch(shard: LoadedShard, k: Kernels): PlateDistances | undefined {
    return this.gather(shard, (bytes) => k.scratch.alloc(bytes, 16));
  }

  /** Frees the regions made for pool tasks (once the tasks are back). */
  release(): void {
    for (const r of this.regions.splice(0)) this.arenas.free(r);
  }

  private gather(shard: LoadedShard, alloc: (bytes: number) => number): PlateDistances | undefined {
    const ids = shard.plateIds(), lane = shard.plateIdLane(), epoch = shard.readsThrough;
    if (ids === null || lane === undefined || epoch === undefined) return undefined;
    const t = this.tenant(epoch);
    if (t === null) return undefined;
    const n = shard.layout.dictCount;
    const ptr = alloc(Math.max(16, n));
    if (ptr < 0) return undefined;
    // the map is ascending: the tenant range [lo, hi) is a range of the shard's codes
    const lo = idLowerBound(lane, ids, t.lo), hi = idLowerBound(lane, ids, t.hi, lo);
    const out = new Uint8Array(this.arenas.arena(shard.layout.arena).memory.buffer, ptr, n);
    out.fill(kNoMatch, 0, lo);
    out.fill(kNoMatch, hi);
    const matched = gatherById(lane, lo, hi, t.dist, out, kNoMatch);
    coveredDistanceCounts.shardGathers++;
    return { ptr, lo, hi, matched };
  }

  /** The pattern matched over `epoch`'s dictionary, once per query; null when it cannot be (no kernels or room). */
  private tenant(epoch: PlateEpoch): TenantDistances | null {
    let t = this.byEpoch.get(epoch);
    if (t !== undefined) return t;
    t = null;
    const region = epoch.region;
    const k = region ? this.kernelsFor(region.arena) : undefined;
    if (region && k && epoch.count > 0) {
      const ptr = this.arenas.allocIn(region.arena, Math.max(16, epoch.count), 16);
      if (ptr >= 0) {
        try {
          const m = matchPlatesOnce(k, { dict: region.ptr, dictCount: epoch.count }, this.match, ptr);
          t = { dist: k.bytes(ptr, epoch.count).slice(), lo: m.lo, hi: Math.max(m.lo, m.hi), matched: m.matched };
          coveredDistanceCounts.tenantMatches++;
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
        } finally {
          this.arenas.free({ arena: region.arena, ptr });
        }
      }
    }
    this.byEpoch.set(epoch, t);
    return t;
  }
}
