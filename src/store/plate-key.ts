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
import { findSlot, slotKeyOf } from './slot-search.js';

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

const kHalf = kBase ** 5; // < 2^31: each half of a key is a small integer

/**
 * The 5 digits of `x` (< 37^5 < 2^31), most significant first, into out[at..at+5): int32 arithmetic (a
 * truncating division by a constant, which TurboFan makes a multiply) instead of a double `%` and `/` a digit.
 */
function digits5(x: number, out: Uint8Array, at: number): void {
  x |= 0;
  for (let j = at + 4; j >= at; j--) {
    const q = (x / kBase) | 0;
    out[j] = x - q * kBase;
    x = q;
  }
}

/**
 * The 10 digits of `key`, most significant first, into `out`: the key split into two halves below 2^31
 * (the quotient corrected by one if the division rounded across an integer), then small-integer arithmetic.
 */
function digitsOf(key: number, out: Uint8Array): void {
  let hi = Math.floor(key / kHalf);
  let lo = key - hi * kHalf;
  if (lo < 0) {
    hi--;
    lo += kHalf;
  } else if (lo >= kHalf) {
    hi++;
    lo -= kHalf;
  }
  digits5(hi, out, 0);
  digits5(lo, out, 5);
}

const scratch = new Uint8Array(kMaxPlateLength);

/** Writes the plate of `key` into a 16-byte dictionary slot at slots[at..] (characters, zero padding, length in byte 15). */
export function writePlateSlot(key: number, slots: Uint8Array, at: number): void {
  slots[at + kPlateSlotBytes - 1] = writePlateBytes(key, slots, at);
}

/**
 * The plate in the 16-byte slot at `slots[base..]` (characters, zero padding, length in byte 15; plates are
 * ≤ 10 ASCII characters): one `fromCharCode` call with the characters as arguments makes the string
 * directly, where spreading a subarray goes through an iterator (LoadedShard.plateAt, hot in hit
 * materialisation).
 */
export function slotString(slots: Uint8Array, base: number): string {
  const b = base, v = slots;
  switch (v[b + 15]) {
    case 1: return String.fromCharCode(v[b]!);
    case 2: return String.fromCharCode(v[b]!, v[b + 1]!);
    case 3: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!);
    case 4: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!);
    case 5: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!, v[b + 4]!);
    case 6: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!, v[b + 4]!, v[b + 5]!);
    case 7: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!, v[b + 4]!, v[b + 5]!, v[b + 6]!);
    case 8: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!, v[b + 4]!, v[b + 5]!, v[b + 6]!, v[b + 7]!);
    case 9: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!, v[b + 4]!, v[b + 5]!, v[b + 6]!, v[b + 7]!, v[b + 8]!);
    case 10: return String.fromCharCode(v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!, v[b + 4]!, v[b + 5]!, v[b + 6]!, v[b + 7]!, v[b + 8]!, v[b + 9]!);
    default: return String.fromCharCode(...v.subarray(b, b + v[b + 15]!));
  }
}

/**
 * Position of `plate` among `count` sorted 16-byte slots, or -1: a binary search by 32-bit words, no
 * strings decoded (src/store/slot-search.ts).
 */
export function findPlateSlot(slots: Uint8Array, count: number, plate: string): number {
  return count === 0 ? -1 : findSlot(slots, count, slotKeyOf(plate));
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

/** Writes the plate of `key` as ASCII bytes at out[at..]; returns its length (1–10). */
export function writePlateBytes(key: number, out: Uint8Array, at: number): number {
  digitsOf(key, scratch);
  let len = 0;
  for (; len < kMaxPlateLength && scratch[len] !== 0; len++) {
    const d = scratch[len]!;
    out[at + len] = d <= 10 ? d + 0x2f : d + 0x36;
  }
  return len;
}

/** Whether `plate` is a normalised plate (1–10 characters A–Z0–9), so that it has a key. */
export function isKeyablePlate(plate: string): boolean {
  if (plate.length < 1 || plate.length > kMaxPlateLength) return false;
  for (let j = 0; j < plate.length; j++) {
    const c = plate.charCodeAt(j);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a))) return false;
  }
  return true;
}
