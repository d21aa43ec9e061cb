/**
 * Plate keys (src/store/plate-key.ts): a key a plate, back to the same plate (string and dictionary slot),
 * and the numeric order of keys is the string order of plates (what a shard's sorted dictionary needs).
 */
import { describe, expect, it } from 'vitest';
import { plateKey, plateKeyOfBytes, plateOfKey, writePlateSlot } from '../src/store/plate-key.js';
import { codePlates, codePlatesPlain } from '../src/store/bulk-build.js';
import { encodeDictValues } from '../src/store/shard-format.js';

const kAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

describe('plate keys', () => {
  it('round-trip, slots, bytes, and order = string order (random plates, the extremes)', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    const plates = ['0', 'Z', '0000000000', 'ZZZZZZZZZZ', 'A', 'A0', 'AZ', '9', '9ZZZZZZZZZ'];
    for (let i = 0; i < 5_000; i++) {
      const len = 1 + Math.floor(rnd() * 10);
      let p = '';
      for (let j = 0; j < len; j++) p += kAlphabet[Math.floor(rnd() * (rnd() < 0.5 ? 3 : 36))];
      plates.push(p);
    }
    const slot = new Uint8Array(16);
    for (const p of plates) {
      const k = plateKey(p);
      expect(Number.isSafeInteger(k)).toBe(true);
      expect(plateOfKey(k)).toBe(p);
      expect(plateKeyOfBytes(Buffer.from(`..${p}..`), 2, 2 + p.length)).toBe(k);
      slot.fill(0);
      writePlateSlot(k, slot, 0);
      const want = new Uint8Array(16);
      for (let j = 0; j < p.length; j++) want[j] = p.charCodeAt(j);
      want[15] = p.length;
      expect(slot).toEqual(want);
    }
    const byString = [...new Set(plates)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const byKey = [...new Set(plates)].sort((a, b) => plateKey(a) - plateKey(b));
    expect(byKey).toEqual(byString);
  });

  it('a shard\'s plate dictionary from keys = the string dictionary encodeDictValues builds', () => {
    let s = 3;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    for (const [rows, distinct] of [[1, 1], [50, 3], [5000, 4000], [40_000, 2000], [70_000, 69_000]] as const) {
      const pool = Array.from({ length: distinct }, (_, i) => `${kAlphabet[i % 36]}${(i * 7919).toString(36).toUpperCase()}`.slice(0, 10));
      const plates = Array.from({ length: rows }, () => pool[Math.floor(rnd() * distinct)]!);
      const want = encodeDictValues(plates, false);
      const got = codePlates(Float64Array.from(plates, plateKey));
      expect(Array.from(got.dict.subarray(0, got.m), plateOfKey)).toEqual(want.values);
      expect(got.plate).toEqual(want.indices);
    }
  });

  it('codePlates (hash, ranks by radix) = codePlatesPlain (Set, sort, Map): random plates of every length and digit', () => {
    let s = 11;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    const plateOf = (narrow: boolean) => {
      const len = 1 + Math.floor(rnd() * 10);
      let p = '';
      // narrow: few characters, so keys share their high digits and differ in the low ones (and the other way)
      for (let j = 0; j < len; j++) p += kAlphabet[Math.floor(rnd() * (narrow ? 2 : 36))];
      return p;
    };
    // a few keys that differ in one radix digit only (one bucket holds all keys but one or two), descending
    for (const few of [['B', 'A'], ['ZZZZZZZZZ1', 'ZZZZZZZZZ0'], ['1ZZZZZZZZZ', '0ZZZZZZZZZ', '0ZZZZZZZZZ'], ['ZB', 'ZA', 'Z9', 'ZB']]) {
      const keys = Float64Array.from(few, plateKey);
      expect(codePlates(keys.slice())).toEqual(codePlatesPlain(keys.slice()));
    }
    for (const [rows, distinct, narrow] of [[0, 1, false], [1, 1, false], [2, 2, true], [50, 2, true], [3000, 2900, false], [20_000, 500, true], [60_000, 50_000, false], [60_000, 9_000, true]] as const) {
      const pool = Array.from({ length: distinct }, () => plateOf(narrow));
      // one key repeated throughout (every radix pass skipped) among the shapes
      const keys = Float64Array.from({ length: rows }, () => plateKey(rows === 2 ? 'Z' : pool[Math.floor(rnd() * distinct)]!));
      const got = codePlates(keys.slice());
      const want = codePlatesPlain(keys.slice());
      expect(got.m).toBe(want.m);
      expect(got.dict.subarray(0, got.m)).toEqual(want.dict.subarray(0, want.m));
      expect(got.plate).toEqual(want.plate);
    }
  });
});
