/**
 * src/store/slot-search.ts against the plain definition: the position of a plate in a sorted array of
 * plates, on random dictionaries of short and long plates that are prefixes of one another, with absent
 * plates before, between and after them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kPlateSlotBytes } from '../src/core/segment.js';
import { findSlot, slotKey, slotKeyOf } from '../src/store/slot-search.js';

const plateArb = fc.stringMatching(/^[A-Z0-9]{1,10}$/);

/** The sorted distinct plates as 16-byte slots (characters, zero padding, length in byte 15), at `offset` in a buffer. */
function slotsOf(plates: readonly string[], offset: number): Uint8Array {
  const buf = new Uint8Array(offset + plates.length * kPlateSlotBytes);
  plates.forEach((p, d) => {
    for (let j = 0; j < p.length; j++) buf[offset + d * kPlateSlotBytes + j] = p.charCodeAt(j);
    buf[offset + d * kPlateSlotBytes + 15] = p.length;
  });
  return buf.subarray(offset);
}

describe('findSlot', () => {
  it('finds every plate of a sorted dictionary and no other', () => {
    fc.assert(
      fc.property(fc.array(plateArb, { maxLength: 300 }), fc.array(plateArb, { maxLength: 30 }), fc.constantFrom(0, 16, 5), (list, probes, offset) => {
        // prefixes of the plates too, so neighbours share long prefixes
        const plates = [...new Set([...list, ...list.map((p) => p.slice(0, Math.max(1, p.length - 2)))])].sort();
        const slots = slotsOf(plates, offset);
        for (const p of [...plates, ...probes, ...plates.map((x) => x + 'A'), ...plates.map((x) => x.slice(0, -1)).filter((x) => x.length > 0)]) {
          expect(findSlot(slots, plates.length, slotKey(p))).toBe(plates.indexOf(p));
          expect(findSlot(slots, plates.length, slotKeyOf(p))).toBe(plates.indexOf(p));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an empty dictionary holds nothing', () => {
    expect(findSlot(new Uint8Array(0), 0, slotKey('ABC'))).toBe(-1);
  });
});
