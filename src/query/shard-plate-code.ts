/**
 * A tenant plate's code in one shard's dictionary, found from a guess: the plate's rank in the shard's
 * bucket (src/store/plate-ranks.ts), which is the code itself when the bucket holds that shard's plates
 * only, and otherwise close above it. The plate is given as its 16-byte slot (four words, the layout of
 * src/core/segment.ts), compared word by word with the shard's slots: no string is made or compared.
 *
 * The search starts at the guess and gallops (1, 2, 4, … slots) toward the plate, then halves the last
 * step, so a right guess costs one slot read, a guess k slots off ~2·log2(k), and no guess (-1) a plain
 * binary search: the answer never depends on the guess being right.
 */
import { kPlateSlotBytes } from '../core/segment.js';
import { gallopFrom } from '../core/sorted-search.js';
import type { IdAt } from '../store/plate-id-lane.js';

const kWords = kPlateSlotBytes / 4;

/** How shard lookups went since the process started (tests and benchmarks: the guess is mostly right). */
export const shardPlateLookups = { exact: 0, searched: 0 };

/** A word's bytes in string order (the first byte the most significant), unsigned. */
function bigEndian(u: number): number {
  return (((u & 0xff) << 24) | ((u & 0xff00) << 8) | ((u >>> 8) & 0xff00) | (u >>> 24)) >>> 0;
}

/**
 * Order of shard slot `j` against plate `k` of `words` (negative: the slot sorts first). Bytes 0–11 hold
 * the characters and zero padding (byte order is string order, a prefix first); byte 15, the length,
 * follows from them.
 */
function compareSlot(slots: Uint32Array, j: number, words: Uint32Array, k: number): number {
  const a = j * kWords, b = k * kWords;
  for (let w = 0; w < kWords - 1; w++) {
    const u = slots[a + w]!, v = words[b + w]!;
    if (u !== v) return bigEndian(u) - bigEndian(v);
  }
  return 0;
}

/**
 * The code of plate `k` of `words` among the `n` slots of `slots` (sorted), or -1; searched from `guess`
 * (any number; -1 or out of range: from the middle). With `ids`, code j's slot is `slots`' slot ids[j]
 * (a shard read through its tenant's dictionary: ids ascending, so the codes stay in plate order).
 */
export function plateCodeFrom(slots: Uint32Array, n: number, words: Uint32Array, k: number, guess: number, ids: IdAt | null = null): number {
  if (n === 0) return -1;
  const slot = ids ?? ((j: number) => j);
  const from = guess >= 0 && guess < n ? guess : n >>> 1;
  const c = compareSlot(slots, slot(from), words, k);
  if (c === 0) {
    if (guess === from) shardPlateLookups.exact++;
    else shardPlateLookups.searched++;
    return from;
  }
  shardPlateLookups.searched++;
  // the first slot ≥ the plate
  const at = gallopFrom(n, from, (j) => compareSlot(slots, slot(j), words, k) < 0);
  return at < n && compareSlot(slots, slot(at), words, k) === 0 ? at : -1;
}
