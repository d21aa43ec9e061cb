/**
 * A search over a tenant's live rows (src/store/live-columns.ts) with the WebAssembly kernels, the live
 * counterpart of src/query/segment-task.ts: the same two steps, over a generation's blocks.
 *
 *   1. dictionary: matchDictionary over the generation's plate slots, chunk by chunk, into one u8 distance
 *      per plate code (255 = no match). Live codes are in first-seen order, so there is no prefix range.
 *   2. few matching plates → their rows through the same-plate chains (newest first), tested in JS with
 *      the reference's predicates; otherwise → scanSegment over each block (a segment of its own, built by
 *      liveSegment), newest block first, zone maps pruning as for shards.
 *   3. the same bounded top-k (src/query/row-top.ts), rows as generation row indexes.
 *
 * Runs on the calling thread (the live rows' owner): a view is a prefix of rows that never change, so it
 * needs no copy; the filter's label masks are compiled once for the generation's dictionaries.
 */
import type { Kernels, SegmentDictionaries } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import { kLiveBlockRows, kSlotChunk, liveDictSegment, liveSegment, type LiveView } from '../store/live-columns.js';
import type { PlateMatch, ReadFilter } from '../model/query.js';
import type { QueryBudget } from './budget.js';
import { prepareFilter } from './filter-plan.js';
import { liveRowTest } from './live-scan.js';
import { RowTop, type RowBoundary } from './row-top.js';
import type { SegmentTaskResult } from './segment-task.js';

/**
 * Runs `match` (or none) and `filter` (retention floor folded in) over `view`, keeping the best `limit`
 * rows; throws RangeError when the kernels' scratch cannot hold it (the caller falls back to the JS scan).
 */
export function runLiveTask(
  k: Kernels, view: LiveView, match: PlateMatch | undefined, filter: ReadFilter, limit: number, after: RowBoundary | undefined, budget?: QueryBudget,
): SegmentTaskResult {
  const top = new RowTop(limit, after);
  const empty = (): SegmentTaskResult => ({ total: 0, beyond: 0, rows: new Uint32Array(0), distances: new Uint8Array(0), ts: new Float64Array(0), seqs: new Float64Array(0) });
  if (view.length === 0) return empty();
  const cols = view.cols;
  const seqOf = (g: number) => view.seq(g);
  const mark = k.scratch.mark();
  try {
    let dist = 0;
    if (match) {
      const count = view.plateCount;
      dist = k.scratch.alloc(Math.max(16, count), 16);
      const compiled = k.compilePlateMatch(match);
      let matched = 0;
      for (let c = 0; c * kSlotChunk < count; c++) {
        budget?.check();
        matched += k.matchDictionary(liveDictSegment(cols, c, count), compiled, dist + c * kSlotChunk);
      }
      if (matched === 0) return empty();
      if (matched * 8 <= count) {
        // few plates: walk their chains (the JS row test is the reference's own)
        const p = prepareFilter(filter, -Infinity);
        if (p.empty) return empty();
        const test = liveRowTest(view, p);
        if (!test) return empty();
        const ds = new Uint8Array(k.memory.buffer, dist, count);
        for (let code = 0, left = matched; code < count && left > 0; code++) {
          const distance = ds[code]!;
          if (distance === kNoMatch) continue;
          left--;
          for (const g of view.rowsOfPlate(code)) {
            budget?.tick();
            const t = view.ts(g);
            if (test(g, t)) top.offer(distance, t, g, seqOf);
          }
        }
        return finish(top);
      }
    }
    const dicts: SegmentDictionaries = { cameras: cols.cameras.values, regions: cols.regions.values, makes: cols.makes.values, colors: cols.colors.values };
    const compiled = k.compileFilter(filter, dicts);
    if (compiled.empty) return empty();
    const out = k.allocOutput(kLiveBlockRows);
    // rows per kernel call: a block, or fewer under a big polygon (~1 ns an edge a row; see segment-task.ts)
    const edges = filter.polygon?.length ?? 0;
    const step = edges <= 64 ? kLiveBlockRows : Math.max(256, Math.min(kLiveBlockRows, Math.floor((65536 * 64) / edges)));
    for (let b = view.blockCount() - 1; b >= 0; b--) {
      budget?.check();
      const rowsIn = view.rowsInBlock(b);
      const seg = liveSegment(cols, b, rowsIn);
      const block = cols.blocks[b]!;
      if (top.full() && top.worstDistance() === 0 && block.zone[1]! < top.worstTs()) {
        top.countWorse(k.countSegment(seg, compiled, dist === 0 ? null : dist));
        continue;
      }
      const base = b * kLiveBlockRows;
      // newest rows first, in pieces small enough that the budget is checked often under a big polygon
      for (let start = Math.floor((rowsIn - 1) / step) * step; start >= 0; start -= step) {
        if (start + step < rowsIn) budget?.check();
        const n = k.scanSegment(seg, compiled, dist === 0 ? null : dist, out, { start, end: Math.min(rowsIn, start + step) });
        if (n === 0) continue;
        const rows = k.rows(out, n);
        const ds = dist === 0 ? null : k.distances(out, n);
        for (let j = n - 1; j >= 0; j--) {
          const r = rows[j]!;
          top.offer(ds ? ds[j]! : 0, block.tsAt(r), base + r, seqOf);
        }
      }
    }
    return finish(top);
  } finally {
    k.scratch.release(mark);
  }
}

function finish(top: RowTop): SegmentTaskResult {
  return { total: top.total, beyond: top.beyond, ...top.kept() };
}
