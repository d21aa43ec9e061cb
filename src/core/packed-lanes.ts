/**
 * Bit-packed code lanes: a loaded shard's plate lane (shard dictionary codes) and its plate → rows lane (postings:
 * row indexes) held at the exact width their largest value needs, e.g. 18 bits a value in a shard of at most
 * 262,144 rows, instead of u24 (issue 11: resident bytes per read; docs/storage-v2.md "Round 4", step 5f).
 *
 *   value j   bits j·w … j·w + w − 1 of the lane, little-endian (bit k is bit k & 7 of byte k >>> 3)
 *
 *   byte      0         1         2         3         4
 *   w = 18    v0[0..7]  v0[8..15] v0 16,17 | v1 0..5  v1[6..13] v1 14..17 | v2 0..3 …
 *
 *   lane      ceil(rows · w / 8) bytes + kPackedPad
 *
 * A value is one unaligned u32 load at byte (j·w) >>> 3, shifted right by (j·w) & 7 and masked to w bits: the
 * shift is at most 7 and w at most kPackedMaxBits (24), so the value lies inside those 32 bits. The kernel's plate
 * scan reads four codes with one v128 load instead (assembly/scan.ts, scanPlateBits); the lane is padded by
 * kPackedPad bytes so every load stays inside it (the padding's bits are masked or swizzled away, whatever they hold).
 *
 * Why exact bits and not bytes: at bench:peers' density a tenant-day shard holds 130k–390k rows and as many codes
 * below 2^19 (17–19 bits), so u24 wastes 5–7 bits a value on each of the two lanes: −1.6 B/read at 238k rows a
 * shard (bench/RESULTS.md). Neither lane is scanned with SIMD compares: the plate lane is read per row as an
 * address into a distance table (a gather), the postings per hit, so a shift and a mask per value is all it costs.
 */

/**
 * Bytes after a lane's last value that reads may touch: a u32 load of the last value reads 3 past its first byte, and
 * the scan kernel's v128 loads of the last group of 8 codes (assembly/scan.ts, scanPlateBits) up to 15.
 */
export const kPackedPad = 16;
/** The widest packed value: a u32 load at a byte holds bits (j·w & 7) … (j·w & 7) + w − 1 only up to 32 − 7 = 25. */
export const kPackedMaxBits = 24;

/** Bits that hold every value 0 … max (at least 1). */
export function bitsFor(max: number): number {
  return max <= 0 ? 1 : 32 - Math.clz32(max);
}

/** Bytes a packed lane of `rows` values of `bits` bits occupies, padding included. */
export function packedLaneBytes(rows: number, bits: number): number {
  return Math.ceil((rows * bits) / 8) + kPackedPad;
}

/**
 * Writes `values` (each < 2^bits) packed at `bits` bits into `out` (little-endian, see above); the last byte's unused
 * high bits are zero and the padding is not written. `out` may alias `values` at the same or a lower byte offset
 * (packing in place): the bytes written once value j is read end below byte ⌈(j + 1)·w / 8⌉ ≤ 3j + 3 < 4(j + 1),
 * where value j + 1 starts.
 */
export function writePacked(out: Uint8Array, values: ArrayLike<number>, rows: number, bits: number): void {
  // whole u32 words first (one store per 32 bits, not a store and a branch per byte: ~4× less CPU at load), then the
  // last < 4 bytes one by one. In place, word k (bytes 4k … 4k + 3) is stored once value j completes it, j > k
  // (32 (k + 1) ≤ (j + 1) · w < 32 (j + 1)): below value j + 1, the next read.
  const words = (out.byteOffset & 3) === 0 ? Math.floor((rows * bits) / 32) : 0; // words the values fill whole
  const word = words > 0 ? new Uint32Array(out.buffer, out.byteOffset, words) : new Uint32Array(0);
  let acc = 0; // pending bits, the oldest lowest: fewer than 32 in the word loop, fewer than 8 + bits after it
  let have = 0;
  let j = 0;
  for (let k = 0; k < words; j++) {
    const v = values[j]!;
    acc |= v << have; // bits past 32 are dropped here and carried below
    have += bits;
    if (have >= 32) {
      word[k++] = acc;
      have -= 32;
      acc = v >>> (bits - have); // bits ≤ 24: the shift is < 32, and 0 when nothing is carried (v < 2^bits)
    }
  }
  let at = 4 * words;
  for (; have >= 8; have -= 8, acc >>>= 8) out[at++] = acc & 0xff;
  acc >>>= 0;
  for (; j < rows; j++) {
    acc = (acc | (values[j]! << have)) >>> 0;
    have += bits;
    while (have >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      have -= 8;
    }
  }
  if (have > 0) out[at] = acc & 0xff;
}

/** Value j of a packed lane: one unaligned u32 load through a DataView (the lane's padding covers the last). */
export function packedReader(buffer: ArrayBufferLike, ptr: number, rows: number, bits: number): (j: number) => number {
  const v = new DataView(buffer, ptr, packedLaneBytes(rows, bits));
  const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  return (j) => {
    const bit = j * bits;
    return (v.getUint32(bit >>> 3, true) >>> (bit & 7)) & mask;
  };
}
