/**
 * Reference convoy analysis (API.md "Investigative analytics", `POST /v1/analytics/convoy`), the plain way:
 * the target is every visible read of `plate` (exact) in the window; a companion read is a visible read of
 * another plate in the window, at the same `camera` as some target read, with |Δts| ≤ windowSeconds.
 * Per companion plate: distinct cameras and number of its companion reads (each read once), first and
 * last ts; kept when cameras ≥ minCameras; ordered by cameras desc, together desc, plate asc.
 */
import { comparePlates, type ConvoyQuery, type ConvoyResult, type ConvoyRow } from '../../model/analytics.js';
import type { TenantScope } from '../../model/query.js';
import type { StoredRead } from '../../model/read.js';
import { cut, visibleReads } from './scope.js';
import { matchesFilter } from './search.js';

export function referenceConvoy(reads: Iterable<StoredRead>, scopes: readonly TenantScope[], q: ConvoyQuery): ConvoyResult {
  const seen = visibleReads(reads, scopes).filter((r) => matchesFilter(q.filter, r));
  const targets = seen.filter((r) => r.plate === q.plate);
  const windowMs = q.windowSeconds * 1000;
  const byPlate = new Map<string, { cameras: Set<string>; together: number; first: number; last: number }>();
  for (const r of seen) {
    if (r.plate === q.plate) continue;
    if (!targets.some((t) => t.camera === r.camera && Math.abs(t.ts - r.ts) <= windowMs)) continue;
    let g = byPlate.get(r.plate);
    if (!g) byPlate.set(r.plate, (g = { cameras: new Set(), together: 0, first: r.ts, last: r.ts }));
    g.cameras.add(r.camera);
    g.together++;
    g.first = Math.min(g.first, r.ts);
    g.last = Math.max(g.last, r.ts);
  }
  const all: ConvoyRow[] = [];
  for (const [plate, g] of byPlate) {
    if (g.cameras.size >= q.minCameras) all.push({ plate, cameras: g.cameras.size, together: g.together, first: g.first, last: g.last });
  }
  all.sort((a, b) => b.cameras - a.cameras || b.together - a.together || comparePlates(a.plate, b.plate));
  return cut(all, q.limit);
}
