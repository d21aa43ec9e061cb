/**
 * The camera lane as u8 codes into a table per run of rows, a u16 code lane held as runs (src/core/run-lane.ts; issue 11: resident bytes per read ≤ 24 at 20M;
 * docs/storage-v2.md, "The camera lane by runs, seq by time"). In memory only: a shard file keeps its u16 lane
 * (format 2), and the loader packs it at load (src/store/shard-cameras.ts).
 *
 *   file                      memory after packing
 *   camera  u16 × rows        camera       u8 × rows            the row's entry in its run's table
 *                             cameraRuns   u32 × (runs + 1)     run r's entries are cameraTable[runs[r] … runs[r + 1])
 *                             cameraTable  u16 × entries        the run's distinct camera codes (ids into the shard's
 *                                                               camera dictionary), ascending
 *
 *   runs of kRunRows (256) rows:  rows 0 … 255 | 256 … 511 | …   (row i is in run i >>> kRunShift)
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
import { kRunRows, runLaneReader } from './run-lane.js';
import type { CodeAt, SegmentLayout } from './segment.js';

/** Rows a camera run's table covers (the runs of every lane held as runs). */
export const kCameraRunRows = kRunRows;

/** The part of a segment layout that holds its camera codes, in either form. */
export type CameraLanes = Pick<SegmentLayout, 'rows' | 'camera' | 'cameraWidth' | 'cameraRuns' | 'cameraTable' | 'cameraEntries'>;

/**
 * Row i's camera code (an id into the segment's camera dictionary), whatever the lane's form: u8 / u16 / u32 codes,
 * or u8 entries of run tables (one closure per form, so each call site sees one typed array kind).
 */
export function cameraReader(buffer: ArrayBufferLike, seg: CameraLanes): CodeAt {
  const n = seg.rows;
  if (seg.cameraRuns) return runLaneReader(buffer, { entries: seg.camera, runs: seg.cameraRuns, table: seg.cameraTable!, tableEntries: seg.cameraEntries!, shared: 0 }, n);
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
