/**
 * A plate as one exact integer that sorts as the plate does: its 10 characters, zero padded, in base 37
 * ('0'–'9' → 1–10, 'A'–'Z' → 11–36, padding 0), first character most significant. Padding sorts below
 * every character, so a prefix comes first, as in string order; 37^10 < 2^53, so the key is exact in an f64.
 *
 * Why: a shard's plate dictionary is sorted by plate (src/store/shard-format.ts), so its entries' keys
 * ascend, and the rows of several shards can be grouped by plate with a merge of those ascending runs
 * (cloned-task.ts), without a hash table or a string. (columns.ts's plateKey is not padded: it groups, but
 * does not sort like the plate.)
 */
import { kPlateSlotBytes } from '../../core/segment.js';

const kChars = 10;
/** Above every key (37^10): the open upper end of the last key range. */
export const kPlateOrderEnd = 37 ** kChars;

function code37(c: number): number {
  return c <= 57 ? c - 47 : c - 54;
}

export function plateOrderKey(plate: string): number {
  let k = 0;
  for (let i = 0; i < kChars; i++) k = k * 37 + (i < plate.length ? code37(plate.charCodeAt(i)) : 0);
  return k;
}

/** The key of dictionary slot `d` (16-byte slots: the characters zero padded, byte 15 the length). */
export function slotOrderKey(slots: Uint8Array, d: number): number {
  const base = d * kPlateSlotBytes;
  let k = 0;
  for (let i = 0; i < kChars; i++) {
    const c = slots[base + i]!;
    k = k * 37 + (c === 0 ? 0 : code37(c));
  }
  return k;
}

export function plateOfOrderKey(k: number): string {
  const codes: number[] = [];
  for (let i = 0; i < kChars; i++) {
    const c = k % 37;
    k = (k - c) / 37;
    if (c !== 0) codes.push(c <= 10 ? c + 47 : c + 54);
  }
  return String.fromCharCode(...codes.reverse());
}
