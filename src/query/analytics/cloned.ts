/**
 * Cloned plates (API.md `POST /v1/analytics/cloned`) in the engine: one kernel scan of the window; the rows
 * bucketed by plate id (a counting sort), each plate's rows ordered by ts then id (tenant ordinal, seq:
 * the id's own order), and consecutive pairs tested with the reference's haversine on the stored
 * coordinates. Only the fastest pair of each plate is materialised as hits.
 */
import { comparePlates, speedKmh, type ClonedQuery, type ClonedResult, type ClonedRow } from '../../model/analytics.js';
import { haversineM } from '../reference/geo.js';
import { gather, hitOf, IdSpace, idParts, type Columns } from './columns.js';
import { cutRows, type AnalysisContext } from './context.js';

/** Read order: ts, then id (ordinal, seq). */
function compareRows(c: Columns, a: number, b: number): number {
  const d = c.ts[a]! - c.ts[b]!;
  if (d !== 0) return d;
  const x = idParts(c, a), y = idParts(c, b);
  return x.ordinal - y.ordinal || x.seq - y.seq;
}

/**
 * Sorts a plate's rows in place into read order. They arrive mostly in order (sources are gathered shard
 * by shard, day by day), so an insertion sort is linear on them and allocates nothing; a long run that is
 * not yet in order goes to the library sort.
 */
function sortRows(rows: Int32Array, cmp: (a: number, b: number) => number): void {
  let moves = 0;
  for (let i = 1; i < rows.length; i++) {
    const x = rows[i]!;
    let j = i - 1;
    while (j >= 0 && cmp(rows[j]!, x) > 0) {
      rows[j + 1] = rows[j]!;
      j--;
      if (++moves > 4 * rows.length + 64) {
        rows[j + 1] = x; // a permutation again
        rows.set(Array.from(rows).sort(cmp));
        return;
      }
    }
    rows[j + 1] = x;
  }
}

export async function runCloned(ctx: AnalysisContext, q: ClonedQuery): Promise<ClonedResult> {
  const ids = new IdSpace();
  const c = gather(ids, await ctx.scan({ filters: [q.filter] }), ctx.budget);
  const n = ids.plates.size;
  // counting sort of the rows by plate id
  const start = new Int32Array(n + 1);
  for (let k = 0; k < c.n; k++) start[c.plate[k]! + 1]!++;
  for (let p = 0; p < n; p++) start[p + 1]! += start[p]!;
  const order = new Int32Array(c.n);
  const fill = start.slice(0, n);
  for (let k = 0; k < c.n; k++) order[fill[c.plate[k]!]!++] = k;
  const all: ClonedRow[] = [];
  const cmp = (a: number, b: number) => compareRows(c, a, b);
  for (let p = 0; p < n; p++) {
    const lo = start[p]!, hi = start[p + 1]!;
    if (hi - lo < 2) continue;
    ctx.budget?.check();
    const rows = order.subarray(lo, hi);
    sortRows(rows, cmp);
    let pairs = 0, best = -1, bestSpeed = 0;
    for (let j = 1; j < rows.length; j++) {
      ctx.budget?.tick();
      const a = rows[j - 1]!, b = rows[j]!;
      const d = haversineM(c.lat[a]!, c.lon[a]!, c.lat[b]!, c.lon[b]!);
      const speed = speedKmh(d, c.ts[b]! - c.ts[a]!);
      if (!(d >= q.minDistanceM && speed > q.maxSpeedKmh)) continue;
      pairs++;
      if (best < 0 || speed > bestSpeed) {
        best = j;
        bestSpeed = speed;
      }
    }
    if (best >= 0) {
      all.push({ plate: ids.plates.name(p), pairs, maxSpeedKmh: bestSpeed, example: [hitOf(c, rows[best - 1]!), hitOf(c, rows[best]!)] });
    }
  }
  all.sort((a, b) => b.pairs - a.pairs || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
