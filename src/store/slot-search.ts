/**
 * Binary search of a sorted plate dictionary (16-byte slots, src/core/segment.ts: the characters, zero
 * padding, the length in byte 15) by 32-bit words instead of characters.
 *
 * A tenant's dictionary and a shard's are searched once per exact-plate search, a few times each: code
 * that V8 has run only a handful of times and still interprets (bench/RESULTS.md, "Exact plates by their
 * holders": the same search 6 times in a fresh process costs 3-6x what it costs once the code is
 * compiled). Comparing a slot as up to four words (the first differing word's lowest differing byte decides,
 * the words being little-endian) runs a fraction of the bytecodes of the character loop, and makes no
 * `charCodeAt` call. The 16 bytes sort as the plates do: a plate's characters are never zero, so the zero
 * padding sorts a prefix before its extensions and the length byte follows from the characters.
 */
import { kPlateSlotBytes } from '../core/segment.js';

const kWords = kPlateSlotBytes / 4;

/** `plate`'s slot as four little-endian words (what a Uint32Array over the dictionary reads). */
export function slotKey(plate: string): Uint32Array {
  const b = new Uint8Array(kPlateSlotBytes);
  for (let j = 0; j < plate.length && j < kPlateSlotBytes - 1; j++) b[j] = plate.charCodeAt(j);
  b[kPlateSlotBytes - 1] = plate.length;
  return new Uint32Array(b.buffer);
}

/** The last key made (a search asks for the same plate in each of its shards). */
let last = { plate: '', key: slotKey('') };

/** `slotKey(plate)`, kept for the next call with the same plate. */
export function slotKeyOf(plate: string): Uint32Array {
  if (last.plate !== plate) last = { plate, key: slotKey(plate) };
  return last.key;
}

/**
 * Index of the slot equal to `key` among the `count` sorted slots of `slots` (a view into an arena), or -1.
 * A view whose offset is not a multiple of 4 (never the case for arena lanes) is searched through a copy.
 */
export function findSlot(slots: Uint8Array, count: number, key: Uint32Array): number {
  const words = slots.byteOffset % 4 === 0
    ? new Uint32Array(slots.buffer, slots.byteOffset, count * kWords)
    : new Uint32Array(slots.slice(0, count * kPlateSlotBytes).buffer);
  const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!;
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const w = mid * kWords;
    let a = words[w]!, b = k0;
    if (a === b) {
      a = words[w + 1]!;
      b = k1;
      if (a === b) {
        a = words[w + 2]!;
        b = k2;
        if (a === b) {
          a = words[w + 3]!;
          b = k3;
        }
      }
    }
    if (a === b) {
      hi = mid; // equal: the first equal slot is at or before mid
      continue;
    }
    // the lowest differing byte of the little-endian words is the first differing character
    const x = a ^ b;
    const shift = (31 - Math.clz32(x & -x)) & ~7;
    if (((a >>> shift) & 255) < ((b >>> shift) & 255)) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= count) return -1;
  const w = lo * kWords;
  return words[w] === k0 && words[w + 1] === k1 && words[w + 2] === k2 && words[w + 3] === k3 ? lo : -1;
}
