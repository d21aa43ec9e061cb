/**
 * Plate keys (src/store/plate-key.ts): a key a plate, back to the same plate (string and dictionary slot),
 * and the numeric order of keys is the string order of plates (what a shard's sorted dictionary needs).
 */
import { describe, expect, it } from 'vitest';
import { plateKey, plateKeyOfBytes, plateOfKey, writePlateSlot } from '../src/store/plate-key.js';

const kAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

describe('plate keys', () => {
  it('round-trip, slots, bytes, and order = string order (random plates, the extremes)', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    const plates = ['0', 'Z', '0000000000', 'ZZZZZZZZZZ', 'A', 'A0', 'AZ', '9', '9ZZZZZZZZZ'];
    for (let i = 0; i < 20_000; i++) {
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
});
