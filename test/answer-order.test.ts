/**
 * The answer order by keys (src/query/answer-order.ts) against its definition, the comparator
 * (src/query/executor.ts compareCandidates): random rows with many ties on distance and ts, ids in any order,
 * spans up to and past what a key holds exactly, fractional values (the comparator's fallback), and the TopK's
 * `result` over random streams.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerOrder } from '../src/query/answer-order.js';
import { compareCandidates, TopK, type Candidate } from '../src/query/executor.js';
import type { Source } from '../src/query/sources.js';

interface Row { distance: number; ts: number; ordinal: number; seq: number }

const rowArb = (tsArb: fc.Arbitrary<number>) => fc.record({
  distance: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constant(0)),
  ts: tsArb,
  ordinal: fc.integer({ min: 0, max: 3 }),
  seq: fc.integer({ min: 0, max: 2 ** 40 }),
});
const kT0 = Date.UTC(2026, 10, 1);
const tsArb = fc.oneof(
  fc.integer({ min: kT0, max: kT0 + 5 }), // many equal ts
  fc.integer({ min: kT0, max: kT0 + 30 * 86_400_000 }),
  fc.constantFrom(0, kT0 + 2 ** 38, -(2 ** 38), kT0 + 2 ** 40), // spans a key holds, and not
  fc.double({ min: kT0, max: kT0 + 1000, noNaN: true }), // a fraction: the comparator's way
);

describe('the answer order by keys = the comparator\'s order', () => {
  it('random rows', () => {
    fc.assert(fc.property(fc.array(rowArb(tsArb), { maxLength: 300 }), (rows: Row[]) => {
      const distance = Float64Array.from(rows, (r) => r.distance), ts = Float64Array.from(rows, (r) => r.ts);
      const order = answerOrder(rows.length, distance, ts, (a, b) => rows[a]!.ordinal - rows[b]!.ordinal || rows[a]!.seq - rows[b]!.seq);
      const got = Array.from(order.subarray(0, rows.length), (k) => rows[k]!);
      expect(got).toEqual([...rows].sort(compareCandidates));
    }), { numRuns: 2000, seed: 20261205 });
  });

  it('TopK.result over random streams, with and without a page boundary', () => {
    const source = { kind: 'live' } as unknown as Source;
    fc.assert(fc.property(fc.array(rowArb(tsArb), { maxLength: 400 }), fc.integer({ min: 1, max: 120 }), fc.option(rowArb(tsArb), { nil: undefined }),
      (rows: Row[], limit, after) => {
        const top = new TopK(limit, after);
        rows.forEach((r, row) => top.push({ ...r, source, row }));
        const want = rows.filter((r) => !after || compareCandidates(r, after) > 0).sort(compareCandidates).slice(0, limit);
        expect(top.result().map(({ distance, ts, ordinal, seq }: Candidate) => ({ distance, ts, ordinal, seq }))).toEqual(want);
      }), { numRuns: 1000, seed: 20261206 });
  });
});
