/**
 * An n-gram index over one tenant's plate dictionary (src/store/tenant-plates.ts): for every bigram and
 * trigram of the plate alphabet, the sorted dictionary ids of the plates that contain it. It turns a
 * `contains` pattern (`*UE80*`) or a fuzzy pattern's pigeonhole pieces (src/query/gram-plan.ts) into a few
 * hundred candidate plates instead of a pass over every distinct plate; the candidates are then verified
 * by the same kernel that would have scanned the dictionary (src/query/gram-match.ts), so the index only
 * has to never miss a plate, not to be exact.
 *
 *   key space (one CSR array pair, keys in this order):
 *     bigram  ab  → a·36 + b                    1,296 keys
 *     trigram abc → 1296 + a·1296 + b·36 + c   46,656 keys   (a, b, c: A–Z = 0–25, 0–9 = 26–35)
 *
 *   offsets  u32[kGramKeys + 1]   the list of key g is postings[offsets[g] .. offsets[g+1]) (bytes; empty: none)
 *   postings u8[…]                per key: varint(count), then its dictionary ids ascending (each at most
 *                                 once) as varint deltas: the first id itself, then id − previous id
 *                                 (varint: 7 bits a byte, low first, the top bit set on all but the last)
 *
 * Why both: a fuzzy k=2 pattern of 7 characters splits into three pieces of 2–3 characters (one of which a
 * plate within 2 edits must contain), and `*UE*` has only a bigram; trigrams alone would leave those to
 * the scan. Why not positions: plates are ≤ 10 characters, so the verification the candidates go through
 * anyway is cheaper than the longer lists of (gram, position) keys. Why deltas, not u32 ids: at ~14 ids a
 * plate, u32 lists cost 56 B a plate, which outgrew the reads themselves once a read cost ~24 B (20M reads of
 * bench:peers: 172 MB of JS-side index against 540 MB of resident shards, issue 11); a trigram's ids lie
 * thousands apart and a bigram's hundreds, so a delta takes 2 varint bytes, rarely 1 or 3. A query decodes
 * only the lists of the grams its plan names (postingsOf), a few thousand ids at most for all but the
 * commonest bigrams, at ~1–2 ns an id.
 *
 * Characters outside A–Z0–9 never appear in a normalised plate (src/model/plate.ts); a gram that would
 * contain one is simply not indexed, which loses nothing: a query piece is made of plate characters only
 * (src/query/gram-plan.ts falls back to the scan otherwise), so a plate containing the piece contains
 * all of the piece's grams, which are all indexed.
 *
 * Built in two passes (count, then fill) over the dictionary slots: ~N·17 steps, no per-plate objects.
 * The dictionary's ids change whenever shards are merged in, so the index is rebuilt with it (there is no
 * incremental update to get wrong).
 */
import { kPlateSlotBytes } from '../core/segment.js';

/** The plate alphabet, in code order. */
export const kGramAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const kSymbols = 36;
export const kBigramKeys = kSymbols * kSymbols;
export const kTrigramKeys = kSymbols * kSymbols * kSymbols;
export const kGramKeys = kBigramKeys + kTrigramKeys;
/** Byte of the slot that holds the plate's length (src/core/segment.ts). */
const kLengthByte = kPlateSlotBytes - 1;

/** Byte → symbol code (0–35), or -1 outside the alphabet. */
const kCode: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < kSymbols; i++) t[kGramAlphabet.charCodeAt(i)] = i;
  return t;
})();

/** The symbol code of a character code, or -1. */
export function gramSymbol(charCode: number): number {
  return charCode < 256 ? kCode[charCode]! : -1;
}

/** The key of a bigram or trigram given as a string of plate characters, or -1 (other length, other characters). */
export function gramKey(gram: string): number {
  if (gram.length === 2) {
    const a = gramSymbol(gram.charCodeAt(0)), b = gramSymbol(gram.charCodeAt(1));
    return a < 0 || b < 0 ? -1 : a * kSymbols + b;
  }
  if (gram.length === 3) {
    const a = gramSymbol(gram.charCodeAt(0)), b = gramSymbol(gram.charCodeAt(1)), c = gramSymbol(gram.charCodeAt(2));
    return a < 0 || b < 0 || c < 0 ? -1 : kBigramKeys + (a * kSymbols + b) * kSymbols + c;
  }
  return -1;
}

/**
 * Writes the gram keys of the plate in slot `d` to `out` (≤ 17: 9 bigrams, 8 trigrams), possibly with
 * repeats (the builder drops them), and returns how many.
 */
