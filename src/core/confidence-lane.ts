/**
 * A shard's confidence lane (src/store/shard-format.ts): u16 confidence × 10,000 (width 2, when every
 * value is exactly k / 10,000; 0xffff = none) or f64 (width 8, NaN = none); in memory, a u16 lane may be held
 * as codes into the shard's own table of the values it holds, at the exact bits that table needs (width 0,
 * src/store/shard-confidence.ts):
 *
 *   width 0   codes    bits × rows, packed (src/core/packed-lanes.ts)    row i's u16 value = values[code(i)]
 *             values   u16 × count, ascending (the lane `confidenceValues`)
 *
 * Read here by the shard view and by the hot-list tasks that gather their kept rows' fields in a worker
 * (src/query/hotlist-task.ts), so both decode a value to the same double. No kernel reads it: confidence is
 * read only to materialise hits (no filter names it).
 */
import { packedReader } from './packed-lanes.js';

export const kConfidenceScale = 10_000;
export const kNoConfidence = 0xffff;

/** Where a confidence lane lies in arena (or file) memory and how it is held: what a reader needs of it. */
export type ConfidenceLaneAt =
  | { ptr: number; width: 2 | 8 }
  | { ptr: number; width: 0; bits: number; values: number; count: number };

/** Row i's confidence (undefined = none) from the lane `at` of `buffer`, a lane of `rows` values. */
export function confidenceLane(buffer: ArrayBufferLike, at: ConfidenceLaneAt, rows: number): (i: number) => number | undefined {
  if (at.width === 0) {
    const code = packedReader(buffer, at.ptr, rows, at.bits);
    const values = new Uint16Array(buffer, at.values, at.count);
    return (i) => {
      const v = values[code(i)]!;
      return v === kNoConfidence ? undefined : v / kConfidenceScale;
    };
  }
  if (at.width === 2) {
    const c = new Uint16Array(buffer, at.ptr, rows);
    return (i) => (c[i] === kNoConfidence ? undefined : c[i]! / kConfidenceScale);
  }
  const c = new Float64Array(buffer, at.ptr, rows);
  return (i) => (Number.isNaN(c[i]!) ? undefined : c[i]!);
}
