/**
 * Data and queries for the analytics' differential tests, built so that the edge cases of API.md
 * "Investigative analytics" happen often:
 *   - few plates, shared by several tenants (a plate read by two agencies; cloned pairs across tenants);
 *   - times on a 30 s grid and windows that are multiples of 30 s: companions exactly at ±windowSeconds
 *     (kept) and 1 ms past it (`edge` reads), equal counts (ties broken by plate);
 *   - reads exactly at UTC midnight (the day boundary of `minDays`), and `from`/`to` equal to a read's ts;
 *   - reads at fixed camera positions, so areas have points exactly on a bbox edge, and (for the reference
 *     only: DuckDB's libm may differ in the last bit) radii exactly equal to a camera's distance;
 *   - two towns 110 km apart, so a plate read in both within minutes is a cloned-plate pair.
 */
import fc from 'fast-check';
import type { AnalyticsQuery, AnalyticsResult, ClonedQuery, ConvoyQuery, FrequentQuery, MultisiteQuery } from '../../src/model/analytics.js';
import type { ReadFilter, TenantScope } from '../../src/model/query.js';
import type { Read, StoredRead } from '../../src/model/read.js';
import { referenceCloned, referenceConvoy, referenceFrequent, referenceMultisite } from '../../src/query/reference/index.js';
import { haversineM } from '../../src/query/reference/geo.js';
import { rng } from './engine-data.js';

export const kDay = 86_400_000;
export const kT0 = Date.UTC(2026, 10, 1);
export const kDays = 3;
export const kTenants = ['pd-a', 'pd-b', 'so-c'];
export const kPlates = ['TGT1', 'AAA111', 'BBB222', 'CCC333', 'DDD444', 'EEE555', '7XYZ12', 'Z9', 'Q', 'K8L'];
/** Cameras: four in town A, four in town B (~110 km away); several cameras share one site. */
export const kCameras: ReadonlyArray<{ camera: string; lat: number; lon: number }> = [
  { camera: 'cam-a1', lat: 37.75, lon: -122.45 },
  { camera: 'cam-a2', lat: 37.76, lon: -122.44 },
  { camera: 'cam-a3', lat: 37.77, lon: -122.43 },
  { camera: 'cam-a4', lat: 37.75, lon: -122.43 },
  { camera: 'cam-b1', lat: 38.55, lon: -121.74 },
  { camera: 'cam-b2', lat: 38.56, lon: -121.75 },
  { camera: 'cam-b3', lat: 38.54, lon: -121.73 },
  { camera: 'cam-b4', lat: 38.55, lon: -121.75 },
];

export interface TenantRead {
  tenant: string;
  read: Read;
}

/** Reads from a seed: `n` background reads plus convoys planted around the target `TGT1`. */
export function makeAnalyticsReads(seed: number, n: number): TenantRead[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out: TenantRead[] = [];
  const grid = (kDays * kDay) / 30_000;
  const at = (cam: (typeof kCameras)[number], ts: number, plate: string, tenant = pick(kTenants)) => {
    // most reads at the camera's exact position; some a little off it (inside or outside a small box)
    const off = r() < 0.7 ? 0 : (r() - 0.5) * 0.004;
    out.push({ tenant, read: { plate, ts, lat: cam.lat + off, lon: cam.lon - off, camera: cam.camera } });
  };
  for (let i = 0; i < n; i++) {
    const ts = r() < 0.05 ? kT0 + Math.floor(r() * kDays) * kDay : kT0 + Math.floor(r() * grid) * 30_000;
    at(pick(kCameras), ts, pick(kPlates));
  }
  // convoys: a companion within (or exactly at, or just past) a window of the target's reads
  const targets = out.filter((x) => x.read.plate === 'TGT1');
  for (const t of targets) {
    for (const plate of ['AAA111', 'BBB222', 'Z9']) {
      if (r() < 0.4) continue;
      const delta = pick([0, 30_000, -60_000, 120_000, -120_000, 120_001, 90_000]);
      const cam = kCameras.find((c) => c.camera === t.read.camera)!;
      at(cam, t.read.ts + delta, plate);
    }
  }
  return out;
}

function readTimes(reads: readonly TenantRead[]): number[] {
  return [...new Set(reads.map((x) => x.read.ts))];
}

/** An optional window, often with bounds equal to a read's ts. */
function windowArb(times: readonly number[]): fc.Arbitrary<ReadFilter> {
  const t = fc.oneof(fc.constantFrom(...times), fc.integer({ min: kT0 - kDay, max: kT0 + (kDays + 1) * kDay }));
  return fc.record({ from: fc.option(t, { nil: undefined }), to: fc.option(t, { nil: undefined }) }).map(({ from, to }) => {
    const f: ReadFilter = {};
    if (from !== undefined) f.from = from;
    if (to !== undefined) f.to = to;
    if (f.from !== undefined && f.to !== undefined && f.from > f.to) [f.from, f.to] = [f.to, f.from];
    return f;
  });
}

