/**
 * Multi-site (API.md `POST /v1/analytics/multisite`) in the engine: one kernel scan filter per site (its
 * area, its window and the request's window), all sites of a shard in one task; a source's per-site row
 * lists are merged into one row set with a bit per site, so a read inside two sites counts once; then
 * per plate id the OR of the bits and the count of rows.
 */
import { comparePlates, type MultisiteQuery, type MultisiteResult, type MultisiteRow } from '../../model/analytics.js';
import type { ReadFilter } from '../../model/query.js';
import { gather, IdSpace } from './columns.js';
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

export async function runMultisite(ctx: AnalysisContext, q: MultisiteQuery): Promise<MultisiteResult> {
  const ids = new IdSpace();
  const scanned = await ctx.scan({ filters: q.sites.map((s) => siteFilter(s, q.filter)) });
  const c = gather(ids, scanned, ctx.budget, mergeSites);
  const sites = new Int32Array(ids.plates.size);
  const reads = new Int32Array(ids.plates.size);
  for (let k = 0; k < c.n; k++) {
    ctx.budget?.tick();
    sites[c.plate[k]!]! |= c.tag[k]!;
    reads[c.plate[k]!]!++;
  }
  const all: MultisiteRow[] = [];
  for (let p = 0; p < ids.plates.size; p++) {
    if (reads[p] === 0 || bits(sites[p]!) < q.minSites) continue;
    const list: number[] = [];
    for (let k = 0; k < q.sites.length; k++) if (sites[p]! & (1 << k)) list.push(k);
    all.push({ plate: ids.plates.name(p), sites: list, reads: reads[p]! });
  }
  all.sort((a, b) => b.sites.length - a.sites.length || b.reads - a.reads || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
