/**
 * A normalised plate (1–10 characters A–Z0–9, src/model/plate.ts) as one number, for bulk ingest: parse
 * workers hand plates to the main thread as a Float64Array of keys instead of one string per read (no
 * string to make, clone or hash), and the shard builder sorts and dedupes them as numbers.
 *
 * key = Σ digit(c_j) × 37^(9 − j) over the 10 positions, digit('0'..'9') = 1..10, digit('A'..'Z') = 11..36,
 * 0 past the plate's end. The largest key is 37^10 − 1 < 2^53, so every key is an exact double; and the
 * numeric order of keys is the string order of plates (shorter prefix first, '0'–'9' before 'A'–'Z', as
 * the code units compare), which is the order of a shard's sorted plate dictionary.
 */
import { kMaxPlateLength } from '../model/plate.js';
import { kPlateSlotBytes } from '../core/segment.js';

const kBase = 37;
const kPlaces: readonly number[] = Array.from({ length: kMaxPlateLength }, (_, j) => kBase ** (kMaxPlateLength - 1 - j));

function digitOf(c: number): number {
  return c <= 0x39 ? c - 0x2f : c - 0x36;
}

/** The key of a normalised plate (A–Z0–9, 1–10 characters). */
export function plateKey(plate: string): number {
  let k = 0;
  for (let j = 0; j < plate.length; j++) k += digitOf(plate.charCodeAt(j)) * kPlaces[j]!;
  return k;
}

/** The key of a normalised plate given as bytes b[s..e) (A–Z0–9, 1–10 of them). */
export function plateKeyOfBytes(b: Uint8Array, s: number, e: number): number {
  let k = 0;
  for (let j = s; j < e; j++) k += digitOf(b[j]!) * kPlaces[j - s]!;
  return k;
}

/**
 * The 10 digits of `key`, most significant first, into `out` (% and an exact division by 37 from the low
 * end: both exact on integers below 2^53, where dividing by 37^k from the top could round up).
 */
function digitsOf(key: number, out: Uint8Array): void {
  for (let j = kMaxPlateLength - 1; j >= 0; j--) {
    const d = key % kBase;
    out[j] = d;
    key = (key - d) / kBase;
  }
}

const scratch = new Uint8Array(kMaxPlateLength);

/** Writes the plate of `key` into a 16-byte dictionary slot at slots[at..] (characters, zero padding, length in byte 15). */
export function writePlateSlot(key: number, slots: Uint8Array, at: number): void {
  digitsOf(key, scratch);
  let len = 0;
  for (; len < kMaxPlateLength && scratch[len] !== 0; len++) {
    const d = scratch[len]!;
    slots[at + len] = d <= 10 ? d + 0x2f : d + 0x36;
  }
  slots[at + kPlateSlotBytes - 1] = len;
}

/** The plate of `key`. */
export function plateOfKey(key: number): string {
  digitsOf(key, scratch);
  let s = '';
  for (let j = 0; j < kMaxPlateLength && scratch[j] !== 0; j++) {
    const d = scratch[j]!;
    s += String.fromCharCode(d <= 10 ? d + 0x2f : d + 0x36);
  }
  return s;
}
