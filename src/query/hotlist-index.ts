/**
 * The build side of the hot-list join (issue 12): a query's exact and fuzzy entries, indexed once per
 * query in SharedArrayBuffers, so every shard task (src/query/hotlist-task.ts), on the calling thread or
 * in any worker, probes the same index without copying it (typed arrays over a SharedArrayBuffer cross
 * postMessage by reference).
 *
 *   slots    u32[n × 4]  every entry as a 16-byte plate slot (src/core/segment.ts: characters, zero
 *                        padding, length in byte 15; OCR-mapped when the query is OCR-aware), so a
 *                        dictionary slot and an entry compare as four u32 words
 *   exact    open addressing over the slots of the exact entries (and fuzzy k = 0: distance 0 is
 *            equality): head[h] = first entry with that slot, next[e] = the following one (OCR mapping
 *            can give two entries one slot), -1 = none
 *   fuzzy    symmetric-delete keys (Garbe, SymSpell 2012): every fuzzy entry gives its strings with up to
 *            k characters deleted as exact integers (base 37, digits 1–36, < 37^10 < 2^53, distinct for
 *            distinct strings); open addressing over the distinct keys (16-byte slots: hi/lo u32 words,
 *            run start and length in a CSR list of entries), behind a bit filter of the keys' hashes.
 *            Levenshtein or OSA distance ≤ k implies a shared key, so a dictionary plate probing with its
 *            own delete keys misses no match; every candidate is verified with the exact distance (the
 *            task does).
 *
 * Wildcard entries are not indexed: the caller matches them per dictionary as before (src/query/hotlist.ts).
 */
import { ocrMap } from '../model/plate.js';
import type { PlateMatch } from '../model/query.js';
import type { QueryBudget } from './budget.js';

export interface ExactTable {
  bits: number;
  head: Int32Array;
  next: Int32Array;
  /**
   * A bit per `slotHash(…, bits + kFilterExtraBits)` of every entry slot (whose top `bits` bits are its
   * table position): a probe reads this first and the table only when its bit is set. Most plates a
   * dictionary probes with belong to no entry (a 7-day window's ~500,000 plates at 5M reads against 100,000
   * entries: ~6 % match), and the filter is an eighth of `head`'s bytes, so it stays in cache where `head`
   * and the entry slots (1 MB and 1.6 MB for 100,000 entries) do not: a miss costs one cached read instead
   * of one or two cache misses (docs/hotlist-search.md, "The tenant pairs sorted once").
   */
  filter: Uint32Array;
}

export interface FuzzyTable {
  /** The largest maxEdits of its entries: a dictionary plate probes with up to this many deletions. */
  k: number;
  /** Shortest and longest entry (a plate more than k away in length cannot match). */
  minLen: number;
  maxLen: number;
  bits: number;
  /**
   * Per table slot h, four u32 words at 4h: the key's high and low words, and its run [start, start + len)
   * of `entries` (len 0 = empty slot). One slot is one 16-byte piece of a cache line, where four separate
   * arrays cost a cache miss each per probe.
   */
  table: Uint32Array;
  /**
   * A bit per `keyHash(…, bits + kFilterExtraBits)` of every key: a probe reads this first (2^(bits+3)
   * bits, ~8 per key: about 6 % false positives) and the table only when its bit is set. Most of a
   * dictionary's delete keys belong to no entry, and the filter is 1/16 of the table's bytes, so it stays
   * in cache where the table does not.
   */
  filter: Uint32Array;
  entries: Int32Array;
}

/** Bits of a fuzzy key's hash beyond the table's, for its filter (8 filter bits per table slot). */
export const kFilterExtraBits = 3;

export interface HotlistIndex {
  /** Entries of the query (all of them, indexes as in HotlistQuery.entries). */
  count: number;
  /** Entry slots (u32 words, 4 per entry), OCR-mapped for OCR-aware entries; only indexed entries are filled. */
  slots: Uint32Array;
  /** Per entry: maxEdits and transpositions (fuzzy verification). */
  maxEdits: Uint8Array;
  osa: Uint8Array;
  /** Exact entries (and fuzzy k = 0): [plain, OCR-aware] (the latter probed with OCR-mapped plates). */
  exact: [ExactTable | null, ExactTable | null];
  /**
   * Plain exact entries in order (for the per-entry binary search a task prefers when they are few next
   * to a shard's dictionary; OCR-aware ones cannot: mapping breaks the dictionary's order).
   */
  exactList: Int32Array;
  /** Fuzzy entries: [plain, OCR-aware]. */
  fuzzy: [FuzzyTable | null, FuzzyTable | null];
}

/** Entries the index serves (others, wildcards, the caller matches itself). */
export function indexedEntry(e: PlateMatch): boolean {
  return e.mode === 'exact' || e.mode === 'fuzzy';
}

/** A fuzzy entry answered by equality (k = 0: distance 0 is equality, with or without transpositions). */
function isExact(e: PlateMatch): boolean {
  return e.mode === 'exact' || (e.mode === 'fuzzy' && e.maxEdits === 0);
}

