/**
 * The cloned-plates analysis' own engine tasks (src/query/analytics/cloned.ts, cloned-task.ts): the plate
 * order key (plate-order.ts), the exact distance bound that skips the haversine (pair-bound.ts), and the
 * engine against the reference on data with many plates (so the key ranges split a week of dictionaries,
 * and a plate's rows merge from many shards): equal times within and across tenants, plates in several
 * tenants, several shards of one tenant-day (overlapping times), live rows beside sealed shards, random
 * scopes with retention floors and random windows and areas; on the worker pool (several key ranges) and
 * on the calling thread (one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kPlateSlotBytes } from '../src/core/segment.js';
import { openEngine, type Engine } from '../src/engine/index.js';
import { speedKmh, type ClonedQuery } from '../src/model/analytics.js';
import type { ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { clonedLiveParts } from '../src/query/analytics/cloned.js';
import { cannotPair } from '../src/query/analytics/pair-bound.js';
import { kPlateOrderEnd, plateOfOrderKey, plateOrderKey, slotOrderKey } from '../src/query/analytics/plate-order.js';
import { haversineM } from '../src/query/reference/geo.js';
import { referenceCloned } from '../src/query/reference/index.js';
import { rng, tempDataDir } from './helpers/engine-data.js';

const kChars = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const plateArb = fc.array(fc.constantFrom(...kChars), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));

describe('plate order keys', () => {
  it('sort as the plates do, are exact below kPlateOrderEnd, and give the plate back', () =>
    fc.assert(
      fc.property(plateArb, plateArb, (a, b) => {
        const ka = plateOrderKey(a), kb = plateOrderKey(b);
        expect(Number.isSafeInteger(ka) && ka > 0 && ka < kPlateOrderEnd).toBe(true);
        expect(Math.sign(ka - kb)).toBe(a < b ? -1 : a > b ? 1 : 0);
        expect(plateOfOrderKey(ka)).toBe(a);
      }),
      { numRuns: 2000 },
    ));

  it('of a dictionary slot equal the key of its plate', () =>
    fc.assert(
      fc.property(fc.array(plateArb, { minLength: 1, maxLength: 20 }), (plates) => {
        const slots = new Uint8Array(plates.length * kPlateSlotBytes);
        plates.forEach((p, d) => {
          for (let i = 0; i < p.length; i++) slots[d * kPlateSlotBytes + i] = p.charCodeAt(i);
          slots[d * kPlateSlotBytes + 15] = p.length;
        });
        plates.forEach((p, d) => expect(slotOrderKey(slots, d)).toBe(plateOrderKey(p)));
      }),
    ));
});

describe('the distance bound before the haversine', () => {
  // coordinates as stored (degrees × 1e7), thresholds right at the pair's own distance and speed
  const e7 = (deg: number) => Math.round(deg * 1e7);
  const pairArb = fc.record({
    lat: fc.double({ min: -80, max: 80, noNaN: true }),
    lon: fc.double({ min: -179, max: 179, noNaN: true }),
    dLat: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -500_000, max: 500_000 }), fc.integer({ min: -200_000_000, max: 200_000_000 })),
    dLon: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -500_000, max: 500_000 }), fc.integer({ min: -300_000_000, max: 300_000_000 })),
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 86_400_000 })),
    nudge: fc.constantFrom(-1e-9, 0, 1e-9, -1e-3, 1e-3),
  });

  it('never rejects a pair the exact test keeps', () =>
    fc.assert(
      fc.property(pairArb, ({ lat, lon, dLat, dLon, dt, nudge }) => {
        const a = [e7(lat), e7(lon)] as const;
        const b = [Math.max(-900_000_000, Math.min(900_000_000, a[0] + dLat)), a[1] + dLon] as const;
        const d = haversineM(a[0] / 1e7, a[1] / 1e7, b[0] / 1e7, b[1] / 1e7);
        const v = speedKmh(d, dt);
        // thresholds at which the exact test just keeps the pair: minDistance = d, maxSpeed just below v
        for (const [minD, maxV] of [[d * (1 + nudge), v * (1 - 1e-12) - 1e-12], [0, v * (1 - 1e-9)], [d, 0]] as const) {
          const kept = d >= minD && v > maxV;
          if (kept) expect(cannotPair(b[0] - a[0], b[1] - a[1], dt, minD, maxV)).toBe(false);
        }
      }),
      { numRuns: 5000 },
    ));

  it('rejects the usual pair: the same car an hour later, across town', () => {
    expect(cannotPair(200_000, -300_000, 3_600_000, 5000, 250)).toBe(true);
    expect(cannotPair(10, 10, 1000, 5000, 250)).toBe(true);
  });
});

// ---- the engine against the reference ----

const kDay = 86_400_000;
const kT0 = Date.UTC(2026, 9, 5);
const kDays = 4;
const kTenants = ['pd-x', 'pd-y', 'so-z'];
/** Two towns ~110 km apart, a few cameras each, so a plate read in both within minutes is a clone. */
const kSpots: Array<[number, number]> = [
  [37.75, -122.45], [37.76, -122.44], [37.7712345, -122.4301], [38.55, -121.74], [38.56, -121.75], [38.5432101, -121.7311],
];

