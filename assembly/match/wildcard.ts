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
//
// Before Shift-And, two necessary conditions in SIMD reject most plates: the tokens before the first
// star at their fixed positions (masked compare), and the "needle", the star-free piece with the most
// literals, somewhere in the plate:
//   for literal l at offset off_l:  E_l = (slot == splat(c_l)) shifted left by off_l bytes
//   candidate ⇔ any_true(E_0 & E_1 & …)          (a start position where every literal fits)
// For `*L*` and `P*` (flag kPqDecided) a candidate is a match: dictDecided runs the pre-filter alone,
// without a branch on the plate (a third of the plates pass `*1*`: the branch mispredicted often).
import {
  PQ_FLAGS, PQ_M, PQ_MIN_LEN, PQ_NEEDLE_COUNT, PQ_TEMP, PQ_OCR, PQ_PREFIX, PQ_PREFIX_MASK, PQ_SHIFT_AND, PQ_STAR_MASK, kPqDecided, kPqOcr, kSlotBytes,
} from '../abi';
import { ocrMapSlot } from '../util/slot';

export function dictWildcard(dict: usize, count: u32, pq: usize, out: usize): u32 {
  const prefix = v128.load(pq, PQ_PREFIX);
  const prefixMask = v128.load(pq, PQ_PREFIX_MASK);
  const ocr = (load<i32>(pq, PQ_FLAGS) & kPqOcr) != 0;
  // `*L*` and `P*`: the pre-filter is exact (src/core/plate-query.ts, prefilterDecides)
  if ((load<i32>(pq, PQ_FLAGS) & kPqDecided) != 0) return dictDecided(dict, count, pq, out);
  const o0 = v128.load(pq, PQ_OCR), o1 = v128.load(pq, PQ_OCR + 16), o2 = v128.load(pq, PQ_OCR + 32);
  const needles = load<i32>(pq, PQ_NEEDLE_COUNT);
  const needle = pq + PQ_TEMP;
  const minLen = load<u32>(pq, PQ_MIN_LEN);
  const star = load<u32>(pq, PQ_STAR_MASK);
  const accept: u32 = 1 << load<u32>(pq, PQ_M);
  const shiftAnd = pq + PQ_SHIFT_AND;
  // the first four needle literals and their shifts in locals: V8 does not hoist loads from linear memory
  // out of the loop, and reloading them for every plate cost about a third of a `*1234*` scan
  const n0 = v128.load(needle), s0 = v128.load(needle, 16);
  const n1 = v128.load(needle + 32), s1 = v128.load(needle + 32, 16);
  const n2 = v128.load(needle + 64), s2 = v128.load(needle + 64, 16);
  const n3 = v128.load(needle + 96), s3 = v128.load(needle + 96, 16);
  let matched: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const at = dict + (<usize>i) * kSlotBytes;
    let slot = v128.load(at);
    if (ocr) slot = ocrMapSlot(slot, o0, o1, o2);
    const len = <u32>load<u8>(at, 15);
    let d: u32 = 0;
    let candidate = len >= minLen && !v128.any_true(v128.xor(v128.and(slot, prefixMask), prefix));
    if (candidate && needles > 0) {
      let starts = i8x16.swizzle(i8x16.eq(slot, n0), s0);
      if (needles > 1) starts = v128.and(starts, i8x16.swizzle(i8x16.eq(slot, n1), s1));
      if (needles > 2) starts = v128.and(starts, i8x16.swizzle(i8x16.eq(slot, n2), s2));
      if (needles > 3) starts = v128.and(starts, i8x16.swizzle(i8x16.eq(slot, n3), s3));
      for (let l = 4; l < needles; l++) {
        const e = i8x16.eq(slot, v128.load(needle + (<usize>l << 5)));
        starts = v128.and(starts, i8x16.swizzle(e, v128.load(needle + (<usize>l << 5), 16)));
      }
      candidate = v128.any_true(starts);
    }
    if (candidate) {
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

/**
 * The pre-filter of dictWildcard as the whole test (`*L*`, `P*`), branch-free: every needle literal is
 * tested (the unused ones of the first four as all-true lanes), and the three conditions combine as bits.
 */
function dictDecided(dict: usize, count: u32, pq: usize, out: usize): u32 {
  const prefix = v128.load(pq, PQ_PREFIX);
  const prefixMask = v128.load(pq, PQ_PREFIX_MASK);
  const ocr = (load<i32>(pq, PQ_FLAGS) & kPqOcr) != 0;
  const o0 = v128.load(pq, PQ_OCR), o1 = v128.load(pq, PQ_OCR + 16), o2 = v128.load(pq, PQ_OCR + 32);
  const needles = load<i32>(pq, PQ_NEEDLE_COUNT);
  const needle = pq + PQ_TEMP;
  const minLen = load<u32>(pq, PQ_MIN_LEN);
  const ones = i8x16.splat(-1), none = i8x16.splat(0);
  // an unused needle's shifts are all 0 (the struct is zeroed): swizzle(ones, 0…) is all-true
  const n0 = v128.load(needle), s0 = v128.load(needle, 16), u0 = needles > 0 ? none : ones;
  const n1 = v128.load(needle + 32), s1 = v128.load(needle + 32, 16), u1 = needles > 1 ? none : ones;
  const n2 = v128.load(needle + 64), s2 = v128.load(needle + 64, 16), u2 = needles > 2 ? none : ones;
  const n3 = v128.load(needle + 96), s3 = v128.load(needle + 96, 16), u3 = needles > 3 ? none : ones;
  let matched: u32 = 0;
  if (needles <= 1 && !ocr) {
    // `P*`, `*c*`: one compare each (a lone literal sits at offset 0, so its shift is the identity)
    for (let i: u32 = 0; i < count; i++) {
      const at = dict + (<usize>i) * kSlotBytes;
      const slot = v128.load(at);
      const hit = <u32>(<u32>load<u8>(at, 15) >= minLen) & <u32>!v128.any_true(v128.xor(v128.and(slot, prefixMask), prefix)) & <u32>v128.any_true(v128.or(i8x16.eq(slot, n0), u0));
      store<u8>(out + i, <u8>(hit - 1));
      matched += hit;
    }
    return matched;
  }
  for (let i: u32 = 0; i < count; i++) {
    const at = dict + (<usize>i) * kSlotBytes;
    let slot = v128.load(at);
    if (ocr) slot = ocrMapSlot(slot, o0, o1, o2);
    let starts = v128.and(
      v128.and(i8x16.swizzle(v128.or(i8x16.eq(slot, n0), u0), s0), i8x16.swizzle(v128.or(i8x16.eq(slot, n1), u1), s1)),
      v128.and(i8x16.swizzle(v128.or(i8x16.eq(slot, n2), u2), s2), i8x16.swizzle(v128.or(i8x16.eq(slot, n3), u3), s3)),
    );
    for (let l = 4; l < needles; l++) {
      const e = i8x16.eq(slot, v128.load(needle + (<usize>l << 5)));
      starts = v128.and(starts, i8x16.swizzle(e, v128.load(needle + (<usize>l << 5), 16)));
    }
    const hit = <u32>(<u32>load<u8>(at, 15) >= minLen) & <u32>!v128.any_true(v128.xor(v128.and(slot, prefixMask), prefix)) & <u32>v128.any_true(starts);
    store<u8>(out + i, <u8>(hit - 1)); // 0 for a match, 255 (kNoMatch) otherwise
    matched += hit;
  }
  return matched;
}
