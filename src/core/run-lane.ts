/**
 * A u16 code lane held as runs (issue 11: resident bytes per read ≤ 24 at 20M): u8 entries, one a row, into a
 * table per run of kRunRows rows of that run's distinct codes. The camera lane (src/core/camera-lane.ts: codes are
 * camera ids) and the labels lane (src/core/label-lanes.ts: codes are (region, make, color) triple ids) take this
 * form in memory when they would be u16; docs/storage-v2.md, "The camera lane by runs, seq by time" and "The labels
 * lane by runs".
 *
 *   entries  u8 × rows            the row's entry: below `shared`, the code itself (one of the lane's `shared`
 *                                 codes every run shares); from `shared` on, entry − shared in its run's table
 *   runs     u32 × (runs + 1)     run r's table is table[runs[r] … runs[r + 1]); runs[last] is the table's size
 *   table    u16 × entries        each run's distinct codes of `shared` or more, ascending
 *
 *   runs of kRunRows rows:  rows 0 … 255 | 256 … 511 | …   (row i is in run i >>> kRunShift)
 *
 *   code(i) = e < shared ? e : table[runs[i >>> kRunShift] + e − shared]      where e = entries[i]
 *
 * 256 rows: a run can never hold more than 256 distinct codes, so with `shared` 0 every run's entries fit a u8.
 * That pays where rows are ordered so that a run sees few codes: rows are in hour, then Z-order cell order, and a
 * camera stands in one place (3.5 cameras a run at 20M, `shared` 0). Where a run sees many codes but most rows hold
 * a few frequent ones (the labels lane: a run of 256 reads is ~250 vehicles and ~120 triples, but 200 triples
 * cover ~90% of the rows), the codes are numbered by frequency and the first `shared` are entries of their own, so
 * a run's table holds only its other codes (at most 256 − shared of them: sharedCodesOf picks the most that fit).
 * The kernel (assembly/scan.ts, the lane's field of S_WIDTHS = 3) tests shared entries against the filter's mask
 * directly, turns a run's table into a 64-bit mask once a run, and skips runs where nothing passes.
 */
import type { CodeAt } from './segment.js';

/** Rows a run's table covers: at most 256 distinct codes, so the u8 entry always fits. */
export const kRunRows = 256;
export const kRunShift = 8;

/** Runs of kRunRows rows in `rows` rows. */
export function runCount(rows: number): number {
  return Math.ceil(rows / kRunRows);
}

/** Where a lane held as runs lies: arena (or buffer) offsets of its entries, run starts and table, the table's size. */
export interface RunLane {
  entries: number;
  runs: number;
  table: number;
  tableEntries: number;
  /** Entries below this are codes of their own (0: every entry goes through its run's table). */
  shared: number;
}

/** Row i's code of a lane held as runs (`rows` rows). */
export function runLaneReader(buffer: ArrayBufferLike, lane: RunLane, rows: number): CodeAt {
  const entry = new Uint8Array(buffer, lane.entries, rows);
  const runs = new Uint32Array(buffer, lane.runs, runCount(rows) + 1);
  const table = new Uint16Array(buffer, lane.table, lane.tableEntries);
  const shared = lane.shared;
  if (shared === 0) return (i) => table[runs[i >>> kRunShift]! + entry[i]!]!;
  return (i) => {
    const e = entry[i]!;
    return e < shared ? e : table[runs[i >>> kRunShift]! + e - shared]!;
  };
}

/** Bytes of a lane held as runs beside its entries: the run starts and the table of `tableEntries` codes. */
export function runTablesBytes(rows: number, tableEntries: number): number {
  return 4 * (runCount(rows) + 1) + 2 * tableEntries;
}

// one mark per u16 code (runCodes), reused from shard to shard and lane to lane
let seenScratch: Int32Array | undefined;

/** The marks runCodes takes: 65,536 of them, one scratch a thread. */
export function runScratch(): Int32Array {
  return (seenScratch ??= new Int32Array(0x10000));
}

/**
 * Each run's distinct codes, in the order first seen: run r's are `codes[starts[r] … starts[r + 1])`. The one pass
 * over a lane's rows that sharedCodes, runStarts and packRuns' table each made (their plain definitions, held
 * against these by the tests: test/helpers/run-lane-reference.ts): from it those three answers cost a
 * few operations a distinct code (~120 a run of the labels lane, ~3.5 of the camera lane), not one a row, and only
 * the entries (packRunsOf) take a second pass (docs/storage-v2.md, "The open's lane passes").
 */
export interface RunCodes {
  starts: Uint32Array;
  codes: Uint16Array;
}

// the distinct codes of a lane's runs (runCodes), grown ×2 when full and reused from shard to shard
let distinctScratch = new Uint16Array(0x10000);

