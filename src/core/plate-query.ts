/**
 * Compiles a PlateMatch into the plate-query struct the dictionary kernels read (layout in abi.ts).
 * All pattern analysis happens here, once per query; the kernels only run the inner loops.
 */
import { kMaxPlateLength, ocrByteTable } from '../model/plate.js';
import type { PlateMatch } from '../model/query.js';
import {
  kPlateQueryBytes, kPqDecided, kPqOcr, kPqTranspositions, PQ_FLAGS, PQ_M, PQ_MASK, PQ_MAX_EDITS, PQ_MAX_LEN, PQ_MIN_LEN,
  PQ_OCR, PQ_PATTERN, PQ_PEQ_HI, PQ_PEQ_LO, PQ_PREFIX, PQ_PREFIX_MASK, PQ_NEEDLE_COUNT, PQ_SHIFT_AND, PQ_STAR_MASK, PQ_TEMP,
} from './abi.js';

/** Which kernel a compiled plate match runs. */
export type PlateKernel = 'masked' | 'wildcard' | 'fuzzy';

/** The encoded struct plus what the caller needs to dispatch. */
export interface EncodedPlateMatch {
  kernel: PlateKernel;
  bytes: Uint8Array;
}

const kOcr = ocrByteTable();
const kQuestion = 63; // '?'
const kStar = 42; // '*'
/** Kernels index per-character tables by (char − 48): '0' is 48, 'Z' is 90, so three 16-byte tables cover them. */
const kCharBase = 48;

function mapChar(c: number, ocr: boolean): number {
  return ocr && c < 128 ? kOcr[c]! : c;
}

