/**
 * Step 4 of "plates as tenant ids" as built (docs/storage-v2.md, "Round 4"): once a tenant's plate
 * dictionary covers a shard, the shard reads its plates through that dictionary (a code → tenant id map,
 * 4 B a shard plate) and its own 16-byte slots leave its arena region. Held to the plain reference on
 * random data: searches of every mode (exact, narrow and broad patterns, so both the tenant-wide path and
 * the per-shard kernel tasks with slots gathered back run), hot lists, the analyses, export; over covered
 * and not-yet-covered shards, installs after seals, compaction and retention (the dictionary rebuilt
 * smaller), on the calling thread and on the pool, and searches in flight while a new dictionary installs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { HotlistQuery, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceHotlistSearch, referenceSearch } from '../src/query/reference/index.js';
import { ArenaSet } from '../src/core/arena.js';
import { shardSlotsDropped, type LoadedShard } from '../src/store/shard-loader.js';
import { filterArb, kDay, kT0, makeReads, plateMatchArb, searchQueryArb, tempDataDir } from './helpers/engine-data.js';
import { analyticsQueryArb, referenceAnalytics } from './helpers/analytics-data.js';
import { coveredDistanceCounts } from '../src/query/covered-distances.js';
import { coveredProbeCounts, coveredProbeWay } from '../src/query/covered-probes.js';
import { clonedPartsThrough } from '../src/query/analytics/cloned.js';
import { checkExport as checkExportAgainstReference, checkHotlist as checkHotlistAgainstReference, type EngineFixture } from './helpers/reference-checks.js';

const kTenants = ['pd-a', 'pd-b', 'pd-c'];

type Fixture = EngineFixture;

interface Internals {
  stores: Map<string, { shards: readonly LoadedShard[] }>;
  compact(tenant?: string): Promise<number>;
  plateIndexesSettled(): Promise<void>;
}

const internals = (e: Engine) => e as unknown as Internals;

async function load(engine: Engine, seed: number, perTenant: number, sealEvery: number): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  for (const [t, tenant] of kTenants.entries()) {
    const reads = makeReads({ seed: seed + t, reads: perTenant, vehicles: 40, days: 4 });
    for (let i = 0; i < reads.length; i += 37) {
      out.push(...(await engine.append(tenant, reads.slice(i, i + 37))).stored);
      if ((i / 37) % sealEvery === sealEvery - 1) await engine.seal(tenant);
    }
  }
  return out;
}

const scopesArb = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + 4 * kDay })) }))))
  .map((xs) => xs as TenantScope[]);

/** Broad patterns too (every plate, or most): the tenant-wide path declines them and the shards' kernel tasks run. */
function broadMatchArb(plates: readonly string[]) {
  const broad = fc.constantFrom('*', '?*', '*1*', '*A*').map((pattern) => ({ pattern, mode: 'wildcard' as const, maxEdits: 0, ocr: false, transpositions: false }));
  return fc.oneof(plateMatchArb(plates), broad);
}

function checkSearch(f: Fixture, runs: number) {
  const plates = [...new Set(f.reads.map((r) => r.plate))];
  const queryArb = fc.oneof(
    searchQueryArb(plates, kT0, 4),
    fc.record({ plate: broadMatchArb(plates), filter: filterArb(kT0, 4), limit: fc.integer({ min: 1, max: 60 }) }).map((q) => q as SearchQuery),
  );
  return fc.assert(
    fc.asyncProperty(scopesArb, queryArb, async (scopes, query) => {
      expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
    }),
    { numRuns: runs },
  );
}

function checkHotlist(f: Fixture, runs: number) {
  return checkHotlistAgainstReference(f, scopesArb, [...new Set(f.reads.map((r) => r.plate))], 4, runs);
}


function checkAnalytics(f: Fixture, runs: number) {
  return fc.assert(
    fc.asyncProperty(scopesArb, analyticsQueryArb(f.reads.map((read) => ({ tenant: read.tenant, read })), true), async (scopes, q) => {
      expect(await f.engine.analytics(scopes, q)).toEqual(referenceAnalytics(f.reads, scopes, q));
    }),
    { numRuns: runs },
  );
}

const checkExport = (f: Fixture) => checkExportAgainstReference(f, kTenants);

async function checkAll(f: Fixture, runs: number) {
  await checkSearch(f, runs);
  await checkHotlist(f, Math.ceil(runs / 4));
  await checkAnalytics(f, Math.ceil(runs / 4));
  await checkExport(f);
}

/**
 * checkAll with the dictionary settled: the queries read the covered shards without gathering a slot back
 * (no lease), through the tenant's distances, probe pairs and, for cloned, its slots.
 */
