/**
 * Plates and patterns as bytes for the matcher: ASCII codes, optionally mapped through the OCR
 * confusion classes (src/model/plate.ts), and the 32-bit hash the matcher's tables are keyed by.
 */
import { ocrByteTable } from '../model/plate.js';

const kOcr = ocrByteTable();

/** Writes `s` into `out` at `off` (mapped through the OCR classes when `ocr`); returns the length. */
export function writePlateBytes(s: string, ocr: boolean, out: Uint8Array, off: number): number {
  const n = s.length;
  if (ocr) for (let i = 0; i < n; i++) out[off + i] = kOcr[s.charCodeAt(i) & 127]!;
  else for (let i = 0; i < n; i++) out[off + i] = s.charCodeAt(i);
  return n;
}

/** Odd, so it is invertible mod 2^32; the polynomial hash's base. */
export const kHashBase = 0x01000193;

/**
 * The matcher's key hash: the polynomial Σ c_p · B^(m−1−p) mod 2^32 over `buf[off … off+len)` leaving out
 * positions `skip1` and `skip2` (relative; -1 = none), then the length and the murmur3 finaliser so that the
 * low bits (the table's slot index) are well mixed. Polynomial so that all deletion variants of a plate
 * can also be computed from prefix and suffix sums in O(1) each (DeletionVariants), with the same result.
 */
export function hashSkipping(buf: Uint8Array, off: number, len: number, skip1: number, skip2: number): number {
  let h = 0;
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (i === skip1 || i === skip2) continue;
    h = (Math.imul(h, kHashBase) + buf[off + i]!) | 0;
    n++;
  }
  return finishHash(h, n);
}

export function finishHash(sum: number, n: number): number {
  let h = sum ^ n;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Hashes of a plate's deletion variants in O(1) each after O(L) set-up, equal to hashSkipping's:
 *   P[i] = sum of s[0..i)            S[i] = sum of s[i..n) (exponents as in the whole string)
 *   delete i:     P[i]·B^(n−1−i) + S[i+1]
 *   delete i < j: P[i]·B^(n−2−i) + (P[j] − P[i+1]·B^(j−i−1))·B^(n−1−j) + S[j+1]
 */
export class DeletionVariants {
  private readonly prefix = new Int32Array(12);
  private readonly suffix = new Int32Array(12);
  private readonly pow = new Int32Array(12);
  private n = 0;

  constructor() {
    this.pow[0] = 1;
    for (let i = 1; i < 12; i++) this.pow[i] = Math.imul(this.pow[i - 1]!, kHashBase);
  }

  /** Prepares for `buf[off … off+len)`, len ≤ 10. */
  load(buf: Uint8Array, off: number, len: number): void {
    this.n = len;
    const P = this.prefix, S = this.suffix, pow = this.pow;
    P[0] = 0;
    for (let i = 0; i < len; i++) P[i + 1] = (Math.imul(P[i]!, kHashBase) + buf[off + i]!) | 0;
    S[len] = 0;
    for (let i = len - 1; i >= 0; i--) S[i] = (S[i + 1]! + Math.imul(buf[off + i]!, pow[len - 1 - i]!)) | 0;
  }

  whole(): number {
    return finishHash(this.prefix[this.n]!, this.n);
  }

  without(i: number): number {
    const n = this.n;
    return finishHash((Math.imul(this.prefix[i]!, this.pow[n - 1 - i]!) + this.suffix[i + 1]!) | 0, n - 1);
  }

  without2(i: number, j: number): number {
    const n = this.n, P = this.prefix, pow = this.pow;
    const middle = (P[j]! - Math.imul(P[i + 1]!, pow[j - i - 1]!)) | 0;
    const sum = (Math.imul(P[i]!, pow[n - 2 - i]!) + Math.imul(middle, pow[n - 1 - j]!) + this.suffix[j + 1]!) | 0;
    return finishHash(sum, n - 2);
  }
}

/** Number of deletion variants with 0 … k deletions of a length-`len` string: Σ C(len, d). */
export function variantCount(len: number, k: number): number {
  let total = 1;
  if (k >= 1) total += len;
  if (k >= 2) total += (len * (len - 1)) / 2;
  return total;
}
