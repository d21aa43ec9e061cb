/**
 * The open's lane passes (docs/storage-v2.md, "The open's lane passes") held to the plain definitions they replace,
 * byte for byte, on random lanes:
 *
 * - a lane held as runs from each run's distinct codes (runCodes, sharedCodesOf, runStartsOf, packRunsOf) against
 *   sharedCodes, runStarts and packRuns (each a pass over the rows): the same shared count, run starts, table and
 *   entries, with the entries in a buffer of their own and in place over the codes' bytes, across the distinct
 *   codes' scratch growing;
 * - packLabels numbering by use against its plain definition (distinct triples by descending rows, ties in (region,
 *   make, color) order, past 256 of them; else in that order): the same ids and triple table, u8 and wider codes,
 *   absent lanes, the triple limit, and across its slot table growing;
 * - writeU24 a word at a time against three bytes a value, at every alignment, fresh and in place at the same or a
 *   lower offset, nothing written past the lane.
 *
 * The bit-packed writer is held to its definition by test/packed-lanes.test.ts; the whole re-encoding (seq by
 * time included) by the engine tests that read every row back (test/seq-blocks, test/camera-runs, test/label-runs).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kBaseRows, writeU24 } from '../src/core/base-lanes.js';
import { kMaxLabelTriples, packLabels } from '../src/core/label-lanes.js';
import { kRunRows, packRunsOf, runCodes, runStartsOf, sharedCodesOf } from '../src/core/run-lane.js';
import { packRuns, runStarts, sharedCodes } from './helpers/run-lane-reference.js';
import { rng } from './helpers/engine-data.js';

/** The first index where two arrays differ, −1 when equal (a diff of 65,536 elements takes vitest minutes to print). */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Codes numbered by frequency (small codes frequent, as the labels lane's triples), `count` of them. */
function skewedCodes(rows: number, count: number, skew: number, seed: number): Uint16Array {
  const r = rng(seed);
  return Uint16Array.from({ length: rows }, () => Math.floor(r() ** skew * count));
}

/** The lane by runs both ways: the plain passes' answer and the distinct codes' answer. */
function bothWays(codes: Uint16Array, rows: number, most: number, inPlace: boolean) {
  const seen = new Int32Array(0x10000);
  const shared = sharedCodes(codes, rows, seen, most);
  const runs = runStarts(codes, rows, seen, shared);
  const entries = new Uint8Array(rows);
  const table = packRuns(codes, rows, runs, entries, seen, shared);

  const copy = new Uint16Array(codes.length);
  copy.set(codes);
  const distinct = runCodes(copy, rows, new Int32Array(0x10000));
  const fastShared = sharedCodesOf(distinct, most);
  const fastRuns = runStartsOf(distinct, fastShared);
  const fastEntries = inPlace ? new Uint8Array(copy.buffer, 0, rows) : new Uint8Array(rows);
  const fastTable = packRunsOf(copy, rows, distinct, fastRuns, fastEntries, fastShared);
  return { plain: { shared, runs, table, entries }, fast: { shared: fastShared, runs: fastRuns, table: fastTable, entries: fastEntries } };
}

describe('a lane held as runs from each run\'s distinct codes', () => {
  it('equals the plain passes: shared count, run starts, table, entries (fresh and in place)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 65536 }), fc.double({ min: 1, max: 8, noNaN: true }),
        fc.integer({ min: 0, max: 256 }), fc.boolean(), fc.nat(),
        (rows, count, skew, most, inPlace, seed) => {
          const codes = skewedCodes(rows, count, skew, seed);
          const { plain, fast } = bothWays(codes, rows, most, inPlace);
          expect(fast.shared).toBe(plain.shared);
          expect(fast.runs).toEqual(plain.runs);
          expect(fast.table).toEqual(plain.table);
          expect(fast.entries).toEqual(plain.entries);
        },
      ),
      { numRuns: 300, seed: 11_201 },
    );
  });

  it('equals them on runs of few codes (the camera lane) and past the distinct codes\' first scratch (65,536)', () => {
    for (const [rows, count, skew, most] of [[150_000, 4000, 1, 256], [70_000, 65_536, 1, 0], [kRunRows * 40, 3, 1, 0], [kRunRows * 40 + 1, 600, 3, 200]] as const) {
      const codes = skewedCodes(rows, count, skew, rows);
      const { plain, fast } = bothWays(codes, rows, most, true);
      expect(fast.shared).toBe(plain.shared);
      for (const k of ['runs', 'table', 'entries'] as const) expect([k, firstDiff(fast[k], plain[k])]).toEqual([k, -1]);
    }
  });
});