async function checkAllWithoutLeases(f: Fixture, runs: number) {
  const leases = shardSlotsDropped.leases, gathers = coveredDistanceCounts.shardGathers, through = clonedPartsThrough.count;
  const maps = coveredProbeCounts.shardMaps, probes = coveredProbeCounts.shardProbes;
  await checkAll(f, runs);
  // the hot lists each way whatever the sizes choose: each covered shard's task probing its plates through
  // its map, and mapping the tenant dictionary's probe made once
  for (const force of ['through', 'pairs'] as const) {
    coveredProbeWay.force = force;
    try {
      await checkHotlist(f, Math.ceil(runs / 4));
    } finally {
      delete coveredProbeWay.force;
    }
  }
  // these tenants' few plates send most patterns to the tenant-wide path (read by plate); with it declined,
  // as it is for a broad pattern over a big tenant, every pattern goes to the covered shards' kernel tasks
  const e = f.engine as unknown as { tenantMatches?: () => undefined };
  e.tenantMatches = () => undefined;
  try {
    await checkSearch(f, runs);
  } finally {
    delete e.tenantMatches;
  }
  // the random analyses above draw a cloned query only by chance (1 in 4 a run): one over every tenant and
  // all time, so the cloned tasks' read through the dictionary is held to the reference on every run
  const scopes = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
  const cloned = { kind: 'cloned' as const, maxSpeedKmh: 100, minDistanceM: 0, filter: {}, limit: 50 };
  expect(await f.engine.analytics(scopes, cloned)).toEqual(referenceAnalytics(f.reads, scopes, cloned));
  expect(shardSlotsDropped.leases).toBe(leases);
  expect(coveredDistanceCounts.shardGathers).toBeGreaterThan(gathers);
  expect(coveredProbeCounts.shardMaps).toBeGreaterThan(maps);
  expect(coveredProbeCounts.shardProbes).toBeGreaterThan(probes);
  expect(clonedPartsThrough.count).toBeGreaterThan(through);
}

function shardsOf(e: Engine): LoadedShard[] {
  return [...internals(e).stores.values()].flatMap((s) => [...s.shards]);
}

/** Every shard of a tenant with more than one is read through the tenant's dictionary, its slots dropped. */
function expectAllDropped(e: Engine) {
  let dropped = 0;
  for (const store of internals(e).stores.values()) {
    if (store.shards.length < 2) continue;
    for (const s of store.shards) {
      expect(s.readsThrough, s.file).toBeDefined();
      expect(s.slotsDropped, s.file).toBe(true);
      expect(s.layout.dict).toBe(0); // no lease outstanding
      dropped++;
    }
  }
  expect(dropped).toBeGreaterThan(5);
}

describe('Arena.punch', () => {
  it('frees the middle of a region: both ends stay allocated, the hole is reused, the ends free apart', () => {
    const arenas = new ArenaSet({ arenaBytes: 1 << 20 });
    const r = arenas.alloc(4096);
    const before = arenas.allocatedBytes;
    const { head, tail } = arenas.punch(r, r.ptr + 1024, r.ptr + 3072);
    expect(arenas.allocatedBytes).toBe(before - 2048);
    expect(head).toEqual({ arena: r.arena, ptr: r.ptr, bytes: 1024 });
    expect(tail).toEqual({ arena: r.arena, ptr: r.ptr + 3072, bytes: 1024 });
    const again = arenas.alloc(2048, 64);
    expect(again.ptr).toBe(r.ptr + 1024);
    arenas.free(head);
    arenas.free(tail!);
    arenas.free(again);
    expect(arenas.allocatedBytes).toBe(before - 4096);
    const s = arenas.alloc(4096);
    expect(() => arenas.punch(s, s.ptr + 8, s.ptr + 64)).toThrow(RangeError);
    expect(arenas.punch(s, s.ptr + 1024, s.ptr + 4096).tail).toBeUndefined(); // to the end: a shrink
  });
});

