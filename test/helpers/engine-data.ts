/**
 * Generators for engine tests: reads clustered enough that plates, cameras, places and times repeat
 * (so fuzzy and wildcard queries find things), and random queries over the same vocabulary.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { PlateMatch, ReadFilter, SearchQuery } from '../../src/model/query.js';
import type { Read, StoredRead } from '../../src/model/read.js';
import { openEngine, type Engine } from '../../src/engine/index.js';

export const kDay = 86_400_000;
export const kT0 = Date.UTC(2026, 10, 1);

/** A fresh temporary data dir and its cleanup. */
export async function tempDataDir(prefix = 'ps-engine-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  // the default key store lives beside the data dir (`<dir>.keys`): removed with it
  return { dir, cleanup: async () => { await rm(dir, { recursive: true, force: true }); await rm(`${dir}.keys`, { recursive: true, force: true }); } };
}

/** A small deterministic PRNG (mulberry32) so data sets are reproducible from a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const kMakes = ['TOYOTA', 'Toyota', 'honda', 'HONDA', 'Ford'];
const kColors = ['WHITE', 'white', 'Black', 'RED'];
const kConfusable = '0ODQ1IL2Z5S6G8BUV';

export function randomPlate(r: () => number): string {
  const len = 1 + Math.floor(r() * 10);
  let s = '';
  for (let i = 0; i < len; i++) {
    const pool = r() < 0.3 ? kConfusable : kAlphabet;
    s += pool[Math.floor(r() * pool.length)];
  }
  return s;
}

/** Mutates a plate by one random edit (substitution, insertion, deletion or swap), staying 1–10 long. */
export function mutatePlate(r: () => number, p: string): string {
  const i = Math.floor(r() * p.length);
  const c = kConfusable[Math.floor(r() * kConfusable.length)]!;
  const k = r();
  if (k < 0.4) return p.slice(0, i) + c + p.slice(i + 1);
  if (k < 0.6 && p.length < 10) return p.slice(0, i) + c + p.slice(i);
  if (k < 0.8 && p.length > 1) return p.slice(0, i) + p.slice(i + 1);
  if (i + 1 < p.length) return p.slice(0, i) + p[i + 1] + p[i] + p.slice(i + 2);
  return p;
}

export interface DataSpec {
  seed: number;
  reads: number;
  /** Distinct vehicles (plates); reads pick among them, some misread. */
  vehicles?: number;
  days?: number;
  start?: number;
}

/** Reads spread over `days` UTC days around a few centres, with repeated plates and misreads. */
export function makeReads(spec: DataSpec): Read[] {
  const r = rng(spec.seed);
  const vehicles = Array.from({ length: spec.vehicles ?? Math.max(4, Math.floor(spec.reads / 5)) }, () => randomPlate(r));
  const cameras = Array.from({ length: 6 }, (_, i) => `cam-${i}`);
  const regions = ['CA', 'NV', 'OR'];
  const days = spec.days ?? 3;
  const start = spec.start ?? kT0;
  const out: Read[] = [];
  for (let i = 0; i < spec.reads; i++) {
    let plate = vehicles[Math.floor(r() * vehicles.length)]!;
    if (r() < 0.1) plate = mutatePlate(r, plate);
    const read: Read = {
      plate,
      ts: start + Math.floor(r() * days * kDay),
      lat: 37.7 + (r() - 0.5) * 0.2,
      lon: -122.4 + (r() - 0.5) * 0.2,
      camera: cameras[Math.floor(r() * cameras.length)]!,
    };
    if (r() < 0.7) read.region = regions[Math.floor(r() * regions.length)]!;
    if (r() < 0.5) read.confidence = Math.round(r() * 1000) / 1000;
    // one draw each, as before, so data sets keep their other fields; spellings vary in case (v1.1 filters)
    const mk = r();
    if (mk < 0.3) read.make = kMakes[Math.floor((mk / 0.3) * kMakes.length)]!;
    const co = r();
    if (co < 0.3) read.color = kColors[Math.floor((co / 0.3) * kColors.length)]!;
    out.push(read);
  }
  return out;
}

