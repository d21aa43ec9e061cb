/**
 * The four analyses in the engine against the reference oracles (src/query/reference/{convoy,multisite,
 * frequent,cloned}.ts) and against DuckDB SQL written from API.md (test/helpers/duckdb-analytics.ts), on
 * random data with ties, plates in several tenants, reads exactly on window, day, bbox and radius
 * boundaries, random scopes with retention cutoffs; over live rows, sealed shards in several arenas, and
 * the worker pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { AnalyticsQuery } from '../src/model/analytics.js';
import type { TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { DuckOracle } from './helpers/duckdb.js';
import { duckAnalytics } from './helpers/duckdb-analytics.js';
import { analyticsQueryArb, clonedArb, convoyArb, kDay, kDays, kT0, kTenants, makeAnalyticsReads, referenceAnalytics } from './helpers/analytics-data.js';
import { tempDataDir } from './helpers/engine-data.js';
import { analyticsSql as benchAnalyticsSql } from '../bench/peers/analytics-sql.js';
import { sqlAnalyticsAnswer } from '../bench/peers/analytics-answer.js';
import { engineAnalyticsAnswer } from '../bench/peers/engine-peer.js';
import type { SqlDialect } from '../bench/peers/sql-dialect.js';


const scopesArb: fc.Arbitrary<TenantScope[]> = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay })) }))))
  .map((xs) => xs as TenantScope[]);

interface Fixture {
  engine: Engine;
  reads: StoredRead[];
  cleanup: () => Promise<void>;
}

async function load(engine: Engine, seed: number, n: number, sealEvery = 0): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const data = makeAnalyticsReads(seed, n);
  for (let i = 0; i < data.length; i += 25) {
    const batch = data.slice(i, i + 25);
    for (const tenant of kTenants) {
      const mine = batch.filter((x) => x.tenant === tenant).map((x) => x.read);
      if (mine.length) out.push(...(await engine.append(tenant, mine)).stored);
    }
    if (sealEvery && (i / 25) % sealEvery === sealEvery - 1) await engine.seal();
  }
  return out;
}

/** The engine's answer equals the reference's (cloned examples: the whole hits). */
function checkReference(f: Fixture, runs: number, arb: () => fc.Arbitrary<AnalyticsQuery> = () => analyticsQueryArb(f.reads.map((read) => ({ tenant: read.tenant, read })), true)) {
  return fc.assert(
    fc.asyncProperty(scopesArb, arb(), async (scopes, q) => {
      const got = await f.engine.analytics(scopes, q);
      expect(got).toEqual(referenceAnalytics(f.reads, scopes, q));
    }),
    { numRuns: runs },
  );
}

function fixture(opts: { threads: number; sealEvery?: number; arenaBytes?: number; poolMinRows?: number }, seed: number, n: number): Fixture {
  const f = {} as Fixture;
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-analytics-');
    f.cleanup = tmp.cleanup;
    f.engine = await openEngine({
      dataDir: tmp.dir, threads: opts.threads, sealAgeMs: 0,
      ...(opts.arenaBytes ? { arenaBytes: opts.arenaBytes } : {}),
      ...(opts.poolMinRows !== undefined ? { poolMinRows: opts.poolMinRows } : {}),
    });
    f.reads = await load(f.engine, seed, n, opts.sealEvery);
  }, 240_000); // sealing many small shards: slow on a loaded shared machine
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });
  return f;
}

describe('analytics vs reference: live rows', () => {
  const f = fixture({ threads: 0 }, 1, 500);
  it('random queries', () => checkReference(f, 150));
  it('convoy finds planted companions, and the target is never its own companion', async () => {
    const scopes = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
    const got = await f.engine.analytics(scopes, { kind: 'convoy', plate: 'TGT1', windowSeconds: 120, minCameras: 1, filter: {}, limit: 1000 });
    expect(got.total).toBeGreaterThan(0);
    expect(got.results.map((r) => (r as { plate: string }).plate)).not.toContain('TGT1');
  });
});

describe('analytics vs reference: sealed shards in several arenas plus live rows', () => {
  const f = fixture({ threads: 0, sealEvery: 7, arenaBytes: 256 * 1024 }, 2, 900);
  it('has shards and live rows', () => {
    const st = f.engine.stats();
    expect(st.shards).toBeGreaterThan(5);
    expect(st.liveReads).toBeGreaterThan(0);
    expect(st.kernelTasks).toBeGreaterThanOrEqual(0);
  });
  it('random queries', () => checkReference(f, 150));
  it('ran the WebAssembly kernels', () => expect(f.engine.stats().kernelTasks).toBeGreaterThan(50));
  it('after sealing everything', async () => {
    await f.engine.seal();
    expect(f.engine.stats().liveReads).toBe(0);
    await checkReference(f, 60);
  }, 180_000);
});

/**
 * Round 5 (docs/storage-v2.md): sealed shards of several 1024-row runs (u24 lanes whose runs the kernel skips on
 * their extents) and live views of several blocks per tenant, appended in time order so that blocks hold
 * distinct hours (a live scan compiles each filter once and skips the blocks whose zone map misses its window).
 */
