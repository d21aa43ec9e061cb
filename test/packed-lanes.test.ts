/**
 * Bit-packed lanes (src/core/packed-lanes.ts) against a plain definition: bit k of the lane is bit (k mod w) of value
 * ⌊k / w⌋, little-endian, the last byte's unused bits zero. writePacked gives those bytes whether it writes into a
 * fresh buffer or in place over the u32 values it reads (as the loader packs a shard's lane), writes nothing past
 * the last value's byte, and packedReader (what rowsReader and plateCodeReader hand out for width 0) reads every
 * value back, the padding's bits masked away whatever they hold; plateCodeReader / rowsReader take the width-0 form.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bitsFor, kPackedPad, packedLaneBytes, packedReader, writePacked } from '../src/core/packed-lanes.js';
import { plateCodeReader, rowsReader } from '../src/core/segment.js';

/** The plain definition of a packed lane's bytes (without the padding). */
function plainPacked(values: readonly number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  for (let k = 0; k < values.length * bits; k++) {
    const bit = Math.floor(values[Math.floor(k / bits)]! / 2 ** (k % bits)) % 2;
    if (bit) out[Math.floor(k / 8)]! |= 1 << (k % 8);
  }
  return out;
}

const laneArb = fc.integer({ min: 1, max: 24 }).chain((bits) =>
  fc.tuple(fc.constant(bits), fc.array(fc.oneof(fc.constant(2 ** bits - 1), fc.constant(0), fc.integer({ min: 0, max: 2 ** bits - 1 })), { maxLength: 200 })));

describe('bit-packed lanes', () => {
  it('bitsFor: the fewest bits holding 0 … max', () => {
    for (const [max, bits] of [[0, 1], [1, 1], [2, 2], [3, 2], [4, 3], [262_143, 18], [262_144, 19], [2 ** 24 - 1, 24], [2 ** 31 - 1, 31]] as const) expect(bitsFor(max), String(max)).toBe(bits);
  });

  it('writes the plain definition\'s bytes into a fresh lane at any alignment, nothing past them, and reads every value back', () => {
    fc.assert(
      fc.property(laneArb, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 11 }), ([bits, values], fill, at) => {
        const n = values.length;
        const buf = new ArrayBuffer(packedLaneBytes(n, bits) + at);
        const bytes = new Uint8Array(buf).fill(fill);
        writePacked(bytes.subarray(at), values, n, bits);
        const want = plainPacked(values, bits);
        expect(bytes.subarray(at, at + want.length)).toEqual(want);
        // the padding and the bytes before the lane are not written
        expect([...bytes.subarray(at + want.length)]).toEqual(new Array(kPackedPad).fill(fill));
        expect([...bytes.subarray(0, at)]).toEqual(new Array(at).fill(fill));
        const read = packedReader(buf, at, n, bits);
        expect(values.map((_, j) => read(j))).toEqual(values);
      }),
      { numRuns: 400 },
    );
  });

  it('packs in place over the u32 values it reads (at the same or a lower byte offset)', () => {
    fc.assert(
      fc.property(laneArb, fc.integer({ min: 0, max: 16 }), ([bits, values], down) => {
        const n = values.length;
        const buf = new ArrayBuffer(16 + 4 * n + kPackedPad);
        new Uint32Array(buf, 16, n).set(values);
        const at = 16 - 4 * Math.floor(down / 4); // 16, 12, … 0 bytes before the values
        writePacked(new Uint8Array(buf, at, Math.ceil((n * bits) / 8)), new Uint32Array(buf, 16, n), n, bits);
        expect(new Uint8Array(buf, at, Math.ceil((n * bits) / 8))).toEqual(plainPacked(values, bits));
        const read = packedReader(buf, at, n, bits);
        expect(values.map((_, j) => read(j))).toEqual(values);
      }),
      { numRuns: 400 },
    );
  });

  it('plateCodeReader and rowsReader read width 0 at the given bits, and refuse it without them', () => {
    const values = Array.from({ length: 1000 }, (_, j) => (j * 7919) % 131_072);
    const buf = new ArrayBuffer(packedLaneBytes(values.length, 17));
    new Uint8Array(buf).fill(0xff);
    writePacked(new Uint8Array(buf), values, values.length, 17);
    const plate = plateCodeReader(buf, 0, 0, values.length, 17), rows = rowsReader(buf, 0, 0, values.length, 17);
    expect(values.map((_, j) => plate(j))).toEqual(values);
    expect(values.map((_, j) => rows(j))).toEqual(values);
    expect(() => rowsReader(buf, 0, 0, values.length)).toThrow(/bits/);
    expect(() => plateCodeReader(buf, 0, 0, values.length, 25)).toThrow(/bits/);
  });
});
