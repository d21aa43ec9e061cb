/**
 * Engine answers held to the plain reference (src/query/reference/), shared by the differential tests that
 * load an engine once and query it many ways: hot lists on random entries, and a whole-tenant export.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import type { Hit, HotlistQuery, ReadFilter, SearchKey, SearchQuery, TenantScope } from '../../src/model/query.js';
import type { StoredRead } from '../../src/model/read.js';
import { matchesFilter, referenceHotlistSearch, referenceSearch } from '../../src/query/reference/index.js';
import { filterArb, kDay, kT0, plateMatchArb, searchQueryArb, tempDataDir } from './engine-data.js';
import { analyticsQueryArb, referenceAnalytics } from './analytics-data.js';

/** An engine over a temporary data dir, and every read it holds (as stored). */
export interface EngineFixture {
  engine: Engine;
  reads: StoredRead[];
  dir: string;
  cleanup: () => Promise<void>;
}

/**
 * Random hot lists (up to 12 distinct entries from `plates`, a filter over `days` from kT0, or from `filters`) equal
 * the reference.
 */
export function checkHotlist(f: EngineFixture, scopesArb: fc.Arbitrary<TenantScope[]>, plates: readonly string[], days: number, runs: number, seed?: number, filters: fc.Arbitrary<ReadFilter> = filterArb(kT0, days)) {
  return fc.assert(
    fc.asyncProperty(scopesArb, fc.array(plateMatchArb(plates), { minLength: 1, maxLength: 12 }), filters, fc.integer({ min: 1, max: 30 }), async (scopes, entries, filter, limitPerPlate) => {
      const seen = new Set<string>();
      const query: HotlistQuery = { entries: entries.filter((e) => !seen.has(e.pattern) && seen.add(e.pattern)), filter, limitPerPlate };
      expect(await f.engine.searchHotlist(scopes, query)).toEqual(referenceHotlistSearch(f.reads, scopes, query));
    }),
    seed === undefined ? { numRuns: runs } : { numRuns: runs, seed },
  );
}

/** Each tenant's export, whole, equals its reads in (ts, id) order. */
export async function checkExport(f: EngineFixture, tenants: readonly string[]): Promise<void> {
  for (const tenant of tenants) {
    const got: StoredRead[] = [];
    for await (const r of f.engine.exportReads({ tenant, minTs: 0 }, {})) got.push(r);
    const want = f.reads.filter((r) => r.tenant === tenant && matchesFilter({}, r)).sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    expect(got).toEqual(want);
  }
}

/**
 * Fills `f` before the describe block's tests (a fresh data dir, `open`ed, `load`ed, its tenant plate indexes
 * built) and closes and removes it after them.
 */
export function engineFixture(f: EngineFixture, prefix: string, open: (dir: string) => Promise<Engine>, load: (e: Engine) => Promise<StoredRead[]>): void {
  beforeAll(async () => {
    Object.assign(f, await tempDataDir(prefix));
    f.engine = await open(f.dir);
    f.reads = await load(f.engine);
    await (f.engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
  }, 300_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });
}

/** The `n` plates read most often (exact plates and hot-list entries with runs of several rows). */
export function frequentPlates(reads: readonly StoredRead[], n = 2000): string[] {
  const counts = new Map<string, number>();
  for (const r of reads) counts.set(r.plate, (counts.get(r.plate) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p).slice(0, n);
}

/**
 * Random analytics over a sample of the reads (every 50th) equal the reference; with `only`, each query's filter
 * (and a multi-site query's sites) also takes one of its filters (the row scans' tests of those fields).
 */
export function checkAnalytics(f: EngineFixture, scopesArb: fc.Arbitrary<TenantScope[]>, runs: number, seed: number, only: fc.Arbitrary<ReadFilter> = fc.constant({})) {
  return fc.assert(
    fc.asyncProperty(scopesArb, analyticsQueryArb(f.reads.filter((_, i) => i % 50 === 0).map((read) => ({ tenant: read.tenant, read })), true), only, async (scopes, q0, extra) => {
      const q = { ...q0, filter: { ...q0.filter, ...extra } };
      if (q.kind === 'multisite') q.sites = q.sites.map((site) => ({ ...site, ...extra }));
      expect(await f.engine.analytics(scopes, q)).toEqual(referenceAnalytics(f.reads, scopes, q));
    }),
    { numRuns: runs, seed },
  );
}

/** Random searches equal the reference. */
export function checkSearches(f: EngineFixture, scopesArb: fc.Arbitrary<TenantScope[]>, queryArb: fc.Arbitrary<SearchQuery>, runs: number, seed: number) {
  return fc.assert(
    fc.asyncProperty(scopesArb, queryArb, async (scopes, query) => {
      expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
    }),
    { numRuns: runs, seed },
  );
}

/** Scopes over a non-empty subset of `tenants`, each from time 0 or from a random time in the `days` after kT0. */
export function tenantScopesArb(tenants: readonly string[], days: number): fc.Arbitrary<TenantScope[]> {
  return fc
    .subarray([...tenants], { minLength: 1 })
    .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + days * kDay })) }))))
    .map((xs) => xs as TenantScope[]);
}

