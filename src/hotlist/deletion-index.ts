/**
 * Symmetric-delete index (Wolf Garbe's SymSpell idea; Mor & Fraenkel 1982) for exact and fuzzy
 * hot-list entries. Every entry of length L is indexed under the hashes of all its variants with
 * 0 … k deletions (k = 0: the entry itself, so exact lists are the degenerate case). A plate is probed
 * with its own 0 … k-deletion variants. If two strings are within k edits (Levenshtein, or OSA: a
 * substitution or an adjacent swap costs one deletion on each side, an insertion or deletion one on one
 * side), some pair of their variants is equal, so every true match becomes a candidate; each candidate
 * is then verified with the exact bounded distance, which also discards hash collisions.
 *
 *   entries:  "7ABC12"                 plate: "7ABD12"
 *   k = 1 →   7ABC12 ABC12 7BC12 …     k = 1 → 7ABD12 ABD12 … 7AB12 …
 *             7AB12 …                          └─ shared variant "7AB12" → candidate → distance 1 ✓
 *
 * Keys per entry: 1 (exact), L + 1 (k = 1), 1 + L + L(L−1)/2 (k = 2; 29 for L = 7).
 */
import { PostingTable } from './posting-table.js';
import { DeletionVariants, hashSkipping, variantCount } from './plate-bytes.js';
import { boundedDistance } from './edit-distance.js';

/** Bytes per entry slot: plates and non-wildcard patterns are ≤ 10 characters. */
export const kSlot = 10;

export class DeletionIndex {
  private readonly table: PostingTable;
  private readonly range = new Uint32Array(1);
  /** Candidate de-duplication: an entry reached through several variants is verified once per probe. */
  private readonly stamp: Uint32Array;
  private mark = 0;
  /** Reused by probeBatch: variant hashes of a batch and the plate each came from. */
  private scratchHash = new Uint32Array(0);
  private scratchOwner = new Uint32Array(0);
  private readonly variants = new DeletionVariants();

  /**
   * @param chars entry bytes (already OCR-mapped if the list is), entry i at `i * kSlot`
   * @param lens  entry lengths
   * @param k     maximum edits, 0–2
   * @param osa   count adjacent transpositions as one edit
   */
  constructor(
    private readonly chars: Uint8Array,
    private readonly lens: Uint8Array,
    readonly k: number,
    private readonly osa: boolean,
  ) {
    const n = lens.length;
    this.stamp = new Uint32Array(n);
    let pairs = 0;
    for (let i = 0; i < n; i++) pairs += variantCount(lens[i]!, k);
    const hashes = new Uint32Array(pairs);
    const ids = new Uint32Array(pairs);
    let q = 0;
    for (let i = 0; i < n; i++) {
      const off = i * kSlot, len = lens[i]!;
      hashes[q] = hashSkipping(chars, off, len, -1, -1);
      ids[q++] = i;
      if (k < 1) continue;
      for (let a = 0; a < len; a++) {
        hashes[q] = hashSkipping(chars, off, len, a, -1);
        ids[q++] = i;
      }
      if (k < 2) continue;
      for (let a = 0; a < len; a++) {
        for (let b = a + 1; b < len; b++) {
          hashes[q] = hashSkipping(chars, off, len, a, b);
          ids[q++] = i;
        }
      }
    }
    this.table = PostingTable.build(hashes, ids);
  }

  get entries(): number {
    return this.lens.length;
  }

  get bytes(): number {
    return this.table.bytes + this.chars.byteLength + this.lens.byteLength;
  }

