/**
 * Walking a plate's live rows (src/store/live-columns.ts) without building a list: the same-plate chain
 * (`heads`, `prev`) runs newest first, so a query's time window bounds the walk by row index. Rows are
 * appended in seq order, and the blocks' zone maps give the first and last block that can hold a row of
 * the window: the walk skips the rows after that range and stops at the first row before it, where
 * rowsOfPlate would visit (and keep) every row of the plate.
 */
import { kLiveBlockRows, type LiveView } from './live-columns.js';

const kShift = Math.log2(kLiveBlockRows);
const kMask = kLiveBlockRows - 1;

/**
 * [gLo, gHi): the rows of `view` in the blocks from the first to the last whose zone map meets the time
 * window [lo, hi); no row outside can have a time in it. Empty (gLo ≥ gHi) when no block does.
 */
export function liveTimeRange(view: LiveView, lo: number, hi: number): [number, number] {
  const blocks = view.cols.blocks;
  const n = view.blockCount();
  const meets = (b: number) => {
    const z = blocks[b]!.zone;
    return z[1]! >= lo && z[0]! < hi;
  };
  let first = 0;
  while (first < n && !meets(first)) first++;
  if (first === n) return [0, 0];
  let last = n - 1;
  while (last > first && !meets(last)) last--;
  return [first * kLiveBlockRows, Math.min(view.length, (last + 1) * kLiveBlockRows)];
}

/** The newest row of plate `code` below `gHi` (≤ the view's length), or -1: where a bounded walk starts. */
export function plateRowBelow(view: LiveView, code: number, gHi: number): number {
  const blocks = view.cols.blocks;
  let g = view.cols.heads[code] ?? -1;
  while (g >= gHi) g = blocks[g >>> kShift]!.prev[g & kMask]!;
  return g;
}

/** Rows of plate `code` in `view`: the generation's count less the rows appended after the view (its chain's newest). */
export function plateRowsInView(view: LiveView, code: number): number {
  const cols = view.cols;
  let n = cols.plateRows[code]!;
  for (let g = cols.heads[code]!; g >= view.length; g = cols.blocks[g >>> kShift]!.prev[g & kMask]!) n--;
  return n;
}

/** The row before row `g` with the same plate (-1 when none): the next step of a walk. */
export function prevPlateRow(view: LiveView, g: number): number {
  return view.cols.blocks[g >>> kShift]!.prev[g & kMask]!;
}

/**
 * The plates of `view` with a row in [gLo, gHi) (codes ascending) and where each one's walk starts (its
 * newest row below gHi), in shared memory (worker tasks take slices of them without a copy). A generation's
 * dictionary holds every plate of its rows, so a 7-day window over 28 days of live rows reaches a fifth of
 * its plates: the others need not be matched at all.
 */
export function windowPlates(view: LiveView, gLo: number, gHi: number): { codes: Int32Array; starts: Int32Array } {
  const count = view.plateCount;
  const all = new Int32Array(count);
  let n = 0;
  for (let c = 0; c < count; c++) if ((all[c] = plateRowBelow(view, c, gHi)) >= gLo) n++;
  const codes = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, n)), 0, n);
  const starts = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, n)), 0, n);
  for (let c = 0, i = 0; c < count; c++) {
    if (all[c]! < gLo) continue;
    codes[i] = c;
    starts[i++] = all[c]!;
  }
  return { codes, starts };
}