const kDigit: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 48; c <= 57; c++) t[c] = c - 47; // '0'–'9' → 1–10
  for (let c = 65; c <= 90; c++) t[c] = c - 54; // 'A'–'Z' → 11–36
  return t;
})();

/** 37^i, exact in doubles up to 37^10. */
export const kPow37: Float64Array = (() => {
  const t = new Float64Array(12);
  t[0] = 1;
  for (let i = 1; i < t.length; i++) t[i] = t[i - 1]! * 37;
  return t;
})();

/** Word hash of a 16-byte slot (4 u32 words) into `bits` bits. */
export function slotHash(w0: number, w1: number, w2: number, w3: number, bits: number): number {
  let h = Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1 ^ (w0 >>> 15), 0x85ebca77);
  h ^= Math.imul(w2 ^ (h >>> 13), 0xc2b2ae3d) ^ Math.imul(w3, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> (32 - bits);
}

/** Hash of a delete key given as its high and low 32-bit words. */
export function keyHash(hi: number, lo: number, bits: number): number {
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi ^ (lo >>> 16), 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> (32 - bits);
}

/** Table bits for `n` keys at a load of at most one half. */
function tableBits(n: number): number {
  let bits = 4;
  while (1 << bits < 2 * n) bits++;
  return bits;
}

function shared<T extends Int32Array | Uint32Array>(C: new (b: SharedArrayBuffer) => T, n: number): T {
  return new C(new SharedArrayBuffer(Math.max(1, n) * 4));
}

/**
 * Calls `visit(value)` with the base-37 value of `codes[0..len)` with up to `k` (≤ 2) positions deleted
 * (duplicates possible; deleting either of two equal neighbours is skipped as the same string). O(1) a
 * key from prefix and suffix values: key(del i) = P[i]·37^(len−1−i) + S[i+1].
 */
export function forEachDeleteValue(codes: Uint8Array, len: number, k: number, pre: Float64Array, suf: Float64Array, visit: (v: number) => void): void {
  pre[0] = 0;
  for (let j = 0; j < len; j++) pre[j + 1] = pre[j]! * 37 + kDigit[codes[j]!]!;
  suf[len] = 0;
  for (let j = len - 1; j >= 0; j--) suf[j] = kDigit[codes[j]!]! * kPow37[len - 1 - j]! + suf[j + 1]!;
  visit(pre[len]!);
  if (k < 1) return;
  for (let i = 0; i < len; i++) {
    if (i > 0 && codes[i] === codes[i - 1]) continue;
    visit(pre[i]! * kPow37[len - 1 - i]! + suf[i + 1]!);
  }
  if (k < 2) return;
  for (let i = 0; i < len; i++) {
    for (let j = i + 1; j < len; j++) {
      // codes without i and j: [0, i) [i+1, j) [j+1, len)
      const mid = pre[j]! - pre[i + 1]! * kPow37[j - i - 1]!;
      visit((pre[i]! * kPow37[j - i - 1]! + mid) * kPow37[len - 1 - j]! + suf[j + 1]!);
    }
  }
}

/** Splits a key value (< 2^53) into its 32-bit words. */
export function keyHi(v: number): number {
  return Math.floor(v / 4294967296) >>> 0;
}

/** `budget` is ticked per entry: a million fuzzy entries (k = 2, ~55 keys each) take seconds. */
export function buildHotlistIndex(entries: readonly PlateMatch[], budget?: QueryBudget): HotlistIndex {
  const n = entries.length;
  const slots = shared(Uint32Array, n * 4);
  const bytes = new Uint8Array(slots.buffer);
  const maxEdits = new Uint8Array(new SharedArrayBuffer(Math.max(1, n)));
  const osa = new Uint8Array(new SharedArrayBuffer(Math.max(1, n)));
  // each entry's group, worked out once: the tables below pass over the entries several times each
  const groupOf = new Uint8Array(n); // 0 = not indexed, else 1 + (fuzzy ? 2 : 0) + (ocr ? 1 : 0)
  for (let i = 0; i < n; i++) {
    budget?.tick();
    const e = entries[i]!;
    if (!indexedEntry(e)) continue;
    groupOf[i] = 1 + (isExact(e) ? 0 : 2) + (e.ocr ? 1 : 0);
    const p = e.ocr ? ocrMap(e.pattern) : e.pattern;
    for (let j = 0; j < p.length; j++) bytes[i * 16 + j] = p.charCodeAt(j);
    bytes[i * 16 + 15] = p.length;
    maxEdits[i] = e.mode === 'fuzzy' ? e.maxEdits : 0;
    osa[i] = e.mode === 'fuzzy' && e.transpositions ? 1 : 0;
  }
  const group = (exact: boolean, ocr: boolean) => {
    const code = 1 + (exact ? 0 : 2) + (ocr ? 1 : 0);
    return (i: number) => groupOf[i] === code;
  };
  const plainExact = group(true, false);
  const exactList = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, count(n, plainExact))));
  let listed = 0;
  for (let i = 0; i < n; i++) if (plainExact(i)) exactList[listed++] = i;
  return {
    count: n, slots, maxEdits, osa,
    exact: [exactTable(slots, n, plainExact), exactTable(slots, n, group(true, true))],
    exactList: exactList.subarray(0, listed),
    fuzzy: [fuzzyTable(bytes, maxEdits, n, group(false, false), budget), fuzzyTable(bytes, maxEdits, n, group(false, true), budget)],
  };
}

