/**
 * The edges of API.md "Investigative analytics", each built on purpose (the random differential tests in
 * analytics-engine.test.ts hit them by chance): reads exactly at ± windowSeconds and 1 ms past it; a
 * companion near two sightings; one camera name in two tenants; a read on UTC midnight; a read exactly at
 * the radius; a read inside two overlapping sites; site windows' bounds; a pair exactly at minDistanceM and
 * exactly at maxSpeedKmh; under a second apart; equal times across tenants (id order); equally fast pairs;
 * ties in every ordering; plates in several tenants with a tenant out of scope and a retention floor.
 * Each answer is compared with the reference oracle whole, and the fact the edge is about is asserted by
 * itself, on live rows, on sealed shards (calling-thread kernels) and on the worker pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import { speedKmh, type AnalyticsQuery, type AnalyticsResult, type ClonedRow, type ConvoyRow, type FrequentRow, type MultisiteRow } from '../src/model/analytics.js';
import type { TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { referenceCloned, referenceConvoy, referenceFrequent, referenceMultisite } from '../src/query/reference/index.js';
import { haversineM } from '../src/query/reference/geo.js';
import { tempDataDir } from './helpers/engine-data.js';

const T = Date.UTC(2026, 10, 2, 12, 0, 0);
const kMidnight = Date.UTC(2026, 10, 3);
// positions exact at the stored 1e-7 degrees
const A = { lat: 37.75, lon: -122.45 };
const A2 = { lat: 37.7512345, lon: -122.4498765 };
const B = { lat: 37.84, lon: -122.45 }; // ~10 km north of A
const FAR = { lat: 38.55, lon: -121.74 };

type Row = { tenant: string; read: Read };
const r = (tenant: string, plate: string, ts: number, at: { lat: number; lon: number }, camera: string): Row => ({ tenant, read: { plate, ts, ...at, camera } });

function data(): Row[] {
  return [
    // convoy: target TGT at cam-x (pd-a) at T and T + 60 s; companions around it
    r('pd-a', 'TGT', T, A, 'cam-x'),
    r('pd-a', 'TGT', T + 60_000, A, 'cam-x'),
    r('pd-a', 'TGT', T + 3_600_000, A2, 'cam-y'),
    r('pd-a', 'EDGE1', T + 60_000 + 120_000, A, 'cam-x'), // exactly +window after the second sighting: kept
    r('pd-a', 'PAST1', T + 60_000 + 120_001, A, 'cam-x'), // 1 ms past: dropped
    r('pd-b', 'EDGE2', T - 120_000, A, 'cam-x'), // exactly -window, read by another tenant at a camera of the same name: kept
    r('pd-a', 'PAST2', T - 120_001, A, 'cam-x'),
    r('pd-a', 'BOTH', T + 30_000, A, 'cam-x'), // near both sightings: one companion read
    r('pd-a', 'BOTH', T + 3_600_000 + 5_000, A2, 'cam-y'), // and at a second camera
    r('pd-a', 'TIE1', T + 3_600_000 - 1_000, A2, 'cam-y'), // TIE1 and TIE2: same cameras, same counts
    r('pd-a', 'TIE1', T + 10_000, A, 'cam-x'),
    r('pd-b', 'TIE2', T + 3_600_000 + 1_000, A2, 'cam-y'),
    r('pd-b', 'TIE2', T + 20_000, A, 'cam-x'),
    r('so-c', 'HIDDEN', T + 1_000, A, 'cam-x'), // so-c is never in scope below
    // frequent: MID read on either side of UTC midnight, and OUT exactly at the radius
    r('pd-a', 'MID', kMidnight - 1, A, 'cam-x'),
    r('pd-a', 'MID', kMidnight, A, 'cam-x'),
    r('pd-b', 'MID', kMidnight + 1, A, 'cam-x'),
    r('pd-a', 'RIM', T, A2, 'cam-y'),
    // multisite: OVL read once where two sites overlap; SITEB exactly at a site's `to` (excluded) and `from` (included)
    r('pd-a', 'OVL', T, A, 'cam-x'),
    r('pd-a', 'SITEB', T + 7_200_000, FAR, 'cam-far'),
    r('pd-b', 'SITEB', T + 3_600_000, FAR, 'cam-far'),
    // cloned: EXACT (A → B, 10 km, 150 s), QUICK (A → B 300 ms apart), SAME (equal times in two tenants),
    // TWICE (A B A B, equally fast pairs), SPLIT (its fast pair needs so-c's read), OLD (before pd-b's floor)
    r('pd-a', 'EXACT', T, A, 'cam-x'),
    r('pd-a', 'EXACT', T + 150_000, B, 'cam-b'),
    r('pd-a', 'QUICK', T, A, 'cam-x'),
    r('pd-b', 'QUICK', T + 300, B, 'cam-b'),
    r('pd-b', 'SAME', T, B, 'cam-b'),
    r('pd-a', 'SAME', T, A, 'cam-x'),
    r('pd-a', 'SAME', T + 1_000_000, A, 'cam-x'),
    r('pd-a', 'TWICE', T, A, 'cam-x'),
    r('pd-a', 'TWICE', T + 100_000, B, 'cam-b'),
    r('pd-a', 'TWICE', T + 200_000, A, 'cam-x'),
    r('pd-a', 'TWICE', T + 300_000, B, 'cam-b'),
    r('pd-a', 'SPLIT', T, A, 'cam-x'),
    r('so-c', 'SPLIT', T + 60_000, FAR, 'cam-far'),
    r('pd-a', 'SPLIT', T + 7_200_000, A, 'cam-x'),
    r('pd-b', 'OLD', T - 86_400_000, FAR, 'cam-far'),
    r('pd-a', 'OLD', T - 86_400_000 + 60_000, A, 'cam-x'),
  ];
}

// pd-a's view: itself and pd-b (sharing), pd-b with a retention floor; so-c out of scope
const kScopes: TenantScope[] = [
  { tenant: 'pd-a', minTs: Number.MIN_SAFE_INTEGER },
  { tenant: 'pd-b', minTs: T - 3_600_000 },
];

function reference(reads: readonly StoredRead[], q: AnalyticsQuery): AnalyticsResult {
  switch (q.kind) {
    case 'convoy':
      return { kind: 'convoy', ...referenceConvoy(reads, kScopes, q) };
    case 'multisite':
      return { kind: 'multisite', ...referenceMultisite(reads, kScopes, q) };
    case 'frequent':
      return { kind: 'frequent', ...referenceFrequent(reads, kScopes, q) };
    case 'cloned':
      return { kind: 'cloned', ...referenceCloned(reads, kScopes, q) };
  }
}

const exactM = haversineM(A.lat, A.lon, B.lat, B.lon);
const exactKmh = speedKmh(exactM, 150_000);

for (const mode of ['live', 'sealed', 'pool'] as const) {
  describe(`analytics edges (${mode})`, () => {
    let engine: Engine;
    let stored: StoredRead[] = [];
    let cleanup: () => Promise<void>;
    const ask = async (q: AnalyticsQuery): Promise<AnalyticsResult> => {
      const got = await engine.analytics(kScopes, q);
      expect(got).toEqual(reference(stored, q));
      return got;
    };

    beforeAll(async () => {
      const tmp = await tempDataDir('ps-analytics-edges-');
      cleanup = tmp.cleanup;
      engine = await openEngine({ dataDir: tmp.dir, threads: mode === 'pool' ? 2 : 0, sealAgeMs: 0, ...(mode === 'pool' ? { poolMinRows: 0 } : {}) });
      stored = [];
      for (const tenant of ['pd-a', 'pd-b', 'so-c']) {
        const mine = data().filter((x) => x.tenant === tenant).map((x) => x.read);
        stored.push(...(await engine.append(tenant, mine)).stored);
      }
      if (mode !== 'live') await engine.seal();
    }, 120_000);
    afterAll(async () => {
      await engine?.close();
      await cleanup?.();
    });

    it('convoy: ± windowSeconds exactly is in, 1 ms past is out; a read near two sightings counts once; one camera name in two tenants is one camera; ties by plate', async () => {
      const got = await ask({ kind: 'convoy', plate: 'TGT', windowSeconds: 120, minCameras: 1, filter: {}, limit: 1000 });
      const rows = got.results as ConvoyRow[];
      const plates = rows.map((x) => x.plate);
      expect(plates).toEqual(expect.arrayContaining(['EDGE1', 'EDGE2', 'BOTH', 'TIE1', 'TIE2']));
      expect(plates).not.toContain('PAST1');
      expect(plates).not.toContain('PAST2');
      expect(plates).not.toContain('HIDDEN');
      expect(plates).not.toContain('TGT');
      expect(rows.find((x) => x.plate === 'BOTH')).toMatchObject({ cameras: 2, together: 2 });
      // TIE1 and TIE2: 2 cameras, 2 reads each: by plate
      expect(plates.indexOf('TIE1')).toBeLessThan(plates.indexOf('TIE2'));
      expect(plates.slice(0, 3)).toEqual(['BOTH', 'TIE1', 'TIE2']);
      if (mode === 'pool') expect(engine.stats().poolTasks).toBeGreaterThan(0);
    });

    it('frequent: a read on UTC midnight is on the new day; a read exactly at the radius is in', async () => {
      const mid = await ask({ kind: 'frequent', filter: { near: { ...A, radiusM: 10 } }, minReads: 3, minDays: 2, limit: 1000 });
      expect((mid.results as FrequentRow[]).find((x) => x.plate === 'MID')).toMatchObject({ reads: 3, days: 2 });
      const radiusM = haversineM(A.lat, A.lon, A2.lat, A2.lon);
      const rim = await ask({ kind: 'frequent', filter: { near: { ...A, radiusM } }, minReads: 1, minDays: 1, limit: 1000 });
      expect((rim.results as FrequentRow[]).map((x) => x.plate)).toContain('RIM');
      const inside = await ask({ kind: 'frequent', filter: { near: { ...A, radiusM: radiusM - 0.001 } }, minReads: 1, minDays: 1, limit: 1000 });
      expect((inside.results as FrequentRow[]).map((x) => x.plate)).not.toContain('RIM');
    });

    it('multisite: a read inside two overlapping sites counts once; a site window includes `from` and excludes `to`', async () => {
      const ovl = await ask({ kind: 'multisite', sites: [{ near: { ...A, radiusM: 5 } }, { bbox: [A.lon, A.lat, A.lon + 0.01, A.lat + 0.01] }], minSites: 2, filter: { from: T, to: T + 1 }, limit: 1000 });
      expect(ovl.results as MultisiteRow[]).toContainEqual({ plate: 'OVL', sites: [0, 1], reads: 1 });
      const bounds = await ask({
        kind: 'multisite', minSites: 1, filter: {}, limit: 1000,
        sites: [{ near: { ...FAR, radiusM: 10 }, from: T + 3_600_000, to: T + 7_200_000 }, { near: { ...A, radiusM: 10 }, from: T, to: T + 1 }],
      });
      expect((bounds.results as MultisiteRow[]).find((x) => x.plate === 'SITEB')).toEqual({ plate: 'SITEB', sites: [0], reads: 1 });
    });

    it('cloned: exactly minDistanceM is in, exactly maxSpeedKmh is out; under a second counts as one', async () => {
      const at = await ask({ kind: 'cloned', maxSpeedKmh: exactKmh - 1e-9, minDistanceM: exactM, filter: {}, limit: 1000 });
      expect((at.results as ClonedRow[]).map((x) => x.plate)).toContain('EXACT');
      const over = await ask({ kind: 'cloned', maxSpeedKmh: exactKmh, minDistanceM: 0, filter: {}, limit: 1000 });
      expect((over.results as ClonedRow[]).map((x) => x.plate)).not.toContain('EXACT');
      const far = await ask({ kind: 'cloned', maxSpeedKmh: 1, minDistanceM: exactM + 0.001, filter: {}, limit: 1000 });
      expect((far.results as ClonedRow[]).map((x) => x.plate)).not.toContain('EXACT');
      const quick = (over.results as ClonedRow[]).find((x) => x.plate === 'QUICK')!;
      expect(quick.maxSpeedKmh).toBeCloseTo(exactM * 3.6, 6); // 300 ms counted as 1 s
      expect(quick.example.map((h) => h.tenant)).toEqual(['pd-a', 'pd-b']);
    });

    it('cloned: equal times are ordered by id across tenants; equally fast pairs give the earliest; a tenant out of scope or past its floor makes no pair', async () => {
      const got = await ask({ kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 1000 });
      const rows = got.results as ClonedRow[];
      const same = rows.find((x) => x.plate === 'SAME')!;
      // pd-a's read was appended first (its tenant ordinal is lower), so in read order it comes first
      expect(same.example.map((h) => h.tenant)).toEqual(['pd-a', 'pd-b']);
      expect(same.pairs).toBe(1); // A → B at the same time; B → A 1,000 s later is 36 km/h
      const twice = rows.find((x) => x.plate === 'TWICE')!;
      expect(twice.pairs).toBe(3);
      expect(twice.example.map((h) => h.ts)).toEqual([T, T + 100_000]);
      expect(rows.map((x) => x.plate)).not.toContain('SPLIT');
      expect(rows.map((x) => x.plate)).not.toContain('OLD');
      // ties in pairs: by plate
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i - 1]!.pairs > rows[i]!.pairs || (rows[i - 1]!.pairs === rows[i]!.pairs && rows[i - 1]!.plate < rows[i]!.plate)).toBe(true);
      }
      const cut = await ask({ kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 1 });
      expect(cut).toMatchObject({ total: rows.length, truncated: rows.length > 1 });
    });
  });
}
