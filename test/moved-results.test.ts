/**
 * The hot-list workers' results go back by transfer (src/query/moved-results.ts): every buffer a result owns
 * is listed once, shared memory never (it cannot be transferred), and piscina hands the caller the results
 * themselves, equal to what the worker returned.
 */
import { describe, expect, it } from 'vitest';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { movedResults, ownedBuffers } from '../src/query/moved-results.js';

describe('moved results', () => {
  it('lists each owned buffer once, with the fields one level down, and no shared or empty one', () => {
    const own = new Float64Array(4);
    const shared = new Int32Array(new SharedArrayBuffer(16));
    const codes = new Int32Array(14), confidence = new Float64Array(2);
    const r1 = { entries: new Int32Array([1]), ts: own, seqs: own.subarray(2), index: shared, fields: { codes, confidence } };
    const r2 = { entries: new Int32Array(0), rows: new Uint32Array(3) };
    const got = ownedBuffers([r1, r2, { error: 'scratch' }]);
    expect(new Set(got).size).toBe(got.length);
    expect(new Set(got)).toEqual(new Set([r1.entries.buffer, own.buffer, codes.buffer, confidence.buffer, r2.rows.buffer]));
  });

  it('is a piscina transferable of the results themselves', () => {
    const results = [{ entries: new Int32Array([3, 4]) }];
    const m = movedResults(results) as unknown as Record<symbol, unknown>;
    expect(m[valueSymbol]).toBe(results);
    expect(m[transferableSymbol]).toEqual([results[0]!.entries.buffer]);
    expect(move(m as never)).toBe(m);
  });
});
