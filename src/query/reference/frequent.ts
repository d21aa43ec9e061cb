/**
 * Reference frequent-visitor analysis (`POST /v1/analytics/frequent`): per plate, its visible reads in the
 * area and window; kept with at least `minReads` reads on at least `minDays` distinct UTC days; ordered by
 * reads desc, plate asc.
 */
import { comparePlates, utcDay, type FrequentQuery, type FrequentResult, type FrequentRow } from '../../model/analytics.js';
import type { TenantScope } from '../../model/query.js';
import type { StoredRead } from '../../model/read.js';
import { cut, visibleReads } from './scope.js';
import { matchesFilter } from './search.js';

export function referenceFrequent(reads: Iterable<StoredRead>, scopes: readonly TenantScope[], q: FrequentQuery): FrequentResult {
  const byPlate = new Map<string, { reads: number; days: Set<number>; first: number; last: number }>();
  for (const r of visibleReads(reads, scopes)) {
    if (!matchesFilter(q.filter, r)) continue;
    let g = byPlate.get(r.plate);
    if (!g) byPlate.set(r.plate, (g = { reads: 0, days: new Set(), first: r.ts, last: r.ts }));
    g.reads++;
    g.days.add(utcDay(r.ts));
    g.first = Math.min(g.first, r.ts);
    g.last = Math.max(g.last, r.ts);
  }
  const all: FrequentRow[] = [];
  for (const [plate, g] of byPlate) {
    if (g.reads >= q.minReads && g.days.size >= q.minDays) all.push({ plate, reads: g.reads, days: g.days.size, first: g.first, last: g.last });
  }
  all.sort((a, b) => b.reads - a.reads || comparePlates(a.plate, b.plate));
  return cut(all, q.limit);
}
