/**
 * The patterns gen plants for the investigative analyses (src/gen/plants.ts) and lists in its truth file:
 * the truth names exactly the planted vehicles' reads, each plant is what the truth says it is (a follower
 * seconds behind its leader at the leader's cameras on several days; a twin with the original's plate far
 * away at the same hours; a visitor back at one camera on several days; an offender at each incident of its
 * series around its time, decoys at all of them but one), plants are deterministic and can be
 * switched off, and no background vehicle moves faster than traffic allows (only planted clones do).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReads, writeDataset, type GeneratedRead, type PlantedTruth } from '../src/gen/index.js';
import { haversineM } from '../src/query/reference/geo.js';

const options = { reads: 120_000, seed: 9, days: 21, tenants: ['pd-a', 'pd-b', 'pd-c'] };
const dir = mkdtempSync(join(tmpdir(), 'gen-plants-'));
const file = join(dir, 'reads.ndjson');
let truth: { version: number; planted: PlantedTruth; fleet: Record<string, number> };
let reads: GeneratedRead[];
const kDay = 86_400_000;

beforeAll(async () => {
  await writeDataset(options, file, { progress: false });
  truth = JSON.parse(readFileSync(`${file}.truth.json`, 'utf8'));
  reads = [...generateReads(options)];
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The true plate of a read (its vehicle's), whatever was read. */
const trueplate = (r: GeneratedRead) => r.misread?.truePlate ?? r.read.plate;

