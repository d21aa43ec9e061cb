/**
 * u24 lanes: a segment's ts, lat and lon held as 24-bit unsigned offsets from a base per run of
 * kBaseRows rows (issue 11: resident bytes per read; docs/storage-v2.md "Round 4", step 5).
 *
 *   lane (u24)   3 B × rows + kU24Pad   value of row i = base(i >>> kBaseShift, field) + offset, offset < 2^24
 *   bases        kBaseBytes × runs      per run of kBaseRows rows, i32: [ts, lat, lon, 0]
 *                                       ts: min of the run's ts offsets from the segment's tsBase (so a ts is
 *                                       tsBase + base + offset); lat / lon: min of the run's values (1e-7°)
 *
 * Why it fits: shard rows are ordered by hour, then Z-order cell, so a run of 1024 rows spans minutes of a
 * tenant's day (2^24 ms = 4.66 h), and a metro's coordinates span < 1.67° (2^24 × 1e-7). A lane is narrowed
 * only when every run fits; otherwise that lane keeps its full width (nothing is approximated).
 * Runs of 1024 rows, not the zone maps' 8192: at 2M reads a small tenant's 8192 rows can span the whole
 * night; the bases cost 16 B per 1024 rows (0.016 B a read).
 *
 * The kernel (assembly/scan.ts) widens 4 offsets to an i32x4 with one v128 load and one i8x16.swizzle, and
 * compares them against the query's bounds made relative to the run's base once per run (clamped, so bounds
 * outside the run's range need no special case). Its last v128 load of a lane starts 12 bytes before the
 * 16-row group's end and reads 16: the lane is padded by kU24Pad bytes so it stays inside the lane.
 */

import type { SegmentLayout } from './segment.js';

/** Rows per base: a power of two dividing kBlockRows (src/core/segment.ts), so a run never straddles a block. */
export const kBaseRows = 1024;
export const kBaseShift = 10;
/** Bytes of one run's bases: i32 ts, lat, lon, and 4 of padding (16-aligned for the kernel's loads). */
export const kBaseBytes = 16;
/** Field index of each lane's base within a run's four i32. */
export const kBaseTs = 0;
export const kBaseLat = 1;
export const kBaseLon = 2;
/** Bytes after the last u24 value that reads may touch (v128 load of the last 16-row group: 4 past it). */
export const kU24Pad = 4;
/** Largest offset a u24 lane holds. */
export const kU24Max = 0xffffff;

/** Bytes a u24 lane of `rows` values occupies, padding included. */
export function u24LaneBytes(rows: number): number {
  return 3 * rows + kU24Pad;
}

/** Runs of kBaseRows rows in `rows` rows. */
export function baseRuns(rows: number): number {
  return Math.ceil(rows / kBaseRows);
}

/**
 * The minimum of each run of kBaseRows values, or undefined when some run spans more than kU24Max (the lane
 * then stays full width). Values are integers (i32 or u32 offsets).
 */
export function runMinimums(values: ArrayLike<number>, rows: number): Float64Array | undefined {
  const runs = baseRuns(rows);
  const mins = new Float64Array(runs);
  for (let b = 0; b < runs; b++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = b * kBaseRows, end = Math.min(rows, i + kBaseRows); i < end; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi - lo > kU24Max) return undefined;
    mins[b] = lo;
  }
  return mins;
}

/**
 * Writes `values` (i32 or u32) as u24 offsets from their run's minimum into `out` (3 B each, little-endian).
 * `out` may alias `values` at the same or a lower byte offset (narrowing in place): value i is read before
 * bytes 3i…3i+2 are written, and those lie below every value not yet read.
 */
export function writeU24(out: Uint8Array, values: ArrayLike<number>, rows: number, mins: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = values[i]! - mins[i >>> kBaseShift]!;
    const at = 3 * i;
    out[at] = o & 0xff;
    out[at + 1] = (o >>> 8) & 0xff;
    out[at + 2] = o >>> 16;
  }
}

/** Value of row i of a u24 lane: `add` + its run's base (`field` of `bases`) + its offset. */
export function u24Reader(buffer: ArrayBufferLike, ptr: number, rows: number, bases: number, field: number, add = 0): (i: number) => number {
  const b = new Uint8Array(buffer, ptr, 3 * rows);
  const base = new Int32Array(buffer, bases, baseRuns(rows) * (kBaseBytes / 4));
  return (i) => {
    const at = 3 * i;
    return add + base[((i >>> kBaseShift) << 2) + field]! + (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16));
  };
}

/**
 * A copy of `seg`'s layout whose ts (if u32), lat and lon lanes are u24 lanes where every run fits, written into
 * new regions from `alloc` (bytes → pointer; the old lanes stay). For builders of test and benchmark segments;
 * a loaded shard is narrowed in place (src/store/shard-u24.ts).
 */
export function withU24Lanes(memory: { readonly buffer: ArrayBufferLike }, seg: SegmentLayout, alloc: (bytes: number) => number): SegmentLayout {
  const n = seg.rows;
  if (n === 0) return seg;
  const runs = baseRuns(n);
  const out: SegmentLayout = { ...seg };
  // the old lanes are read before any region is allocated (an allocation may grow the memory: new buffer)
  const buf = memory.buffer;
  const lanes = [
    ['ts', seg.tsWidth === 4 ? Uint32Array.from(new Uint32Array(buf, seg.ts, n)) : undefined, kBaseTs],
    ['lat', Int32Array.from(new Int32Array(buf, seg.lat, n)), kBaseLat],
    ['lon', Int32Array.from(new Int32Array(buf, seg.lon, n)), kBaseLon],
  ] as const;
  const fits = lanes.map(([, values]) => values && runMinimums(values, n));
  if (!fits.some((m) => m)) return seg;
  const basesPtr = alloc(kBaseBytes * runs);
  const bases = new Int32Array(runs * 4);
  for (const [k, [name, values, field]] of lanes.entries()) {
    const mins = fits[k];
    if (!mins || !values) continue;
    const ptr = alloc(u24LaneBytes(n));
    writeU24(new Uint8Array(memory.buffer, ptr, 3 * n), values, n, mins);
    for (let r = 0; r < runs; r++) bases[4 * r + field] = mins[r]!;
    out[name] = ptr;
    if (name === 'ts') out.tsWidth = 3;
    else if (name === 'lat') out.latWidth = 3;
    else out.lonWidth = 3;
  }
  new Int32Array(memory.buffer, basesPtr, 4 * runs).set(bases);
  out.bases = basesPtr;
  return out;
}