/** Encodes `match` (pattern already normalised) into the plate-query struct (kPlateQueryBytes). */
export function encodePlateMatch(match: PlateMatch): EncodedPlateMatch {
  const bytes = new Uint8Array(kPlateQueryBytes);
  const view = new DataView(bytes.buffer);
  const ocr = match.ocr;
  const pattern = match.pattern;
  const codes = Array.from(pattern, (ch) => ch.charCodeAt(0));
  view.setInt32(PQ_FLAGS, (ocr ? kPqOcr : 0) | (match.transpositions ? kPqTranspositions : 0), true);
  view.setInt32(PQ_MAX_EDITS, match.mode === 'fuzzy' ? match.maxEdits : 0, true);
  for (let c = kCharBase; c < kCharBase + 48; c++) bytes[PQ_OCR + c - kCharBase] = mapChar(c, true);

  if (match.mode === 'fuzzy') {
    const m = codes.length;
    if (m < 1 || m > kMaxPlateLength) throw new RangeError(`fuzzy pattern must have 1-${kMaxPlateLength} characters`);
    const k = match.maxEdits;
    view.setInt32(PQ_M, m, true);
    view.setInt32(PQ_MIN_LEN, Math.max(1, m - k), true);
    view.setInt32(PQ_MAX_LEN, Math.min(kMaxPlateLength, m + k), true);
    // Myers Peq over the raw plate alphabet, OCR folded in: bit i set when pattern[i] ≡ c.
    for (let c = kCharBase; c < kCharBase + 48; c++) {
      let peq = 0;
      for (let i = 0; i < m; i++) if (mapChar(codes[i]!, ocr) === mapChar(c, ocr)) peq |= 1 << i;
      bytes[PQ_PEQ_LO + c - kCharBase] = peq & 0xff;
      bytes[PQ_PEQ_HI + c - kCharBase] = peq >>> 8;
    }
    return { kernel: 'fuzzy', bytes };
  }

  if (match.mode === 'exact' || !codes.includes(kStar)) {
    // Masked compare: one v128 per dictionary slot.
    const wildcard = match.mode === 'wildcard';
    if (codes.length < 1 || codes.length > kMaxPlateLength) throw new RangeError('pattern length out of range');
    for (let i = 0; i < 16; i++) bytes[PQ_MASK + i] = 0xff;
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (wildcard && c === kQuestion) bytes[PQ_MASK + i] = 0;
      else bytes[PQ_PATTERN + i] = mapChar(c, ocr);
    }
    bytes[PQ_PATTERN + 15] = codes.length;
    return { kernel: 'masked', bytes };
  }

  // Wildcard with `*`: Shift-And over the tokens (Baeza-Yates & Gonnet 1992), a star being a
  // self-loop on the state before the next token (Wu & Manber 1992, "agrep" wildcards).
  const tokens: number[] = [];
  let starMask = 0;
  for (const c of codes) {
    if (c === kStar) starMask |= 1 << tokens.length;
    else tokens.push(c);
  }
  const m = tokens.length;
  if (m > kMaxPlateLength) throw new RangeError('pattern has too many characters');
  view.setInt32(PQ_M, m, true);
  view.setInt32(PQ_STAR_MASK, starMask, true);
  view.setInt32(PQ_MIN_LEN, Math.max(1, m), true);
  view.setInt32(PQ_MAX_LEN, kMaxPlateLength, true);
  for (let c = 0; c < 256; c++) {
    let b = 0;
    for (let i = 0; i < m; i++) {
      const t = tokens[i]!;
      if (t === kQuestion || mapChar(t, ocr) === mapChar(c, ocr)) b |= 1 << (i + 1);
    }
    view.setUint16(PQ_SHIFT_AND + 2 * c, b, true);
  }
  // Pre-filter: the tokens before the first star sit at fixed positions.
  for (let i = 0; i < m && (starMask & ((2 << i) - 1)) === 0; i++) {
    const t = tokens[i]!;
    if (t === kQuestion) continue;
    bytes[PQ_PREFIX + i] = mapChar(t, ocr);
    bytes[PQ_PREFIX_MASK + i] = 0xff;
  }
  // Needle: the star-free piece with the most literals must occur somewhere in the plate. Per literal
  // at offset `off` in the piece, the kernel compares the slot with splat(char) and shifts the result
  // left by `off` (swizzle indices off…off+15, ≥ 16 read 0): the AND over literals marks the start
  // positions where the whole piece fits, a necessary condition checked before Shift-And.
  let best: Array<{ ch: number; off: number }> = [];
  for (const piece of pattern.split('*')) {
    const literals = Array.from(piece, (ch, off) => ({ ch: ch.charCodeAt(0), off })).filter((l) => l.ch !== kQuestion);
    if (literals.length > best.length) best = literals;
  }
  view.setInt32(PQ_NEEDLE_COUNT, best.length, true);
  best.forEach(({ ch, off }, l) => {
    for (let i = 0; i < 16; i++) {
      bytes[PQ_TEMP + 32 * l + i] = mapChar(ch, ocr);
      bytes[PQ_TEMP + 32 * l + 16 + i] = off + i;
    }
  });
  const decides = prefilterDecides(tokens, starMask);
  if (decides) view.setInt32(PQ_FLAGS, view.getInt32(PQ_FLAGS, true) | kPqDecided, true);
  // `P*`: the prefix compare decides alone, the needle (P's literals again) would only repeat it
  if (decides === 'prefix') view.setInt32(PQ_NEEDLE_COUNT, 0, true);
  return { kernel: 'wildcard', bytes };
}

/**
 * Whether the wildcard kernel's SIMD pre-filter is the whole answer, so Shift-And can be skipped (it
 * was most of a `*1*` pass: a third of the plates are candidates and each walks its characters):
 *   `*L*` (L literal, no `?`; also a lone `*`): the needle is all of L, and a start position where every
 *     character of L fits is an occurrence of L (padding and the length byte never equal a plate
 *     character, OCR-mapped or not);
 *   `P*` (P without `*`, `?` allowed): every token sits at a fixed position, the prefix compare checks
 *     its literals and the minimum length (= P's length) that each `?` has a character.
 * Stars are bits of `starMask` by the number of tokens before them (bit m: after the last token).
 */
function prefilterDecides(tokens: readonly number[], starMask: number): 'contains' | 'prefix' | undefined {
  const m = tokens.length;
  if (starMask === (1 | (1 << m))) return tokens.includes(kQuestion) ? undefined : 'contains';
  return m > 0 && starMask === 1 << m ? 'prefix' : undefined;
}
