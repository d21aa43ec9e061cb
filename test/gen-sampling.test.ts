/**
 * The generator's fast building blocks against naive oracles: the time orders of pending reads
 * (radix and counting sorts against a comparison sort of (key, index)), weighted draws through the
 * guide table (against a binary search over the cumulative shares), and the plate set (against a Set).
 * Any difference here would change the data set's bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingReads } from '../src/gen/pending-reads.js';
import { PlateSet } from '../src/gen/plate-set.js';
import { Prng, WeightedTable } from '../src/gen/prng.js';

function pendingOf(ts: readonly number[]): PendingReads {
  const p = new PendingReads(4); // small: pushing grows it
  ts.forEach((t, i) => p.push(t, i, -i));
  return p;
}

/** Indexes sorted by key, ties by index. */
function oracleOrder(keys: readonly number[]): number[] {
  return keys.map((_, i) => i).sort((x, y) => keys[x]! - keys[y]! || x - y);
}

describe('PendingReads orders', () => {
  const origin = 1_793_000_000_000; // a local ms of 2026
  const window = fc.array(fc.integer({ min: 0, max: 59_999 }), { maxLength: 3000 });

  it('sortedOrder is the (ts, index) order for a window, ties included', () => {
    fc.assert(fc.property(window, fc.boolean(), (offsets, ties) => {
      const ts = offsets.map((o) => origin + (ties ? o % 50 : o));
      expect([...pendingOf(ts).sortedOrder()]).toEqual(oracleOrder(ts));
    }), { numRuns: 200 });
  });

  it('sortedOrder handles a day, spans of 2^32 ms and more, fractions, one read and none', () => {
    const cases: number[][] = [
      [],
      [origin],
      Array.from({ length: 5000 }, (_, i) => origin + ((i * 7919) % 86_400_000)),
      [origin, origin + 2 ** 32, origin + 1, origin + 2 ** 32, origin], // span ≥ 2^32: comparison sort
      [origin + 0.5, origin, origin + 0.25, origin], // fractions: comparison sort
      [-5, 3, -5, 0], // before 1970
    ];
    for (const ts of cases) expect([...pendingOf(ts).sortedOrder()]).toEqual(oracleOrder(ts));
  });

  it('windowOrder groups by window in insertion order, as a stable sort by window would', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -120_000, max: 86_400_000 }), { maxLength: 3000 }), (offsets) => {
      const ts = offsets.map((o) => origin + o);
      const windows = ts.map((t) => Math.floor((t - origin) / 60_000));
      expect([...pendingOf(ts).windowOrder(origin, 60_000)]).toEqual(oracleOrder(windows));
    }), { numRuns: 100 });
  });

  it('keeps its columns when it grows', () => {
    const p = pendingOf([3, 1, 2, 9, 4, 4, 0]);
    expect(p.count).toBe(7);
    expect([...p.vehicle.subarray(0, 7)]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([...p.sortedOrder()]).toEqual([6, 1, 2, 0, 4, 5, 3]);
  });
});

/** The first index whose cumulative share exceeds x, else the last: the binary search the guide table replaced. */
function oracleIndex(weights: readonly number[], x: number): number {
  const sum = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  const cumulative = weights.map((w) => (acc += w) / sum);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

describe('WeightedTable', () => {
  it('draws the index a binary search over the cumulative shares finds, zero weights and slice edges included', () => {
    const weights = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 1000, noNaN: true })), { minLength: 1, maxLength: 300 })
      .filter((w) => w.some((x) => x > 0));
    fc.assert(fc.property(weights, fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 50 }), (w, draws) => {
      const table = new WeightedTable(w.map((x, i) => [i, x] as const));
      // every draw a u32 can make: x = u / 2^32; plus the starts of guide slices and the cumulative shares themselves
      const xs = draws.map((u) => u / 2 ** 32);
      for (let k = 0; k < 64; k++) xs.push(k / 64);
      let acc = 0;
      const sum = w.reduce((a, b) => a + b, 0);
      for (const x of w) xs.push(Math.min((acc += x) / sum, 1 - 2 ** -32));
      for (const x of xs) expect(table.indexOf(x)).toBe(oracleIndex(w, x));
    }), { numRuns: 300 });
  });

  it('draws with the frequencies of its weights', () => {
    const table = new WeightedTable([['a', 1], ['b', 0], ['c', 3]] as const);
    const rng = new Prng(9, 1);
    const seen = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 40_000; i++) seen[table.draw(rng)]++;
    expect(seen.b).toBe(0);
    expect(seen.c / seen.a).toBeGreaterThan(2.8);
    expect(seen.c / seen.a).toBeLessThan(3.2);
  });
});

describe('PlateSet', () => {
  it('adds exactly what a Set of strings adds', () => {
    const plate = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: 1, maxLength: 10 });
    fc.assert(fc.property(fc.array(fc.oneof(plate, fc.constantFrom('A', 'AA', '0', '00', '1ABC234', 'ZZZZZZZZZZ')), { maxLength: 2000 }), (plates) => {
      const set = new PlateSet(4); // small: adding grows it
      const oracle = new Set<string>();
      for (const p of plates) {
        expect(set.add(p)).toBe(!oracle.has(p));
        oracle.add(p);
      }
    }), { numRuns: 100 });
  });

  it('tells apart plates that differ only in length or leading digits, and rejects what is not a plate', () => {
    const set = new PlateSet(16);
    for (const p of ['0', '00', '000', 'A', 'A0', '0A', '9999999999', 'ZZZZZZZZZZ']) expect(set.add(p)).toBe(true);
    expect(set.add('00')).toBe(false);
    expect(() => set.add('')).toThrow(/1 to 10 characters/);
    expect(() => set.add('ABCDEFGHIJK')).toThrow(/1 to 10 characters/);
    expect(() => set.add('ab1')).toThrow(/outside A-Z0-9/);
  });
});
