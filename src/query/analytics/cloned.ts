/**
 * Cloned plates (API.md `POST /v1/analytics/cloned`) in the engine: the plates are split into ranges of
 * their order key (plate-order.ts), a few per pool worker, and each range is one task over every planned
 * shard (cloned-task.ts): the worker groups each shard's passing rows by plate through the shard's plate →
 * rows lane, merges the shards by plate, orders each plate's rows and tests its consecutive pairs. Only
 * the plates found come back; this thread names them and materialises their fastest pair as hits.
 *
 * Live (unsealed) rows are not in a shard: this thread scans them (the kernels' row scan) and hands every
 * task the passing rows and the view's plates in key order (live-cloned-part.ts); each task groups the
 * ones of its range by plate where they lie, in arena memory, as it groups a shard's. A view not all in one
 * arena is ordered here instead and its rows copied into the tasks (live-cloned-rows.ts). When live rows
 * outnumber the shards' rows the key ranges are cut at quantiles of the live plates, so a tenant whose
 * reads are all live still spreads over the pool.
 *
 * Without kernels over some arena, or a shard without a plate → rows lane, the analysis is done from the
 * row stream instead (cloned-rows.ts); both give the reference's answer.
 */
import { lowerBound } from '../../core/sorted-search.js';
import { comparePlates, type ClonedQuery, type ClonedResult, type ClonedRow } from '../../model/analytics.js';
import type { QueryBudget } from '../budget.js';
import { materialise } from '../executor.js';
import type { Source } from '../sources.js';
import { runClonedFromRows } from './cloned-rows.js';
import { kFoundWidth, runClonedTask, type ClonedLiveRows, type ClonedShardPart, type ClonedTask, type ClonedTaskResult } from './cloned-task.js';
import { cutRows, type AnalysisContext, type AnalysisEngine } from './context.js';
import { clonedLivePart, livePartQuantiles, livePartRowsIn, type ClonedLivePart } from './live-cloned-part.js';
import { liveRowsByPlate, passingLiveRows } from './live-cloned-rows.js';
import { liveScansWithKernels } from './live-row-scan.js';
import { kPlateOrderEnd, plateOfOrderKey, plateOrderKey } from './plate-order.js';
import { rowScanTask } from './row-scan.js';

type ShardSource = Source & { kind: 'shard' };

/** Key ranges per pool worker: more than one, so a worker done early takes another. */
const kRangesPerThread = 2;
/**
 * A row costs this analysis some 50 times what it costs a kernel scan (grouping, ordering, pair tests in
 * JS), so the pool pays off at that many times fewer rows than the engine's `poolMinRows` (set for scans).
 */
const kRowCostOverScan = 50;

export async function runCloned(ctx: AnalysisContext, q: ClonedQuery): Promise<ClonedResult> {
  const found = ctx.engine ? await findByTasks(ctx.engine, q, ctx.budget) : undefined;
  if (!found) return runClonedFromRows(ctx, q);
  found.sort((a, b) => b.pairs - a.pairs || comparePlates(a.plate, b.plate));
  return cutRows(found, q.limit);
}

/** The live rows with keys in [lo, hi), copied (a task is cloned to its worker: a view would take the whole buffer). */
function liveIn(live: ClonedLiveRows, lo: number, hi: number): ClonedLiveRows {
  const from = lowerBound(live.key, lo), to = lowerBound(live.key, hi);
  return {
    key: live.key.slice(from, to), ts: live.ts.slice(from, to), lat: live.lat.slice(from, to), lon: live.lon.slice(from, to),
    ordinal: live.ordinal.slice(from, to), seq: live.seq.slice(from, to), source: live.source.slice(from, to), row: live.row.slice(from, to),
  };
}

/**
 * `parts` key ranges as bounds [0, …, kPlateOrderEnd], split at quantiles of the largest shard's dictionary,
 * or, when there are more live rows than shard rows, of the largest live view's plates (or copied rows' keys).
 */