/**
 * One area: a bbox with an edge exactly on a camera, a radius around a camera (exactly reaching another
 * camera when `exactRadius`), or a convex polygon around a town.
 */
export function areaArb(exactRadius: boolean): fc.Arbitrary<ReadFilter> {
  const cam = fc.constantFrom(...kCameras);
  const bbox = fc.tuple(cam, fc.constantFrom(0, 0.01, 0.02, 0.5)).map(([c, w]): ReadFilter => ({ bbox: [c.lon, c.lat - w, c.lon + w, c.lat + w] }));
  const near = fc.tuple(cam, cam, fc.constantFrom(0, 1, 500, 2000, 150_000)).map(([c, d, extra]): ReadFilter => {
    const exact = haversineM(c.lat, c.lon, d.lat, d.lon);
    const radiusM = exactRadius && extra < 2 ? exact : extra === 0 ? 0 : exact + extra + 0.37;
    return { near: { lat: c.lat, lon: c.lon, radiusM } };
  });
  const polygon = fc.constantFrom<ReadFilter>(
    { polygon: [[-122.5, 37.7], [-122.4, 37.7], [-122.4, 37.8], [-122.5, 37.8]] },
    { polygon: [[-121.8, 38.5], [-121.7, 38.5], [-121.72, 38.6]] },
    { polygon: [[-122.46, 37.74], [-122.42, 37.745], [-122.44, 37.78]] },
  );
  return fc.oneof(bbox, near, polygon);
}

const limitArb = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(1000));

export function convoyArb(times: readonly number[]): fc.Arbitrary<ConvoyQuery> {
  return fc.record({
    plate: fc.oneof(fc.constant('TGT1'), fc.constantFrom(...kPlates), fc.constant('NOPE1')),
    windowSeconds: fc.constantFrom(1, 30, 60, 90, 120, 3600),
    minCameras: fc.integer({ min: 1, max: 4 }),
    filter: windowArb(times),
    limit: limitArb,
  }).map((q) => ({ kind: 'convoy' as const, ...q }));
}

export function multisiteArb(times: readonly number[], exactRadius: boolean): fc.Arbitrary<MultisiteQuery> {
  return fc
    .array(fc.tuple(areaArb(exactRadius), windowArb(times)).map(([a, w]) => ({ ...a, ...w })), { minLength: 2, maxLength: 4 })
    .chain((sites) => fc.record({ sites: fc.constant(sites), minSites: fc.integer({ min: 1, max: sites.length }), filter: windowArb(times), limit: limitArb }))
    .map((q) => ({ kind: 'multisite' as const, ...q }));
}

export function frequentArb(times: readonly number[], exactRadius: boolean): fc.Arbitrary<FrequentQuery> {
  return fc
    .record({ area: areaArb(exactRadius), window: windowArb(times), minReads: fc.integer({ min: 1, max: 6 }), minDays: fc.integer({ min: 1, max: 3 }), limit: limitArb })
    .map(({ area, window, ...q }) => ({ kind: 'frequent' as const, filter: { ...area, ...window }, ...q }));
}

export function clonedArb(times: readonly number[]): fc.Arbitrary<ClonedQuery> {
  return fc.record({
    maxSpeedKmh: fc.constantFrom(30, 100, 250, 1000),
    minDistanceM: fc.constantFrom(0, 1000, 5000, 50_000),
    filter: windowArb(times),
    limit: limitArb,
  }).map((q) => ({ kind: 'cloned' as const, ...q }));
}

export function analyticsQueryArb(reads: readonly TenantRead[], exactRadius: boolean): fc.Arbitrary<AnalyticsQuery> {
  const times = readTimes(reads);
  return fc.oneof(convoyArb(times), multisiteArb(times, exactRadius), frequentArb(times, exactRadius), clonedArb(times));
}

/** The reference oracle's answer to any analysis (src/query/reference/{convoy,multisite,frequent,cloned}.ts). */
export function referenceAnalytics(reads: readonly StoredRead[], scopes: readonly TenantScope[], q: AnalyticsQuery): AnalyticsResult {
  switch (q.kind) {
    case 'convoy':
      return { kind: 'convoy', ...referenceConvoy(reads, scopes, q) };
    case 'multisite':
      return { kind: 'multisite', ...referenceMultisite(reads, scopes, q) };
    case 'frequent':
      return { kind: 'frequent', ...referenceFrequent(reads, scopes, q) };
    case 'cloned':
      return { kind: 'cloned', ...referenceCloned(reads, scopes, q) };
  }
}
