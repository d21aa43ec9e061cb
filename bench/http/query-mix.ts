/**
 * The search kinds the HTTP benchmark times, each a generator of request bodies built from sampled reads
 * of the investigator's own tenant, so that every query looks for something that is there (a different
 * plate or place on every request: no answer is served twice from a warm cache).
 */
import { BenchPrng } from '../peers/prng.js';
import type { SampledRead } from './preload.js';

export interface QueryKind {
  name: string;
  path: '/v1/search' | '/v1/search/hotlist';
  body(): Record<string, unknown>;
}

const kMsPerHour = 3_600_000;
const kMetresPerDegree = 111_320;
const kJustification = { purpose: 'benchmark', case: 'BENCH-HTTP' };
const kAlphabet = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `plate` with the character at `at` replaced by a different one. */
function oneEditFrom(plate: string, at: number, rng: BenchPrng): string {
  let c = plate[at]!;
  while (c === plate[at]) c = kAlphabet[rng.below(kAlphabet.length)]!;
  return plate.slice(0, at) + c + plate.slice(at + 1);
}

export function buildQueryKinds(sample: readonly SampledRead[], tenant: string, maxTs: number, seed: number): QueryKind[] {
  const own = sample.filter((r) => r.tenant === tenant && r.plate.length >= 5);
  if (own.length < 10) throw new Error(`too few sampled reads of ${tenant} to build queries`);
  const rng = new BenchPrng(seed ^ 0x5ea4c8);
  const pick = (): SampledRead => own[rng.below(own.length)]!;
  const week = { from: iso(maxTs - 7 * 24 * kMsPerHour), to: iso(maxTs + 1) };
  const search = (name: string, body: () => Record<string, unknown>): QueryKind =>
    ({ name, path: '/v1/search', body: () => ({ ...body(), ...kJustification }) });

  return [
    search('exact plate, all time', () => ({ plate: pick().plate })),
    search('exact plate, 7 days', () => ({ plate: pick().plate, ...week })),
    search('wildcard `AB?12*`', () => {
      const p = pick().plate;
      return { plate: `${p.slice(0, 2)}?${p.slice(3, 5)}*` };
    }),
    search('contains `*1234*`', () => {
      const p = pick().plate;
      return { plate: `*${p.slice(1, 5)}*` };
    }),
    search('fuzzy k=1', () => {
      const p = pick().plate;
      return { plate: oneEditFrom(p, rng.below(p.length), rng), match: 'fuzzy', maxEdits: 1 };
    }),
    search('fuzzy k=1 + OCR', () => {
      const p = pick().plate;
      return { plate: oneEditFrom(p, rng.below(p.length), rng), match: 'fuzzy', maxEdits: 1, ocr: true };
    }),
    search('500 m radius, 2 h', () => {
      const r = pick();
      return { near: { lat: r.lat, lon: r.lon, radiusM: 500 }, from: iso(r.ts - kMsPerHour), to: iso(r.ts + kMsPerHour) };
    }),
    search('2x2 km bbox, 1 day', () => {
      const r = pick();
      const dLat = 1000 / kMetresPerDegree;
      const dLon = dLat / Math.cos((r.lat * Math.PI) / 180);
      return { bbox: [r.lon - dLon, r.lat - dLat, r.lon + dLon, r.lat + dLat], from: iso(r.ts - 12 * kMsPerHour), to: iso(r.ts + 12 * kMsPerHour) };
    }),
    {
      name: 'hot list 100 exact, 7 days',
      path: '/v1/search/hotlist',
      body: () => ({ plates: Array.from({ length: 100 }, () => pick().plate), ...week, ...kJustification }),
    },
  ];
}
