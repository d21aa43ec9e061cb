/**
 * The run-lane passes as plain definitions, one pass over the rows each: where each run's table starts
 * (runStarts), the run table and each row's entry (packRuns), and the most codes the runs may share
 * (sharedCodes). src/core/run-lane.ts computes the same answers from each run's distinct codes (runCodes,
 * runStartsOf, packRunsOf, sharedCodesOf); the tests hold those to these.
 */
import { kRunRows, runCount } from '../../src/core/run-lane.js';

/**
 * Where each run's table starts in the table of `codes` (u16 codes of `rows` rows) whose codes below `shared` are
 * entries of their own: runs[r] … runs[r + 1] are run r's, runs[last] the table's size. `seen` is scratch of
 * 65,536 (runScratch).
 */
export function runStarts(codes: Uint16Array, rows: number, seen: Int32Array, shared = 0): Uint32Array {
  const count = runCount(rows);
  const runs = new Uint32Array(count + 1);
  // each run's codes marked with its number
  seen.fill(-1);
  let total = 0;
  for (let r = 0; r < count; r++) {
    runs[r] = total;
    for (let i = r * kRunRows, end = Math.min(rows, i + kRunRows); i < end; i++) {
      const c = codes[i]!;
      if (c >= shared && seen[c] !== r) {
        seen[c] = r;
        total++;
      }
    }
  }
  runs[count] = total;
  return runs;
}

/**
 * The run table of `codes` (u16 codes of `rows` rows; `runs` from runStarts with the same `shared`), with each
 * row's entry written to `entries`, which may be `codes`' own bytes: run r's codes are read before its entries are
 * written, and entry i lands at byte i, at or before code i's bytes 2i … 2i + 1, which earlier runs have read.
 */
export function packRuns(codes: Uint16Array, rows: number, runs: Uint32Array, entries: Uint8Array, seen: Int32Array, shared = 0): Uint16Array {
  const table = new Uint16Array(runs[runs.length - 1]!);
  const run = new Uint16Array(kRunRows);
  seen.fill(-1);
  for (let r = 0; r < runs.length - 1; r++) {
    const from = r * kRunRows, m = Math.min(rows, from + kRunRows) - from;
    run.set(codes.subarray(from, from + m));
    const at = runs[r]!;
    let k = at;
    for (let i = 0; i < m; i++) {
      const c = run[i]!;
      if (c >= shared && seen[c] !== -2 - r) {
        seen[c] = -2 - r;
        table[k++] = c;
      }
    }
    // the run's own entries by ascending code, after the shared ones
    const own = table.subarray(at, k).sort();
    for (let e = 0; e < own.length; e++) seen[own[e]!] = shared + e;
    for (let i = 0; i < m; i++) {
      const c = run[i]!;
      entries[from + i] = c < shared ? c : seen[c]!;
    }
    for (let e = 0; e < own.length; e++) seen[own[e]!] = -1;
  }
  return table;
}

/**
 * The most codes a lane may share between its runs (see the file comment): the largest `shared` ≤ `most` (≤ 256)
 * such that no run holds more than 256 − shared distinct codes of `shared` or more. `codes` must be numbered so that
 * the codes worth sharing come first (by descending row count: packLabels' `byUse`). 0 when no run can share any.
 */
export function sharedCodes(codes: Uint16Array, rows: number, seen: Int32Array, most = kRunRows): number {
  // inRun[k]: the most distinct codes ≥ k in one run, for k = 0 … 256 (codes ≥ 256 count for every k)
  const inRun = new Int32Array(kRunRows + 1);
  const atLeast = new Int32Array(kRunRows + 2);
  seen.fill(-1);
  for (let r = 0, count = runCount(rows); r < count; r++) {
    atLeast.fill(0);
    for (let i = r * kRunRows, end = Math.min(rows, i + kRunRows); i < end; i++) {
      const c = codes[i]!;
      if (seen[c] === r) continue;
      seen[c] = r;
      atLeast[Math.min(c, kRunRows)]++;
    }
    // suffix sums: atLeast[k] = distinct codes ≥ k
    for (let k = kRunRows - 1; k >= 0; k--) atLeast[k]! += atLeast[k + 1]!;
    for (let k = 0; k <= kRunRows; k++) if (atLeast[k]! > inRun[k]!) inRun[k] = atLeast[k]!;
  }
  for (let k = Math.min(most, kRunRows); k > 0; k--) if (inRun[k]! <= kRunRows - k) return k;
  return 0;
}
