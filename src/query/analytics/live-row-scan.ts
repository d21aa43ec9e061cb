/**
 * The analytics' row stream over live rows (src/store/live-columns.ts) with the kernels: each block of the
 * view is a segment of its own (liveSegment), run through the same row-scan task as a shard
 * (row-scan-task.ts: zone map pruning, then time, area and cameras per row in WebAssembly, convoy windows
 * tested on the rows that pass), so live rows cost what sealed ones do instead of a JS test per row.
 * Rows come back as generation row indexes, ascending, per filter.
 */
import type { Kernels } from '../../core/kernels.js';
import { uint32List } from '../../core/typed-list.js';
import type { ReadFilter } from '../../model/query.js';
import { kLiveBlockRows, liveSegment, type LiveView } from '../../store/live-columns.js';
import type { QueryBudget } from '../budget.js';
import { runRowScanTask, type CameraWindows } from './row-scan-task.js';

/** Whether `view` can go through the kernels: rows, and every region in one arena (the kernels see one). */
export function liveScansWithKernels(view: LiveView): boolean {
  return view.length > 0 && view.cols.sameArena && view.cols.arena >= 0;
}

/**
 * Rows of `view` passing each of `filters` (retention floor already folded in), and within ±ms of a
 * target time at their camera when `windows` is given. Throws RangeError when the kernels' scratch cannot
 * hold a block (the caller falls back to the JS scan).
 */
export function liveRowScan(
  k: Kernels, view: LiveView, filters: ReadFilter[], windows: { ms: number; byCamera: ReadonlyMap<string, Float64Array> } | undefined, budget?: QueryBudget,
): Uint32Array[] {
  const cols = view.cols;
  // the camera dictionary as the view saw it (codes past it belong to rows the view does not hold)
  const cameras = cols.cameras.values;
  const regions = cols.regions.values;
  const w: CameraWindows | undefined = windows && { ms: windows.ms, byCamera: cameras.map((c) => windows.byCamera.get(c) ?? null) };
  const lists = filters.map(() => uint32List());
  for (let b = 0; b < view.blockCount(); b++) {
    budget?.check();
    const block = cols.blocks[b]!;
    const z = block.zone;
    // a block no filter's time window meets adds nothing (the task's own span test, before its set-up cost:
    // a multi-site's sites are an hour each, most of 123 blocks meet none)
    if (!filters.some((f) => !((f.from !== undefined && f.from > z[1]!) || (f.to !== undefined && f.to <= z[0]!)))) continue;
    const task = {
      layout: liveSegment(cols, b, view.rowsInBlock(b)), filters, cameras, regions,
      // the zone map's time extremes bound the view's rows of the block (wider is allowed: a superset)
      span: { minTs: block.zone[0]!, maxTs: block.zone[1]! },
      ...(w ? { windows: w } : {}),
    };
    const rows = runRowScanTask(k, task, budget).rows;
    const base = b * kLiveBlockRows;
    rows.forEach((r, f) => {
      const list = lists[f]!;
      for (let j = 0; j < r.length; j++) list.push(base + r[j]!);
    });
  }
  return lists.map((l) => l.done());
}
