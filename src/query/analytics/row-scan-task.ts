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
import type { Kernels } from '../../core/kernels.js';
import { codeLane, tsReader, type SegmentLayout } from '../../core/segment.js';
import { uint32List } from '../../core/typed-list.js';
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

/** A growable u32 list (millions of row indexes: no boxed numbers). */
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

/** Rows per call under a polygon: each row in its box costs every edge, and the budget is checked between calls. */
function chunkRowsFor(filter: ReadFilter): number {
  const edges = filter.polygon?.length ?? 0;
  return edges <= 64 ? kChunkRows : Math.max(1024, Math.min(kChunkRows, Math.floor((kChunkRows * 64) / edges)));
}

/** Runs one task with the kernels; throws RangeError when scratch cannot hold it (the caller falls back). */
export function runRowScanTask(k: Kernels, task: RowScanTask, budget?: QueryBudget): RowScanResult {
  const seg = task.layout;
  const out: Uint32Array[] = [];
  const mark = k.scratch.mark();
  try {
    const tsAt = tsReader(k.memory.buffer, seg);
    const camera = codeLane(k.memory.buffer, seg.camera, seg.cameraWidth, seg.rows);
    const w = task.windows;
    for (const f of task.filters) {
      const list = uint32List();
      // (a multi-site search over 28 days of shards, each site an hour: most pairs of shard and site are empty)
      if (task.span && ((f.from !== undefined && f.from > task.span.maxTs) || (f.to !== undefined && f.to <= task.span.minTs))) {
        out.push(list.done());
        continue;
      }
      const inner = k.scratch.mark();
      const filter = k.compileFilter(f, { cameras: task.cameras, regions: task.regions });
      if (!filter.empty && seg.rows > 0) {
        const cap = Math.min(chunkRowsFor(f), seg.rows);
        const buf = k.allocOutput(cap);
        for (let start = 0; start < seg.rows; start += cap) {
          budget?.check();
          const n = k.scanSegment(seg, filter, null, buf, { start, end: Math.min(seg.rows, start + cap) });
          if (n === 0) continue;
          const rows = k.rows(buf, n);
          for (let j = 0; j < n; j++) {
            const i = rows[j]!;
            if (w) {
              const times = w.byCamera[camera[i]!];
              if (!times || !nearAny(times, tsAt(i), w.ms)) continue;
            }
            list.push(i);
          }
        }
      }
      k.scratch.release(inner);
      out.push(list.done());
    }
    return { rows: out };
  } finally {
    k.scratch.release(mark);
  }
}