interface Fixture {
  engine: Engine;
  reads: StoredRead[];
  cleanup: () => Promise<void>;
}

/** Many plates (some in every tenant), times on a 60 s grid (equal times within and across tenants). */
function makeReads(seed: number, n: number, plateCount = 400): Array<{ tenant: string; read: Read }> {
  const r = rng(seed);
  const plates = Array.from({ length: plateCount }, (_, i) => {
    let p = '';
    const len = 1 + Math.floor(r() * 10);
    for (let k = 0; k < len; k++) p += kChars[Math.floor(r() * kChars.length)];
    return i % 7 === 0 ? p.slice(0, 3) : p; // short plates: prefixes of others sort first
  });
  const out: Array<{ tenant: string; read: Read }> = [];
  for (let i = 0; i < n; i++) {
    const plate = plates[Math.floor(r() ** 2 * plates.length)]!; // some plates read often
    const spot = kSpots[Math.floor(r() * kSpots.length)]!;
    const ts = kT0 + Math.floor(r() * ((kDays * kDay) / 60_000)) * 60_000;
    out.push({ tenant: kTenants[Math.floor(r() * kTenants.length)]!, read: { plate, ts, lat: spot[0], lon: spot[1], camera: `cam-${spot[0]}` } });
  }
  return out;
}

/**
 * `plates`: distinct plates drawn from (default 400); `queryAt`: a cloned query over each tenant once this
 * share of the reads is in (it sorts the live plates: src/store/live-plate-order.ts), so later plates are
 * the order's unsorted tail.
 */
function fixture(opts: { threads: number; poolMinRows?: number; sealEvery: number; plates?: number; queryAt?: number }, seed: number, n: number): Fixture {
  const f = {} as Fixture;
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-cloned-');
    f.cleanup = tmp.cleanup;
    f.engine = await openEngine({ dataDir: tmp.dir, threads: opts.threads, sealAgeMs: 0, ...(opts.poolMinRows !== undefined ? { poolMinRows: opts.poolMinRows } : {}) });
    f.reads = [];
    const data = makeReads(seed, n, opts.plates);
    let queried = opts.queryAt === undefined;
    for (let i = 0, batch = 0; i < data.length; i += 200, batch++) {
      if (!queried && i >= opts.queryAt! * data.length) {
        queried = true;
        // one tenant a query: one live view, the path that sorts its plates
        for (const tenant of kTenants) await f.engine.analytics([{ tenant, minTs: 0 }], { kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 1 });
      }
      for (const tenant of kTenants) {
        const mine = data.slice(i, i + 200).filter((x) => x.tenant === tenant).map((x) => x.read);
        if (mine.length) f.reads.push(...(await f.engine.append(tenant, mine)).stored);
      }
      // sealing every few batches: several shards per tenant-day, and the last batches stay live
      if (batch % opts.sealEvery === opts.sealEvery - 1 && i + 600 < data.length) await f.engine.seal();
    }
  }, 240_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });
  return f;
}

