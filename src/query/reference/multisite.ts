/**
 * Reference multi-site analysis (`POST /v1/analytics/multisite`): a read is in site k when it is in the
 * request's window and in site k's area and window. Per plate read in at least `minSites` sites: the site
 * indexes (ascending) and its reads inside any site (once each); ordered by sites desc, reads desc, plate asc.
 */
import { comparePlates, type MultisiteQuery, type MultisiteResult, type MultisiteRow } from '../../model/analytics.js';
import type { TenantScope } from '../../model/query.js';
import type { StoredRead } from '../../model/read.js';
import { cut, visibleReads } from './scope.js';
import { matchesFilter } from './search.js';

export function referenceMultisite(reads: Iterable<StoredRead>, scopes: readonly TenantScope[], q: MultisiteQuery): MultisiteResult {
  const byPlate = new Map<string, { sites: Set<number>; reads: number }>();
  for (const r of visibleReads(reads, scopes)) {
    if (!matchesFilter(q.filter, r)) continue;
    const inSites = q.sites.flatMap((site, k) => (matchesFilter(site, r) ? [k] : []));
    if (inSites.length === 0) continue;
    let g = byPlate.get(r.plate);
    if (!g) byPlate.set(r.plate, (g = { sites: new Set(), reads: 0 }));
    for (const k of inSites) g.sites.add(k);
    g.reads++;
  }
  const all: MultisiteRow[] = [];
  for (const [plate, g] of byPlate) {
    if (g.sites.size >= q.minSites) all.push({ plate, sites: [...g.sites].sort((a, b) => a - b), reads: g.reads });
  }
  all.sort((a, b) => b.sites.length - a.sites.length || b.reads - a.reads || comparePlates(a.plate, b.plate));
  return cut(all, q.limit);
}
