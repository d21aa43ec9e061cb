/**
 * Pieces written a word at a time (src/server/json-bytes.ts JsonPiece) and a hit's string fields as one piece
 * per value (src/server/field-pieces.ts) against their definition: the pieces' text in order, and the key
 * followed by `JSON.stringify(value)`. Values repeat (the last value's piece, the cache's), need escapes, are
 * not ASCII, are equal strings made apart, and outnumber the cache (emptied and refilled); every write reserves
 * exactly what src/server/hit-bytes.ts reserves, so a piece's padded last word past a reservation shows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringFieldPieces } from '../src/server/field-pieces.js';
import { JsonBytes, jsonPiece } from '../src/server/json-bytes.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

// a dictionary's values: plain ones mostly, and the ones JSON escapes or that are not ASCII
const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('pd-metro', 'pd-metro-fx-0150', 'CA', 'CHEVROLET', 'WHITE', '', 'A', 'ABCDEFGH', 'ABCDEFGHI') },
  { weight: 2, arbitrary: printable },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('A', '7', '"', '\\', '\n', '\u0000', '\u007f', 'é', '€', '\ud83d', '😀'), maxLength: 10 }) },
);

/** `vs` through one field's pieces, reserved as a hit's writer reserves them; the text and its definition. */
function written(field: StringFieldPieces, key: string, vs: readonly string[]): { got: string; want: string } {
  const w = new JsonBytes(8);
  for (const v of vs) {
    w.reserve(key.length + 2 + v.length);
    field.write(w, v);
  }
  return { got: text(w.bytes()), want: vs.map((v) => key + JSON.stringify(v)).join('') };
}

describe('JsonPiece', () => {
  it('pieces written in turn are their text in turn, whatever their lengths', () => {
    fc.assert(fc.property(fc.array(printable, { maxLength: 30 }), (texts) => {
      const pieces = texts.map(jsonPiece);
      const w = new JsonBytes(8);
      for (const p of pieces) {
        w.reserve(p.length);
        w.piece(p);
      }
      expect(text(w.bytes())).toBe(texts.join(''));
    }), { numRuns: 2000 });
  });

  it('only printable ASCII makes a piece', () => {
    for (const bad of ['\n', 'é', '\u007f', '\u0000x', 'ab\u001f']) expect(() => jsonPiece(bad)).toThrow(RangeError);
  });
});

describe('StringFieldPieces = key + JSON.stringify(value)', () => {
  it('values repeating, escaped, not ASCII, equal but made apart', () => {
    fc.assert(fc.property(fc.array(value, { maxLength: 60 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), (vs, apart) => {
      // a value made apart is an equal string that is another object (another shard's dictionary)
      const values = vs.map((v, i) => (apart[i] ? [...v].join('') : v));
      const key = ',"camera":';
      const { got, want } = written(new StringFieldPieces(jsonPiece(key)), key, values);
      expect(got).toBe(want);
    }), { numRuns: 1000 });
  });

  it('more values than a field keeps: emptied and refilled, still the same text', () => {
    const key = ',"make":';
    const field = new StringFieldPieces(jsonPiece(key));
    const values = Array.from({ length: 40_000 }, (_, i) => `M${i % 20_000}${i % 7 === 0 ? '"' : ''}`);
    const { got, want } = written(field, key, values);
    expect(got).toBe(want);
  });
});
