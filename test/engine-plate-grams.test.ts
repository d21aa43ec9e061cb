/**
 * The engine with its tenant n-gram indexes (src/store/plate-grams.ts) against the reference search, on
 * random data and random `contains`, wildcard and fuzzy queries (k = 0–2, OCR classes, transpositions,
 * short and long patterns), with random filters and scopes; at every stage of the index's life: after the
 * first seals, after more seals with live rows beside them, after compaction, after retention (dropBefore),
 * after a reopen, and after a tenant purge. Each stage also asserts that the index path actually answered
 * (tenantMatchCounts), so a change that quietly routes everything to the full pass fails here, and that
 * the shards' run tables (src/store/plate-runs.ts) came with the index's builds, not from searches. DuckDB
 * (test/helpers/duckdb.ts: LIKE, levenshtein, OSA in SQL, translate() for OCR) judges the same engine on
 * the same reads once, independently of the reference.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { PlateMatch, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { tenantMatchCounts } from '../src/query/tenant-match.js';
import { plateRunsMade } from '../src/store/plate-runs.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { purgeTenantData } from '../src/crypto/purge.js';
import { DuckOracle, projectHit } from './helpers/duckdb.js';
import { filterArb, kDay, kT0, makeReads, mutatePlate, plateMatchArb, rng, tempDataDir } from './helpers/engine-data.js';

const kTenants = ['pd-a', 'pd-b', 'pd-c'];
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261203;
const kOptions = { threads: 0, sealAgeMs: 0 };

/** Patterns the index serves: contains of 2–6 characters (sometimes with `?`), fuzzy k=1/2 on long plates, OCR. */
function gramMatchArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  const long = plates.filter((p) => p.length >= 5);
  const base = fc.constantFrom(...long);
  const contains = fc
    .record({ p: base, at: fc.nat(9), len: fc.integer({ min: 2, max: 6 }), q: fc.boolean(), ocr: fc.boolean(), s: fc.nat() })
    .map(({ p, at, len, q, ocr, s }): PlateMatch => {
      const i = at % (p.length - 1);
      let piece = p.slice(i, i + len);
      if (s % 3 === 0) piece = mutatePlate(rng(s), piece).slice(0, 6) || piece;
      if (q && piece.length > 3) piece = piece.slice(0, 1) + '?' + piece.slice(2);
      return { pattern: `*${piece}*`, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false };
    });
  const fuzzy = fc
    .record({ p: base, k: fc.constantFrom(1, 2, 2), ocr: fc.boolean(), t: fc.boolean(), s: fc.nat() })
    .map(({ p, k, ocr, t, s }): PlateMatch => {
      let pattern = p;
      for (let e = 0; e < s % 3; e++) pattern = mutatePlate(rng(s + e), pattern);
      return { pattern, mode: 'fuzzy', maxEdits: k, ocr, transpositions: t };
    });
  return fc.oneof({ weight: 3, arbitrary: contains }, { weight: 3, arbitrary: fuzzy }, { weight: 2, arbitrary: plateMatchArb(plates) });
}

const scopesArb: fc.Arbitrary<TenantScope[]> = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + 4 * kDay })) }))))
  .map((xs) => xs as TenantScope[]);

interface Fixture {
  engine: Engine;
  reads: StoredRead[];
  dir: string;
  cleanup: () => Promise<void>;
}

async function check(f: Fixture, runs: number): Promise<void> {
  const plates = [...new Set(f.reads.map((r) => r.plate))];
  // the dictionaries are rebuilt off the engine's thread after seals, compactions and retention (searches
  // meanwhile read the shards they do not cover the per-shard way): wait for them, so the index answers
  for (const tenant of kTenants) await f.engine.search([{ tenant, minTs: 0 }], { plate: { pattern: '*A1*', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }, filter: {}, limit: 1 });
  await (f.engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
  const before = tenantMatchCounts.grams;
  const madeBySearch = plateRunsMade.bySearch;
  await fc.assert(
    fc.asyncProperty(
      scopesArb, gramMatchArb(plates), fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: filterArb(kT0, 4) }), fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(10_000)),
      async (scopes, plate, filter, limit) => {
        const query: SearchQuery = { plate, filter, limit };
        const got = await f.engine.search(scopes, query);
        const want = referenceSearch(f.reads, scopes, query);
        expect(got.total, JSON.stringify(query)).toBe(want.total);
        expect(got.hits).toEqual(want.hits);
        expect(got.truncated).toBe(want.truncated);
      },
    ),
    { numRuns: runs, seed },
  );
  // most of these patterns are narrow: the index must have answered a good share of the tenant-wide matches
  expect(tenantMatchCounts.grams - before).toBeGreaterThan(runs / 4);
  // the shards' run tables (src/store/plate-runs.ts) came with the dictionaries' builds: no search made one
  expect(plateRunsMade.bySearch - madeBySearch).toBe(0);
  expect(plateRunsMade.byBuild).toBeGreaterThan(0);
}