/**
 * packLabels' numbering by use, plainly: the distinct (region, make, color) triples (absent lanes 0), undefined past
 * `limit`; past 256 of them ordered by descending rows, ties in (region, make, color) order; else in that order.
 */
function plainByUse(rows: number, lanes: Array<Uint8Array | Uint16Array | null>, limit: number) {
  const keyOf = (i: number) => lanes.map((l) => (l ? l[i]! : 0));
  const rowsOf = new Map<string, { codes: number[]; rows: number }>();
  for (let i = 0; i < rows; i++) {
    const codes = keyOf(i);
    const t = rowsOf.get(String(codes)) ?? { codes, rows: 0 };
    t.rows++;
    rowsOf.set(String(codes), t);
  }
  if (rowsOf.size > Math.min(limit, kMaxLabelTriples)) return undefined;
  const byCodes = (a: { codes: number[] }, b: { codes: number[] }) => a.codes[0]! - b.codes[0]! || a.codes[1]! - b.codes[1]! || a.codes[2]! - b.codes[2]!;
  const triples = [...rowsOf.values()].sort(rowsOf.size > 0x100 ? (a, b) => b.rows - a.rows || byCodes(a, b) : byCodes);
  const number = new Map(triples.map((t, k) => [String(t.codes), k]));
  return {
    ids: Uint16Array.from({ length: rows }, (_, i) => number.get(String(keyOf(i)))!),
    region: Uint16Array.from(triples, (t) => t.codes[0]!),
    make: Uint16Array.from(triples, (t) => t.codes[1]!),
    color: Uint16Array.from(triples, (t) => t.codes[2]!),
  };
}

