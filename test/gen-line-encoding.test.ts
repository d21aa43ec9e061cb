/**
 * The byte-level NDJSON encoder (src/gen/ndjson-lines.ts) against lines built the obvious way, with
 * template strings from integers: every digit of lat/lon (6 decimals) and confidence (3), signs,
 * whole parts of 0 to 180, dates across days, label combinations, misreads and their truth entries,
 * and lines cut at the buffer limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadChunk, ReadGenerator } from '../src/gen/generator.js';
import { LineEncoder } from '../src/gen/line-encoder.js';
import { lineTables, NdjsonLines } from '../src/gen/ndjson-lines.js';
import { kMisreadKinds } from '../src/gen/ocr-errors.js';

const tenants = ['pd-metro', 'so-county.x_1'];
const cameras = [
  { id: 'pd-metro-fx-0001', tenant: 0 },
  { id: 'so-county.x_1-mb-0002', tenant: 1 },
  { id: 'c', tenant: 0 },
];
const fleet = {
  size: 4,
  plate: ['7ABC123', 'A', 'MH12AB1234', 'GR8'],
  region: ['CA', 'IN', 'IN', 'CA'],
  make: ['TOYOTA', 'MERCEDES-BENZ', 'TATA', 'TOYOTA'],
  color: ['WHITE', 'RED', 'BLUE', 'WHITE'],
};
// the parts of a generator lineTables reads
const gen = { geography: { cameras }, fleet, tenants } as unknown as ReadGenerator;

/** k / 10^digits with all its digits: the obvious way. */
function decimal(k: number, digits: number): string {
  const scale = 10 ** digits;
  const a = Math.abs(k);
  return `${k < 0 ? '-' : ''}${Math.floor(a / scale)}.${String(a % scale).padStart(digits, '0')}`;
}

interface Row { vehicle: number; camera: number; ts: number; lat: number; lon: number; confidence: number; labels: number; misread: number; plate: string }

function oracleLine(r: Row): string {
  const v = r.vehicle;
  const region = r.labels & 1 ? `,"region":"${fleet.region[v]}"` : '';
  const labels = r.labels & 2 ? `,"make":"${fleet.make[v]}","color":"${fleet.color[v]}"` : '';
  return `{"tenant":"${tenants[cameras[r.camera]!.tenant]}","plate":"${r.misread ? r.plate : fleet.plate[v]}",` +
    `"camera":"${cameras[r.camera]!.id}","ts":"${new Date(r.ts).toISOString()}","lat":${decimal(r.lat, 6)},` +
    `"lon":${decimal(r.lon, 6)},"confidence":${decimal(r.confidence, 3)}${region}${labels}}\n`;
}

function chunkOf(rows: readonly Row[], first: number): ReadChunk {
  const n = rows.length;
  return {
    first, count: n,
    tenant: Int32Array.from(rows, (r) => cameras[r.camera]!.tenant),
    vehicle: Int32Array.from(rows, (r) => r.vehicle),
    camera: Int32Array.from(rows, (r) => r.camera),
    ts: Float64Array.from(rows, (r) => r.ts),
    latE6: Int32Array.from(rows, (r) => r.lat),
    lonE6: Int32Array.from(rows, (r) => r.lon),
    confidenceE3: Uint16Array.from(rows, (r) => r.confidence),
    plate: rows.map((r) => r.plate),
    misread: Uint8Array.from(rows, (r) => r.misread),
    edits: Uint8Array.from(rows, (r) => (r.misread ? 1 : 0)),
    labels: Uint8Array.from(rows, (r) => r.labels),
  };
}

const row: fc.Arbitrary<Row> = fc.record({
  vehicle: fc.integer({ min: 0, max: 3 }),
  camera: fc.integer({ min: 0, max: 2 }),
  ts: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 1_793_000_000_000, max: 1_793_300_000_000 })),
  lat: fc.oneof(fc.integer({ min: -90_000_000, max: 90_000_000 }), fc.integer({ min: -1_000_001, max: 1_000_001 })),
  lon: fc.oneof(fc.integer({ min: -180_000_000, max: 180_000_000 }), fc.constantFrom(0, -1, 1, 99_999_999, 100_000_000, -122_146_183)),
  confidence: fc.integer({ min: 0, max: 1000 }),
  labels: fc.integer({ min: 0, max: 3 }),
  misread: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: kMisreadKinds.length })),
  plate: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: 1, maxLength: 10 }),
});

describe('NDJSON line encoding', () => {
  it('writes each line as the obvious template does, and a truth entry per misread', () => {
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 300 }), fc.nat(1000), (rows, first) => {
      const lines = new NdjsonLines(lineTables(gen));
      const enc = new LineEncoder(1 << 16);
      expect(lines.encode(chunkOf(rows, first), 0, enc, 1 << 15)).toBe(rows.length);
      expect(Buffer.from(enc.filled()).toString('latin1')).toBe(rows.map(oracleLine).join(''));
      const entries = rows.flatMap((r, i) => (r.misread === 0 ? [] : [
        `{"line":${first + i},"tenant":"${tenants[cameras[r.camera]!.tenant]}","plate":"${r.plate}","truePlate":"${fleet.plate[r.vehicle]}",` +
        `"kind":"${kMisreadKinds[r.misread - 1]}","edits":1}`,
      ]));
      expect(lines.takeTruth()).toBe(entries.join(',\n'));
      expect(lines.counts.total).toBe(entries.length);
    }), { numRuns: 200 });
  });

  it('stops once the buffer holds the limit and goes on from the next row', () => {
    const rows = fc.sample(row, { numRuns: 500, seed: 3 });
    const chunk = chunkOf(rows, 0);
    const lines = new NdjsonLines(lineTables(gen));
    const enc = new LineEncoder(4096 + 1024);
    let text = '';
    let flushes = 0;
    for (let i = 0; i < chunk.count; ) {
      i = lines.encode(chunk, i, enc, 4096);
      text += Buffer.from(enc.filled()).toString('latin1');
      if (i < chunk.count) expect(enc.pos).toBeGreaterThanOrEqual(4096);
      enc.clear();
      flushes++;
    }
    expect(flushes).toBeGreaterThan(10);
    expect(text).toBe(rows.map(oracleLine).join(''));
  });
});