/**
 * Cursors walked to the end: every page of a random query (about 1/8 of its total a page) equals the reference's
 * after the same key, and the pages together equal the whole answer.
 */
export function checkPaging(f: EngineFixture, scopesArb: fc.Arbitrary<TenantScope[]>, queryArb: fc.Arbitrary<SearchQuery>, runs: number, seed: number) {
  return fc.assert(
    fc.asyncProperty(scopesArb, queryArb, async (scopes, q) => {
      const full = referenceSearch(f.reads, scopes, { ...q, limit: 10_000 });
      const limit = Math.max(3, Math.ceil(full.total / 8));
      const pages: Hit[] = [];
      let after: SearchKey | undefined;
      for (let n = 0; n < 20; n++) {
        const query: SearchQuery = after ? { ...q, limit, after } : { ...q, limit };
        const got = await f.engine.search(scopes, query);
        expect(got).toEqual(referenceSearch(f.reads, scopes, query));
        pages.push(...got.hits);
        if (!got.truncated) break;
        const last = got.hits[limit - 1]!;
        after = { distance: last.distance, ts: last.ts, id: last.id };
      }
      if (full.total <= 10_000) expect(pages).toEqual(full.hits);
    }),
    { numRuns: runs, seed },
  );
}

/** Exact plates, whole answers (the executor's postings runs), each equal to the reference. */
export async function checkExactPlates(f: EngineFixture, scopes: TenantScope[], plates: readonly string[]): Promise<void> {
  for (const plate of plates) {
    const query: SearchQuery = { plate: { pattern: plate, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false }, filter: {}, limit: 1000 };
    expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
  }
}

/**
 * The checks of an engine whose lanes hold some fields in a form of their own (the labels lane, the camera runs):
 * searches by `queryArb` and by the shared arbitrary, cursors, hot lists plain and filtered by `filters`, analyses
 * plain and with `only` in their filters, and every tenant's export. Seeds from `seed` + 1 … 7.
 */
export async function checkFieldForms(
  f: EngineFixture, scopesArb: fc.Arbitrary<TenantScope[]>, tenants: readonly string[], days: number, runs: number, seed: number,
  arbs: { query: (plates: readonly string[]) => fc.Arbitrary<SearchQuery>; filters: fc.Arbitrary<ReadFilter>; only: fc.Arbitrary<ReadFilter> },
): Promise<void> {
  const plates = frequentPlates(f.reads);
  await checkSearches(f, scopesArb, arbs.query(plates), runs, seed + 1);
  await checkSearches(f, scopesArb, searchQueryArb(plates, kT0, days), Math.ceil(runs / 2), seed + 2);
  await checkPaging(f, scopesArb, arbs.query(plates), Math.ceil(runs / 3), seed + 3);
  await checkHotlist(f, scopesArb, plates, days, Math.ceil(runs / 3), seed + 4);
  await checkHotlist(f, scopesArb, plates, days, Math.ceil(runs / 2), seed + 7, arbs.filters);
  await checkAnalytics(f, scopesArb, Math.ceil(runs / 3), seed + 5);
  await checkAnalytics(f, scopesArb, Math.ceil(runs / 2), seed + 6, arbs.only);
  await checkExport(f, tenants);
}

/**
 * Drops each of `tenants`' reads before `cutoff` with the seal worker declining its rewrites, so the shards are
 * rewritten on this thread from the rows they keep (read back from the loaded lanes, not the files), and checks
 * each tenant's count; `f.reads` loses them too.
 */
export async function dropBeforeOnThisThread(f: EngineFixture, tenants: readonly string[], cutoff: number): Promise<void> {
  const worker = (f.engine as unknown as { sealWorker: { run(job: unknown): Promise<unknown> } }).sealWorker;
  const run = worker.run;
  worker.run = () => Promise.resolve(undefined);
  try {
    for (const tenant of tenants) {
      const res = await f.engine.dropBefore(tenant, cutoff);
      expect(res.readsDeleted).toBe(f.reads.filter((r) => r.tenant === tenant && r.ts < cutoff).length);
      f.reads = f.reads.filter((r) => !(r.tenant === tenant && r.ts < cutoff));
    }
  } finally {
    worker.run = run;
  }
}
