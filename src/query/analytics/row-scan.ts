/**
 * The engine's row stream for the analytics: every row of the planned sources passing one or more
 * filters, as row indexes per source and filter (the columns are read by src/query/analytics/columns.ts).
 * Unlike search there is no top-k: an analysis groups all of them.
 *
 *   - an exact plate (the convoy target): its rows from each shard's plate → rows index, tested here;
 *   - otherwise a shard no filter reaches (its span and zone maps: shard-reach.ts) is skipped, and the others
 *     are scanned by the WebAssembly kernel (row-scan-task.ts), on the worker pool when the rows to scan
 *     (of the pairs of shard and filter that remain) make the round trip worth it, else on the calling thread;
 *     a shard whose arena has no scratch room gets the JS scan of the executor (same predicates);
 *   - live (unsealed) rows go block by block through the same row-scan task (live-row-scan.ts), or, when the
 *     generation straddles arenas, the executor's JS live scan.
 * The tenant's retention floor is folded into every filter, so nothing past retention is ever returned.
 */
import type { Kernels } from '../../core/kernels.js';
import { uint32List } from '../../core/typed-list.js';
import type { ReadFilter } from '../../model/query.js';
import { QueryBudget } from '../budget.js';
import { rowPasses, scanShard, shardMasks, type Candidate } from '../executor.js';
import { prepareFilter, type PreparedFilter } from '../filter-plan.js';
import { liveRowsPassing, liveRowTest } from '../live-scan.js';
import type { ExecutorPool } from '../pool.js';
import type { Source } from '../sources.js';
import { liveRowScan, liveScansWithKernels } from './live-row-scan.js';
import { nearAny, runRowScanTask, type CameraWindows, type RowScanResult, type RowScanTask } from './row-scan-task.js';
import { filterReachesShard } from './shard-reach.js';

export interface RowScanSpec {
  filters: ReadFilter[];
  /** Only the rows of this (normalised) plate, read through the plate → rows indexes. */
  plate?: string;
  /** Only rows within ±ms of a time in `byCamera.get(row's camera)` (sorted ascending). */
  windows?: { ms: number; byCamera: ReadonlyMap<string, Float64Array> };
}

/** One source's passing rows, per filter of the spec (ascending row indexes). */
export interface SourceRows {
  src: Source;
  rows: ArrayLike<number>[];
}

export interface RowScanEnv {
  /** The calling thread's kernels over an arena (undefined: the JS scan serves). */
  kernelsFor(arena: number): Kernels | undefined;
  /** The worker pool, when there is one. */
  pool(): ExecutorPool | undefined;
  /** Rows to scan below which the calling thread runs the kernels itself (a pool round trip costs more). */
  poolMinRows: number;
  /** Counts shard scans run on the pool (engine stats). */
  countPoolTasks?(n: number): void;
}

/** `f` with the retention floor folded into `from`. */
export function withFloor(f: ReadFilter, minTs: number): ReadFilter {
  const from = Math.max(f.from ?? -Infinity, minTs);
  return Number.isFinite(from) ? { ...f, from } : f;
}

function shardWindows(src: Source & { kind: 'shard' }, w: RowScanSpec['windows']): CameraWindows | undefined {
  if (!w) return undefined;
  return { ms: w.ms, byCamera: src.shard.cameras.map((c) => w.byCamera.get(c) ?? null) };
}

export function rowScanTask(src: Source & { kind: 'shard' }, spec: RowScanSpec): RowScanTask {
  const s = src.shard;
  const task: RowScanTask = {
    layout: s.layout, filters: spec.filters.map((f) => withFloor(f, src.minTs)), cameras: s.cameras, regions: s.regions,
    span: { minTs: s.meta.minTs, maxTs: s.meta.maxTs },
  };
  // the make/color dictionaries travel only when a filter needs them (tasks are posted to workers)
  if (spec.filters.some((f) => f.makes || f.colors)) Object.assign(task, s.attributes());
  const windows = shardWindows(src, spec.windows);
  if (windows) task.windows = windows;
  return task;
}

/** A source's rows of one plate, per filter. */
function plateRows(src: Source, plate: string, spec: RowScanSpec, budget: QueryBudget | undefined): ArrayLike<number>[] {
  const out = spec.filters.map(() => uint32List());
  if (src.kind === 'shard') {
    const d = src.shard.findPlate(plate);
    if (d < 0) return out.map((l) => l.done());
    const rows = src.shard.rowsOfPlate(d);
    spec.filters.forEach((f, k) => {
      const p = prepareFilter(f, src.minTs);
      if (p.empty) return;
      // the executor's row test: time, geo, and camera / region / make / color through the shard's accessors
      const m = shardMasks(src.shard, p);
      if (m.none) return;
      for (const i of rows) {
        budget?.tick();
        if (rowPasses(src.shard, i, p, src.shard.tsAt(i), m)) out[k]!.push(i);
      }
    });
    return windowed(src, out.map((l) => l.done()), spec.windows);
  }
  const view = src.view;
  const code = view.findPlate(plate);
  const rows = code < 0 ? [] : view.rowsOfPlate(code);
  spec.filters.forEach((f, k) => {
    const p = prepareFilter(f, src.minTs);
    if (p.empty) return;
    const test = liveRowTest(view, p);
    if (!test) return;
    for (const i of rows) {
      budget?.tick();
      if (test(i, view.ts(i))) out[k]!.push(i);
    }
  });
  return windowed(src, out.map((l) => l.done()), spec.windows);
}

