/**
 * Reference cloned-plate analysis (`POST /v1/analytics/cloned`): per plate, its visible reads in the window
 * ordered by ts then id (across every tenant in scope); a pair of consecutive reads is impossible when
 * their haversine distance is ≥ minDistanceM and distance / max(Δts, 1 s) > maxSpeedKmh. Per plate with
 * at least one such pair: the count, the fastest pair (the earliest of equally fast ones) and its speed;
 * ordered by pairs desc, plate asc.
 */
import { comparePlates, speedKmh, type ClonedQuery, type ClonedResult, type ClonedRow } from '../../model/analytics.js';
import type { TenantScope } from '../../model/query.js';
import type { StoredRead } from '../../model/read.js';
import { haversineM } from './geo.js';
import { cut, visibleReads } from './scope.js';
import { matchesFilter } from './search.js';

export function referenceCloned(reads: Iterable<StoredRead>, scopes: readonly TenantScope[], q: ClonedQuery): ClonedResult {
  const byPlate = new Map<string, StoredRead[]>();
  for (const r of visibleReads(reads, scopes)) {
    if (!matchesFilter(q.filter, r)) continue;
    const list = byPlate.get(r.plate);
    if (list) list.push(r);
    else byPlate.set(r.plate, [r]);
  }
  const all: ClonedRow[] = [];
  for (const [plate, list] of byPlate) {
    list.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let pairs = 0;
    let best: { speed: number; a: StoredRead; b: StoredRead } | undefined;
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!, b = list[i]!;
      const d = haversineM(a.lat, a.lon, b.lat, b.lon);
      const speed = speedKmh(d, b.ts - a.ts);
      if (!(d >= q.minDistanceM && speed > q.maxSpeedKmh)) continue;
      pairs++;
      if (!best || speed > best.speed) best = { speed, a, b };
    }
    if (best) all.push({ plate, pairs, maxSpeedKmh: best.speed, example: [{ ...best.a, distance: 0 }, { ...best.b, distance: 0 }] });
  }
  all.sort((a, b) => b.pairs - a.pairs || comparePlates(a.plate, b.plate));
  return cut(all, q.limit);
}