describe('gen plants', () => {
  it('by default one of each kind per 20,000 reads; the truth lists exactly the planted vehicles\' reads, by line', () => {
    expect(truth.version).toBe(2);
    const p = truth.planted;
    expect([p.convoys.length, p.clonedPlates.length, p.frequentVisitors.length, p.incidentSeries!.length]).toEqual([6, 6, 6, 6]);
    expect(p.seriesDecoys!.length).toBe(12);
    expect(truth.fleet.planted).toBe(36);
    const lists = { convoy: p.convoys, cloned: p.clonedPlates, visitor: p.frequentVisitors, series: p.incidentSeries!, decoy: p.seriesDecoys! } as const;
    const fromReads = new Map<string, number[]>();
    for (const r of reads) {
      if (!r.plant) continue;
      const key = `${r.plant.kind}/${r.plant.index}`;
      fromReads.set(key, [...(fromReads.get(key) ?? []), r.index]);
    }
    for (const [kind, list] of Object.entries(lists)) {
      list.forEach((entry, i) => {
        expect(entry.lines, `${kind} ${i}`).toEqual(fromReads.get(`${kind}/${i}`) ?? []);
        expect(entry.reads).toBe(entry.lines.length);
        expect(entry.reads, `${kind} ${i} has reads`).toBeGreaterThan(0);
        const ts = entry.lines.map((l) => reads[l]!.read.ts);
        expect(entry.days).toBe(new Set(ts.map((t) => Math.floor(t / kDay))).size);
        expect(entry.first).toBe(new Date(Math.min(...ts)).toISOString());
        expect(entry.last).toBe(new Date(Math.max(...ts)).toISOString());
      });
    }
    expect(fromReads.size).toBe(36);
  });

  it('a convoy follower passes its leader\'s cameras 1-22 s after the leader, on several days', () => {
    for (const c of truth.planted.convoys) {
      const leader = reads.filter((r) => trueplateIs(r, c.leader));
      const follower = c.lines.map((l) => reads[l]!);
      expect(follower.every((f) => trueplateIs(f, c.follower))).toBe(true);
      let behind = 0;
      for (const f of follower) {
        const lead = leader.find((l) => l.read.camera === f.read.camera && Math.abs(f.read.ts - l.read.ts - c.gapSeconds * 1000) <= 2000);
        if (lead) behind++;
      }
      // the leader's read at a camera may be missed (captureRate 0.9) while the follower's is not
      expect(behind / follower.length).toBeGreaterThan(0.6);
      expect(c.gapSeconds).toBeGreaterThanOrEqual(3);
      expect(c.gapSeconds).toBeLessThanOrEqual(20);
      expect(c.days).toBeGreaterThanOrEqual(2);
      expect(new Set(follower.map((f) => f.read.camera)).size).toBeGreaterThanOrEqual(2);
    }
  });

  it("a cloned plate's twin carries the original's plate, ≥ 30 km from the original's reads, at the same hours", () => {
    for (const c of truth.planted.clonedPlates) {
      const twin = c.lines.map((l) => reads[l]!);
      const original = reads.filter((r) => trueplateIs(r, c.plate) && r.plant === undefined);
      expect(original.length).toBeGreaterThan(0);
      expect(twin.every((t) => trueplateIs(t, c.plate) && c.twinCameras.includes(t.read.camera))).toBe(true);
      for (const t of twin) {
        for (const o of original) expect(haversineM(t.read.lat, t.read.lon, o.read.lat, o.read.lon)).toBeGreaterThan(20_000);
      }
      // some twin read is within 45 minutes of an original read: an impossible pair
      const close = twin.some((t) => original.some((o) => Math.abs(t.read.ts - o.read.ts) < 45 * 60_000));
      expect(close).toBe(true);
    }
  });

  it('a frequent visitor is read at its camera only, on several days', () => {
    for (const v of truth.planted.frequentVisitors) {
      const visits = v.lines.map((l) => reads[l]!);
      expect(visits.every((r) => r.read.camera === v.camera && r.tenant === v.tenant && trueplateIs(r, v.plate))).toBe(true);
      expect(v.days).toBeGreaterThanOrEqual(3);
      for (const r of visits) expect(haversineM(r.read.lat, r.read.lon, v.lat, v.lon)).toBeLessThan(100);
    }
  });

  it('an offender passes only its incidents\' cameras, within 40 minutes of each, and at most one of its incidents goes unread; a decoy passes all of them but one', () => {
    const p = truth.planted;
    let unread = 0;
    p.incidentSeries!.forEach((s, i) => {
      expect(s.incidents.length).toBeGreaterThanOrEqual(3);
      expect(new Set(s.incidents.map((x) => x.at.slice(0, 10))).size).toBe(s.incidents.length); // distinct days
      const passes = s.lines.map((l) => reads[l]!);
      expect(passes.every((r) => trueplateIs(r, s.plate))).toBe(true);
      const near = (r: GeneratedRead, k: number) => {
        const x = s.incidents[k]!;
        return r.read.camera === x.camera && r.tenant === x.tenant && Math.abs(r.read.ts - Date.parse(x.at)) <= 40 * 60_000;
      };
      expect(passes.every((r) => s.incidents.some((_, k) => near(r, k)))).toBe(true);
      unread += s.incidents.filter((_, k) => !passes.some((r) => near(r, k))).length;
      const decoys = p.seriesDecoys!.filter((d) => d.series === i);
      expect(decoys.length).toBe(2);
      for (const d of decoys) {
        expect(d.incidents.length).toBe(s.incidents.length - 1);
        const dp = d.lines.map((l) => reads[l]!);
        expect(dp.every((r) => trueplateIs(r, d.plate) && d.incidents.some((k) => near(r, k)))).toBe(true);
      }
      expect(new Set(decoys.map((d) => d.incidents.join()))).toHaveProperty('size', 2);
    });
    // each incident is passed once or twice and each pass captured at 0.9: a missed incident is rare
    expect(unread).toBeLessThanOrEqual(Math.ceil(p.incidentSeries!.length / 2));
  });

  it('no background vehicle covers 5 km or more faster than 150 km/h between two consecutive reads (commuters: 80 km/h ± traffic-light luck; others ≤ 90 km/h)', () => {
    const byVehicle = new Map<number, GeneratedRead[]>();
    for (const r of reads) {
      if (r.plant) continue;
      const list = byVehicle.get(r.vehicle);
      if (list) list.push(r);
      else byVehicle.set(r.vehicle, [r]);
    }
    const fast: string[] = [];
    for (const [v, list] of byVehicle) {
      for (let i = 1; i < list.length; i++) {
        const a = list[i - 1]!.read, b = list[i]!.read;
        const d = haversineM(a.lat, a.lon, b.lat, b.lon);
        const kmh = (d / Math.max(1, (b.ts - a.ts) / 1000)) * 3.6;
        if (d >= 5000 && kmh > 150) fast.push(`vehicle ${v}: ${(d / 1000).toFixed(1)} km in ${((b.ts - a.ts) / 1000).toFixed(0)} s`);
      }
    }
    expect(fast).toEqual([]);
  });

  it('the counts are options (0 switches a kind off) and the plants are the same for the same seed', async () => {
    const none = join(dir, 'none.ndjson');
    await writeDataset({ ...options, reads: 30_000, convoys: 0, clonedPlates: 0, frequentVisitors: 2, incidentSeries: 0 }, none, { progress: false });
    const t = JSON.parse(readFileSync(`${none}.truth.json`, 'utf8')) as { planted: PlantedTruth };
    expect([t.planted.convoys.length, t.planted.clonedPlates.length, t.planted.frequentVisitors.length, t.planted.incidentSeries!.length]).toEqual([0, 0, 2, 0]);
    expect(t.planted.seriesDecoys).toEqual([]);
    const again = [...generateReads(options)].filter((r) => r.plant).map((r) => [r.index, r.read.plate, r.read.ts]);
    expect(again).toEqual(reads.filter((r) => r.plant).map((r) => [r.index, r.read.plate, r.read.ts]));
  });
});

function trueplateIs(r: GeneratedRead, plate: string): boolean {
  return trueplate(r) === plate;
}