function keyBounds(shards: readonly ShardSource[], live: ClonedLiveRows, liveParts: readonly ClonedLivePart[], parts: number): number[] {
  const bounds = [0];
  const push = (k: number) => {
    if (k > bounds[bounds.length - 1]!) bounds.push(k);
  };
  const shardRows = shards.reduce((n, s) => n + s.shard.rows, 0);
  const n = live.key.length;
  const largestPart = liveParts.reduce<ClonedLivePart | undefined>((m, p) => (!m || p.rows.length > m.rows.length ? p : m), undefined);
  const partRows = liveParts.reduce((r, p) => r + p.rows.length, 0);
  if (n + partRows > shardRows && largestPart && largestPart.rows.length >= n) {
    livePartQuantiles(largestPart, parts).forEach(push);
  } else if (n + partRows > shardRows) {
    for (let t = 1; t < parts; t++) push(live.key[Math.floor((t * n) / parts)]!);
  } else {
    const largest = shards.reduce<ShardSource | undefined>((m, s) => (!m || s.shard.layout.dictCount > m.shard.layout.dictCount ? s : m), undefined);
    const dict = largest?.shard.layout.dictCount ?? 0;
    for (let t = 1; t < parts && dict > 0; t++) push(plateOrderKey(largest!.shard.plateAt(Math.floor((t * dict) / parts))));
  }
  bounds.push(kPlateOrderEnd);
  return bounds;
}

function seqOf(src: Source, row: number): number {
  return src.kind === 'shard' ? src.shard.seqAt(row) : src.view.seq(row);
}

function hit(src: Source, row: number) {
  const ts = src.kind === 'shard' ? src.shard.tsAt(row) : src.view.ts(row);
  return materialise({ distance: 0, ts, ordinal: src.ordinal, seq: seqOf(src, row), source: src, row });
}

/** Live views read in place by cloned tasks (live-cloned-part.ts), since the process started (tests). */
export const clonedLiveParts = { count: 0 };

/** Shard parts whose slots a cloned task read through their tenant's dictionary, since the process started (tests). */
export const clonedPartsThrough = { count: 0 };

/** The cloned plates (unordered), or undefined when the tasks cannot run here (cloned-rows.ts then answers). */
async function findByTasks(e: AnalysisEngine, q: ClonedQuery, budget: QueryBudget | undefined): Promise<ClonedRow[] | undefined> {
  const shards = e.sources
    .map((src, si) => ({ src, si }))
    .filter((x): x is { src: ShardSource; si: number } => x.src.kind === 'shard' && x.src.shard.rows > 0)
    .sort((a, b) => a.src.shard.meta.minTs - b.src.shard.meta.minTs || a.si - b.si);
  if (shards.some(({ src }) => src.shard.layout.postings === undefined || src.shard.layout.seq === undefined)) return undefined;
  // live views in one arena are read in place by the tasks; any other's rows are ordered and copied here
  const liveParts: ClonedLivePart[] = [];
  e.sources.forEach((src, si) => {
    if (src.kind !== 'live' || !liveScansWithKernels(src.view)) return;
    liveParts.push(clonedLivePart(src.view, passingLiveRows(src, q.filter, e.env, budget), src.ordinal, si));
  });
  clonedLiveParts.count += liveParts.length;
  const inPlace = new Set(liveParts.map((p) => p.source));
  const live = liveRowsByPlate(e.sources, q.filter, e.env, budget, (si) => !inPlace.has(si));
  const rows = shards.reduce((n, { src }) => n + src.shard.rows, 0) + live.key.length + liveParts.reduce((n, p) => n + p.rows.length, 0);
  // a task needs kernels over some arena on its worker: the shards' or, with none, the live rows' (copied
  // into the task, not read there)
  const liveArena = e.sources.find((s): s is Source & { kind: 'live' } => s.kind === 'live' && s.view.cols.arena >= 0)?.view.cols.arena;
  const anyArena = shards.length > 0 || liveArena !== undefined;
  const pool = anyArena && rows * kRowCostOverScan >= e.env.poolMinRows ? e.env.pool() : undefined;
  // the tasks read the shards' dictionaries in arena memory (key ranges), a covered shard's through its
  // tenant's (LoadedShard.slotsThrough): the shards stay pinned, so their maps and dictionaries stay
  for (const { src } of shards) src.shard.pin();
  try {
    return await runClonedTasks(e, q, shards, live, liveParts, liveArena, pool, budget);
  } finally {
    for (const { src } of shards) src.shard.unpin();
  }
}