async function append(f: Fixture, seedBase: number, perTenant: number, sealEvery: number): Promise<void> {
  for (const [t, tenant] of kTenants.entries()) {
    const reads = makeReads({ seed: seedBase + t, reads: perTenant, vehicles: 700, days: 4 });
    for (let i = 0, batch = 0; i < reads.length; i += 250, batch++) {
      f.reads.push(...(await f.engine.append(tenant, reads.slice(i, i + 250))).stored);
      if (batch % sealEvery === sealEvery - 1) await f.engine.seal(tenant);
    }
  }
}

describe('engine with tenant n-gram indexes vs reference', () => {
  const f = {} as Fixture;
  beforeAll(async () => {
    Object.assign(f, await tempDataDir('ps-grams-'));
    f.engine = await openEngine({ dataDir: f.dir, ...kOptions });
    f.reads = [];
    await append(f, 101, 3000, 3);
    // and a tail that stays live
    for (const tenant of kTenants) f.reads.push(...(await f.engine.append(tenant, makeReads({ seed: 99, reads: 40, vehicles: 700, days: 4 }))).stored);
  });
  afterAll(async () => {
    await f.engine.close();
    await f.cleanup();
  });

  it('after the first seals (several shards per tenant, live rows beside them)', async () => {
    expect(f.engine.stats().shards).toBeGreaterThan(6);
    expect(f.engine.stats().liveReads).toBeGreaterThan(0);
    await check(f, 150);
  });

  it('after more reads and seals (new plates merged into the dictionaries)', async () => {
    await append(f, 201, 1500, 2);
    await f.engine.seal();
    await check(f, 60);
  });

  it('after compaction', async () => {
    const merged = await (f.engine as unknown as { compact(): Promise<number> }).compact();
    expect(merged).toBeGreaterThan(0);
    await check(f, 60);
  });

  it('after retention drops most of a tenant (the dictionary rebuilt, the index with it)', async () => {
    const cutoff = kT0 + Math.floor(3.5 * kDay);
    const res = await f.engine.dropBefore('pd-a', cutoff);
    expect(res.shardsDeleted).toBeGreaterThan(0);
    f.reads = f.reads.filter((r) => !(r.tenant === 'pd-a' && r.ts < cutoff));
    expect(f.engine.stats().reads).toBe(f.reads.length);
    await check(f, 100);
  });

  it('equals DuckDB on the same reads (contains, fuzzy, OCR, transpositions)', async () => {
    const duck = await DuckOracle.create();
    try {
      await duck.loadReads(f.reads);
      const plates = [...new Set(f.reads.map((r) => r.plate))];
      const before = tenantMatchCounts.grams;
      let nonEmpty = 0;
      await fc.assert(
        fc.asyncProperty(scopesArb, gramMatchArb(plates), fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(10_000)), async (scopes, plate, limit) => {
          const query: SearchQuery = { plate, filter: {}, limit };
          const got = await f.engine.search(scopes, query);
          const want = await duck.search(scopes, query);
          expect(got.total, JSON.stringify(query)).toBe(want.total);
          expect(got.hits.map(projectHit)).toEqual(want.hits);
          if (want.total > 0) nonEmpty++;
        }),
        { numRuns: 60, seed },
      );
      expect(tenantMatchCounts.grams - before).toBeGreaterThan(15);
      expect(nonEmpty).toBeGreaterThan(20);
    } finally {
      duck.close();
    }
  });

  it('after a reopen, and after a tenant purge', async () => {
    await f.engine.close();
    f.engine = await openEngine({ dataDir: f.dir, ...kOptions });
    await check(f, 60);
    await f.engine.close();
    const { keys } = await openDataDirKeys(f.dir, undefined);
    try {
      await purgeTenantData(f.dir, keys, 'pd-b');
    } finally {
      await keys.store.close();
    }
    f.reads = f.reads.filter((r) => r.tenant !== 'pd-b');
    f.engine = await openEngine({ dataDir: f.dir, ...kOptions });
    expect(f.engine.stats().reads).toBe(f.reads.length);
    await check(f, 60);
  });
});
