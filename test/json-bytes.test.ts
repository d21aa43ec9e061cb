/**
 * Answers' JSON written as bytes (src/server/json-bytes.ts, src/server/hit-bytes.ts) against their definition:
 * `JSON.stringify` of the same answer with each hit through `hitToJson`, byte for byte. Random values of every
 * kind the writers take, and the edges where the fast paths hand over (escapes, non-ASCII, lone surrogates,
 * doubles that are not whole numbers of 1e-7, exponents, huge and negative values, timestamps outside years
 * 0000–9999, buffers grown past their first size).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hit, HotlistMatch } from '../src/model/query.js';
import { hotlistAnswerBytes, searchAnswerBytes } from '../src/server/hit-bytes.js';
import { hitToJson } from '../src/server/hit-json.js';
import { JsonBytes, kNumberBytes, kTimestampBytes } from '../src/server/json-bytes.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

const edgeNumbers = [
  0, -0, 1, -1, 0.1, 0.5, 1e-6, 1e-7, -1e-7, 1.5e-6, 9.9999999, 10, 99.9999999, 180, -180, 37.575135, -122.007064,
  0.882, 1e6 - 1e-7, 1e6, 1e6 + 0.5, 123456.7654321, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e20, 1e21, 1.7976931348623157e308,
  5e-324, -0.0000012304235260311942, -1.2345678901234567e-300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1 + 0.2, 1 / 3, 4.35, 1234.5678,
];

// doubles the shards hold: whole numbers of 1e-7 (lat, lon) and 1e-3 (confidence), made as the readers make them
const scaledDouble = fc.oneof(
  fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }).map((k) => k / 1e7),
  fc.integer({ min: 0, max: 1000 }).map((k) => k / 1000),
  fc.integer({ min: -1e13 + 1, max: 1e13 - 1 }).map((k) => k / 1e7),
  fc.maxSafeInteger().map((k) => k / 1e7),
);
const anyNumber = fc.oneof(scaledDouble, fc.double(), fc.integer(), fc.constantFrom(...edgeNumbers), fc.maxSafeInteger());

// printable ASCII mostly, with the characters that need escaping or are not ASCII
const anyString = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: fc.constantFrom('A', '7', '-', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'é', '€', '\ud83d', '\ude00', '😀'), maxLength: 12 }),
);

// long strings: answers past the writer's first guess of ~240 bytes a hit, so its buffer grows mid-answer and
// every reservation counts (a short one loses the bytes written past the end)
const longString = fc.oneof(
  fc.string({ minLength: 100, maxLength: 600 }),
  fc.string({ unit: fc.constantFrom('A', '7', '"', '\n', 'é', '😀'), minLength: 50, maxLength: 300 }),
);
const hitString = fc.oneof({ weight: 4, arbitrary: anyString }, { weight: 1, arbitrary: longString });

const kDay = 86_400_000;
const anyTs = fc.oneof(
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
  fc.integer({ min: 1_793_000_000_000, max: 1_793_000_000_000 + 2 * 86_400_000 }),
  fc.integer({ min: -62_167_219_200_000 - 3 * kDay, max: -62_167_219_200_000 + 3 * kDay }),
  fc.integer({ min: 253_402_300_800_000 - 3 * kDay, max: 253_402_300_800_000 + 3 * kDay }),
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
);

const anyHit: fc.Arbitrary<Hit> = fc.record({
  id: anyString, tenant: hitString, plate: anyString, ts: anyTs, lat: anyNumber, lon: anyNumber, camera: hitString,
  region: fc.option(hitString, { nil: undefined }), confidence: fc.option(anyNumber, { nil: undefined }),
  make: fc.option(hitString, { nil: undefined }), color: fc.option(hitString, { nil: undefined }),
  readId: fc.option(anyString, { nil: undefined }), distance: fc.oneof(fc.nat(3), anyNumber),
}, { requiredKeys: ['id', 'tenant', 'plate', 'ts', 'lat', 'lon', 'camera', 'distance'] }) as fc.Arbitrary<Hit>;

describe('JsonBytes = JSON.stringify', () => {
  it('numbers', () => {
    for (const x of edgeNumbers) {
      const w = new JsonBytes(4);
      w.reserve(kNumberBytes);
      w.number(x);
      expect(text(w.bytes()), String(x)).toBe(JSON.stringify(x));
    }
    fc.assert(fc.property(fc.array(anyNumber, { maxLength: 40 }), (xs) => {
      // reservations as the answers make them: exactly what the values need, the buffer grown between
      const w = new JsonBytes(8);
      w.reserve(1);
      w.char(0x5b);
      xs.forEach((x, i) => { w.reserve(1 + kNumberBytes); if (i > 0) w.char(0x2c); w.number(x); });
      w.reserve(1);
      w.char(0x5d);
      expect(text(w.bytes())).toBe(JSON.stringify(xs));
    }), { numRuns: 2000 });
  });

  it('strings', () => {
    fc.assert(fc.property(fc.array(anyString, { maxLength: 20 }), (ss) => {
      const w = new JsonBytes(8);
      w.reserve(1);
      w.char(0x5b);
      ss.forEach((s, i) => { w.reserve(3 + s.length); if (i > 0) w.char(0x2c); w.string(s); });
      w.reserve(1);
      w.char(0x5d);
      expect(text(w.bytes())).toBe(JSON.stringify(ss));
    }), { numRuns: 2000 });
  });

  it('timestamps, as hitToJson writes them, on many days in one writer', () => {
    // a writer's last day is kept across writers: runs of one day and every other kind of day, mixed
    fc.assert(fc.property(fc.array(anyTs, { maxLength: 40 }), (ts) => {
      const w = new JsonBytes(8);
      ts.forEach((t) => { w.reserve(kTimestampBytes); w.timestamp(t); });
      expect(text(w.bytes())).toBe(ts.map((t) => JSON.stringify(hitToJson({ ts: t } as Hit).ts)).join(''));
    }), { numRuns: 1000 });
  });
});

describe('answers written as bytes = JSON.stringify of the answer with hitToJson', () => {
  it('search answers', () => {
    fc.assert(fc.property(fc.array(anyHit, { maxLength: 30 }), fc.nat(), fc.boolean(), fc.option(hitString, { nil: null }), hitString, anyNumber,
      (hits, total, truncated, next, queryId, tookMs) => {
        const answer = { hits, total, truncated, next, queryId, tookMs };
        expect(text(searchAnswerBytes(answer))).toBe(JSON.stringify({ ...answer, hits: hits.map(hitToJson) }));
      }), { numRuns: 500 });
  });

  it('hot-list answers', () => {
    const match: fc.Arbitrary<HotlistMatch> = fc.record({ entry: hitString, total: fc.nat(), truncated: fc.boolean(), hits: fc.array(anyHit, { maxLength: 8 }) });
    fc.assert(fc.property(fc.array(match, { maxLength: 10 }), hitString, anyNumber, (matches, queryId, tookMs) => {
      const answer = { matches, queryId, tookMs };
      const plain = { matches: matches.map((m) => ({ entry: m.entry, total: m.total, truncated: m.truncated, hits: m.hits.map(hitToJson) })), queryId, tookMs };
      expect(text(hotlistAnswerBytes(answer))).toBe(JSON.stringify(plain));
    }), { numRuns: 300 });
  });

  it('a 1,000-hit answer of the shards\' values grows no buffer wrong', () => {
    const hits = fc.sample(anyHit, { numRuns: 1000, seed: 11 });
    const answer = { hits, total: 100_000, truncated: true, next: 'c', queryId: 'q', tookMs: 0.5 };
    expect(text(searchAnswerBytes(answer))).toBe(JSON.stringify({ ...answer, hits: hits.map(hitToJson) }));
  });
});
