/**
 * Index of wildcard hot-list entries (partial plates from a BOLO: `7AB*`, `?XY12?`), so that a read is
 * checked against the few patterns that can match it rather than all of them.
 *
 * Each pattern is compiled once: runs of `*` collapse to one (same language), and its longest literal
 * run (its "factor") is chosen: any plate the pattern matches contains that factor somewhere. Patterns
 * are indexed under the hash of their factor. A plate of length L is probed with each of its substrings
 * whose length some factor has (≤ 55 substrings for L = 10); candidates are verified with likeMatch.
 * Patterns without any literal (`*`, `??????`) go to a short list checked against every plate; after
 * de-duplication there can only be a few hundred of them.
 *
 *   pattern "7AB?1*"   factor "7AB"        plate "7ABX12": substrings of length 3 → "7AB" → verify ✓
 */
import { PostingTable } from './posting-table.js';
import { hashSkipping } from './plate-bytes.js';
import { kQuestion, kStar, likeMatch } from './like.js';

export class WildcardIndex {
  private readonly table: PostingTable;
  private readonly range = new Uint32Array(1);
  /** Bit f set: some factor has length f. */
  private readonly factorLengths: number;
  /** Patterns with no literal character, checked for every plate. */
  private readonly literalFree: Uint32Array;
  private readonly stamp: Uint32Array;
  private mark = 0;

  /**
   * @param pool    compiled pattern bytes (already OCR-mapped if the list is; `*` runs collapsed)
   * @param offsets pattern i is `pool[offsets[i] … offsets[i + 1])`
   */
  constructor(private readonly pool: Uint8Array, private readonly offsets: Uint32Array) {
    const n = offsets.length - 1;
    this.stamp = new Uint32Array(n);
    const factorStart = new Int32Array(n);
    const factorLen = new Uint8Array(n);
    const free: number[] = [];
    let lengths = 0;
    for (let i = 0; i < n; i++) {
      const from = offsets[i]!, to = offsets[i + 1]!;
      let best = 0, bestStart = -1, runStart = from;
      for (let p = from; p <= to; p++) {
        const c = p < to ? pool[p]! : kStar;
        if (c === kStar || c === kQuestion) {
          if (p - runStart > best) {
            best = p - runStart;
            bestStart = runStart;
          }
          runStart = p + 1;
        }
      }
      factorStart[i] = bestStart;
      factorLen[i] = best;
      if (best === 0) free.push(i);
      else lengths |= 1 << best;
    }
    this.factorLengths = lengths;
    this.literalFree = Uint32Array.from(free);
    const hashes = new Uint32Array(n - free.length);
    const ids = new Uint32Array(n - free.length);
    for (let i = 0, q = 0; i < n; i++) {
      if (factorLen[i]! === 0) continue;
      hashes[q] = hashSkipping(pool, factorStart[i]!, factorLen[i]!, -1, -1);
      ids[q++] = i;
    }
    this.table = PostingTable.build(hashes, ids);
  }

  get entries(): number {
    return this.offsets.length - 1;
  }

  get bytes(): number {
    return this.table.bytes + this.pool.byteLength + this.offsets.byteLength;
  }

  /** Calls `onMatch(entry)` once per pattern that matches `plate[0 … len)`. Not reentrant. */
  probe(plate: Uint8Array, len: number, onMatch: (entry: number) => void): void {
    if (++this.mark === 0xffffffff) {
      this.stamp.fill(0);
      this.mark = 1;
    }
    const stamp = this.stamp, mark = this.mark, ids = this.table.ids;
    for (let f = 1; f <= len; f++) {
      if ((this.factorLengths & (1 << f)) === 0) continue;
      for (let s = 0; s + f <= len; s++) {
        const count = this.table.find(hashSkipping(plate, s, f, -1, -1), this.range);
        if (count === 0) continue;
        const single = count === 1;
        for (let q = 0; q < count; q++) {
          const e = single ? this.range[0]! : ids[this.range[0]! + q]!;
          if (stamp[e] === mark) continue;
          stamp[e] = mark;
          if (this.matches(e, plate, len)) onMatch(e);
        }
      }
    }
    for (let q = 0; q < this.literalFree.length; q++) {
      const e = this.literalFree[q]!;
      if (this.matches(e, plate, len)) onMatch(e);
    }
  }

  private matches(e: number, plate: Uint8Array, len: number): boolean {
    const from = this.offsets[e]!;
    return likeMatch(this.pool, from, this.offsets[e + 1]! - from, plate, 0, len);
  }
}

/** Compiles one normalised pattern into `pool` at `off` (OCR-mapped by the caller); collapses `*` runs. Returns the new end. */
export function compilePattern(mapped: Uint8Array, len: number, pool: Uint8Array, off: number): number {
  let o = off;
  for (let i = 0; i < len; i++) {
    const c = mapped[i]!;
    if (c === kStar && o > off && pool[o - 1] === kStar) continue;
    pool[o++] = c;
  }
  return o;
}
