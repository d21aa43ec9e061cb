/**
 * Frequent visitor (API.md `POST /v1/analytics/frequent`) in the engine: one kernel scan of the area and
 * window; per plate id the reads, first and last time, and the distinct UTC days (a set of
 * plate-and-day integer keys in an integer-key table).
 */
import { comparePlates, utcDay, type FrequentQuery, type FrequentResult, type FrequentRow } from '../../model/analytics.js';
import { gather, IdSpace, KeyIds } from './columns.js';
import { cutRows, type AnalysisContext } from './context.js';

export async function runFrequent(ctx: AnalysisContext, q: FrequentQuery): Promise<FrequentResult> {
  const ids = new IdSpace();
  const c = gather(ids, await ctx.scan({ filters: [q.filter] }), ctx.budget);
  const n = ids.plates.size;
  const reads = new Int32Array(n);
  const days = new Int32Array(n);
  const first = new Float64Array(n).fill(Infinity);
  const last = new Float64Array(n).fill(-Infinity);
  let minDay = Infinity;
  for (let k = 0; k < c.n; k++) minDay = Math.min(minDay, utcDay(c.ts[k]!));
  // plate × day as one integer: days since the earliest day fit 2^21 (5,700 years) and plates 2^31 (past small
  // integers: an integer-key table, not a Set of boxed numbers)
  const seen = new KeyIds();
  for (let k = 0; k < c.n; k++) {
    ctx.budget?.tick();
    const p = c.plate[k]!;
    const t = c.ts[k]!;
    reads[p]!++;
    if (t < first[p]!) first[p] = t;
    if (t > last[p]!) last[p] = t;
    const before = seen.size;
    seen.idOfKey(p * 2097152 + (utcDay(t) - minDay));
    if (seen.size > before) days[p]!++;
  }
  const all: FrequentRow[] = [];
  for (let p = 0; p < n; p++) {
    if (reads[p]! >= q.minReads && days[p]! >= q.minDays) all.push({ plate: ids.plates.name(p), reads: reads[p]!, days: days[p]!, first: first[p]!, last: last[p]! });
  }
  all.sort((a, b) => b.reads - a.reads || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
