// Helpers over 16-byte plate-dictionary slots (src/core/segment.ts):
//
//   byte  0 1 2 3 4 5 6 7 8 9 10 … 14 15
//         7 A B C 1 2 3 0 0 0  0 …  0  7      characters A–Z0–9, zero padded, length in byte 15
//
// Per-character tables are indexed by (char − 48): '0' = 48 … 'Z' = 90 fit in three 16-byte tables,
// looked up with i8x16.swizzle, which yields 0 for indices ≥ 16 (so padding, the length byte and the
// wrapped-around indices of the other two tables all read 0).

/** Byte 15 (the length) set, all others clear. */
// @ts-ignore: decorator
@inline export function lengthLaneMask(): v128 {
  return i8x16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1);
}

/** Looks every byte of `chars` up in the 48-entry table t0|t1|t2 indexed by (char − 48); other bytes → 0. */
// @ts-ignore: decorator
@inline export function lookup48(chars: v128, t0: v128, t1: v128, t2: v128): v128 {
  const idx = i8x16.sub(chars, i8x16.splat(48));
  return v128.or(
    v128.or(i8x16.swizzle(t0, idx), i8x16.swizzle(t1, i8x16.sub(idx, i8x16.splat(16)))),
    i8x16.swizzle(t2, i8x16.sub(idx, i8x16.splat(32))),
  );
}

/**
 * Maps a slot's characters through the OCR classes (tables o0..o2, loaded once per kernel call: V8
 * does not hoist loads from linear memory out of loops), keeping the length byte.
 */
// @ts-ignore: decorator
@inline export function ocrMapSlot(slot: v128, o0: v128, o1: v128, o2: v128): v128 {
  return v128.bitselect(slot, lookup48(slot, o0, o1, o2), lengthLaneMask());
}

/** Writes the first `n` (< 16) bytes of `v` to `out`. */
// @ts-ignore: decorator
@inline export function storePartial(out: usize, v: v128, n: u32): void {
  for (let t: u32 = 0; t < n; t++) {
    store<u8>(out + t, i8x16.extract_lane_u(v, 0));
    v = i8x16.shuffle(v, v, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0);
  }
}
