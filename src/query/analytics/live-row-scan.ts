/**
 * The analytics' row stream over live rows (src/store/live-columns.ts) with the kernels: each block of the
 * view is a segment of its own (liveSegment), scanned by the same kernel call as a shard's row-scan task
 * (row-scan-task.ts `pushPassingRows`: zone map pruning, then time, area and cameras per row in WebAssembly,
 * convoy windows tested on the rows that pass), so live rows cost what sealed ones do instead of a JS test
 * per row. Rows come back as generation row indexes, ascending, per filter.
 *
 * Set-up once per view, not per block: every block shares the generation's camera and region dictionaries,
 * so each filter is compiled once and one output buffer serves every block; a block is scanned only for the
 * filters whose window meets its zone map's time extremes (a multi-site's sites are an hour each: of ~123
 * blocks at 1M reads each site meets one or two). Per-block tasks compiled every filter for every block that
 * met any, and a multi-site's live side cost 2.6× its sealed side (docs/storage-v2.md, "Live vs sealed, round 5").
 */
import type { Kernels } from '../../core/kernels.js';
import { uint32List } from '../../core/typed-list.js';
import type { ReadFilter } from '../../model/query.js';
import { kLiveBlockRows, liveSegment, type LiveView } from '../../store/live-columns.js';
import type { QueryBudget } from '../budget.js';
import { chunkRowsFor, pushPassingRows, windowMisses, type CameraWindows } from './row-scan-task.js';

/** Whether `view` can go through the kernels: rows, and every region in one arena (the kernels see one). */
export function liveScansWithKernels(view: LiveView): boolean {
  return view.length > 0 && view.cols.sameArena && view.cols.arena >= 0;
}

/**
 * Rows of `view` passing each of `filters` (retention floor already folded in), and within ±ms of a
 * target time at their camera when `windows` is given. Throws RangeError when the kernels' scratch cannot
 * hold the filters and a block's output (the caller falls back to the JS scan).
 */
export function liveRowScan(
  k: Kernels, view: LiveView, filters: ReadFilter[], windows: { ms: number; byCamera: ReadonlyMap<string, Float64Array> } | undefined, budget?: QueryBudget,
): Uint32Array[] {
  const cols = view.cols;
  // the camera dictionary as the view saw it (codes past it belong to rows the view does not hold)
  const cameras = cols.cameras.values;
  const regions = cols.regions.values;
  const w: CameraWindows | undefined = windows && { ms: windows.ms, byCamera: cameras.map((c) => windows.byCamera.get(c) ?? null) };
  const lists = filters.map(() => uint32List(0));
  const mark = k.scratch.mark();
  try {
    // compiled on first use: a filter no block's window meets costs nothing
    const compiled = filters.map(() => undefined as ReturnType<Kernels['compileFilter']> | undefined);
    const chunks = filters.map((f) => Math.min(chunkRowsFor(f), kLiveBlockRows));
    let out: ReturnType<Kernels['allocOutput']> | undefined;
    for (let b = 0; b < view.blockCount(); b++) {
      budget?.check();
      const z = cols.blocks[b]!.zone;
      // the zone map's time extremes bound the view's rows of the block (wider is allowed: a superset)
      let seg: ReturnType<typeof liveSegment> | undefined;
      for (let f = 0; f < filters.length; f++) {
        if (windowMisses(filters[f]!, z[0]!, z[1]!)) continue;
        const filter = (compiled[f] ??= k.compileFilter(filters[f]!, { cameras, regions, makes: cols.makes.values, colors: cols.colors.values }));
        if (filter.empty) continue;
        out ??= k.allocOutput(Math.max(...chunks));
        seg ??= liveSegment(cols, b, view.rowsInBlock(b));
        pushPassingRows(k, seg, filter, out, chunks[f]!, lists[f]!, b * kLiveBlockRows, w, budget);
      }
    }
  } finally {
    k.scratch.release(mark);
  }
  return lists.map((l) => l.done());
}