describe('analytics vs reference: shards of many u24 runs, live views of many blocks', () => {
  const f = {} as Fixture;
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-analytics-runs-');
    f.cleanup = tmp.cleanup;
    f.engine = await openEngine({ dataDir: tmp.dir, threads: 0, sealAgeMs: 0, sealRows: 1e12 });
    const data = makeAnalyticsReads(11, 50_000);
    const sealed = data.slice(0, 20_000);
    const live = data.slice(20_000).sort((a, b) => a.read.ts - b.read.ts);
    f.reads = [];
    for (const [part, seal] of [[sealed, true], [live, false]] as const) {
      for (const tenant of kTenants) {
        const mine = part.filter((x) => x.tenant === tenant).map((x) => x.read);
        for (let i = 0; i < mine.length; i += 2000) f.reads.push(...(await f.engine.append(tenant, mine.slice(i, i + 2000))).stored);
      }
      if (seal) await f.engine.seal();
    }
  }, 240_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });
  it('has shards and several live blocks per tenant', () => {
    const st = f.engine.stats();
    expect(st.shards).toBeGreaterThan(5);
    expect(st.liveReads).toBe(f.reads.length - 20_000);
    const perTenant = kTenants.map((t) => f.reads.slice(20_000).filter((r) => r.tenant === t).length);
    expect(Math.max(...perTenant)).toBeGreaterThan(8192); // two blocks or more (kLiveBlockRows = 8192 rows)
  });
  it('random queries', () => checkReference(f, 120), 240_000);
});

describe('analytics vs reference: on the worker pool', () => {
  const f = fixture({ threads: 2, sealEvery: 4, poolMinRows: 0 }, 3, 800);
  it('random queries', async () => {
    await checkReference(f, 80);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(0);
  });
});

describe('analytics vs DuckDB SQL', () => {
  const f = fixture({ threads: 0, sealEvery: 5 }, 4, 700);
  let db: DuckOracle;
  beforeAll(async () => {
    db = await DuckOracle.create();
    await db.loadReads(f.reads);
  });
  afterAll(() => db?.close());

  it('every analysis, random queries (radii never exactly on a camera: libm may differ in the last bit)', () =>
    fc.assert(
      fc.asyncProperty(scopesArb, analyticsQueryArb(f.reads.map((read) => ({ tenant: read.tenant, read })), false), async (scopes, q) => {
        const got = await f.engine.analytics(scopes, q);
        const want = await duckAnalytics(db, scopes, q);
        expect(got.total).toBe(want.total);
        expect(got.truncated).toBe(want.truncated);
        if (got.kind === 'cloned') {
          expect(got.results.map((r) => ({ plate: r.plate, pairs: r.pairs, example: r.example.map((h) => h.id) }))).toEqual(
            want.results.map((r) => ({ plate: r.plate, pairs: r.pairs, example: r.example })),
          );
          got.results.forEach((r, i) => expect(r.maxSpeedKmh).toBeCloseTo(want.results[i]!.maxSpeedKmh as number, 6));
        } else {
          expect(got.results).toEqual(want.results);
        }
      }),
      { numRuns: 150 },
    ));

  it('convoy and cloned answers are not all empty (the test can fail)', async () => {
    const scopes = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
    const times = f.reads.map((r) => r.ts);
    const [c] = fc.sample(convoyArb(times), { numRuns: 1, seed: 7 });
    const convoy = await f.engine.analytics(scopes, { ...c!, plate: 'TGT1', minCameras: 1, filter: {}, windowSeconds: 120 });
    expect(convoy.total).toBeGreaterThan(0);
    const [k] = fc.sample(clonedArb(times), { numRuns: 1, seed: 7 });
    const cloned = await f.engine.analytics(scopes, { ...k!, filter: {}, maxSpeedKmh: 250, minDistanceM: 5000 });
    expect(cloned.total).toBeGreaterThan(0);
    expect((await duckAnalytics(db, scopes, { ...k!, filter: {}, maxSpeedKmh: 250, minDistanceM: 5000 })).total).toBe(cloned.total);
  });
});

/** bench/peers/analytics-sql.ts on this file's DuckDB table, whose `ts` is already epoch ms (BIGINT). */
const kBigintDialect: SqlDialect = {
  name: 'duckdb',
  timestamp: (ms) => `${ms}::BIGINT`,
  unnestText: () => {
    throw new Error('unused');
  },
  epochMs: (e) => e,
  sortedDistinct: (e) => `list(DISTINCT ${e} ORDER BY ${e})`,
};

describe("the peers benchmark's analytics SQL (bench/peers/analytics-sql.ts) equals the engine", () => {
  const f = fixture({ threads: 0, sealEvery: 4 }, 5, 600);
  let db: DuckOracle;
  beforeAll(async () => {
    db = await DuckOracle.create();
    await db.loadReads(f.reads);
  });
  afterAll(() => db?.close());
  it('one tenant in scope (as the benchmark asks), random queries without polygons', () =>
    fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kTenants), fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay })),
        analyticsQueryArb(f.reads.map((read) => ({ tenant: read.tenant, read })), false)
          .filter((q) => !(q.kind === 'frequent' ? [q.filter] : q.kind === 'multisite' ? q.sites : []).some((a) => a.polygon)),
        async (tenant, minTs, q) => {
          const scope = { tenant, minTs: minTs === 0 ? Number.MIN_SAFE_INTEGER : minTs };
          const rows = (await db.rows(benchAnalyticsSql(kBigintDialect, scope, q))).map((r) => Object.values(r).map((v) => (v !== null && typeof v === 'object' && 'items' in v ? (v as { items: unknown[] }).items : v)));
          const want = sqlAnalyticsAnswer(q.kind, rows);
          expect(engineAnalyticsAnswer(await f.engine.analytics([scope], q))).toEqual(want);
        },
      ),
      { numRuns: 120 },
    ));
});
