/**
 * Per sealed shard: how many of its rows have a plate containing each character, and each bigram, of the
 * plate alphabet. A shard never changes once sealed, so this is computed once, on the first search that
 * wants it (src/query/plate-rows.ts: the exact count of `*1*` or `*UE*` over an older shard without
 * matching its dictionary), and kept with the shard until it is unloaded.
 *
 *   counts  u32[36 + 1296]   [c]            rows whose plate contains character c (A–Z = 0–25, 0–9 = 26–35)
 *                            [36 + a·36 + b] rows whose plate contains the bigram ab
 *
 * 5.3 KB per shard. Built in two passes: rows per dictionary entry (one pass over the plate lane), then
 * each entry's distinct characters and bigrams credited with its rows (≤ 19 per plate).
 */
import { kPlateSlotBytes } from '../core/segment.js';
import { gramSymbol, kBigramKeys } from './plate-grams.js';
import type { LoadedShard } from './shard-loader.js';

const kSymbols = 36;
const kKeys = kSymbols + kBigramKeys;
const cache = new WeakMap<LoadedShard, Uint32Array>();

/** The counts' index of a character or a bigram of plate characters. */
export function plateGramRowsKey(gram: string): number {
  const a = gramSymbol(gram.charCodeAt(0));
  if (gram.length === 1) return a;
  return kSymbols + a * kSymbols + gramSymbol(gram.charCodeAt(1));
}

export function plateGramRows(shard: LoadedShard): Uint32Array {
  let counts = cache.get(shard);
  if (!counts) cache.set(shard, (counts = build(shard)));
  return counts;
}

function build(shard: LoadedShard): Uint32Array {
  const n = shard.layout.dictCount;
  const perEntry = new Uint32Array(n);
  const plate = shard.plate;
  for (let i = 0; i < shard.rows; i++) perEntry[plate(i)]!++;
  const counts = new Uint32Array(kKeys);
  // per key, the last entry credited: a plate counts once per character or bigram however often it holds it
  const last = new Int32Array(kKeys).fill(-1);
  const chars = new Uint8Array(kPlateSlotBytes);
  for (let d = 0; d < n; d++) {
    const rows = perEntry[d]!;
    if (rows === 0) continue;
    const len = shard.plateChars(d, chars);
    let prev = -1;
    for (let j = 0; j < len; j++) {
      const c = gramSymbol(chars[j]!);
      if (c >= 0 && last[c] !== d) {
        last[c] = d;
        counts[c]! += rows;
      }
      if (c >= 0 && prev >= 0) {
        const key = kSymbols + prev * kSymbols + c;
        if (last[key] !== d) {
          last[key] = d;
          counts[key]! += rows;
        }
      }
      prev = c;
    }
  }
  return counts;
}