function count(n: number, member: (i: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (member(i)) c++;
  return c;
}

function exactTable(slots: Uint32Array, n: number, member: (i: number) => boolean): ExactTable | null {
  const m = count(n, member);
  if (m === 0) return null;
  const bits = tableBits(m);
  const head = shared(Int32Array, 1 << bits).fill(-1);
  const next = shared(Int32Array, n).fill(-1);
  const filter = shared(Uint32Array, 2 ** (bits + kFilterExtraBits) / 32);
  const tail = new Int32Array(1 << bits).fill(-1);
  for (let i = 0; i < n; i++) {
    if (!member(i)) continue;
    const w = i * 4;
    const f = slotHash(slots[w]!, slots[w + 1]!, slots[w + 2]!, slots[w + 3]!, bits + kFilterExtraBits);
    filter[f >>> 5]! |= 1 << (f & 31);
    let h = f >>> kFilterExtraBits;
    for (;;) {
      const f = head[h]!;
      if (f < 0) {
        head[h] = i;
        tail[h] = i;
        break;
      }
      const v = f * 4;
      if (slots[v] === slots[w] && slots[v + 1] === slots[w + 1] && slots[v + 2] === slots[w + 2] && slots[v + 3] === slots[w + 3]) {
        next[tail[h]!] = i; // same slot (OCR mapping can do that): chained in entry order
        tail[h] = i;
        break;
      }
      h = (h + 1) & ((1 << bits) - 1);
    }
  }
  return { bits, head, next, filter };
}

function fuzzyTable(bytes: Uint8Array, maxEdits: Uint8Array, n: number, member: (i: number) => boolean, budget?: QueryBudget): FuzzyTable | null {
  if (count(n, member) === 0) return null;
  const pre = new Float64Array(12), suf = new Float64Array(12);
  const codes = new Uint8Array(16);
  let k = 0, minLen = 99, maxLen = 0;
  // pass 1: every (key, entry) pair, keys made once (k ≤ 2: at most 1 + L + L(L-1)/2 keys an entry)
  let bound = 0;
  for (let i = 0; i < n; i++) {
    if (!member(i)) continue;
    const L = bytes[i * 16 + 15]!, ke = maxEdits[i]!;
    bound += 1 + (ke >= 1 ? L : 0) + (ke >= 2 ? (L * (L - 1)) / 2 : 0);
  }
  const pairKey = new Float64Array(bound), pairEntry = new Int32Array(bound);
  let pairs = 0, entry = 0;
  const add = (v: number) => {
    pairKey[pairs] = v;
    pairEntry[pairs++] = entry;
  };
  for (let i = 0; i < n; i++) {
    if (!member(i)) continue;
    budget?.tick();
    const len = bytes[i * 16 + 15]!;
    k = Math.max(k, maxEdits[i]!);
    minLen = Math.min(minLen, len);
    maxLen = Math.max(maxLen, len);
    for (let j = 0; j < len; j++) codes[j] = bytes[i * 16 + j]!;
    entry = i;
    forEachDeleteValue(codes, len, maxEdits[i]!, pre, suf, add);
  }
  // pass 2: distinct keys into the table (and the filter), each pair's slot noted, runs counted. The table
  // of a 100,000-entry k = 2 list is ~100 MB to allocate and fault in: the budget is checked before it.
  budget?.check();
  const bits = tableBits(pairs);
  const mask = (1 << bits) - 1;
  const table = shared(Uint32Array, 4 * 2 ** bits);
  const filter = shared(Uint32Array, Math.max(1, 2 ** (bits + kFilterExtraBits) / 32));
  const pairSlot = new Int32Array(pairs);
  for (let q = 0; q < pairs; q++) {
    budget?.tick();
    const v = pairKey[q]!;
    const vh = keyHi(v), vl = v >>> 0;
    const f = keyHash(vh, vl, bits + kFilterExtraBits);
    filter[f >>> 5]! |= 1 << (f & 31);
    let h = f >>> kFilterExtraBits;
    while (table[4 * h + 3] !== 0 && (table[4 * h] !== vh || table[4 * h + 1] !== vl)) h = (h + 1) & mask;
    table[4 * h] = vh;
    table[4 * h + 1] = vl;
    table[4 * h + 3]!++;
    pairSlot[q] = h;
  }
  // pass 3: runs in table order, filled with the entries (an entry may repeat under a key: the task dedupes)
  let at = 0;
  budget?.check();
  for (let h = 0; h <= mask; h++) {
    table[4 * h + 2] = at;
    at += table[4 * h + 3]!;
  }
  const fill = new Int32Array(1 << bits);
  const list = shared(Int32Array, pairs);
  for (let q = 0; q < pairs; q++) {
    const h = pairSlot[q]!;
    list[table[4 * h + 2]! + fill[h]!++] = pairEntry[q]!;
  }
  return { k, minLen, maxLen, bits, table, filter, entries: list };
}
