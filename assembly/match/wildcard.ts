// Wildcard patterns with `*` (anchored SQL LIKE: `?` one character, `*` zero or more), over the plate
// dictionary: a SIMD pre-filter on the fixed-position prefix, then Shift-And (Baeza-Yates & Gonnet,
// "A new approach to text searching", CACM 1992) with stars as self-loops (Wu & Manber, "Fast text
// searching allowing errors", CACM 1992, §wildcards).
//
//   pattern  7 A * 1 ? *          tokens t0..t3 = 7 A 1 ?, star before t2 and after t3
//   states   0 ─7→ 1 ─A→ 2 ─1→ 3 ─?→ 4           state i = "first i tokens matched"
//                          ↺any        ↺any       starMask = bit 2 | bit 4
//   D ← ((D << 1) & B[c]) | (D & starMask)        B[c] bit i+1 set when t_i accepts c
//   accept ⇔ bit m of D after the last character
//
// B is built in TypeScript with the OCR classes folded in, so OCR costs nothing here.
import {
  PQ_FLAGS, PQ_M, PQ_MIN_LEN, PQ_OCR, PQ_PREFIX, PQ_PREFIX_MASK, PQ_SHIFT_AND, PQ_STAR_MASK, kPqOcr, kSlotBytes,
} from '../abi';
import { ocrMapSlot } from '../util/slot';

export function dictWildcard(dict: usize, count: u32, pq: usize, out: usize): u32 {
  const prefix = v128.load(pq, PQ_PREFIX);
  const prefixMask = v128.load(pq, PQ_PREFIX_MASK);
  const ocr = (load<i32>(pq, PQ_FLAGS) & kPqOcr) != 0;
  const table = pq + PQ_OCR;
  const minLen = load<u32>(pq, PQ_MIN_LEN);
  const star = load<u32>(pq, PQ_STAR_MASK);
  const accept: u32 = 1 << load<u32>(pq, PQ_M);
  const shiftAnd = pq + PQ_SHIFT_AND;
  let matched: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const at = dict + (<usize>i) * kSlotBytes;
    let slot = v128.load(at);
    if (ocr) slot = ocrMapSlot(slot, table);
    const len = <u32>load<u8>(at, 15);
    let d: u32 = 0;
    if (len >= minLen && !v128.any_true(v128.xor(v128.and(slot, prefixMask), prefix))) {
      d = 1;
      for (let j: u32 = 0; j < len && d != 0; j++) {
        const c = <usize>load<u8>(at + j);
        d = ((d << 1) & <u32>load<u16>(shiftAnd + (c << 1))) | (d & star);
      }
    }
    const hit = (d & accept) != 0;
    store<u8>(out + i, hit ? 0 : 255);
    matched += u32(hit);
  }
  return matched;
}
