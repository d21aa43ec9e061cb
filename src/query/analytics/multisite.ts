/**
 * Multi-site (API.md `POST /v1/analytics/multisite`) in the engine: one kernel scan filter per site (its
 * area, its window and the request's window), all sites of a shard in one task; a source's per-site row
 * lists are merged into one row set with a bit per site, so a read inside two sites counts once; then
 * per plate id the OR of the bits and the count of rows. Sources none of whose rows fall in a site cost
 * nothing here (the row scan skips the shards no site reaches: shard-reach.ts).
 */
import { comparePlates, type MultisiteQuery, type MultisiteResult, type MultisiteRow } from '../../model/analytics.js';
import type { ReadFilter } from '../../model/query.js';
import type { Source } from '../sources.js';
import { IdSpace } from './columns.js';
import { cutRows, type AnalysisContext } from './context.js';
import type { SourceRows } from './row-scan.js';

/** A site's filter within the request's window (both windows apply). */
export function siteFilter(site: ReadFilter, window: ReadFilter): ReadFilter {
  const out: ReadFilter = { ...site };
  const from = Math.max(site.from ?? -Infinity, window.from ?? -Infinity);
  let to = Math.min(site.to ?? Infinity, window.to ?? Infinity);
  if (to < from) to = from; // disjoint windows: an empty one
  if (Number.isFinite(from)) out.from = from;
  else delete out.from;
  if (Number.isFinite(to)) out.to = to;
  else delete out.to;
  return out;
}

/** A source's rows of every site, once each, with the bit set of their sites. */
function mergeSites(s: SourceRows): { rows: number[]; tags: number[] } {
  if (s.rows.length === 1) return { rows: Array.from(s.rows[0]!), tags: new Array<number>(s.rows[0]!.length).fill(1) };
  const mask = new Map<number, number>();
  s.rows.forEach((rows, k) => {
    for (let j = 0; j < rows.length; j++) mask.set(rows[j]!, (mask.get(rows[j]!) ?? 0) | (1 << k));
  });
  return { rows: [...mask.keys()], tags: [...mask.values()] };
}

function bits(m: number): number {
  let n = 0;
  for (; m !== 0; m &= m - 1) n++;
  return n;
}

/**
 * The plate id of each row of a source (shards: by dictionary entry; live rows: by their plate). A source with
 * few rows for its dictionary (the usual multi-site: an hour and 500 m of a day's shard) hashes each row's
 * plate; one with many rows translates each dictionary entry once through IdSpace's per-shard table, which
 * costs the dictionary's size to build.
 */
function plateIdsOf(ids: IdSpace, src: Source, rows: ArrayLike<number>): (j: number) => number {
  if (src.kind === 'live') return (j) => ids.plates.id(src.view.plate(rows[j]!));
  const sh = src.shard;
  if (rows.length * 4 < sh.layout.dictCount) return (j) => ids.shardPlate(src, sh.plate(rows[j]!));
  const table = ids.platesOf(src);
  return (j) => {
    const d = sh.plate(rows[j]!);
    let p = table[d]!;
    if (p < 0) table[d] = p = ids.shardPlate(src, d);
    return p;
  };
}

export async function runMultisite(ctx: AnalysisContext, q: MultisiteQuery): Promise<MultisiteResult> {
  const ids = new IdSpace();
  const scanned = await ctx.scan({ filters: q.sites.map((s) => siteFilter(s, q.filter)) });
  // per plate id: the bit set of its sites and its reads inside any site (only plates and tags: no columns)
  const sites: number[] = [];
  const reads: number[] = [];
  for (const s of scanned) {
    if (s.rows.every((r) => r.length === 0)) continue;
    const { rows, tags } = mergeSites(s);
    const plateOf = plateIdsOf(ids, s.src, rows);
    for (let j = 0; j < rows.length; j++) {
      ctx.budget?.tick();
      const p = plateOf(j);
      if (p === sites.length) {
        sites.push(0);
        reads.push(0);
      }
      sites[p]! |= tags[j]!;
      reads[p]!++;
    }
  }
  const all: MultisiteRow[] = [];
  for (let p = 0; p < sites.length; p++) {
    if (bits(sites[p]!) < q.minSites) continue;
    const list: number[] = [];
    for (let k = 0; k < q.sites.length; k++) if (sites[p]! & (1 << k)) list.push(k);
    all.push({ plate: ids.plates.name(p), sites: list, reads: reads[p]! });
  }
  all.sort((a, b) => b.sites.length - a.sites.length || b.reads - a.reads || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
