/**
 * The whole set of reference checks for an engine whose shards read their plates through their tenant's
 * dictionary (covered shards: plate-u24, plate-id-lane): every match mode, again with the tenant-wide match
 * declined (so every pattern reaches the covered shards' kernel tasks), cursors, hot lists by both ways of the
 * covered probe, analyses with a cloned one over everything, export and exact plates.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { SearchQuery } from '../../src/model/query.js';
import { referenceSearch } from '../../src/query/reference/index.js';
import { coveredProbeWay } from '../../src/query/covered-probes.js';
import { referenceAnalytics } from './analytics-data.js';
import { filterArb, kT0, plateMatchArb, searchQueryArb } from './engine-data.js';
import { checkAnalytics, checkExactPlates, checkExport, checkHotlist, checkPaging, tenantScopesArb, type EngineFixture } from './reference-checks.js';

/** Patterns drawn from `plates`, and broad ones (a covered shard's kernel task reads every row's code). */
export function coveredQueryArb(plates: string[], days: number): fc.Arbitrary<SearchQuery> {
  const broad = fc.constantFrom('*', '?*', '*1*', '*A*', 'A*', '*Z?').map((pattern) => ({ pattern, mode: 'wildcard' as const, maxEdits: 0, ocr: false, transpositions: false }));
  return fc.oneof(
    searchQueryArb(plates, kT0, days),
    fc.record({ plate: fc.oneof(plateMatchArb(plates), broad), filter: filterArb(kT0, days), limit: fc.integer({ min: 1, max: 60 }) }).map((q) => q as SearchQuery),
  );
}

/** Every check above over `tenants` (`days` from kT0), `runs` random cases for the searches, fewer for the rest. */
export async function checkCoveredShards(f: EngineFixture, tenants: readonly string[], days: number, plates: string[], runs: number, seed: number): Promise<void> {
  const scopesArb = tenantScopesArb(tenants, days);
  const checkSearch = (n: number, s: number) => fc.assert(
    fc.asyncProperty(scopesArb, coveredQueryArb(plates, days), async (scopes, query) => {
      expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
    }),
    { numRuns: n, seed: s },
  );
  await checkSearch(runs, seed);
  const e = f.engine as unknown as { tenantMatches?: () => undefined };
  e.tenantMatches = () => undefined;
  try {
    await checkSearch(Math.ceil(runs / 2), seed + 1);
  } finally {
    delete e.tenantMatches;
  }
  await checkPaging(f, scopesArb, coveredQueryArb(plates, days), Math.ceil(runs / 4), seed + 2);
  await checkHotlist(f, scopesArb, plates, days, Math.ceil(runs / 4), seed + 3);
  for (const force of ['through', 'pairs'] as const) {
    coveredProbeWay.force = force;
    try {
      await checkHotlist(f, scopesArb, plates, days, Math.ceil(runs / 6), seed + 4);
    } finally {
      delete coveredProbeWay.force;
    }
  }
  await checkAnalytics(f, scopesArb, Math.ceil(runs / 4), seed + 5);
  // cloned over every tenant and all time: its key ranges read every shard's codes
  const scopes = tenants.map((tenant) => ({ tenant, minTs: 0 }));
  const cloned = { kind: 'cloned' as const, maxSpeedKmh: 100, minDistanceM: 0, filter: {}, limit: 50 };
  expect(await f.engine.analytics(scopes, cloned)).toEqual(referenceAnalytics(f.reads, scopes, cloned));
  await checkExport(f, tenants);
  // exact plates, whole answers: the executor's postings runs read the lane at the plate's code
  await checkExactPlates(f, scopes, plates.filter((_, i) => i % 7 === 0).slice(0, 40));
}
