/**
 * readIdOf (src/store/ids.ts) builds an id from char codes; it must give exactly what its plain definition
 * (hex of the ordinal and of the seq, zero-padded to 4 and 12 digits) gives, over the whole range of
 * ordinals and seqs, at the edges of the seq's two 24-bit halves, and back through parseReadId.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kMaxOrdinal, kMaxSeq, parseReadId, plainReadIdOf, readIdOf } from '../src/store/ids.js';

describe('readIdOf', () => {
  it('equals the plain definition on random ordinals and seqs', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: kMaxOrdinal }), fc.integer({ min: 0, max: kMaxSeq }), (ordinal, seq) => {
      const id = readIdOf(ordinal, seq);
      expect(id).toBe(plainReadIdOf(ordinal, seq));
      expect(parseReadId(id)).toEqual({ ordinal, seq });
    }), { numRuns: 20_000 });
  });

  it('equals the plain definition at the edges (0, 2^24 ± 1, 2^48 - 1, small seqs)', () => {
    const seqs = [0, 1, 15, 16, 255, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 47, kMaxSeq - 1, kMaxSeq];
    for (const ordinal of [0, 1, 0xf, 0x10, 0xabc, kMaxOrdinal]) {
      for (const seq of seqs) expect(readIdOf(ordinal, seq)).toBe(plainReadIdOf(ordinal, seq));
    }
  });
});
