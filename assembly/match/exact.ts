// Exact match, and wildcard patterns made only of characters and `?`, over the plate dictionary:
// one masked v128 compare per 16-byte slot.
//
//   slot     7 A B C 1 2 3 0 0 0 0 0 0 0 0 7
//   mask     F F F 0 F F F F F F F F F F F F     ('?' at position 3 clears its byte; byte 15 = length)
//   pattern  7 A B 0 1 2 3 0 0 0 0 0 0 0 0 7
//   match ⇔ (slot & mask) == pattern ⇔ !any_true((slot & mask) ^ pattern)
//
// Both length and padding are compared, so "ABC" never matches "ABC1". With OCR classes both sides are
// mapped first (the pattern once in TypeScript, each slot by three swizzles).
import { PQ_FLAGS, PQ_MASK, PQ_OCR, PQ_PATTERN, kPqOcr, kSlotBytes } from '../abi';
import { ocrMapSlot } from '../util/slot';

/** Writes 0 (match) or 255 per dictionary entry to out[]; returns the number of matches. */
export function dictMasked(dict: usize, count: u32, pq: usize, out: usize): u32 {
  const pattern = v128.load(pq, PQ_PATTERN);
  const mask = v128.load(pq, PQ_MASK);
  const ocr = (load<i32>(pq, PQ_FLAGS) & kPqOcr) != 0;
  let matched: u32 = 0;
  if (ocr) {
    const o0 = v128.load(pq, PQ_OCR), o1 = v128.load(pq, PQ_OCR + 16), o2 = v128.load(pq, PQ_OCR + 32);
    for (let i: u32 = 0; i < count; i++) {
      const slot = ocrMapSlot(v128.load(dict + (<usize>i) * kSlotBytes), o0, o1, o2);
      const miss = v128.any_true(v128.xor(v128.and(slot, mask), pattern));
      store<u8>(out + i, miss ? 255 : 0);
      matched += u32(!miss);
    }
  } else {
    for (let i: u32 = 0; i < count; i++) {
      const slot = v128.load(dict + (<usize>i) * kSlotBytes);
      const miss = v128.any_true(v128.xor(v128.and(slot, mask), pattern));
      store<u8>(out + i, miss ? 255 : 0);
      matched += u32(!miss);
    }
  }
  return matched;
}