const scopesArb: fc.Arbitrary<TenantScope[]> = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((tenant) => fc.record({ tenant: fc.constant(tenant), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay })) }))));

const filterArb: fc.Arbitrary<ReadFilter> = fc
  .record({
    from: fc.option(fc.integer({ min: kT0 - kDay, max: kT0 + kDays * kDay }).map((t) => t - (t % 60_000)), { nil: undefined }),
    to: fc.option(fc.integer({ min: kT0, max: kT0 + (kDays + 1) * kDay }).map((t) => t - (t % 60_000)), { nil: undefined }),
    area: fc.constantFrom<ReadFilter | undefined>(undefined, undefined, { bbox: [-122.5, 37.7, -121.7, 38.56] }, { near: { lat: 37.76, lon: -122.44, radiusM: 120_000 } }),
  })
  .map(({ from, to, area }) => ({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...area }));

const queryArb: fc.Arbitrary<ClonedQuery> = fc
  .record({
    maxSpeedKmh: fc.constantFrom(1, 30, 100, 250, 5000),
    minDistanceM: fc.constantFrom(0, 500, 5000, 50_000, 200_000),
    filter: filterArb,
    limit: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(10_000)),
  })
  .map((q) => ({ kind: 'cloned' as const, ...q }));

function checkReference(f: Fixture, runs: number) {
  return fc.assert(
    fc.asyncProperty(scopesArb, queryArb, async (scopes, q) => {
      const got = await f.engine.analytics(scopes, q);
      expect(got).toEqual({ kind: 'cloned', ...referenceCloned(f.reads, scopes, q) });
    }),
    { numRuns: runs },
  );
}

/** Random queries answered on the pool equal the reference's, and the data has clones to find. */
function poolCases(f: Fixture) {
  it('random queries, on the pool', async () => {
    const before = f.engine.stats().poolTasks;
    await checkReference(f, 60);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(before ?? 0);
  });
  it('finds clones (the test can fail)', async () => {
    const got = await f.engine.analytics(kTenants.map((tenant) => ({ tenant, minTs: 0 })), { kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 10_000 });
    expect(got.total).toBeGreaterThan(50);
  });
}

describe('cloned plates vs reference: many plates, on the worker pool', () => {
  const f = fixture({ threads: 2, poolMinRows: 0, sealEvery: 3 }, 11, 6000);
  it('has several shards per tenant and live rows', () => {
    expect(f.engine.stats().shards).toBeGreaterThan(3 * kDays);
    expect(f.engine.stats().liveReads).toBeGreaterThan(0);
  });
  poolCases(f);
});

describe('cloned plates vs reference: many plates, on the calling thread', () => {
  const f = fixture({ threads: 0, sealEvery: 4 }, 12, 4000);
  it('random queries', () => checkReference(f, 60));
  it('after sealing everything', async () => {
    await f.engine.seal();
    expect(f.engine.stats().liveReads).toBe(0);
    await checkReference(f, 30);
  }, 120_000);
});

describe('cloned plates vs reference: every read live, on the worker pool', () => {
  // no shard: the key ranges are cut at the live plates' quantiles and the tasks read the live arena in place
  const f = fixture({ threads: 2, poolMinRows: 0, sealEvery: Infinity }, 13, 5000);
  it('has only live rows', () => {
    expect(f.engine.stats().shards).toBe(0);
    expect(f.engine.stats().liveReads).toBe(5000);
  });
  it('reads each live view in place, in several pool tasks', async () => {
    const parts = clonedLiveParts.count, tasks = f.engine.stats().poolTasks ?? 0;
    await f.engine.analytics([{ tenant: 'pd-x', minTs: 0 }], { kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 10 });
    expect(clonedLiveParts.count).toBe(parts + 1);
    expect(f.engine.stats().poolTasks! - tasks).toBeGreaterThanOrEqual(3);
  });
  poolCases(f);
});