/** Keeps the rows within a camera window (for the paths that do not run row-scan-task). */
function windowed(src: Source, lists: Uint32Array[], w: RowScanSpec['windows']): Uint32Array[] {
  if (!w) return lists;
  return lists.map((rows) => {
    const keep = uint32List();
    for (const i of rows) {
      const camera = src.kind === 'shard' ? src.shard.cameras[src.shard.camera(i)]! : src.view.camera(i);
      const ts = src.kind === 'shard' ? src.shard.tsAt(i) : src.view.ts(i);
      const times = w.byCamera.get(camera);
      if (times && nearAny(times, ts, w.ms)) keep.push(i);
    }
    return keep.done();
  });
}

/** The JS scans (live rows, or a shard without kernels), per filter. */
function jsRows(src: Source, spec: RowScanSpec, budget: QueryBudget | undefined): Uint32Array[] {
  const lists = spec.filters.map((f) => {
    // both visit rows in row order, so the lists come out ascending
    if (src.kind === 'live') return liveRowsPassing(src.view, prepareFilter(f, src.minTs), budget ? () => budget.tick() : undefined);
    const l = uint32List();
    scanShard(src, undefined, undefined, f, (c: Candidate) => l.push(c.row), undefined, budget);
    return l.done();
  });
  return windowed(src, lists, spec.windows);
}

/**
 * Every source's passing rows. Shards must stay resident until the caller is done reading the rows'
 * columns: the engine pins them around this call and the reading (StoreEngine.scanRows).
 */
export async function scanRows(env: RowScanEnv, sources: readonly Source[], spec: RowScanSpec, signal?: AbortSignal): Promise<SourceRows[]> {
  const budget = QueryBudget.of(signal);
  const out: SourceRows[] = [];
  if (spec.plate !== undefined) {
    for (const src of sources) {
      budget?.check();
      out.push({ src, rows: plateRows(src, spec.plate, spec, budget) });
    }
    return out;
  }
  // a shard no filter reaches (its span or zone maps miss them all: shard-reach.ts) is skipped, and only the
  // pairs of shard and filter that remain count as work (a multi-site's sites each reach a shard or two)
  // (filters prepared once per retention floor: a polygon's box costs its edges)
  const prepared = new Map<number, PreparedFilter[]>();
  const preparedFor = (minTs: number) => {
    let ps = prepared.get(minTs);
    if (!ps) prepared.set(minTs, (ps = spec.filters.map((f) => prepareFilter(f, minTs))));
    return ps;
  };
  const unreached = new Set<Source>();
  let work = 0;
  const shards = sources.filter((s): s is Source & { kind: 'shard' } => {
    if (s.kind !== 'shard' || s.shard.rows === 0) return false;
    const reaching = preparedFor(s.minTs).reduce((n, p) => n + (filterReachesShard(s, p) ? 1 : 0), 0);
    if (reaching === 0) unreached.add(s);
    work += s.shard.rows * reaching;
    return reaching > 0;
  });
  const pool = shards.length > 0 && work >= env.poolMinRows ? env.pool() : undefined;
  const done = new Map<Source, RowScanResult>();
  if (pool) {
    const results = await pool.runRowScans(shards.map((s) => rowScanTask(s, spec)), signal);
    shards.forEach((s, i) => {
      if (results[i]) done.set(s, results[i]!);
    });
    env.countPoolTasks?.(done.size);
  }
  for (const src of sources) {
    budget?.check();
    const pre = done.get(src);
    if (pre) {
      out.push({ src, rows: pre.rows });
      continue;
    }
    if (src.kind === 'shard') {
      if (src.shard.rows === 0 || unreached.has(src)) continue;
      const k = env.kernelsFor(src.shard.layout.arena);
      if (k) {
        try {
          out.push({ src, rows: runRowScanTask(k, rowScanTask(src, spec), budget).rows });
          continue;
        } catch (err) {
          if (!(err instanceof RangeError)) throw err; // scratch too small: the JS scan below
        }
      }
    } else if (liveScansWithKernels(src.view)) {
      const k = env.kernelsFor(src.view.cols.arena);
      if (k) {
        try {
          out.push({ src, rows: liveRowScan(k, src.view, spec.filters.map((f) => withFloor(f, src.minTs)), spec.windows, budget) });
          continue;
        } catch (err) {
          if (!(err instanceof RangeError)) throw err; // scratch too small: the JS scan below
        }
      }
    }
    out.push({ src, rows: jsRows(src, spec, budget) });
  }
  return out;
}
