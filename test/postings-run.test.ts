/**
 * postingsRun (src/query/postings-run.ts) against its plain definition: the run of entry d in a plate → rows
 * lane is the j's with plate[postings[j]] = d. Random lanes with even, skewed (one plate holding most rows,
 * as a bus read thousands of times) and gappy code distributions (entries with no rows, as in a lane whose
 * dictionary outlived some rows), at u8/u16/u32 widths.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postingsRun } from '../src/query/postings-run.js';

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

describe('postingsRun', () => {
  it('equals the plain run for every entry', () => {
    fc.assert(
      fc.property(codesArb, ([dictCount, codes, width]) => {
        const c = width === 8 ? codes.map((x) => x % 256) : codes;
        const { plate, postings } = lanes(c, width);
        const count = width === 8 ? Math.min(dictCount, 256) : dictCount;
        for (let d = 0; d < count; d++) {
          let start = 0;
          while (start < postings.length && plate[postings[start]!]! < d) start++;
          let end = start;
          while (end < postings.length && plate[postings[end]!]! === d) end++;
          expect(postingsRun(postings, plate, count, d)).toEqual([start, end]);
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  });

  it('finds nothing in an empty lane', () => {
    expect(postingsRun(new Uint32Array(0), new Uint32Array(0), 5, 3)).toEqual([0, 0]);
  });
});