describe('cloned plates vs reference: a seal while the live tasks run', () => {
  const f = fixture({ threads: 2, poolMinRows: 0, sealEvery: Infinity }, 15, 4000);
  it('answers over the views the query planned', async () => {
    const more = makeReads(16, 3 * 1500);
    const scopes = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
    for (let round = 0; round < 3; round++) {
      const q: ClonedQuery = { kind: 'cloned', maxSpeedKmh: [250, 100, 30][round]!, minDistanceM: 5000, filter: {}, limit: 10_000 };
      const want = { kind: 'cloned', ...referenceCloned(f.reads, scopes, q) };
      const parts = clonedLiveParts.count;
      expect(f.engine.stats().liveReads).toBeGreaterThan(0);
      const pending = f.engine.analytics(scopes, q);
      // the seal retires the generations the tasks read; new rows then take arena regions, the freed ones
      // among them if the views were not pinned until the tasks are merged
      const sealed = f.engine.seal();
      const batch = more.slice(round * 1500, (round + 1) * 1500);
      const appended = (async () => {
        for (const tenant of kTenants) {
          const mine = batch.filter((x) => x.tenant === tenant).map((x) => x.read);
          if (mine.length) f.reads.push(...(await f.engine.append(tenant, mine)).stored);
        }
      })();
      const got = await pending;
      await Promise.all([sealed, appended]);
      expect(got).toEqual(want);
      expect(got.total).toBeGreaterThan(0);
      expect(clonedLiveParts.count).toBeGreaterThan(parts);
    }
  }, 120_000);
});

describe('cloned plates vs reference: every read live, more plates than the live order leaves unsorted', () => {
  // past 4,096 plates a tenant's live plates are kept sorted (live-plate-order.ts) and the ranks come from
  // that order merged with the plates first seen after it (live-cloned-rows.ts ranksByPlateOrder)
  const f = fixture({ threads: 2, poolMinRows: 0, sealEvery: Infinity, plates: 12_000, queryAt: 0.75 }, 14, 36_000);
  it('has a tenant with more than 4,096 plates when the order is built and new plates after it', () => {
    const before = new Map<string, Set<string>>();
    const after = new Map<string, number>();
    f.reads.forEach((r, i) => {
      if (!before.has(r.tenant)) before.set(r.tenant, new Set());
      if (i < 0.74 * f.reads.length) before.get(r.tenant)!.add(r.plate);
      else if (!before.get(r.tenant)!.has(r.plate)) after.set(r.tenant, (after.get(r.tenant) ?? 0) + 1);
    });
    expect(kTenants.some((t) => before.get(t)!.size > 4096 && (after.get(t) ?? 0) > 100)).toBe(true);
  });
  it('random queries, on the pool', () => checkReference(f, 25), 120_000);
  it('random queries over one tenant (one live view), on the pool', () =>
    fc.assert(
      fc.asyncProperty(fc.constantFrom(...kTenants), fc.constantFrom(0, kT0 + kDay), queryArb, async (tenant, minTs, q) => {
        const scopes = [{ tenant, minTs }];
        expect(await f.engine.analytics(scopes, q)).toEqual({ kind: 'cloned', ...referenceCloned(f.reads, scopes, q) });
      }),
      { numRuns: 25 },
    ), 120_000);
  it('finds clones (the test can fail)', async () => {
    const got = await f.engine.analytics(kTenants.map((tenant) => ({ tenant, minTs: 0 })), { kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 10_000 });
    expect(got.total).toBeGreaterThan(50);
  });
});
