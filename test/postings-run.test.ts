/**
 * postingsRun (src/query/postings-run.ts) and the shard's run table (src/store/plate-runs.ts) against their
 * plain definition: the run of entry d in a plate → rows lane is the j's with plate[postings[j]] = d. Random
 * lanes with even, skewed (one plate holding most rows, as a bus read thousands of times) and gappy code
 * distributions (entries with no rows, as in a lane whose dictionary outlived some rows), at u8/u16/u24/u32
 * plate widths (u24: a loaded shard's narrowed plate lane, read by plateCodeReader) and u16/u24/u32 postings widths (u24: a loaded shard's narrowed lane, read by rowsReader); the table also around its long-run mark (254, 255, 256 rows) and its 32-entry blocks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postingsRun } from '../src/query/postings-run.js';
import { PlateRuns } from '../src/store/plate-runs.js';
import { plateCodeReader, rowsReader, type CodeAt, type RowAt } from '../src/core/segment.js';

/**
 * A plate lane (row → code) and its postings (rows sorted by code, then row): `order` as plain numbers, `postings`
 * read through rowsReader from a lane of `postWidth` bytes a row (3: little-endian u24, padded as in memory).
 */
function lanes(codes: number[], width: 8 | 16 | 24 | 32, postWidth: 2 | 3 | 4 = 4): { plate: CodeAt; codes: number[]; order: number[]; postings: RowAt } {
  const order = codes.map((_, i) => i).sort((a, b) => codes[a]! - codes[b]! || a - b);
  const n = order.length;
  const buf = new ArrayBuffer(4 * n + 4);
  if (postWidth === 2) new Uint16Array(buf, 0, n).set(order);
  else if (postWidth === 4) new Uint32Array(buf, 0, n).set(order);
  else {
    const b = new Uint8Array(buf);
    order.forEach((r, j) => b.set([r & 0xff, (r >>> 8) & 0xff, r >>> 16], 3 * j));
  }
  // the plate lane at its width, u24 little-endian and padded by 4 bytes as a loaded shard's
  const plateBuf = new ArrayBuffer(4 * n + 4);
  const plateWidth = width === 8 ? 1 : width === 16 ? 2 : width === 24 ? 3 : 4;
  if (plateWidth === 3) {
    const b = new Uint8Array(plateBuf);
    codes.forEach((c, i) => b.set([c & 0xff, (c >>> 8) & 0xff, c >>> 16], 3 * i));
  } else (plateWidth === 1 ? new Uint8Array(plateBuf, 0, n) : plateWidth === 2 ? new Uint16Array(plateBuf, 0, n) : new Uint32Array(plateBuf, 0, n)).set(codes);
  return { plate: plateCodeReader(plateBuf, 0, plateWidth, n), codes, order, postings: rowsReader(buf, 0, postWidth, n) };
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
  fc.constantFrom(8 as const, 16 as const, 24 as const, 32 as const),
  fc.constantFrom(2 as const, 3 as const, 4 as const),
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
      fc.property(codesArb, ([dictCount, codes, width, postWidth]) => {
        const c = width === 8 ? codes.map((x) => x % 256) : codes;
        const { plate, order, postings } = lanes(c, width, postWidth);
        const count = width === 8 ? Math.min(dictCount, 256) : dictCount;
        const runs = PlateRuns.build(plate, c.length, count);
        for (let d = 0; d < count; d++) {
          const want = plainRun(order, c, d);
          expect(postingsRun(postings, order.length, plate, count, d)).toEqual(want);
          expect(runs.run(d, postings, plate)).toEqual(want);
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  });

  it('reads row indexes of 2^16 and more from a u24 lane (a shard of more than 65,536 rows)', () => {
    // 100,000 rows, 30,000 codes: every third byte of a row index is used
    let x = 12345;
    const codes = Array.from({ length: 100_000 }, () => (x = (x * 1103515245 + 12345) >>> 0) % 30_000);
    const { plate, order, postings } = lanes(codes, 16, 3);
    for (let j = 0; j < order.length; j++) if (postings(j) !== order[j]) expect(postings(j), `entry ${j}`).toBe(order[j]);
    const runs = PlateRuns.build(plate, codes.length, 30_000);
    for (let d = 0; d < 30_000; d += 97) {
      const want = plainRun(order, codes, d);
      expect(postingsRun(postings, order.length, plate, 30_000, d)).toEqual(want);
      expect(runs.run(d, postings, plate)).toEqual(want);
    }
  });

  it('finds nothing in an empty lane', () => {
    expect(postingsRun(() => 0, 0, () => 0, 5, 3)).toEqual([0, 0]);
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
        const { plate, order, postings } = lanes(codes, 16, 3);
        const runs = PlateRuns.build(plate, codes.length, lengths.length);
        for (let d = 0; d < lengths.length; d++) expect(runs.run(d, postings, plate)).toEqual(plainRun(order, codes, d));
      }),
      { numRuns: 200, seed: 4244 },
    );
  });
});