/** The distinct codes of each run of `codes` (u16 codes of `rows` rows); `seen` is scratch of 65,536 (runScratch). */
export function runCodes(codes: Uint16Array, rows: number, seen: Int32Array): RunCodes {
  const count = runCount(rows);
  const starts = new Uint32Array(count + 1);
  let out = distinctScratch;
  seen.fill(-1);
  let total = 0;
  for (let r = 0; r < count; r++) {
    starts[r] = total;
    // a run adds at most kRunRows codes
    if (total + kRunRows > out.length) {
      const grown = new Uint16Array(2 * out.length);
      grown.set(out.subarray(0, total));
      out = distinctScratch = grown;
    }
    // without a branch: every code is written at the end of the run's list, which only grows when the code is new
    // (seen[c] ≠ r: the sign bit of d | −d). A branch on it mispredicts at random on the labels lane (~120 new of
    // 256 a run): 7 ns a row against 2.7
    for (let i = r * kRunRows, end = Math.min(rows, i + kRunRows); i < end; i++) {
      const c = codes[i]!;
      const d = seen[c]! ^ r;
      seen[c] = r;
      out[total] = c;
      total += (d | -d) >>> 31;
    }
  }
  starts[count] = total;
  return { starts, codes: out };
}

/** sharedCodes from each run's distinct codes: the same answer, a distinct code and 257 steps a run instead of a row. */
export function sharedCodesOf(runs: RunCodes, most = kRunRows): number {
  // inRun[k]: the most distinct codes ≥ k in one run, for k = 0 … 256 (codes ≥ 256 count for every k)
  const inRun = new Int32Array(kRunRows + 1);
  const at = new Int32Array(kRunRows + 1);
  const { starts, codes } = runs;
  for (let r = 0; r + 1 < starts.length; r++) {
    for (let j = starts[r]!, end = starts[r + 1]!; j < end; j++) at[Math.min(codes[j]!, kRunRows)]!++;
    // suffix sums from the top: codes ≥ k, each histogram slot cleared as it is read
    for (let k = kRunRows, atLeast = 0; k >= 0; k--) {
      atLeast += at[k]!;
      at[k] = 0;
      if (atLeast > inRun[k]!) inRun[k] = atLeast;
    }
  }
  for (let k = Math.min(most, kRunRows); k > 0; k--) if (inRun[k]! <= kRunRows - k) return k;
  return 0;
}

/** runStarts from each run's distinct codes (the same array). */
export function runStartsOf(runs: RunCodes, shared = 0): Uint32Array {
  const { starts, codes } = runs;
  const out = new Uint32Array(starts.length);
  let total = 0;
  for (let r = 0; r + 1 < starts.length; r++) {
    out[r] = total;
    if (shared === 0) total += starts[r + 1]! - starts[r]!;
    else for (let j = starts[r]!, end = starts[r + 1]!; j < end; j++) if (codes[j]! >= shared) total++;
  }
  out[starts.length - 1] = total;
  return out;
}

// each code's entry in the run being written (runEntries): the code itself below `shared`, its place in the run's
// table after that; one scratch a thread
let entryOf: Uint8Array | undefined;

/**
 * packRuns from each run's distinct codes: the same table (each run's own codes, ascending) and the same entries
 * into `entries`, which may be `codes`' own bytes as in packRuns (entry i is written after code i is read, at byte
 * i ≤ 2i). One pass over the rows, an entry a row by one table load: no branch on `shared`, no copy of the run.
 */
export function packRunsOf(codes: Uint16Array, rows: number, runs: RunCodes, starts: Uint32Array, entries: Uint8Array, shared = 0): Uint16Array {
  const table = new Uint16Array(starts[starts.length - 1]!);
  const entry = (entryOf ??= new Uint8Array(0x10000));
  for (let c = 0; c < shared; c++) entry[c] = c;
  const own = runs.codes;
  for (let r = 0; r + 1 < starts.length; r++) {
    // the run's own codes into its table, ascending (insertion: ~32 a run of the labels lane, ~3.5 of cameras)
    const at = starts[r]!;
    let k = at;
    for (let j = runs.starts[r]!, end = runs.starts[r + 1]!; j < end; j++) {
      const c = own[j]!;
      if (c < shared) continue;
      let p = k++;
      for (; p > at && table[p - 1]! > c; p--) table[p] = table[p - 1]!;
      table[p] = c;
    }
    for (let e = at; e < k; e++) entry[table[e]!] = shared + e - at;
    for (let i = r * kRunRows, end = Math.min(rows, i + kRunRows); i < end; i++) entries[i] = entry[codes[i]!]!;
  }
  return table;
}