async function runClonedTasks(
  e: AnalysisEngine, q: ClonedQuery, shards: ReadonlyArray<{ src: ShardSource; si: number }>, live: ClonedLiveRows, liveParts: ClonedLivePart[],
  liveArena: number | undefined, pool: ReturnType<AnalysisEngine['env']['pool']>, budget: QueryBudget | undefined,
): Promise<ClonedRow[] | undefined> {
  const bounds = keyBounds(shards.map((x) => x.src), live, liveParts, pool ? pool.threads * kRangesPerThread : 1);
  const spec = { filters: [q.filter] };
  const parts = shards.map(({ src, si }): ClonedShardPart => {
    const part: ClonedShardPart = { scan: rowScanTask(src, spec), ordinal: src.ordinal, source: si };
    const through = src.shard.slotsDropped ? src.shard.slotsThrough() : undefined;
    if (through) {
      part.through = through;
      clonedPartsThrough.count++;
    }
    return part;
  });
  const arenas = [...new Set(parts.flatMap((p) => (p.through ? [p.scan.layout.arena, p.through.dictArena, p.through.idsArena] : [p.scan.layout.arena])))];
  for (const p of liveParts) if (!arenas.includes(p.arena)) arenas.push(p.arena);
  if (arenas.length === 0 && liveArena !== undefined) arenas.push(liveArena);
  const shardRows = shards.reduce((n, { src }) => n + src.shard.rows, 0);
  const tasks: ClonedTask[] = [];
  for (let t = 0; t + 1 < bounds.length; t++) {
    const liveRows = liveIn(live, bounds[t]!, bounds[t + 1]!);
    const partRows = liveParts.reduce((n, p) => n + livePartRowsIn(p, bounds[t]!, bounds[t + 1]!), 0);
    tasks.push({
      layout: { rows: shardRows + liveRows.key.length + partRows, arena: arenas[0] ?? 0 }, arenas, shards: parts, live: liveRows, liveParts,
      keyLo: bounds[t]!, keyHi: bounds[t + 1]!, maxSpeedKmh: q.maxSpeedKmh, minDistanceM: q.minDistanceM,
    });
  }
  const results: Array<ClonedTaskResult | undefined> = pool ? await pool.runCloned(tasks, e.signal) : [];
  if (pool) e.env.countPoolTasks?.(results.filter((r) => r !== undefined).length);
  const out: ClonedRow[] = [];
  for (let t = 0; t < tasks.length; t++) {
    let r = results[t];
    if (!r) {
      try {
        r = runClonedTask((a) => e.env.kernelsFor(a), tasks[t]!, budget);
      } catch (err) {
        if (err instanceof RangeError) return undefined; // no kernels or scratch here: the row stream's way
        throw err;
      }
    }
    const f = r.found;
    for (let k = 0; k < f.length; k += kFoundWidth) {
      budget?.tick();
      out.push({
        plate: plateOfOrderKey(f[k]!), pairs: f[k + 1]!, maxSpeedKmh: f[k + 2]!,
        example: [hit(e.sources[f[k + 3]!]!, f[k + 4]!), hit(e.sources[f[k + 5]!]!, f[k + 6]!)],
      });
    }
  }
  return out;
}
