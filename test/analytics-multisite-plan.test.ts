/**
 * Multi-site over many day shards, against the reference (src/query/reference/multisite.ts): the row scan
 * skips the shards no site reaches (src/query/analytics/shard-reach.ts: span and zone maps) and runs the
 * rest on the calling thread or the pool, so the cases that matter are sites days apart (the planning
 * window spans every shard between them), disjoint windows, windows on UTC midnight (a shard's edge), a
 * window ending exactly on a read (exclusive), sites in an area no camera covers, sites outside every
 * shard's span, live rows beside the shards, and retention floors inside a site's window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { MultisiteQuery } from '../src/model/analytics.js';
import type { ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { referenceMultisite } from '../src/query/reference/index.js';
import { areaArb, kCameras, kPlates, kTenants } from './helpers/analytics-data.js';
import { rng, tempDataDir } from './helpers/engine-data.js';

const kDay = 86_400_000;
const kHour = 3_600_000;
const kT0 = Date.UTC(2026, 10, 1);
const kDays = 14;
/** The series: one plate at three cameras on days 1, 6 and 12, at these hours. */
const kSeries = [
  { day: 1, hour: 22.5, camera: 0 },
  { day: 6, hour: 3.25, camera: 5 },
  { day: 12, hour: 0, camera: 2 }, // exactly on UTC midnight: a shard's first instant
];

function makeReads(seed: number, n: number): Array<{ tenant: string; read: Read }> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out: Array<{ tenant: string; read: Read }> = [];
  for (let i = 0; i < n; i++) {
    const cam = pick(kCameras);
    // a 15-minute grid with some reads on midnight, so windows land exactly on reads and on shard edges
    const ts = r() < 0.1 ? kT0 + Math.floor(r() * kDays) * kDay : kT0 + Math.floor(r() * kDays * 96) * 900_000;
    out.push({ tenant: pick(kTenants), read: { plate: pick([...kPlates, 'SER1']), ts, lat: cam.lat, lon: cam.lon, camera: cam.camera } });
  }
  for (const s of kSeries) {
    const cam = kCameras[s.camera]!;
    out.push({ tenant: pick(kTenants), read: { plate: 'SER1', ts: kT0 + s.day * kDay + s.hour * kHour, lat: cam.lat, lon: cam.lon, camera: cam.camera } });
  }
  return out;
}

/** A site window: around a read's time (± 0, 1 ms, 30 min, 1 h), a UTC day, or outside every shard. */
function siteWindowArb(times: readonly number[]): fc.Arbitrary<ReadFilter> {
  const around = fc.tuple(fc.constantFrom(...times), fc.constantFrom(0, 1, 1_800_000, kHour)).map(([t, h]): ReadFilter => ({ from: t - h, to: t + h }));
  const endsOnRead = fc.constantFrom(...times).map((t): ReadFilter => ({ from: t - kHour, to: t }));
  const day = fc.integer({ min: -1, max: kDays }).map((d): ReadFilter => ({ from: kT0 + d * kDay, to: kT0 + (d + 1) * kDay }));
  const outside = fc.constantFrom<ReadFilter>({ from: kT0 - 5 * kDay, to: kT0 - 4 * kDay }, { from: kT0 + (kDays + 3) * kDay }, { to: kT0 - kDay });
  return fc.oneof(around, around, endsOnRead, day, outside);
}

/** An area: one of the helpers' (bbox on a camera, radius to a camera, polygon), or one no camera is in. */
const nowhere = fc.constantFrom<ReadFilter>({ near: { lat: 10, lon: 10, radiusM: 500 } }, { bbox: [-100, 40, -99.9, 40.1] });

function queryArb(times: readonly number[]): fc.Arbitrary<MultisiteQuery> {
  const site = fc.tuple(fc.oneof(areaArb(true), areaArb(true), areaArb(true), nowhere), siteWindowArb(times)).map(([a, w]) => ({ ...a, ...w }));
  const requestWindow = fc.oneof(
    fc.constant<ReadFilter>({}),
    fc.tuple(fc.integer({ min: 0, max: kDays }), fc.integer({ min: 1, max: kDays })).map(([d, n]): ReadFilter => ({ from: kT0 + d * kDay, to: kT0 + (d + n) * kDay })),
  );
  return fc
    .array(site, { minLength: 2, maxLength: 4 })
    .chain((sites) => fc.record({ sites: fc.constant(sites), minSites: fc.integer({ min: 1, max: sites.length }), filter: requestWindow, limit: fc.constantFrom(2, 1000) }))
    .map((q) => ({ kind: 'multisite' as const, ...q }));
}