function gramsOf(slots: Uint8Array, d: number, out: Int32Array): number {
  const base = d * kPlateSlotBytes;
  const len = Math.min(slots[base + kLengthByte]!, kLengthByte);
  let n = 0;
  let a = -1, b = -1;
  for (let i = 0; i < len; i++) {
    const c = kCode[slots[base + i]!]!;
    if (c >= 0 && b >= 0) {
      out[n++] = b * kSymbols + c;
      if (a >= 0) out[n++] = kBigramKeys + (a * kSymbols + b) * kSymbols + c;
    }
    // a gram never spans a character outside the alphabet
    a = c < 0 ? -1 : b;
    b = c;
  }
  return n;
}

export class PlateGrams {
  private constructor(
    /** Dictionary entries indexed (the dictionary's count when built). */
    readonly plates: number,
    readonly offsets: Uint32Array,
    readonly postings: Uint8Array,
  ) {}

  /** Indexes `count` dictionary slots (`count · 16` bytes, the tenant dictionary's layout). */
  static build(slots: Uint8Array, count: number): PlateGrams {
    const keys = new Int32Array(kPlateSlotBytes * 2);
    // per key, the last plate that counted (then stored) it: each plate appears once per key
    const last = new Int32Array(kGramKeys).fill(-1);
    const counts = new Uint32Array(kGramKeys);
    const offsets = new Uint32Array(kGramKeys + 1);
    // pass 1: per key, its ids and the bytes of their deltas
    for (let d = 0; d < count; d++) {
      const n = gramsOf(slots, d, keys);
      for (let j = 0; j < n; j++) {
        const key = keys[j]!;
        const prev = last[key]!;
        if (prev === d) continue;
        offsets[key + 1]! += varintBytes(prev < 0 ? d : d - prev);
        counts[key]!++;
        last[key] = d;
      }
    }
    for (let g = 0; g < kGramKeys; g++) {
      if (counts[g]! > 0) offsets[g + 1]! += varintBytes(counts[g]!);
      offsets[g + 1]! += offsets[g]!;
    }
    // pass 2: each list's count, then its deltas
    const postings = new Uint8Array(offsets[kGramKeys]!);
    const cursor = new Uint32Array(kGramKeys);
    for (let g = 0; g < kGramKeys; g++) cursor[g] = counts[g]! > 0 ? writeVarint(postings, offsets[g]!, counts[g]!) : offsets[g]!;
    last.fill(-1);
    for (let d = 0; d < count; d++) {
      const n = gramsOf(slots, d, keys);
      for (let j = 0; j < n; j++) {
        const key = keys[j]!;
        const prev = last[key]!;
        if (prev === d) continue;
        cursor[key] = writeVarint(postings, cursor[key]!, prev < 0 ? d : d - prev);
        last[key] = d;
      }
    }
    return new PlateGrams(count, offsets, postings);
  }

  /** An index built elsewhere (the plate-index worker, src/store/plate-index-build.ts) from its two arrays. */
  static of(plates: number, offsets: Uint32Array, postings: Uint8Array): PlateGrams {
    return new PlateGrams(plates, offsets, postings);
  }

  /** The ascending ids of the plates containing gram `key` (decoded: a new array). */
  postingsOf(key: number): Uint32Array {
    const n = this.sizeOf(key);
    const out = new Uint32Array(n);
    if (n === 0) return out;
    const p = this.postings;
    // past the count; varints read inline, in int32 arithmetic (every value is below 2^31: ids of one dictionary)
    let at = this.offsets[key]! + varintBytes(n);
    let id = 0;
    for (let i = 0; i < n; i++) {
      let b = p[at++]!;
      let delta = b & 0x7f;
      for (let shift = 7; b >= 0x80; shift += 7) {
        b = p[at++]!;
        delta |= (b & 0x7f) << shift;
      }
      id += delta;
      out[i] = id;
    }
    return out;
  }

  /** How many plates contain gram `key`. */
  sizeOf(key: number): number {
    const p = this.postings;
    let at = this.offsets[key]!;
    if (at === this.offsets[key + 1]!) return 0;
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = p[at++]!;
      n |= (b & 0x7f) << shift;
      if (b < 0x80) return n;
    }
  }

  /** Ids in all the lists together (a plate once per distinct gram it has). */
  get entries(): number {
    let n = 0;
    for (let g = 0; g < kGramKeys; g++) n += this.sizeOf(g);
    return n;
  }

  /** Bytes held by the index (its two arrays). */
  get bytes(): number {
    return this.offsets.byteLength + this.postings.byteLength;
  }
}

/** Bytes of `v` (a non-negative integer below 2^32) as a varint. */
function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` as a varint at `at`; returns the offset after it. */
function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}
