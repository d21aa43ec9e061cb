/**
 * The camera lane as u8 codes into a table per run of rows (issue 11: resident bytes per read ≤ 24 at 20M;
 * docs/storage-v2.md, "The camera lane by runs, seq by time"). In memory only: a shard file keeps its u16 lane
 * (format 2), and the loader packs it at load (src/store/shard-cameras.ts).
 *
 *   file                      memory after packing
 *   camera  u16 × rows        camera       u8 × rows            the row's entry in its run's table
 *                             cameraRuns   u32 × (runs + 1)     run r's entries are cameraTable[runs[r] … runs[r + 1])
 *                             cameraTable  u16 × entries        the run's distinct camera codes (ids into the shard's
 *                                                               camera dictionary), ascending
 *
 *   runs of kCameraRunRows rows:  rows 0 … 255 | 256 … 511 | …   (row i is in run i >>> kCameraRunShift)
 *
 * Why it fits: rows are ordered by hour, then place (Z-order cell), and a fixed camera stands in one place, so a
 * run of 256 rows is a few neighbouring cells of one hour: at 20M reads (one tenant-day of ~1.4M rows, 440 cameras,
 * more than a u8 lane's 256) a run sees 3.5 cameras on average and 98 at most (bench/RESULTS.md). 256 rows, not
 * the u24 lanes' 1,024: a run can never hold more than 256 cameras, so every shard fits and no run needs a second
 * form (runs of 1,024 rows saw 283 in one run of the 20M dir, for 0.02 B a read less of tables). So 2 B a read
 * become 1 plus 4 B a run and 2 B an entry (0.04 B a read at 20M).
 *
 * The kernel (assembly/scan.ts, ABI 10: the camera field of S_WIDTHS = 3, the two tables at S_CAMERA_RUNS and
 * S_CAMERA_TABLE) tests a row as its run's table entry through the filter's camera mask (a byte mask over the
 * shard's dictionary, as for a u16 lane): once a run, it turns the run's entries into a 64-bit mask (runs of at most
 * 64 entries), so a row costs a byte load and a bit test; a run none of whose entries passes is skipped whole by
 * the label scan. JS readers go through cameraReader (tasks, from a layout) or LoadedShard.camera (a CodeAt),
 * never the lane directly.
 */
import type { CodeAt, SegmentLayout } from './segment.js';

/** Rows a camera run's table covers: at most 256 distinct cameras, so the u8 entry always fits. */
export const kCameraRunRows = 256;
export const kCameraRunShift = 8;

/** Runs of kCameraRunRows rows in `rows` rows. */
export function cameraRuns(rows: number): number {
  return Math.ceil(rows / kCameraRunRows);
}

/** The part of a segment layout that holds its camera codes, in either form. */
export type CameraLanes = Pick<SegmentLayout, 'rows' | 'camera' | 'cameraWidth' | 'cameraRuns' | 'cameraTable' | 'cameraEntries'>;

/**
 * Row i's camera code (an id into the segment's camera dictionary), whatever the lane's form: u8 / u16 / u32 codes,
 * or u8 entries of run tables (one closure per form, so each call site sees one typed array kind).
 */
export function cameraReader(buffer: ArrayBufferLike, seg: CameraLanes): CodeAt {
  const n = seg.rows;
  if (seg.cameraRuns) {
    const entry = new Uint8Array(buffer, seg.camera, n);
    const runs = new Uint32Array(buffer, seg.cameraRuns, cameraRuns(n) + 1);
    const table = new Uint16Array(buffer, seg.cameraTable!, seg.cameraEntries!);
    return (i) => table[runs[i >>> kCameraRunShift]! + entry[i]!]!;
  }
  if (seg.cameraWidth === 1) {
    const a = new Uint8Array(buffer, seg.camera, n);
    return (i) => a[i]!;
  }
  if (seg.cameraWidth === 2) {
    const a = new Uint16Array(buffer, seg.camera, n);
    return (i) => a[i]!;
  }
  const a = new Uint32Array(buffer, seg.camera, n);
  return (i) => a[i]!;
}

/**
 * Where each run's entries start in the table of `codes` (u16 camera codes of `rows` rows): runs[r] … runs[r + 1]
 * are run r's, runs[last] the table's size. `seen` is scratch of 65,536 (reused between shards).
 */
export function cameraRunStarts(codes: Uint16Array, rows: number, seen: Int32Array): Uint32Array {
  const runCount = cameraRuns(rows);
  const runs = new Uint32Array(runCount + 1);
  // each run's cameras marked with its number
  seen.fill(-1);
  let total = 0;
  for (let r = 0; r < runCount; r++) {
    runs[r] = total;
    for (let i = r * kCameraRunRows, end = Math.min(rows, i + kCameraRunRows); i < end; i++) {
      const c = codes[i]!;
      if (seen[c] !== r) {
        seen[c] = r;
        total++;
      }
    }
  }
  runs[runCount] = total;
  return runs;
}

/**
 * The run table of `codes` (u16 camera codes of `rows` rows; `runs` from cameraRunStarts), with each row's entry
 * written to `entries`, which may be `codes`' own bytes: run r's codes are read before its entries are written,
 * and entry i lands at byte i, at or before code i's bytes 2i … 2i + 1, which earlier runs have read.
 */
export function packCameraRuns(codes: Uint16Array, rows: number, runs: Uint32Array, entries: Uint8Array, seen: Int32Array): Uint16Array {
  const table = new Uint16Array(runs[runs.length - 1]!);
  const run = new Uint16Array(kCameraRunRows);
  seen.fill(-1);
  for (let r = 0; r < runs.length - 1; r++) {
    const from = r * kCameraRunRows, m = Math.min(rows, from + kCameraRunRows) - from;
    run.set(codes.subarray(from, from + m));
    const at = runs[r]!;
    let k = at;
    for (let i = 0; i < m; i++) {
      const c = run[i]!;
      if (seen[c] !== -2 - r) {
        seen[c] = -2 - r;
        table[k++] = c;
      }
    }
    // entries by ascending code
    const cams = table.subarray(at, k).sort();
    for (let e = 0; e < cams.length; e++) seen[cams[e]!] = e;
    for (let i = 0; i < m; i++) entries[from + i] = seen[run[i]!]!;
    for (let e = 0; e < cams.length; e++) seen[cams[e]!] = -1;
  }
  return table;
}
