// Fuzzy match over the plate dictionary: Levenshtein or optimal-string-alignment distance ≤ k of every
// distinct plate to one pattern, bit-parallel across the pattern (Myers, "A fast bit-vector algorithm
// for approximate string matching based on dynamic programming", JACM 1999, in the edit-distance form
// of Hyyrö, "Explaining and extending the bit-parallel approximate string matching algorithm of Myers",
// 2001) and data-parallel across 16 plates per v128.
//
// Roles: the PATTERN is the bit-vector side (row i = pattern[0..i], bit i of every vector), the PLATE
// is the text, consumed one character per step. The DP column for plate prefix j is kept as vertical
// deltas VP/VN (+1/−1 between rows i−1 and i); the bottom cell D[m][j] is tracked in `score`:
//
//            ""  p0  p1 … (plate, one step per character)
//      ""     0   1   2            D[0][j] = j  → horizontal delta +1 enters at bit 0 ("| 1")
//      P0     1   .   .
//      …      …                    D[m][0] = m  → score starts at m
//      P(m-1) m   .   .  ← score   bit m−1 of HP/HN says whether D[m][j] rose or fell
//
// One step (Hyyrö 2001, fig. 5; D0 = diagonal-zero vector):
//   D0 = (((Eq & VP) + VP) ^ VP) | Eq | VN   [| TR for OSA]
//   HP = VN | ~(D0 | VP);   HN = VP & D0;    score += HP[m−1] − HN[m−1]
//   X  = (HP << 1) | 1;     VN = X & D0;     VP = (HN << 1) | ~(X | D0)
// OSA (Hyyrö, "A bit-vector algorithm for computing Levenshtein and Damerau edit distances", Nordic J.
// Computing 2003): TR = ((~D0_prev & Eq) << 1) & Eq_prev, a transposition of the previous and the
// current character.
//
// Eq = Peq[plate char]: bit i set when pattern[i] ≡ char (OCR classes folded in by TypeScript), looked
// up for 16 plates at once with i8x16.swizzle. That needs the dictionary's 16-byte slots (one plate per
// v128) turned into byte planes (character j of 16 plates per v128): a 16×16 byte transpose, four
// rounds of lo/hi interleaves (perfect shuffle), 59 shuffles for the 11 planes needed (0–9, 15 = length).
//
//   slots r0..r15                     planes p0..p9, p15
//   ┌ 7 A B C 1 2 3 · · · … 7 ┐       ┌ 7 X 3 … ┐ p0: first character of plates 0..15
//   │ X Y Z 9 8 · · · · · … 5 │  ──►  │ A Y E … │ p1
//   └ …                       ┘       └ 7 5 6 … ┘ p15: lengths
//
// Lanes: 8-bit (16 plates per vector) when the pattern has ≤ 8 characters (shifts by one are adds);
// 16-bit (two vectors of 8 plates) for 9–10. Plates shorter than the step count stop scoring via an
// "active" mask; plates outside [m−k, m+k] are rejected by length.
import { PQ_M, PQ_MAX_EDITS, PQ_MAX_LEN, PQ_MIN_LEN, PQ_FLAGS, PQ_PEQ_HI, PQ_PEQ_LO, PQ_TEMP, kPqTranspositions, kSlotBytes } from '../abi';
import { lookup48, storePartial } from '../util/slot';

/** Writes the distance (≤ k) or 255 per dictionary entry to out[]; returns the number of matches. */
export function dictFuzzy(dict: usize, count: u32, pq: usize, out: usize): u32 {
  const osa = (load<i32>(pq, PQ_FLAGS) & kPqTranspositions) != 0;
  if (load<i32>(pq, PQ_M) <= 8) return osa ? fuzzy8(dict, count, pq, out, true) : fuzzy8(dict, count, pq, out, false);
  return osa ? fuzzy16(dict, count, pq, out, true) : fuzzy16(dict, count, pq, out, false);
}

/** Loads 16 slots from `at` and stores Eq planes (lookup48 of planes 0..9 through t0..t2, and u0..u2 if
 * `wide`) to `tmp`; returns the length plane. Lanes past `rem` read as empty slots. */
