/**
 * The tenant plate dictionaries and their n-gram indexes rebuilt off the engine's thread
 * (src/store/tenant-plates.ts refresh, src/store/plate-index-thread.ts), and the shard masks that send a
 * matched plate only to the shards holding it: the engine against the reference on random data and
 * random `contains`, wildcard and fuzzy queries while a rebuild is held back (new shards sealed, a
 * compaction, retention, live rows beside them: the searches must read the shards the old dictionary does
 * not cover the per-shard way), then after it is installed. A builder that fails falls back to this
 * thread. Each stage asserts what it claims: the build was pending, some planned shard was uncovered, the
 * index answered.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { PlateMatch, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { tenantMatchCounts } from '../src/query/tenant-match.js';
import type { TenantPlates } from '../src/store/tenant-plates.js';
import type { PlateIndexBuilt, PlateIndexJob } from '../src/store/plate-index-build.js';
import type { TenantStore } from '../src/store/tenant-store.js';
import { filterArb, kDay, kT0, makeReads, mutatePlate, rng, tempDataDir } from './helpers/engine-data.js';

const kTenants = ['pd-a', 'pd-b'];
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261204;

/** The engine internals this test drives (the builder is swapped for one the test holds back). */
interface Internals {
  tenantPlates: Map<string, TenantPlates>;
  plateIndexThread: { build(job: PlateIndexJob): Promise<PlateIndexBuilt | undefined>; close(): Promise<void> };
  storeOf(tenant: string): TenantStore | undefined;
  plateIndexesSettled(): Promise<void>;
}

function matchArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  const long = plates.filter((p) => p.length >= 5);
  const base = fc.constantFrom(...long);
  const contains = fc
    .record({ p: base, at: fc.nat(9), len: fc.integer({ min: 2, max: 5 }), s: fc.nat(), ocr: fc.boolean() })
    .map(({ p, at, len, s, ocr }): PlateMatch => {
      const i = at % (p.length - 1);
      let piece = p.slice(i, i + len);
      if (s % 3 === 0) piece = mutatePlate(rng(s), piece).slice(0, 5) || piece;
      return { pattern: `*${piece}*`, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false };
    });
  const fuzzy = fc
    .record({ p: base, k: fc.constantFrom(1, 2), s: fc.nat(), ocr: fc.boolean() })
    .map(({ p, k, s, ocr }): PlateMatch => ({ pattern: s % 2 ? mutatePlate(rng(s), p) : p, mode: 'fuzzy', maxEdits: k, ocr, transpositions: false }));
  const prefix = base.map((p): PlateMatch => ({ pattern: `${p.slice(0, 3)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }));
  return fc.oneof({ weight: 4, arbitrary: contains }, { weight: 2, arbitrary: fuzzy }, { weight: 1, arbitrary: prefix });
}

const scopesArb: fc.Arbitrary<TenantScope[]> = fc
  .subarray(kTenants, { minLength: 1 })
  .map((ts) => ts.map((tenant) => ({ tenant, minTs: 0 })));

describe('tenant plate index rebuilt off the thread, searched while it runs', () => {
  let engine: Engine;
  let dir: string;
  let cleanup: () => Promise<void>;
  let reads: StoredRead[] = [];
  const internals = () => engine as unknown as Internals;

  async function check(runs: number): Promise<number> {
    const plates = [...new Set(reads.map((r) => r.plate))];
    const before = tenantMatchCounts.grams;
    await fc.assert(
      fc.asyncProperty(scopesArb, matchArb(plates), fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: filterArb(kT0, 6) }), fc.oneof(fc.integer({ min: 1, max: 15 }), fc.constant(10_000)),
        async (scopes, plate, filter, limit) => {
          const query: SearchQuery = { plate, filter, limit };
          const got = await engine.search(scopes, query);
          const want = referenceSearch(reads, scopes, query);
          expect(got.total, JSON.stringify(query)).toBe(want.total);
          expect(got.hits).toEqual(want.hits);
          expect(got.truncated).toBe(want.truncated);
        }),
      { numRuns: runs, seed },
    );
    return tenantMatchCounts.grams - before;
  }

  async function append(seedBase: number, perTenant: number, vehicles: number, days: number): Promise<void> {
    for (const [t, tenant] of kTenants.entries()) {
      const batch = makeReads({ seed: seedBase + t, reads: perTenant, vehicles, days });
      for (let i = 0; i < batch.length; i += 300) reads.push(...(await engine.append(tenant, batch.slice(i, i + 300))).stored);
    }
  }

  /** Shards of `tenant` its dictionary does not cover (sealed or merged since its last installed build). */
  function uncovered(tenant: string): number {
    const store = internals().storeOf(tenant)!;
    const plates = internals().tenantPlates.get(tenant)!;
    return store.shards.filter((s) => !plates.buckets().has(s)).length;
  }

  /** Holds every build until `release()`. */
  function holdBuilds(): { release: () => void; held: () => number } {
    const thread = internals().plateIndexThread;
    const real = thread.build.bind(thread);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let held = 0;
    thread.build = async (job) => {
      held++;
      await gate;
      return real(job);
    };
    return { release: () => { thread.build = real; open(); }, held: () => held };
  }

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDataDir('ps-plate-rebuild-'));
    engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    for (let day = 0; day < 4; day++) {
      await append(300 + day * 10, 700, 600, 6);
      await engine.seal();
    }
    await append(390, 60, 600, 6); // live rows beside the shards
  });
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  it('first build, then equal to the reference with the masks in use', async () => {
    expect(engine.stats().shards).toBeGreaterThan(6);
    // the first pattern search of a tenant makes its dictionary; its first build runs while it searches per shard
    for (const tenant of kTenants) {
      const query: SearchQuery = { plate: { pattern: '*A1*', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }, filter: {}, limit: 50 };
      const scopes = [{ tenant, minTs: 0 }];
      expect(await engine.search(scopes, query)).toEqual(referenceSearch(reads, scopes, query));
    }
    await internals().plateIndexesSettled();
    for (const t of kTenants) expect(uncovered(t)).toBe(0);
    expect(await check(80)).toBeGreaterThan(20);
  });

  it('new shards sealed while the rebuild is held: exact, the new shards read per shard', async () => {
    const hold = holdBuilds();
    try {
      await append(500, 900, 2000, 6); // new vehicles: new plates in the new shards
      await engine.seal();
      await new Promise((r) => setTimeout(r, 0));
      expect(hold.held()).toBeGreaterThan(0);
      for (const t of kTenants) {
        expect(internals().tenantPlates.get(t)!.building).toBe(true);
        expect(uncovered(t)).toBeGreaterThan(0);
      }
      await check(80);
    } finally {
      hold.release();
    }
    await internals().plateIndexesSettled();
    for (const t of kTenants) expect(uncovered(t)).toBe(0);
    expect(await check(60)).toBeGreaterThan(15);
  });

  it('compaction and retention while the rebuild is held, then after it', async () => {
    const hold = holdBuilds();
    try {
      await (engine as unknown as { compact(): Promise<number> }).compact();
      const cutoff = kT0 + Math.floor(3.5 * kDay);
      const res = await engine.dropBefore('pd-a', cutoff);
      expect(res.shardsDeleted).toBeGreaterThan(0);
      reads = reads.filter((r) => !(r.tenant === 'pd-a' && r.ts < cutoff));
      expect(engine.stats().reads).toBe(reads.length);
      await append(600, 200, 2500, 6); // and more live rows
      await check(80);
    } finally {
      hold.release();
    }
    await internals().plateIndexesSettled();
    for (const t of kTenants) expect(uncovered(t)).toBe(0);
    expect(await check(60)).toBeGreaterThan(15);
  });

  it('a builder that fails: the build runs on this thread instead', async () => {
    const thread = internals().plateIndexThread;
    const real = thread.build.bind(thread);
    thread.build = () => Promise.reject(new Error('no worker'));
    try {
      await append(700, 600, 3000, 6);
      await engine.seal();
      await internals().plateIndexesSettled();
      for (const t of kTenants) expect(uncovered(t)).toBe(0);
      expect(await check(40)).toBeGreaterThan(8);
    } finally {
      thread.build = real;
    }
  });
});