const scopesArb: fc.Arbitrary<TenantScope[]> = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay })) }))))
  .map((xs) => xs as TenantScope[]);

interface Fixture {
  engine: Engine;
  reads: StoredRead[];
  shards: number;
  cleanup: () => Promise<void>;
}

function fixture(opts: { threads: number; poolMinRows?: number }, seed: number): Fixture {
  const f = {} as Fixture;
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-multisite-plan-');
    f.cleanup = tmp.cleanup;
    f.engine = await openEngine({ dataDir: tmp.dir, threads: opts.threads, sealAgeMs: 0, ...(opts.poolMinRows !== undefined ? { poolMinRows: opts.poolMinRows } : {}) });
    const data = makeReads(seed, 1400);
    const sealed = data.slice(0, 1300).concat(data.slice(1400)); // the series is sealed; 100 reads stay live
    f.reads = [];
    for (const tenant of kTenants) {
      const mine = sealed.filter((x) => x.tenant === tenant).map((x) => x.read);
      f.reads.push(...(await f.engine.append(tenant, mine)).stored);
    }
    await f.engine.seal();
    f.shards = f.engine.stats().shards;
    for (const tenant of kTenants) {
      const mine = data.slice(1300, 1400).filter((x) => x.tenant === tenant).map((x) => x.read);
      if (mine.length) f.reads.push(...(await f.engine.append(tenant, mine)).stored);
    }
  }, 240_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });
  return f;
}

function checkReference(f: Fixture, runs: number) {
  const times = [...new Set(f.reads.map((r) => r.ts))];
  return fc.assert(
    fc.asyncProperty(scopesArb, queryArb(times), async (scopes, q) => {
      const got = await f.engine.analytics(scopes, q);
      expect(got).toEqual({ kind: 'multisite', ...referenceMultisite(f.reads, scopes, q) });
    }),
    { numRuns: runs },
  );
}

const all = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
/** The series' three sites, 500 m and ± 1 h each: 11 days apart end to end. */
const seriesQuery: MultisiteQuery = {
  kind: 'multisite', filter: {}, limit: 1000, minSites: 3,
  sites: kSeries.map((s) => {
    const cam = kCameras[s.camera]!;
    const t = kT0 + s.day * kDay + s.hour * kHour;
    return { near: { lat: cam.lat, lon: cam.lon, radiusM: 500 }, from: t - kHour, to: t + kHour };
  }),
};

describe('multi-site over many day shards, calling thread', () => {
  const f = fixture({ threads: 0 }, 11);
  it('has a shard per tenant and day, and live rows', () => {
    expect(f.shards).toBeGreaterThanOrEqual(kTenants.length * kDays);
    expect(f.engine.stats().liveReads).toBeGreaterThan(0);
  });
  it('random sites (days apart, disjoint, on midnight, ending on a read, nowhere, outside every shard) equal the reference', () => checkReference(f, 200));
  it('the series is found, sites 11 days apart; with a site nowhere it is found at 3 of 4 sites only', async () => {
    const got = await f.engine.analytics(all, seriesQuery);
    expect(got.results.map((r) => (r as { plate: string }).plate)).toContain('SER1');
    const withBlind = { ...seriesQuery, sites: [...seriesQuery.sites, { near: { lat: 10, lon: 10, radiusM: 500 }, from: kT0, to: kT0 + kDays * kDay }] };
    expect(await f.engine.analytics(all, { ...withBlind, minSites: 4 })).toEqual({ kind: 'multisite', results: [], total: 0, truncated: false });
    expect(await f.engine.analytics(all, withBlind)).toEqual({ kind: 'multisite', ...referenceMultisite(f.reads, all, withBlind) });
  });
});

describe('multi-site over many day shards, on the worker pool', () => {
  const f = fixture({ threads: 2, poolMinRows: 0 }, 12);
  it('random sites equal the reference', () => checkReference(f, 120));
  it('dispatches only the shards a site reaches (three one-hour sites: at most two days of each tenant per site)', async () => {
    const before = f.engine.stats().poolTasks ?? 0;
    const got = await f.engine.analytics(all, seriesQuery);
    expect(got).toEqual({ kind: 'multisite', ...referenceMultisite(f.reads, all, seriesQuery) });
    const tasks = (f.engine.stats().poolTasks ?? 0) - before;
    expect(tasks).toBeGreaterThan(0);
    expect(tasks).toBeLessThanOrEqual(kSeries.length * 2 * kTenants.length);
    // without the skip: every shard of days 1-12 of each tenant (36)
    expect(f.shards).toBeGreaterThan(kSeries.length * 2 * kTenants.length);
  });
});
