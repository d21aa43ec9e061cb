/**
 * src/core/ascending-order.ts held to its definition: a stable sort of the positions by value (the hot-list
 * tasks' pairs by entry, the tenant's pairs by plate), on random lists with many ties, sorted lists (null)
 * and the comparator path of very long lists.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ascendingOrder } from '../src/core/ascending-order.js';

/** The definition: positions stably sorted by value. */
function plainOrder(values: Int32Array): number[] {
  return Array.from(values, (_, q) => q).sort((a, b) => values[a]! - values[b]! || a - b);
}

function isAscending(values: Int32Array): boolean {
  for (let q = 1; q < values.length; q++) if (values[q - 1]! > values[q]!) return false;
  return true;
}

describe('ascendingOrder', () => {
  it('is the stable sort of the positions by value, or null for an ascending list', () => {
    // small ranges give many ties; the largest values test the exact key arithmetic (value · 2^b + position)
    const valueArb = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }));
    let unsorted = 0;
    fc.assert(fc.property(fc.array(valueArb, { maxLength: 300 }), (list) => {
      const values = Int32Array.from(list);
      const order = ascendingOrder(values);
      if (isAscending(values)) {
        expect(order).toBeNull();
        return;
      }
      unsorted++;
      expect(Array.from(order!)).toEqual(plainOrder(values));
    }), { numRuns: 500 });
    expect(unsorted).toBeGreaterThan(300);
  });

  it('orders lists too long for the native keys by the comparator, the same way', () => {
    const n = 2 ** 22 + 5;
    const values = new Int32Array(n);
    for (let q = 0; q < n; q++) values[q] = (Math.imul(q, 2654435761) >>> 12) & 1023;
    const order = ascendingOrder(values)!;
    expect(order.length).toBe(n);
    let wrong = 0;
    const seen = new Uint8Array(n);
    for (let q = 0; q < n; q++) {
      seen[order[q]!] = 1;
      if (q === 0) continue;
      const a = order[q - 1]!, b = order[q]!;
      if (!(values[a]! < values[b]! || (values[a] === values[b] && a < b))) wrong++;
    }
    expect(wrong).toBe(0);
    expect(seen.every((x) => x === 1)).toBe(true); // a permutation
  });
});