// @ts-ignore: decorator
@inline function loadPlanes(at: usize, rem: u32, tmp: usize, t0: v128, t1: v128, t2: v128, u0: v128, u1: v128, u2: v128, wide: bool): v128 {
  let r0 = i8x16.splat(0), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0, r6 = r0, r7 = r0;
  let r8 = r0, r9 = r0, r10 = r0, r11 = r0, r12 = r0, r13 = r0, r14 = r0, r15 = r0;
  if (rem >= 16) {
    r0 = v128.load(at, 0); r1 = v128.load(at, 16); r2 = v128.load(at, 32); r3 = v128.load(at, 48);
    r4 = v128.load(at, 64); r5 = v128.load(at, 80); r6 = v128.load(at, 96); r7 = v128.load(at, 112);
    r8 = v128.load(at, 128); r9 = v128.load(at, 144); r10 = v128.load(at, 160); r11 = v128.load(at, 176);
    r12 = v128.load(at, 192); r13 = v128.load(at, 208); r14 = v128.load(at, 224); r15 = v128.load(at, 240);
  } else {
    if (rem > 0) r0 = v128.load(at, 0);
    if (rem > 1) r1 = v128.load(at, 16);
    if (rem > 2) r2 = v128.load(at, 32);
    if (rem > 3) r3 = v128.load(at, 48);
    if (rem > 4) r4 = v128.load(at, 64);
    if (rem > 5) r5 = v128.load(at, 80);
    if (rem > 6) r6 = v128.load(at, 96);
    if (rem > 7) r7 = v128.load(at, 112);
    if (rem > 8) r8 = v128.load(at, 128);
    if (rem > 9) r9 = v128.load(at, 144);
    if (rem > 10) r10 = v128.load(at, 160);
    if (rem > 11) r11 = v128.load(at, 176);
    if (rem > 12) r12 = v128.load(at, 192);
    if (rem > 13) r13 = v128.load(at, 208);
    if (rem > 14) r14 = v128.load(at, 224);
  }
    const a0 = i8x16.shuffle(r0, r8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a1 = i8x16.shuffle(r0, r8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a2 = i8x16.shuffle(r1, r9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a3 = i8x16.shuffle(r1, r9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a4 = i8x16.shuffle(r2, r10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a5 = i8x16.shuffle(r2, r10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a6 = i8x16.shuffle(r3, r11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a7 = i8x16.shuffle(r3, r11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a8 = i8x16.shuffle(r4, r12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a9 = i8x16.shuffle(r4, r12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a10 = i8x16.shuffle(r5, r13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a11 = i8x16.shuffle(r5, r13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a12 = i8x16.shuffle(r6, r14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a13 = i8x16.shuffle(r6, r14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const a14 = i8x16.shuffle(r7, r15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const a15 = i8x16.shuffle(r7, r15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b0 = i8x16.shuffle(a0, a8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b1 = i8x16.shuffle(a0, a8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b2 = i8x16.shuffle(a1, a9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b3 = i8x16.shuffle(a1, a9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b4 = i8x16.shuffle(a2, a10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b5 = i8x16.shuffle(a2, a10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b6 = i8x16.shuffle(a3, a11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b7 = i8x16.shuffle(a3, a11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b8 = i8x16.shuffle(a4, a12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b9 = i8x16.shuffle(a4, a12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b10 = i8x16.shuffle(a5, a13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b11 = i8x16.shuffle(a5, a13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b12 = i8x16.shuffle(a6, a14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b13 = i8x16.shuffle(a6, a14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const b14 = i8x16.shuffle(a7, a15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const b15 = i8x16.shuffle(a7, a15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c0 = i8x16.shuffle(b0, b8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c1 = i8x16.shuffle(b0, b8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c2 = i8x16.shuffle(b1, b9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c3 = i8x16.shuffle(b1, b9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c4 = i8x16.shuffle(b2, b10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c5 = i8x16.shuffle(b2, b10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c6 = i8x16.shuffle(b3, b11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c7 = i8x16.shuffle(b3, b11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c8 = i8x16.shuffle(b4, b12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c9 = i8x16.shuffle(b4, b12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c10 = i8x16.shuffle(b5, b13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c11 = i8x16.shuffle(b5, b13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c12 = i8x16.shuffle(b6, b14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c13 = i8x16.shuffle(b6, b14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const c14 = i8x16.shuffle(b7, b15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const c15 = i8x16.shuffle(b7, b15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const p0 = i8x16.shuffle(c0, c8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const p1 = i8x16.shuffle(c0, c8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const p2 = i8x16.shuffle(c1, c9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const p3 = i8x16.shuffle(c1, c9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const p4 = i8x16.shuffle(c2, c10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const p5 = i8x16.shuffle(c2, c10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const p6 = i8x16.shuffle(c3, c11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const p7 = i8x16.shuffle(c3, c11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const p8 = i8x16.shuffle(c4, c12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const p9 = i8x16.shuffle(c4, c12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const p15 = i8x16.shuffle(c7, c15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    if (wide) {
      // 16-bit lanes: Eq of plates 0..7 then 8..15, low and high bytes interleaved.
      storeEq16(tmp, 0, p0, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 1, p1, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 2, p2, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 3, p3, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 4, p4, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 5, p5, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 6, p6, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 7, p7, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 8, p8, t0, t1, t2, u0, u1, u2);
      storeEq16(tmp, 9, p9, t0, t1, t2, u0, u1, u2);
    } else {
      v128.store(tmp, lookup48(p0, t0, t1, t2), 0);
      v128.store(tmp, lookup48(p1, t0, t1, t2), 16);
      v128.store(tmp, lookup48(p2, t0, t1, t2), 32);
      v128.store(tmp, lookup48(p3, t0, t1, t2), 48);
      v128.store(tmp, lookup48(p4, t0, t1, t2), 64);
      v128.store(tmp, lookup48(p5, t0, t1, t2), 80);
      v128.store(tmp, lookup48(p6, t0, t1, t2), 96);
      v128.store(tmp, lookup48(p7, t0, t1, t2), 112);
      v128.store(tmp, lookup48(p8, t0, t1, t2), 128);
      v128.store(tmp, lookup48(p9, t0, t1, t2), 144);
    }
    return p15;
}

// @ts-ignore: decorator
@inline function storeEq16(tmp: usize, j: usize, plane: v128, t0: v128, t1: v128, t2: v128, u0: v128, u1: v128, u2: v128): void {
  const lo = lookup48(plane, t0, t1, t2);
  const hi = lookup48(plane, u0, u1, u2);
  v128.store(tmp + j * 32, i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
  v128.store(tmp + j * 32, i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), 16);
}

/** Steps a group needs: its longest plate, but no more than maxLen (longer plates cannot match). */
// @ts-ignore: decorator
@inline function groupSteps(lens: v128, maxLen: i32): i32 {
  let v = i8x16.max_u(lens, i8x16.shuffle(lens, lens, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  v = i8x16.max_u(v, i8x16.shuffle(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
  v = i8x16.max_u(v, i8x16.shuffle(v, v, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1));
  v = i8x16.max_u(v, i8x16.shuffle(v, v, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
  return min(<i32>i8x16.extract_lane_u(v, 0), maxLen);
}

// @ts-ignore: decorator
@inline function finish(out: usize, rem: u32, score: v128, lens: v128, k: i32, minLen: i32, maxLen: i32): u32 {
  const ok = v128.and(
    i8x16.le_u(score, i8x16.splat(<i8>k)),
    v128.and(i8x16.ge_u(lens, i8x16.splat(<i8>minLen)), i8x16.le_u(lens, i8x16.splat(<i8>maxLen))),
  );
  const result = v128.bitselect(score, i8x16.splat(-1), ok);
  let bits = i8x16.bitmask(ok);
  if (rem >= 16) {
    v128.store(out, result);
  } else {
    storePartial(out, result, rem);
    bits &= (1 << rem) - 1;
  }
  return <u32>popcnt(bits);
}

// @ts-ignore: decorator
@inline function fuzzy8(dict: usize, count: u32, pq: usize, out: usize, osa: bool): u32 {
  const m = load<i32>(pq, PQ_M);
  const k = load<i32>(pq, PQ_MAX_EDITS);
  const minLen = load<i32>(pq, PQ_MIN_LEN);
  const maxLen = load<i32>(pq, PQ_MAX_LEN);
  const t0 = v128.load(pq, PQ_PEQ_LO), t1 = v128.load(pq, PQ_PEQ_LO + 16), t2 = v128.load(pq, PQ_PEQ_LO + 32);
  const tmp = pq + PQ_TEMP;
  const highBit: i32 = 1 << (m - 1);
  const high = i8x16.splat(<i8>highBit);
  const one = i8x16.splat(1);
  const ones = i8x16.splat(-1);
  const zero = i8x16.splat(0);
  let matched: u32 = 0;
  for (let i: u32 = 0; i < count; i += 16) {
    const rem = count - i;
    const lens = loadPlanes(dict + (<usize>i) * kSlotBytes, rem, tmp, t0, t1, t2, zero, zero, zero, false);
    let vp = ones, vn = zero, d0 = zero, eqPrev = zero;
    let score = i8x16.splat(<i8>m);
    const steps = groupSteps(lens, maxLen);
    for (let j = 0; j < steps; j++) {
      const eq = v128.load(tmp + (<usize>j << 4));
      let x = v128.or(v128.or(v128.xor(i8x16.add(v128.and(eq, vp), vp), vp), eq), vn);
      if (osa) {
        const tr = v128.andnot(eq, d0);
        x = v128.or(x, v128.and(i8x16.add(tr, tr), eqPrev));
        eqPrev = eq;
      }
      d0 = x;
      const hp = v128.or(vn, v128.not(v128.or(d0, vp)));
      const hn = v128.and(vp, d0);
      const active = i8x16.gt_u(lens, i8x16.splat(<i8>j));
      // eq(..) is −1 where the bit is set: subtracting it adds one.
      score = i8x16.sub(score, v128.and(i8x16.eq(v128.and(hp, high), high), active));
      score = i8x16.add(score, v128.and(i8x16.eq(v128.and(hn, high), high), active));
      const xh = v128.or(i8x16.add(hp, hp), one);
      vn = v128.and(xh, d0);
      vp = v128.or(i8x16.add(hn, hn), v128.not(v128.or(xh, d0)));
    }
    matched += finish(out + i, rem, score, lens, k, minLen, maxLen);
  }
  return matched;
}

// @ts-ignore: decorator
@inline function fuzzy16(dict: usize, count: u32, pq: usize, out: usize, osa: bool): u32 {
  const m = load<i32>(pq, PQ_M);
  const k = load<i32>(pq, PQ_MAX_EDITS);
  const minLen = load<i32>(pq, PQ_MIN_LEN);
  const maxLen = load<i32>(pq, PQ_MAX_LEN);
  const t0 = v128.load(pq, PQ_PEQ_LO), t1 = v128.load(pq, PQ_PEQ_LO + 16), t2 = v128.load(pq, PQ_PEQ_LO + 32);
  const u0 = v128.load(pq, PQ_PEQ_HI), u1 = v128.load(pq, PQ_PEQ_HI + 16), u2 = v128.load(pq, PQ_PEQ_HI + 32);
  const tmp = pq + PQ_TEMP;
  const highBit: i32 = 1 << (m - 1);
  const high = i16x8.splat(<i16>highBit);
  const one = i16x8.splat(1);
  const ones = i16x8.splat(-1);
  const zero = i16x8.splat(0);
  let matched: u32 = 0;
  for (let i: u32 = 0; i < count; i += 16) {
    const rem = count - i;
    const lens = loadPlanes(dict + (<usize>i) * kSlotBytes, rem, tmp, t0, t1, t2, u0, u1, u2, true);
    const lensA = i16x8.extend_low_i8x16_u(lens), lensB = i16x8.extend_high_i8x16_u(lens);
    let vpA = ones, vnA = zero, d0A = zero, eqPrevA = zero;
    let vpB = ones, vnB = zero, d0B = zero, eqPrevB = zero;
    let scoreA = i16x8.splat(<i16>m), scoreB = scoreA;
    const steps = groupSteps(lens, maxLen);
    for (let j = 0; j < steps; j++) {
      const jj = i16x8.splat(<i16>j);
      {
        const eq = v128.load(tmp + (<usize>j << 5));
        let x = v128.or(v128.or(v128.xor(i16x8.add(v128.and(eq, vpA), vpA), vpA), eq), vnA);
        if (osa) {
          const tr = v128.andnot(eq, d0A);
          x = v128.or(x, v128.and(i16x8.add(tr, tr), eqPrevA));
          eqPrevA = eq;
        }
        d0A = x;
        const hp = v128.or(vnA, v128.not(v128.or(d0A, vpA)));
        const hn = v128.and(vpA, d0A);
        const active = i16x8.gt_u(lensA, jj);
        scoreA = i16x8.sub(scoreA, v128.and(i16x8.eq(v128.and(hp, high), high), active));
        scoreA = i16x8.add(scoreA, v128.and(i16x8.eq(v128.and(hn, high), high), active));
        const xh = v128.or(i16x8.add(hp, hp), one);
        vnA = v128.and(xh, d0A);
        vpA = v128.or(i16x8.add(hn, hn), v128.not(v128.or(xh, d0A)));
      }
      {
        const eq = v128.load(tmp + (<usize>j << 5), 16);
        let x = v128.or(v128.or(v128.xor(i16x8.add(v128.and(eq, vpB), vpB), vpB), eq), vnB);
        if (osa) {
          const tr = v128.andnot(eq, d0B);
          x = v128.or(x, v128.and(i16x8.add(tr, tr), eqPrevB));
          eqPrevB = eq;
        }
        d0B = x;
        const hp = v128.or(vnB, v128.not(v128.or(d0B, vpB)));
        const hn = v128.and(vpB, d0B);
        const active = i16x8.gt_u(lensB, jj);
        scoreB = i16x8.sub(scoreB, v128.and(i16x8.eq(v128.and(hp, high), high), active));
        scoreB = i16x8.add(scoreB, v128.and(i16x8.eq(v128.and(hn, high), high), active));
        const xh = v128.or(i16x8.add(hp, hp), one);
        vnB = v128.and(xh, d0B);
        vpB = v128.or(i16x8.add(hn, hn), v128.not(v128.or(xh, d0B)));
      }
    }
    matched += finish(out + i, rem, i8x16.narrow_i16x8_u(scoreA, scoreB), lens, k, minLen, maxLen);
  }
  return matched;
}
