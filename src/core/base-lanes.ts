/**
 * u24 lanes: a segment's ts, lat and lon held as 24-bit unsigned offsets from a base per run of
 * kBaseRows rows (issue 11: resident bytes per read; docs/storage-v2.md "Round 4", step 5).
 *
 *   lane (u24)   3 B × rows + kU24Pad   value of row i = base(i >>> kBaseShift, field) + offset, offset < 2^24
 *   bases        kBaseBytes × runs      per run of kBaseRows rows, i32: [ts, lat, lon, 0, tsMax, latMax, lonMax, 0]
 *                                       ts: min of the run's ts offsets from the segment's tsBase (so a ts is
 *                                       tsBase + base + offset); lat / lon: min of the run's values (1e-7°);
 *                                       then the maxima likewise (the run's extents: a zone map per run)
 *
 * Why it fits: shard rows are ordered by hour, then Z-order cell, so a run of 1024 rows spans minutes of a
 * tenant's day (2^24 ms = 4.66 h), and a metro's coordinates span < 1.67° (2^24 × 1e-7). A lane is narrowed
 * only when every run fits; otherwise that lane keeps its full width (nothing is approximated).
 * Runs of 1024 rows, not the zone maps' 8192: at 2M reads a small tenant's 8192 rows can span the whole
 * night; the bases cost 32 B per 1024 rows (0.03 B a read).
 *
 * Why the maxima: the kernel skips a run none of whose rows can meet the filter's window or box. With the minima
 * alone it could only tell "past base + 2^24" (4.66 h, 1.67°: almost never), so every row of a zone-map block
 * went through the u24 loop, which costs a swizzle per 4 values more than i32 lanes: a multi-site over sealed
 * shards became ~10% slower with u24 lanes (docs/storage-v2.md, "Live vs sealed, round 5"). With each run's
 * extents a 1-hour, 500 m site scans ~1/3 of the rows its zone-map blocks hold. The ts extents are written
 * whenever the ts lane is u32 or u24 (offsets from tsBase), the lat / lon ones always, narrowed or not.
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
/** Bytes of one run's bases: i32 ts, lat, lon minima, 4 of padding, then the maxima likewise (16-aligned). */
export const kBaseBytes = 32;
/** Field index of each lane's base (its run minimum) within a run's eight i32. */
export const kBaseTs = 0;
export const kBaseLat = 1;
export const kBaseLon = 2;
/** Added to a lane's field index: its run maximum. */
export const kBaseMax = 4;
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

/** The minimum and maximum of each run of kBaseRows values (integers: i32 or u32 offsets). */
export interface RunExtents {
  min: Float64Array;
  max: Float64Array;
}

export function runExtents(values: ArrayLike<number>, rows: number): RunExtents {
  const runs = baseRuns(rows);
  const min = new Float64Array(runs), max = new Float64Array(runs);
  for (let b = 0; b < runs; b++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = b * kBaseRows, end = Math.min(rows, i + kBaseRows); i < end; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min[b] = lo;
    max[b] = hi;
  }
  return { min, max };
}

/** Whether every run spans at most kU24Max (the lane can be narrowed; otherwise it stays full width). */
export function fitsU24(e: RunExtents): boolean {
  for (let b = 0; b < e.min.length; b++) if (e.max[b]! - e.min[b]! > kU24Max) return false;
  return true;
}

/** The per-run bases of a segment (kBaseBytes a run, as i32): each lane's extents, zero for a lane without. */
export function writeBases(out: Int32Array, runs: number, lanes: { ts?: RunExtents | undefined; lat: RunExtents; lon: RunExtents }): void {
  const fields: Array<[RunExtents | undefined, number]> = [[lanes.ts, kBaseTs], [lanes.lat, kBaseLat], [lanes.lon, kBaseLon]];
  for (let r = 0; r < runs; r++) {
    const o = r * (kBaseBytes / 4);
    out.fill(0, o, o + kBaseBytes / 4);
    for (const [e, field] of fields) {
      if (!e) continue;
      out[o + field] = e.min[r]!;
      out[o + kBaseMax + field] = e.max[r]!;
    }
  }
}

/**
 * Writes `values` (i32 or u32) as u24 offsets from their run's minimum into `out` (3 B each, little-endian).
 * `out` may alias `values` at the same or a lower byte offset (narrowing in place): value i is read before
 * bytes 3i…3i+2 are written, and those lie below every value not yet read.
 */
export function writeU24(out: Uint8Array, values: ArrayLike<number>, rows: number, mins: Float64Array): void {
  // four values a time as three u32 words (bytes 12q … 12q + 11, below values 4q … 4q + 3 just read: in place is
  // safe), a run's base read once: ~3× less CPU at load than three byte stores a value; the last < 4 values byte by byte
  const quads = (out.byteOffset & 3) === 0 ? rows >>> 2 : 0;
  const word = quads > 0 ? new Uint32Array(out.buffer, out.byteOffset, 3 * quads) : new Uint32Array(0);
  for (let i = 0, w = 0; i < 4 * quads; ) {
    const m = mins[i >>> kBaseShift]!;
    for (const end = Math.min(4 * quads, (i | (kBaseRows - 1)) + 1); i < end; i += 4, w += 3) {
      const a = values[i]! - m, b = values[i + 1]! - m, c = values[i + 2]! - m, d = values[i + 3]! - m;
      word[w] = a | (b << 24);
      word[w + 1] = (b >>> 8) | (c << 16);
      word[w + 2] = (c >>> 16) | (d << 8);
    }
  }
  for (let i = 4 * quads; i < rows; i++) {
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
    return add + base[((i >>> kBaseShift) << 3) + field]! + (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16));
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
    ['ts', seg.tsWidth === 4 ? Uint32Array.from(new Uint32Array(buf, seg.ts, n)) : undefined],
    ['lat', Int32Array.from(new Int32Array(buf, seg.lat, n))],
    ['lon', Int32Array.from(new Int32Array(buf, seg.lon, n))],
  ] as const;
  const extents = lanes.map(([, values]) => values && runExtents(values, n));
  const fits = extents.map((e) => e !== undefined && fitsU24(e));
  if (!fits.some((f) => f)) return seg;
  const basesPtr = alloc(kBaseBytes * runs);
  for (const [k, [name, values]] of lanes.entries()) {
    if (!fits[k] || !values) continue;
    const ptr = alloc(u24LaneBytes(n));
    writeU24(new Uint8Array(memory.buffer, ptr, 3 * n), values, n, extents[k]!.min);
    out[name] = ptr;
    if (name === 'ts') out.tsWidth = 3;
    else if (name === 'lat') out.latWidth = 3;
    else out.lonWidth = 3;
  }
  writeBases(new Int32Array(memory.buffer, basesPtr, (kBaseBytes / 4) * runs), runs, { ts: extents[0], lat: extents[1]!, lon: extents[2]! });
  out.bases = basesPtr;
  return out;
}
