/**
 * A shard's confidence lane (src/store/shard-format.ts): u16 confidence × 10,000 (width 2, when every
 * value is exactly k / 10,000; 0xffff = none) or f64 (width 8, NaN = none). Read here by the shard view
 * and by the hot-list tasks that gather their kept rows' fields in a worker (src/query/hotlist-task.ts),
 * so both decode a value to the same double.
 */

export const kConfidenceScale = 10_000;
export const kNoConfidence = 0xffff;

/** Row i's confidence (undefined = none) from the lane at `ptr` of `buffer`. */
export function confidenceLane(buffer: ArrayBufferLike, ptr: number, width: 2 | 8, rows: number): (i: number) => number | undefined {
  if (width === 2) {
    const c = new Uint16Array(buffer, ptr, rows);
    return (i) => (c[i] === kNoConfidence ? undefined : c[i]! / kConfidenceScale);
  }
  const c = new Float64Array(buffer, ptr, rows);
  return (i) => (Number.isNaN(c[i]!) ? undefined : c[i]!);
}
