/**
 * The analytics' unit of engine work: one shard (a segment resident in an arena), one or more filters,
 * and the rows passing each, all of them (not a top-k of hits as search's segment tasks give). It runs the
 * WebAssembly scan kernel (src/core/kernels.ts: zone maps prune blocks, then time, area, cameras per row)
 * on a pool worker (src/query/worker.ts, `runRowScanBatch`) or on the calling thread, and carries only
 * numbers and small strings: the rows stay in shared memory, the answer is row indexes.
 *
 * Convoy windows (`windows`): rows must also lie within ±ms of a target read at their camera. The kernel
 * narrows by the target cameras and the overall time span; the exact window test runs here, in the worker,
 * so only companion rows travel back.
 */
import type { CompiledFilter, Kernels, ScanOutput } from '../../core/kernels.js';
import { tsReader, type SegmentLayout } from '../../core/segment.js';
import { cameraReader } from '../../core/camera-lane.js';
import { uint32List, type TypedList } from '../../core/typed-list.js';
import type { ReadFilter } from '../../model/query.js';
import type { QueryBudget } from '../budget.js';

/** Per camera id of a segment, the sorted target times at it (null: none), and the half-window in ms. */
export interface CameraWindows {
  ms: number;
  byCamera: Array<Float64Array | null>;
}

export interface RowScanTask {
  layout: SegmentLayout;
  /** Filters, each with the tenant's retention floor folded into `from`. */
  filters: ReadFilter[];
  cameras: readonly string[];
  regions: readonly string[];
  /** The make and color dictionaries, when a filter names makes or colors. */
  makes?: readonly string[];
  colors?: readonly string[];
  windows?: CameraWindows;
  /** The shard's first and last ts: a filter whose window misses them is answered empty without a scan. */
  span?: { minTs: number; maxTs: number };
}

export interface RowScanResult {
  /** Per filter, the passing rows (segment-relative, ascending). */
  rows: Uint32Array[];
}

// rows per scanSegment call: bounds scratch (5 bytes a row) and how long the budget goes unchecked
const kChunkRows = 65536;

/** Is `t` within ±ms of some time in sorted `times`? */
export function nearAny(times: Float64Array, t: number, ms: number): boolean {
  let lo = 0, hi = times.length;
  const from = t - ms;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < times.length && times[lo]! <= t + ms;
}

/** Rows per kernel call for `filter`; under a polygon each row in its box costs every edge, and the budget is checked between calls. */
export function chunkRowsFor(filter: ReadFilter): number {
  const edges = filter.polygon?.length ?? 0;
  return edges <= 64 ? kChunkRows : Math.max(1024, Math.min(kChunkRows, Math.floor((kChunkRows * 64) / edges)));
}

/**
 * Pushes `add` + each row of `seg` passing `filter` into `list`, ascending: the kernel over `chunk` rows at a
 * time into `out` (capacity ≥ chunk), the budget checked between chunks; with `windows`, only the rows within
 * ±ms of a target time at their camera. `filter` is compiled over the camera and region dictionaries `seg`
 * uses, so one compiled filter serves every segment sharing them (the blocks of a live view).
 */
export function pushPassingRows(
  k: Kernels, seg: SegmentLayout, filter: CompiledFilter, out: ScanOutput, chunk: number, list: TypedList<Uint32Array>, add: number,
  w: CameraWindows | undefined, budget?: QueryBudget,
): void {
  if (filter.empty || seg.rows === 0) return;
  // the lanes the window test reads, only for a convoy's windows (typed-array views cost per segment)
  const tsAt = w && tsReader(k.memory.buffer, seg);
  const camera = w && cameraReader(k.memory.buffer, seg);
  for (let start = 0; start < seg.rows; start += chunk) {
    budget?.check();
    const n = k.scanSegment(seg, filter, null, out, { start, end: Math.min(seg.rows, start + chunk) });
    if (n === 0) continue;
    const rows = k.rows(out, n);
    for (let j = 0; j < n; j++) {
      const i = rows[j]!;
      if (w) {
        const times = w.byCamera[camera!(i)];
        if (!times || !nearAny(times, tsAt!(i), w.ms)) continue;
      }
      list.push(add + i);
    }
  }
}

/** Whether filter `f`'s window misses [minTs, maxTs] (rows there cannot pass: no set-up, no scan). */
export function windowMisses(f: ReadFilter, minTs: number, maxTs: number): boolean {
  return (f.from !== undefined && f.from > maxTs) || (f.to !== undefined && f.to <= minTs);
}

/** Runs one task with the kernels; throws RangeError when scratch cannot hold it (the caller falls back). */
export function runRowScanTask(k: Kernels, task: RowScanTask, budget?: QueryBudget): RowScanResult {
  const seg = task.layout;
  const out: Uint32Array[] = [];
  const mark = k.scratch.mark();
  try {
    for (const f of task.filters) {
      // empty until a row passes (most lists of a multi-site stay empty: no 4 KiB a list up front)
      const list = uint32List(0);
      // (a multi-site search over 28 days of shards, each site an hour: most pairs of shard and site are empty)
      if (task.span && windowMisses(f, task.span.minTs, task.span.maxTs)) {
        out.push(list.done());
        continue;
      }
      const inner = k.scratch.mark();
      const filter = k.compileFilter(f, { cameras: task.cameras, regions: task.regions, makes: task.makes, colors: task.colors }, seg);
      if (!filter.empty && seg.rows > 0) {
        const chunk = Math.min(chunkRowsFor(f), seg.rows);
        pushPassingRows(k, seg, filter, k.allocOutput(chunk), chunk, list, 0, task.windows, budget);
      }
      k.scratch.release(inner);
      out.push(list.done());
    }
    return { rows: out };
  } finally {
    k.scratch.release(mark);
  }
}