  /**
   * A batch of plates (plate i at `plates[i * kSlot]`, length `lens[i]`): calls `onMatch(i, entry, distance)`
   * once per (plate, entry within k edits), in plate order. In three passes: all variant hashes, then the
   * presence filter over all of them, then table lookups and verification for the few survivors. Inside
   * the server the tables are cache-cold (ingest parsing evicts them), and independent filter loads in
   * one tight loop overlap their misses where one-plate-at-a-time probing pays them in sequence.
   */
  probeBatch(plates: Uint8Array, lens: Uint8Array, n: number, onMatch: (plate: number, entry: number, distance: number) => void): void {
    const k = this.k;
    let total = 0;
    for (let i = 0; i < n; i++) total += variantCount(lens[i]!, k);
    if (this.scratchHash.length < total) {
      this.scratchHash = new Uint32Array(total * 2);
      this.scratchOwner = new Uint32Array(total * 2);
    }
    const hashes = this.scratchHash, owner = this.scratchOwner;
    let q = 0;
    const v = this.variants;
    for (let i = 0; i < n; i++) {
      const off = i * kSlot, len = lens[i]!;
      v.load(plates, off, len);
      hashes[q] = v.whole();
      owner[q++] = i;
      if (k < 1) continue;
      for (let a = 0; a < len; a++) {
        if (a > 0 && plates[off + a] === plates[off + a - 1]) continue; // same variant as deleting a - 1
        hashes[q] = v.without(a);
        owner[q++] = i;
      }
      if (k < 2) continue;
      for (let a = 0; a < len; a++) {
        for (let b = a + 1; b < len; b++) {
          hashes[q] = v.without2(a, b);
          owner[q++] = i;
        }
      }
    }
    // pass 2: compact the survivors of the filter in place (kept in plate order)
    let m = 0;
    for (let j = 0; j < q; j++) {
      if (this.table.mayContain(hashes[j]!)) {
        hashes[m] = hashes[j]!;
        owner[m++] = owner[j]!;
      }
    }
    // pass 3: look up and verify; a new plate starts a new de-duplication mark
    const out = this.range;
    const ids = this.table.ids;
    let current = -1, mark = 0;
    for (let j = 0; j < m; j++) {
      const i = owner[j]!;
      if (i !== current) {
        current = i;
        if (++this.mark === 0xffffffff) {
          this.stamp.fill(0);
          this.mark = 1;
        }
        mark = this.mark;
      }
      const count = this.table.find(hashes[j]!, out);
      if (count === 0) continue;
      const off = i * kSlot, len = lens[i]!;
      for (let c = 0; c < count; c++) {
        const e = count === 1 ? out[0]! : ids[out[0]! + c]!;
        if (this.stamp[e] === mark) continue;
        this.stamp[e] = mark;
        const d = k === 0
          ? (equalBytesAt(this.chars, e * kSlot, this.lens[e]!, plates, off, len) ? 0 : 1)
          : boundedDistance(this.chars, e * kSlot, this.lens[e]!, plates, off, len, k, this.osa);
        if (d <= k) onMatch(i, e, d);
      }
    }
  }

  /** Calls `onMatch(entry, distance)` once per entry within k edits of `plate[0 … len)`. Not reentrant. */
  probe(plate: Uint8Array, len: number, onMatch: (entry: number, distance: number) => void): void {
    const k = this.k;
    if (++this.mark === 0xffffffff) {
      this.stamp.fill(0);
      this.mark = 1;
    }
    const stamp = this.stamp, mark = this.mark;
    this.probeVariant(plate, len, -1, -1, stamp, mark, onMatch);
    if (k < 1) return;
    for (let i = 0; i < len; i++) {
      if (i > 0 && plate[i] === plate[i - 1]) continue; // deleting either of a run gives the same variant
      this.probeVariant(plate, len, i, -1, stamp, mark, onMatch);
    }
    if (k < 2) return;
    for (let i = 0; i < len; i++) {
      for (let j = i + 1; j < len; j++) this.probeVariant(plate, len, i, j, stamp, mark, onMatch);
    }
  }

  private probeVariant(
    plate: Uint8Array, len: number, s1: number, s2: number,
    stamp: Uint32Array, mark: number, onMatch: (entry: number, distance: number) => void,
  ): void {
    const out = this.range;
    const count = this.table.find(hashSkipping(plate, 0, len, s1, s2), out);
    if (count === 0) return;
    if (count === 1) {
      this.verify(out[0]!, plate, len, stamp, mark, onMatch);
      return;
    }
    const ids = this.table.ids;
    for (let p = out[0]!, end = p + count; p < end; p++) this.verify(ids[p]!, plate, len, stamp, mark, onMatch);
  }

  private verify(e: number, plate: Uint8Array, len: number, stamp: Uint32Array, mark: number, onMatch: (entry: number, distance: number) => void): void {
    if (stamp[e] === mark) return;
    stamp[e] = mark;
    const d = this.k === 0
      ? (equalBytes(this.chars, e * kSlot, this.lens[e]!, plate, len) ? 0 : 1)
      : boundedDistance(this.chars, e * kSlot, this.lens[e]!, plate, 0, len, this.k, this.osa);
    if (d <= this.k) onMatch(e, d);
  }
}

function equalBytesAt(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

function equalBytes(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}