/** A random plate match over the plates of `reads` (so that queries hit). */
export function plateMatchArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  const base = fc.constantFrom(...(plates.length > 0 ? plates : ['ABC123']));
  const exact = fc.record({ p: base, ocr: fc.boolean() }).map(({ p, ocr }): PlateMatch => ({ pattern: p, mode: 'exact', maxEdits: 0, ocr, transpositions: false }));
  const wildcard = fc
    .record({ p: base, cut: fc.nat(12), kind: fc.integer({ min: 0, max: 3 }), ocr: fc.boolean() })
    .map(({ p, cut, kind, ocr }): PlateMatch => {
      const i = cut % (p.length + 1);
      const pattern =
        kind === 0 ? p.slice(0, i) + '*' :
        kind === 1 ? '*' + p.slice(i) :
        kind === 2 ? p.slice(0, i) + '?' + p.slice(i + 1) :
        '*' + p.slice(Math.min(i, p.length - 1), Math.min(i + 2, p.length)) + '*';
      return { pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false };
    });
  const fuzzy = fc
    .record({ p: base, k: fc.integer({ min: 0, max: 2 }), ocr: fc.boolean(), t: fc.boolean(), seed: fc.nat() })
    .map(({ p, k, ocr, t, seed }): PlateMatch => ({ pattern: seed % 2 ? mutatePlate(rng(seed), p) : p, mode: 'fuzzy', maxEdits: k, ocr, transpositions: t }));
  return fc.oneof(exact, wildcard, fuzzy);
}

export function filterArb(start = kT0, days = 3): fc.Arbitrary<ReadFilter> {
  const span = days * kDay;
  return fc
    .record(
      {
        time: fc.tuple(fc.integer({ min: -kDay, max: span + kDay }), fc.integer({ min: 0, max: span })),
        bbox: fc.tuple(fc.double({ min: -122.5, max: -122.3, noNaN: true }), fc.double({ min: 37.6, max: 37.8, noNaN: true }), fc.double({ min: 0, max: 0.15, noNaN: true })),
        near: fc.tuple(fc.double({ min: 37.6, max: 37.8, noNaN: true }), fc.double({ min: -122.5, max: -122.3, noNaN: true }), fc.integer({ min: 1, max: 8000 })),
        polygon: fc.array(fc.tuple(fc.double({ min: -122.5, max: -122.3, noNaN: true }), fc.double({ min: 37.6, max: 37.8, noNaN: true })), { minLength: 3, maxLength: 6 }),
        cameras: fc.subarray(['cam-0', 'cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5', 'cam-x'], { minLength: 1 }),
        regions: fc.subarray(['CA', 'NV', 'OR', 'WA'], { minLength: 1 }),
        makes: fc.subarray(['toyota', 'HONDA', 'ford', 'Tesla'], { minLength: 1 }),
        colors: fc.subarray(['white', 'BLACK', 'red', 'green'], { minLength: 1 }),
      },
      { requiredKeys: [] },
    )
    .map((f): ReadFilter => {
      const out: ReadFilter = {};
      if (f.time) {
        const from = start + f.time[0];
        out.from = from;
        out.to = from + f.time[1];
      }
      if (f.bbox) out.bbox = [f.bbox[0], f.bbox[1], f.bbox[0] + f.bbox[2], f.bbox[1] + f.bbox[2]];
      if (f.near) out.near = { lat: f.near[0], lon: f.near[1], radiusM: f.near[2] };
      if (f.polygon) out.polygon = f.polygon;
      if (f.cameras) out.cameras = f.cameras;
      if (f.regions) out.regions = f.regions;
      if (f.makes) out.makes = f.makes;
      if (f.colors) out.colors = f.colors;
      return out;
    });
}

export function searchQueryArb(plates: readonly string[], start = kT0, days = 3): fc.Arbitrary<SearchQuery> {
  return fc.record({
    plate: fc.option(plateMatchArb(plates), { nil: undefined, freq: 4 }),
    filter: fc.oneof({ weight: 1, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 3, arbitrary: filterArb(start, days) }),
    limit: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(10000)),
  }).map((q) => (q.plate === undefined ? { filter: q.filter, limit: q.limit } : q));
}

/** Appends `reads` to `tenant` `step` at a time, sealing after each step (a shard per day per step); answers what was stored. */
export async function appendSealed(engine: Engine, tenant: string, reads: readonly Read[], step: number): Promise<StoredRead[]> {
  const stored: StoredRead[] = [];
  for (let i = 0; i < reads.length; i += step) {
    stored.push(...(await engine.append(tenant, reads.slice(i, i + step))).stored);
    await engine.seal(tenant);
  }
  return stored;
}

/**
 * A fresh data dir whose `tenant` holds `spec`'s reads sealed `step` at a time (appendSealed, on the calling
 * thread), closed: what a test of opening starts from.
 */
export async function sealedDataDir(prefix: string, tenant: string, spec: DataSpec, step: number): Promise<{ dir: string; cleanup: () => Promise<void>; stored: StoredRead[] }> {
  const { dir, cleanup } = await tempDataDir(prefix);
  const engine = await openEngine({ dataDir: dir, threads: 0, sealRows: 1e12, sealAgeMs: 0 });
  try {
    return { dir, cleanup, stored: await appendSealed(engine, tenant, makeReads(spec), step) };
  } finally {
    await engine.close();
  }
}
