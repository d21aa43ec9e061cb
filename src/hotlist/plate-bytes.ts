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

/**
 * FNV-1a over `buf[off … off+len)` leaving out positions `skip1` and `skip2` (relative; -1 = none), then
 * the murmur3 finaliser so that the low bits (the table's slot index) are well mixed. Deletion variants
 * are hashed in place this way, never built as strings.
 */
export function hashSkipping(buf: Uint8Array, off: number, len: number, skip1: number, skip2: number): number {
  let h = 0x811c9dc5;
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (i === skip1 || i === skip2) continue;
    h = Math.imul(h ^ buf[off + i]!, 0x01000193);
    n++;
  }
  h ^= n;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Number of deletion variants with 0 … k deletions of a length-`len` string: Σ C(len, d). */
export function variantCount(len: number, k: number): number {
  let total = 1;
  if (k >= 1) total += len;
  if (k >= 2) total += (len * (len - 1)) / 2;
  return total;
}
