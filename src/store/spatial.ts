/**
 * The order of rows inside a shard: time bucket first, then a Z-order (Morton) cell of the position, so
 * that a block of kBlockRows rows covers a short time span AND a small area, and zone maps prune well
 * for both "this hour" and "this street corner" queries.
 */

/** One time bucket: an hour, so a day shard has 24 runs, each in place order. */
export const kTimeBucketMs = 3_600_000;

/** Interleaves the low 16 bits of x and y (x in even bits): a 32-bit Morton code. */
function morton16(x: number, y: number): number {
  let a = x & 0xffff;
  let b = y & 0xffff;
  a = (a | (a << 8)) & 0x00ff00ff;
  a = (a | (a << 4)) & 0x0f0f0f0f;
  a = (a | (a << 2)) & 0x33333333;
  a = (a | (a << 1)) & 0x55555555;
  b = (b | (b << 8)) & 0x00ff00ff;
  b = (b | (b << 4)) & 0x0f0f0f0f;
  b = (b | (b << 2)) & 0x33333333;
  b = (b | (b << 1)) & 0x55555555;
  return (a | (b << 1)) >>> 0;
}

/** Morton cell of a position in fixed-point degrees: 16 bits per axis, ~300 m cells on the globe. */
export function cellOf(latE7: number, lonE7: number): number {
  const y = Math.floor(((latE7 + 900_000_000) / 1_800_000_001) * 65536);
  const x = Math.floor(((lonE7 + 1_800_000_000) / 3_600_000_001) * 65536);
  return morton16(x, y);
}