describe('covered shards read through the tenant dictionary (calling thread)', () => {
  const f = {} as Fixture;
  beforeAll(async () => {
    Object.assign(f, await tempDataDir('ps-slots-'));
    f.engine = await openEngine({ dataDir: f.dir, threads: 0, arenaBytes: 256 * 1024, sealAgeMs: 0 });
    f.reads = await load(f.engine, 41, 500, 2);
    for (const tenant of kTenants) f.reads.push(...(await f.engine.append(tenant, makeReads({ seed: 77, reads: 30, vehicles: 40, days: 4 }))).stored);
    await internals(f.engine).plateIndexesSettled();
  }, 240_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });

  it('drops every covered shard\'s slots, and holds less than the same data with per-shard dictionaries', async () => {
    expectAllDropped(f.engine);
    const slotBytes = shardsOf(f.engine).reduce((n, s) => n + s.layout.dictCount * 16, 0);
    await f.engine.close();
    f.engine = await openEngine({ dataDir: f.dir, threads: 0, arenaBytes: 256 * 1024, sealAgeMs: 0, tenantPlates: false });
    const own = f.engine.stats().residentBytes;
    expect(shardsOf(f.engine).every((s) => !s.slotsDropped)).toBe(true);
    await f.engine.close();
    f.engine = await openEngine({ dataDir: f.dir, threads: 0, arenaBytes: 256 * 1024, sealAgeMs: 0 });
    await internals(f.engine).plateIndexesSettled();
    expectAllDropped(f.engine);
    // the maps (4 B) and the tenant dictionaries (16 B a tenant plate) in place of 16 B a shard plate
    expect(f.engine.stats().residentBytes).toBeLessThan(own);
    expect(own - f.engine.stats().residentBytes).toBeGreaterThan(slotBytes / 2);
  }, 120_000);

  it('answers as the reference', () => checkAllWithoutLeases(f, 120), 240_000);

  it('a shard sealed after the install is read its own way until the next one covers it', async () => {
    const more = makeReads({ seed: 5, reads: 60, vehicles: 60, days: 4 }).map((r) => ({ ...r, plate: `N${r.plate}`.slice(0, 10) }));
    f.reads.push(...(await f.engine.append('pd-b', more)).stored);
    await f.engine.seal('pd-b');
    const fresh = shardsOf(f.engine).filter((s) => !s.slotsDropped);
    expect(fresh.length).toBeGreaterThan(0);
    await checkSearch(f, 30); // before (or while) the install
    await internals(f.engine).plateIndexesSettled();
    expectAllDropped(f.engine);
    await checkAll(f, 60);
  }, 240_000);

  it('after compaction, and after retention shrinks the dictionaries (a rebuild from gathered slots)', async () => {
    const merged = await internals(f.engine).compact();
    expect(merged).toBeGreaterThan(0);
    await internals(f.engine).plateIndexesSettled();
    expectAllDropped(f.engine);
    await checkAll(f, 60);
    const leases = shardSlotsDropped.leases;
    for (const tenant of kTenants) {
      const cutoff = kT0 + Math.floor(2.5 * kDay);
      await f.engine.dropBefore(tenant, cutoff);
      f.reads = f.reads.filter((r) => !(r.tenant === tenant && r.ts < cutoff));
    }
    // searches read the shards left before the dictionaries are rebuilt, then after
    await checkSearch(f, 30);
    await internals(f.engine).plateIndexesSettled();
    await checkSearch(f, 10); // brings every dictionary up to date (a search refreshes a stale one)
    await internals(f.engine).plateIndexesSettled();
    expect(shardSlotsDropped.leases).toBeGreaterThan(leases);
    expectAllDropped(f.engine);
    await checkAll(f, 60);
  }, 240_000);
});

describe('covered shards read through the tenant dictionary (worker pool)', () => {
  const f = {} as Fixture;
  beforeAll(async () => {
    Object.assign(f, await tempDataDir('ps-slots-pool-'));
    f.engine = await openEngine({ dataDir: f.dir, threads: 2, poolMinRows: 0, arenaBytes: 512 * 1024, sealAgeMs: 0 });
    f.reads = await load(f.engine, 51, 400, 3);
    await internals(f.engine).plateIndexesSettled();
  }, 240_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });

  it('answers as the reference', async () => {
    expectAllDropped(f.engine);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAllWithoutLeases(f, 80);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 240_000);

  it('searches in flight while a new dictionary installs (seal, then compaction) answer as the reference', async () => {
    const plates = [...new Set(f.reads.map((r) => r.plate))];
    for (const tenant of kTenants) f.reads.push(...(await f.engine.append(tenant, makeReads({ seed: 91, reads: 80, vehicles: 50, days: 4 }))).stored);
    const queries = fc.sample(fc.tuple(scopesArb, fc.record({ plate: broadMatchArb(plates), filter: filterArb(kT0, 4), limit: fc.integer({ min: 1, max: 40 }) })), { numRuns: 24, seed: 7 });
    const hot: HotlistQuery = { entries: plates.slice(0, 20).map((p) => ({ pattern: p, mode: 'fuzzy' as const, maxEdits: 1, ocr: false, transpositions: false })), filter: {}, limitPerPlate: 5 };
    const scopes = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
    const reads = [...f.reads];
    for (const step of [() => f.engine.seal(), () => internals(f.engine).compact()]) {
      const inFlight = queries.map(([s, q]) => f.engine.search(s, q as SearchQuery));
      const hotInFlight = f.engine.searchHotlist(scopes, hot);
      await step();
      await internals(f.engine).plateIndexesSettled();
      const answers = await Promise.all(inFlight);
      answers.forEach((got, i) => expect(got).toEqual(referenceSearch(reads, queries[i]![0], queries[i]![1] as SearchQuery)));
      expect(await hotInFlight).toEqual(referenceHotlistSearch(reads, scopes, hot));
    }
    expectAllDropped(f.engine);
    await checkAll(f, 40);
  }, 240_000);
});
