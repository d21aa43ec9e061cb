/**
 * postingsRun (src/query/postings-run.ts) and the shard's run table (src/store/plate-runs.ts) against their
 * plain definition: the run of entry d in a plate → rows lane is the j's with plate[postings[j]] = d. Random
 * lanes with even, skewed (one plate holding most rows, as a bus read thousands of times) and gappy code
 * distributions (entries with no rows, as in a lane whose dictionary outlived some rows), at u8/u16/u32
 * widths; the table also around its long-run mark (254, 255, 256 rows) and its 32-entry blocks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postingsRun } from '../src/query/postings-run.js';
import { PlateRuns } from '../src/store/plate-runs.js';

/** A plate lane (row → code) and its postings (rows sorted by code, then row). */
function lanes(codes: number[], width: 8 | 16 | 32): { plate: Uint8Array | Uint16Array | Uint32Array; postings: Uint8Array | Uint16Array | Uint32Array } {
  const Lane = width === 8 ? Uint8Array : width === 16 ? Uint16Array : Uint32Array;
  const plate = Lane.from(codes);
  const order = codes.map((_, i) => i).sort((a, b) => codes[a]! - codes[b]! || a - b);
  const PostLane = codes.length <= 0x10000 ? Uint16Array : Uint32Array;
  return { plate, postings: width === 32 ? Uint32Array.from(order) : PostLane.from(order) };
}

const codesArb = fc.integer({ min: 1, max: 300 }).chain((dictCount) => fc.tuple(
  fc.constant(dictCount),
  fc.oneof(
    // every code about equally often
    fc.array(fc.nat(dictCount - 1), { minLength: 0, maxLength: 2000 }),
    // one heavy code
    fc.tuple(fc.nat(dictCount - 1), fc.array(fc.nat(dictCount - 1), { maxLength: 400 }), fc.integer({ min: 1, max: 3000 }))
      .map(([heavy, rest, n]) => [...rest, ...Array.from({ length: n }, () => heavy)]),
    // few codes used, with gaps
    fc.array(fc.nat(Math.min(4, dictCount - 1)).map((k) => Math.floor((k * (dictCount - 1)) / 4)), { maxLength: 500 }),
  ),
  fc.constantFrom(8 as const, 16 as const, 32 as const),
));

/** The plain run of entry d: a linear walk. */
function plainRun(postings: ArrayLike<number>, plate: ArrayLike<number>, d: number): [number, number] {
  let start = 0;
  while (start < postings.length && plate[postings[start]!]! < d) start++;
  let end = start;
  while (end < postings.length && plate[postings[end]!]! === d) end++;
  return [start, end];
}

describe('postingsRun and PlateRuns', () => {
  it('equal the plain run for every entry', () => {
    fc.assert(
      fc.property(codesArb, ([dictCount, codes, width]) => {
        const c = width === 8 ? codes.map((x) => x % 256) : codes;
        const { plate, postings } = lanes(c, width);
        const count = width === 8 ? Math.min(dictCount, 256) : dictCount;
        const runs = PlateRuns.build(plate, count);
        for (let d = 0; d < count; d++) {
          const want = plainRun(postings, plate, d);
          expect(postingsRun(postings, plate, count, d)).toEqual(want);
          expect(runs.run(d, postings, plate)).toEqual(want);
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  });

  it('finds nothing in an empty lane', () => {
    expect(postingsRun(new Uint32Array(0), new Uint32Array(0), 5, 3)).toEqual([0, 0]);
  });
});

describe('PlateRuns', () => {
  it('equals the plain run around the long-run mark, in every position of a block', () => {
    // runs of 0–3 rows, and a few of 254–256 (the mark is 255) or thousands, over several 32-entry blocks
    const runArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(254, 255, 256, 3000) });
    fc.assert(
      fc.property(fc.array(runArb, { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 2 ** 31 }), (lengths, seed) => {
        const codes: number[] = [];
        lengths.forEach((n, d) => {
          for (let k = 0; k < n; k++) codes.push(d);
        });
        // rows in a shuffled order (rows are stored by time, not by plate)
        let x = seed;
        for (let i = codes.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) >>> 0;
          const j = x % (i + 1);
          [codes[i], codes[j]] = [codes[j]!, codes[i]!];
        }
        const { plate, postings } = lanes(codes, 16);
        const runs = PlateRuns.build(plate, lengths.length);
        for (let d = 0; d < lengths.length; d++) expect(runs.run(d, postings, plate)).toEqual(plainRun(postings, plate, d));
      }),
      { numRuns: 200, seed: 4244 },
    );
  });
});
