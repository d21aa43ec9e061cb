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

/**
 * Whether row a comes after row b in read order (ts, then id = (tenant ordinal, seq)). The id is read only
 * on equal times, which are rare.
 */
function after(c: Columns, a: number, b: number): boolean {
  const d = c.ts[a]! - c.ts[b]!;
  if (d !== 0) return d > 0;
  const x = idParts(c, a), y = idParts(c, b);
  return x.ordinal - y.ordinal > 0 || (x.ordinal === y.ordinal && x.seq > y.seq);
}

/**
 * Sorts order[lo, hi) (one plate's rows) in place into read order. They arrive mostly in order (sources are
 * gathered shard by shard, day by day, and a shard's rows by hour), so an insertion sort is about linear on
 * them and allocates nothing; a range that turns out far from order goes to the library sort.
 */
function sortRange(c: Columns, order: Int32Array, lo: number, hi: number): void {
  let moves = 0;
  const limit = 4 * (hi - lo) + 64;
  for (let i = lo + 1; i < hi; i++) {
    const x = order[i]!;
    let j = i - 1;
    while (j >= lo && after(c, order[j]!, x)) {
      order[j + 1] = order[j]!;
      j--;
      if (++moves > limit) {
        order[j + 1] = x; // a permutation again
        const sorted = Array.from(order.subarray(lo, hi)).sort((a, b) => (after(c, a, b) ? 1 : after(c, b, a) ? -1 : 0));
        order.set(sorted, lo);
        return;
      }
    }
    order[j + 1] = x;
  }
}

export async function runCloned(ctx: AnalysisContext, q: ClonedQuery): Promise<ClonedResult> {
  const ids = new IdSpace();
  const c = gather(ids, await ctx.scan({ filters: [q.filter] }), ctx.budget);
  const n = ids.plates.size;
  // counting sort of the rows by plate id (stable: each plate's rows keep their gathered order)
  const start = new Int32Array(n + 1);
  const plate = c.plate;
  for (let k = 0; k < c.n; k++) start[plate[k]! + 1]!++;
  for (let p = 0; p < n; p++) start[p + 1]! += start[p]!;
  const order = new Int32Array(c.n);
  const fill = start.slice(0, n);
  for (let k = 0; k < c.n; k++) order[fill[plate[k]!]!++] = k;
  const ts = c.ts, lat = c.lat, lon = c.lon;
  const budget = ctx.budget;
  const all: ClonedRow[] = [];
  for (let p = 0; p < n; p++) {
    const lo = start[p]!, hi = start[p + 1]!;
    if (hi - lo < 2) continue; // most plates of a week: one read, no pair
    budget?.tick();
    sortRange(c, order, lo, hi);
    let pairs = 0, best = -1, bestSpeed = 0;
    for (let j = lo + 1; j < hi; j++) {
      const a = order[j - 1]!, b = order[j]!;
      const d = haversineM(lat[a]!, lon[a]!, lat[b]!, lon[b]!);
      if (d < q.minDistanceM) continue;
      const speed = speedKmh(d, ts[b]! - ts[a]!);
      if (!(speed > q.maxSpeedKmh)) continue;
      pairs++;
      if (best < 0 || speed > bestSpeed) {
        best = j;
        bestSpeed = speed;
      }
    }
    if (best >= 0) {
      all.push({ plate: ids.plates.name(p), pairs, maxSpeedKmh: bestSpeed, example: [hitOf(c, order[best - 1]!), hitOf(c, order[best]!)] });
    }
  }
  all.sort((a, b) => b.pairs - a.pairs || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