describe('packLabels numbering by use', () => {
  it('equals its plain definition: u8 and u16 lanes, absent ones, the triple limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4000 }), fc.array(fc.integer({ min: 0, max: 260 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.boolean(), fc.integer({ min: 1, max: 3000 }), fc.nat(),
        (rows, sizes, absent, wide, limit, seed) => {
          const r = rng(seed);
          // skewed codes per field; `wide`: u16 lanes, whose codes may pass 255 (the Map path)
          const lanes = sizes.map((size, f) => {
            if (absent[f] && f > 0) return null;
            const lane = wide ? new Uint16Array(rows) : new Uint8Array(rows);
            for (let i = 0; i < rows; i++) lane[i] = Math.min(wide ? 0xffff : 0xff, Math.floor(r() ** 2 * (size + 1)) * (wide ? 3 : 1));
            return lane;
          });
          const want = plainByUse(rows, lanes, limit);
          const got = packLabels(rows, lanes[0]!, lanes[1]!, lanes[2]!, limit, new Uint16Array(rows + 7), true);
          if (!want) expect(got).toBeUndefined();
          else {
            expect(got).toBeDefined();
            expect(got!.ids.subarray(0, rows)).toEqual(want.ids);
            expect([got!.region, got!.make, got!.color]).toEqual([want.region, want.make, want.color]);
          }
        },
      ),
      { numRuns: 300, seed: 11_202 },
    );
  });

  it('equals it past its slot table\'s first sizes (65,536 triples seen once each, thousands of skewed ones) and at the triple limit', () => {
    const shuffle = rng(6);
    // first (the table keeps the size a shard grew it to): 65,536 triples seen once each, in a shuffled order, so the
    // table grows to its largest within the one call, and every count must stay 1 (a row entered twice ranks first)
    const distinct = kMaxLabelTriples;
    const order = Array.from({ length: distinct }, (_, t) => t).sort(() => shuffle() - 0.5);
    const three = [0, 1, 2].map((f) => Uint8Array.from(order, (t) => (t >> (8 * f)) & 0xff));
    const want = plainByUse(distinct, three, kMaxLabelTriples)!;
    const got = packLabels(distinct, three[0]!, three[1]!, three[2]!, kMaxLabelTriples, undefined, true)!;
    for (const k of ['ids', 'region', 'make', 'color'] as const) expect([k, firstDiff(got[k], want[k])]).toEqual([k, -1]);
    const rows = 200_000;
    const r = rng(5);
    const lanes = [0, 1, 2].map(() => Uint8Array.from({ length: rows }, () => Math.floor(r() ** 1.5 * 64)));
    for (const limit of [kMaxLabelTriples, 5000, 3000]) {
      const want = plainByUse(rows, lanes, limit);
      const got = packLabels(rows, lanes[0]!, lanes[1]!, lanes[2]!, limit, undefined, true);
      if (!want) {
        expect(got).toBeUndefined();
        continue;
      }
      expect(want.region.length).toBeGreaterThan(4096);
      for (const k of ['ids', 'region', 'make', 'color'] as const) expect([k, firstDiff(got![k], want[k])]).toEqual([k, -1]);
    }
  });
});

/** writeU24's plain definition: each value less its run's minimum, three bytes little-endian. */
function plainU24(values: ArrayLike<number>, rows: number, mins: Float64Array): Uint8Array {
  const out = new Uint8Array(3 * rows);
  for (let i = 0; i < rows; i++) {
    const o = values[i]! - mins[Math.floor(i / kBaseRows)]!;
    out.set([o % 256, Math.floor(o / 256) % 256, Math.floor(o / 65536)], 3 * i);
  }
  return out;
}

describe('writeU24 a word at a time', () => {
  it('writes the plain definition\'s bytes at any alignment, fresh or in place, and nothing past them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: -1, max: 3 }), fc.nat(), (rows, shift, down, seed) => {
        const r = rng(seed);
        const runs = Math.ceil(rows / kBaseRows);
        const mins = Float64Array.from({ length: runs }, () => Math.floor(r() * 2 ** 31) - 2 ** 30);
        const values = Int32Array.from({ length: rows }, (_, i) => mins[Math.floor(i / kBaseRows)]! + (r() < 0.1 ? 0xffffff : Math.floor(r() * 2 ** 24)));
        const want = plainU24(values, rows, mins);
        if (down < 0) {
          // fresh, at byte `shift`: the bytes around untouched
          const buf = new Uint8Array(3 * rows + 16).fill(0xa5);
          writeU24(buf.subarray(shift, shift + 3 * rows), values, rows, mins);
          expect(buf.subarray(shift, shift + 3 * rows)).toEqual(want);
          expect([...buf.subarray(0, shift), ...buf.subarray(shift + 3 * rows)].every((b) => b === 0xa5)).toBe(true);
          return;
        }
        // in place over the i32 values (at byte 16), written at the same or a lower offset
        const buf = new ArrayBuffer(16 + 4 * rows + 16);
        new Int32Array(buf, 16, rows).set(values);
        const at = 16 - 4 * down - (shift & 3);
        writeU24(new Uint8Array(buf, at, 3 * rows), new Int32Array(buf, 16, rows), rows, mins);
        expect(new Uint8Array(buf, at, 3 * rows)).toEqual(want);
      }),
      { numRuns: 300, seed: 11_203 },
    );
  });
});
