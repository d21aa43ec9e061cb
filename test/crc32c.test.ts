/**
 * CRC32C (src/store/crc32c.ts): the native backend and the portable table method both equal the bitwise
 * definition (one bit at a time, reflected polynomial 0x82F63B78) on random bytes, in one piece and
 * continued across pieces, and the standard check value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBackend, crc32cPortable } from '../src/store/crc32c.js';

function crc32cBitwise(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of bytes) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

const enc = new TextEncoder();

describe('crc32c', () => {
  it('uses the CPU instructions on this platform (the prebuilt binary loads)', () => {
    if (process.platform === 'linux' && process.arch === 'x64') expect(crc32cBackend).toBe('native');
  });

  for (const [name, f] of [['crc32c', crc32c], ['crc32cPortable', crc32cPortable]] as const) {
    it(`${name}: the check value, the empty input, and pieces`, () => {
      expect(f(enc.encode('123456789'))).toBe(0xe3069283);
      expect(f(new Uint8Array(0))).toBe(0);
      const b = enc.encode('The quick brown fox jumps over the lazy dog, twice over, for good measure.');
      expect(f(b.subarray(13), f(b.subarray(0, 13)))).toBe(f(b));
    });

    it(`${name}: equals the bitwise definition on random bytes and random cuts`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, cut, seed) => {
        const at = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const start = seed >>> 0;
        const whole = crc32cBitwise(bytes, start);
        expect(f(bytes, start)).toBe(whole);
        expect(f(bytes.subarray(at), f(bytes.subarray(0, at), start))).toBe(whole);
      }), { numRuns: 2000 });
    });
  }

  it('a large buffer: both backends agree', () => {
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    expect(crc32c(big)).toBe(crc32cPortable(big));
  });
});
