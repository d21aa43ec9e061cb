/**
 * The cloned-plates analysis' unit of engine work (cloned.ts builds and merges them): every plate whose
 * order key (plate-order.ts) lies in one range, over all the planned shards and live views (read in place:
 * live-cloned-part.ts; or rows the caller ordered, live-cloned-rows.ts), run on a pool worker (src/query/worker.ts, `runClonedBatch`) or on the calling thread. Only the
 * plates found cloned travel back; no row id, plate id or column goes to the calling thread.
 *
 * A shard's dictionary is sorted by plate, so grouping a shard's passing rows by dictionary entry (a
 * counting sort, shardRun) lays them out by plate in key order: a run. A merge of the runs (a heap keyed by
 * plate key) meets each plate once with its rows of every shard, with no hash table and no string; a plate
 * with two or more passing rows has them gathered, put in read order (ts, then id = (tenant ordinal, seq);
 * seq read only on equal times) and its consecutive pairs tested: first the bound of pair-bound.ts, then
 * the reference's haversine on the stored coordinates.
 *
 * Which rows pass the query's filter: the row scan's kernel (row-scan-task.ts) marks them, unless the shard
 * lies inside the time window and the filter has nothing else (then every row does).
 */
import type { Kernels } from '../../core/kernels.js';
import { coordReader, plateCodeReader, kCoordScale, kPlateSlotBytes, segmentSeqReader, tsReader } from '../../core/segment.js';
import { speedKmh } from '../../model/analytics.js';
import type { ReadFilter } from '../../model/query.js';
import type { QueryBudget } from '../budget.js';
import { haversineM } from '../reference/geo.js';
import { float64List } from '../../core/typed-list.js';
import { lowerBound } from '../../core/sorted-search.js';
import { cannotPair } from './pair-bound.js';
import { slotOrderKey } from './plate-order.js';
import { runRowScanTask, type RowScanTask } from './row-scan-task.js';
import { livePartRuns, type ClonedLivePart } from './live-cloned-part.js';
import { plateIdLaneAt, plateIdReader, type PlateIdWidth } from '../../store/plate-id-lane.js';

export interface ClonedShardPart {
  /** The shard and its filter (the query's, with the tenant's retention floor folded in), as the row scan takes them. */
  scan: RowScanTask;
  ordinal: number;
  /** The shard's index among the caller's sources: the answer names rows by (source, row). */
  source: number;
  /**
   * Where the shard's plate slots are read once it has dropped its own (LoadedShard.slotsThrough): code d's
   * slot is slot ids[d] of its tenant's dictionary, each in its arena (in the task's `arenas`).
   */
  through?: { dictArena: number; dict: number; dictCount: number; idsArena: number; ids: number; idsWidth: PlateIdWidth };
}

/** Live rows passing the filter, ascending by plate key, copied: a view whose rows are not all in one arena (live-cloned-rows.ts). */
export interface ClonedLiveRows {
  key: Float64Array;
  ts: Float64Array;
  lat: Int32Array;
  lon: Int32Array;
  ordinal: Int32Array;
  seq: Float64Array;
  source: Int32Array;
  row: Uint32Array;
}

export interface ClonedTask {
  /** For the pool: the rows of every shard (balancing) and the arena of the first; `arenas` all of them. */
  layout: { rows: number; arena: number };
  arenas: number[];
  /** Oldest first: a plate's rows are then gathered nearly in read order. */
  shards: ClonedShardPart[];
  live: ClonedLiveRows;
  /** The live views read in place in their arenas (live-cloned-part.ts): the usual case. */
  liveParts: ClonedLivePart[];
  /** The task's plates: order keys in [keyLo, keyHi). */
  keyLo: number;
  keyHi: number;
  maxSpeedKmh: number;
  minDistanceM: number;
}

/** Per plate found cloned, kFoundWidth numbers: key, pairs, fastest speed, then (source, row) of each read of its fastest pair. */
export interface ClonedTaskResult {
  found: Float64Array;
}
export const kFoundWidth = 7;

/**
 * One shard's (or the live rows') passing rows of the task's plates, grouped by plate in ascending key
 * order: group g is plate keys[g], its rows k in [bounds[g], bounds[g + 1]).
 *
 * Row k is 4 words of `rec` at 4k: its ts − base (as u32), stored lat and lon, and idx (the shard row, or the
 * index into the live rows); one cache line holds 4 rows, so placing rows at random (shardRun) misses once a
 * row, not once per column. A run whose times span 2^32 ms or more keeps them in `tsWide` instead.
 */
export interface Run {
  keys: Float64Array;
  bounds: Int32Array;
  rec: Int32Array;
  base: number;
  tsWide: Float64Array | null;
  /** A row's id parts (read on equal times only) and where it is, by idx. */
  ordinalOf(idx: number): number;
  seqOf(idx: number): number;
  sourceOf(idx: number): number;
  rowOf(idx: number): number;
}

/** Whether every row of the shard passes `f`: only a time window, and the shard's span inside it. */
function passesWhole(f: ReadFilter, span: RowScanTask['span']): boolean {
  if (f.bbox || f.near || f.polygon || f.cameras || f.regions || f.makes || f.colors || !span) return false;
  return (f.from === undefined || f.from <= span.minTs) && (f.to === undefined || span.maxTs < f.to);
}

/** Per row of the shard, non-zero when it passes the part's filter (the row scan's kernel). */
function passingRows(k: Kernels, part: ClonedShardPart, budget: QueryBudget | undefined): Uint8Array {
  const rows = runRowScanTask(k, part.scan, budget).rows[0]!;
  const pass = new Uint8Array(part.scan.layout.rows);
  for (let j = 0; j < rows.length; j++) pass[rows[j]!] = 1;
  return pass;
}

/** The first dictionary entry whose key is ≥ key (the dictionary is sorted by plate). */
function firstEntry(keyAt: (d: number) => number, count: number, key: number): number {
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyAt(mid) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A shard's run: a counting sort of its passing rows of the task's plates by dictionary entry, in two
 * sequential passes over the rows (count; then place each row's time, position and index at its entry's
 * next slot), so rows stay in row order within an entry (hour by hour: nearly read order). Reading a
 * plate's rows through the plate → rows lane instead costs a cache miss per lane per row once shards
 * outgrow the cache: it was about 1.5 times slower in all at 300,000-row shards.
 */
/**
 * The order key of a shard's dictionary entry: from its own slots, or (`through`) from its tenant
 * dictionary's slot of that code. Throws RangeError without kernels over those arenas.
 */
function slotKeys(kernelsOf: (arena: number) => Kernels | undefined, k: Kernels, part: ClonedShardPart): (d: number) => number {
  const seg = part.scan.layout, t = part.through;
  if (!t) {
    const slots = new Uint8Array(k.memory.buffer, seg.dict, seg.dictCount * kPlateSlotBytes);
    return (d) => slotOrderKey(slots, d);
  }
  const kd = kernelsOf(t.dictArena), ki = kernelsOf(t.idsArena);
  if (!kd || !ki) throw new RangeError('no kernels over the arena of a tenant dictionary');
  const slots = new Uint8Array(kd.memory.buffer, t.dict, t.dictCount * kPlateSlotBytes);
  const ids = plateIdReader(plateIdLaneAt(ki.memory.buffer, t.ids, seg.dictCount, t.idsWidth));
  return (d) => slotOrderKey(slots, ids(d));
}

function shardRun(k: Kernels, keyAt: (d: number) => number, part: ClonedShardPart, keyLo: number, keyHi: number, budget: QueryBudget | undefined): Run {
  const seg = part.scan.layout;
  const buf = k.memory.buffer;
  if (seg.seq === undefined) throw new RangeError('a shard without a seq lane');
  const rows = seg.rows;
  const plate = plateCodeReader(buf, seg.plate, seg.plateWidth, rows, seg.plateBits);
  const pass = passesWhole(part.scan.filters[0]!, part.scan.span) ? null : passingRows(k, part, budget);
  const d0 = firstEntry(keyAt, seg.dictCount, keyLo);
  const entries = firstEntry(keyAt, seg.dictCount, keyHi) - d0;
  // 1. rows per entry (at[e + 1]), then each entry's first slot (at[e])
  const at = new Int32Array(entries + 1);
  for (let i = 0; i < rows; i++) {
    budget?.tick();
    const e = plate(i) - d0;
    if (e >= 0 && e < entries && (pass === null || pass[i] !== 0)) at[e + 1]!++;
  }
  let groups = 0;
  for (let e = 0; e < entries; e++) {
    if (at[e + 1]! > 0) groups++;
    at[e + 1]! += at[e]!;
  }
  const keys = new Float64Array(groups), bounds = new Int32Array(groups + 1);
  for (let e = 0, g = 0; e < entries; e++) {
    if (at[e + 1] === at[e]) continue;
    keys[g] = keyAt(d0 + e);
    if (g > 0 && keys[g]! <= keys[g - 1]!) throw new Error('a shard plate dictionary out of order');
    bounds[++g] = at[e + 1]!;
  }
  // 2. each row at its entry's next slot
  const n = at[entries]!;
  const rec = new Int32Array(4 * n);
  const lats = coordReader(buf, seg, 'lat'), lons = coordReader(buf, seg, 'lon');
  // times as u32 offsets: the ts lane's own (a day shard's; u24 lanes add their run's base), else from the
  // shard's first time if they fit
  const ts32 = seg.tsWidth === 4 ? new Uint32Array(buf, seg.ts, rows) : null;
  const dayOffsets = ts32 !== null || seg.tsWidth === 3;
  const span = part.scan.span;
  const base = dayOffsets ? seg.tsBase ?? 0 : span?.minTs ?? 0;
  const tsAt = tsReader(buf, seg);
  const tsWide = dayOffsets || (span && span.maxTs - base < 2 ** 32) ? null : new Float64Array(n);
  for (let i = 0; n > 0 && i < rows; i++) {
    budget?.tick();
    const e = plate(i) - d0;
    if (e < 0 || e >= entries || (pass !== null && pass[i] === 0)) continue;
    const o = at[e]!++;
    const w = 4 * o;
    if (ts32 !== null) rec[w] = ts32[i]!;
    else if (tsWide === null) rec[w] = tsAt(i) - base;
    else tsWide[o] = tsAt(i);
    rec[w + 1] = lats(i);
    rec[w + 2] = lons(i);
    rec[w + 3] = i;
  }
  const seqAt = segmentSeqReader(buf, seg);
  return {
    keys, bounds, rec, base, tsWide,
    ordinalOf: () => part.ordinal, seqOf: (i) => seqAt(i), sourceOf: () => part.source, rowOf: (i) => i,
  };
}

/** The live rows' run: they come ordered by key; the task's are one slice, grouped by equal keys. */
function liveRun(live: ClonedLiveRows, keyLo: number, keyHi: number): Run {
  const from = lowerBound(live.key, keyLo), to = lowerBound(live.key, keyHi);
  let groups = 0;
  for (let k = from; k < to; k++) if (k === from || live.key[k] !== live.key[k - 1]) groups++;
  const keys = new Float64Array(groups), bounds = new Int32Array(groups + 1);
  for (let k = from, g = 0; k < to; k++) {
    if (k === from || live.key[k] !== live.key[k - 1]) keys[g++] = live.key[k]!;
    bounds[g] = k + 1 - from;
  }
  let base = Infinity, last = -Infinity;
  for (let k = from; k < to; k++) {
    base = Math.min(base, live.ts[k]!);
    last = Math.max(last, live.ts[k]!);
  }
  const tsWide = last - base < 2 ** 32 ? null : live.ts.slice(from, to);
  const rec = new Int32Array(4 * (to - from));
  for (let k = from, w = 0; k < to; k++, w += 4) {
    if (tsWide === null) rec[w] = live.ts[k]! - base;
    rec[w + 1] = live.lat[k]!;
    rec[w + 2] = live.lon[k]!;
    rec[w + 3] = k;
  }
  return {
    keys, bounds, rec, base, tsWide,
    ordinalOf: (k) => live.ordinal[k]!, seqOf: (k) => live.seq[k]!, sourceOf: (k) => live.source[k]!, rowOf: (k) => live.row[k]!,
  };
}

/**
 * The runs merged by key: a binary min-heap of run indexes on each run's current key (`key[r]`, the key of
 * its group `group[r]`).
 */
class RunMerge {
  readonly group: Int32Array;
  readonly key: Float64Array;
  private readonly heap: Int32Array;
  size = 0;

  constructor(private readonly runs: readonly Run[]) {
    this.group = new Int32Array(runs.length);
    this.key = new Float64Array(runs.length);
    this.heap = new Int32Array(runs.length);
    for (let r = 0; r < runs.length; r++) this.enter(r);
  }

  top(): number {
    return this.heap[0]!;
  }

  /** Puts run r back at its current group, if it has one left. */
  enter(r: number): void {
    const run = this.runs[r]!;
    const g = this.group[r]!;
    if (g >= run.keys.length) return;
    const k = (this.key[r] = run.keys[g]!);
    const h = this.heap, key = this.key;
    let i = this.size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (key[h[up]!]! <= k) break;
      h[i] = h[up]!;
      i = up;
    }
    h[i] = r;
  }

  /** Removes the top run. */
  pop(): void {
    const h = this.heap, key = this.key;
    const r = h[--this.size]!;
    const n = this.size, k = key[r]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && key[h[c + 1]!]! < key[h[c]!]!) c++;
      if (key[h[c]!]! >= k) break;
      h[i] = h[c]!;
      i = c;
    }
    if (n > 0) h[i] = r;
  }
}

/** One plate's passing rows of every run, to be put in read order: `run` and `idx` say where each is from. */
class Gathered {
  n = 0;
  ts = new Float64Array(64);
  lat = new Int32Array(64);
  lon = new Int32Array(64);
  run = new Int32Array(64);
  idx = new Uint32Array(64);
  perm = new Int32Array(64);

  /** Room for n rows. */
  reserve(n: number): void {
    if (n <= this.ts.length) return;
    const size = Math.max(n, 2 * this.ts.length);
    this.ts = new Float64Array(size);
    this.lat = new Int32Array(size);
    this.lon = new Int32Array(size);
    this.run = new Int32Array(size);
    this.idx = new Uint32Array(size);
    this.perm = new Int32Array(size);
  }

  /** Appends group g of run r. */
  add(run: Run, r: number, g: number): void {
    const rec = run.rec, base = run.base, wide = run.tsWide;
    let o = this.n;
    for (let k = run.bounds[g]!, end = run.bounds[g + 1]!; k < end; k++, o++) {
      const w = 4 * k;
      this.ts[o] = wide === null ? base + (rec[w]! >>> 0) : wide[k]!;
      this.lat[o] = rec[w + 1]!;
      this.lon[o] = rec[w + 2]!;
      this.run[o] = r;
      this.idx[o] = rec[w + 3]!;
    }
    this.n = o;
  }
}

/** Whether gathered row a comes after b in read order: ts, then id = (tenant ordinal, seq). */
function after(g: Gathered, runs: readonly Run[], a: number, b: number): boolean {
  const d = g.ts[a]! - g.ts[b]!;
  if (d !== 0) return d > 0;
  const ra = runs[g.run[a]!]!, rb = runs[g.run[b]!]!;
  const oa = ra.ordinalOf(g.idx[a]!), ob = rb.ordinalOf(g.idx[b]!);
  if (oa !== ob) return oa > ob;
  return ra.seqOf(g.idx[a]!) > rb.seqOf(g.idx[b]!);
}

/**
 * Puts g.perm[0, n) in read order. The rows arrive nearly in order (runs oldest first, a shard's rows hour by
 * hour), so an insertion sort is about linear and allocates nothing; one far from order goes to the library sort.
 */
function order(g: Gathered, runs: readonly Run[]): void {
  const perm = g.perm, n = g.n;
  for (let k = 0; k < n; k++) perm[k] = k;
  let moves = 0;
  const limit = 4 * n + 64;
  for (let i = 1; i < n; i++) {
    const x = perm[i]!;
    let j = i - 1;
    while (j >= 0 && after(g, runs, perm[j]!, x)) {
      perm[j + 1] = perm[j]!;
      j--;
      if (++moves > limit) {
        perm[j + 1] = x; // a permutation again
        perm.set(Array.from(perm.subarray(0, n)).sort((a, b) => (after(g, runs, a, b) ? 1 : after(g, runs, b, a) ? -1 : 0)));
        return;
      }
    }
    perm[j + 1] = x;
  }
}

/**
 * The pairs of one plate's gathered rows: put in read order, consecutive ones tested (the bound first, then
 * the reference's haversine on the stored coordinates). `at`: the later read of the fastest pair (the
 * earliest of equally fast ones) in g.perm.
 */
function pairsOf(g: Gathered, runs: readonly Run[], minDistanceM: number, maxSpeedKmh: number): { pairs: number; speed: number; at: number } {
  order(g, runs);
  const { ts, lat, lon, perm } = g;
  let pairs = 0, at = -1, speed = 0;
  for (let j = 1; j < g.n; j++) {
    const a = perm[j - 1]!, b = perm[j]!;
    const dt = ts[b]! - ts[a]!;
    if (cannotPair(lat[b]! - lat[a]!, lon[b]! - lon[a]!, dt, minDistanceM, maxSpeedKmh)) continue;
    const d = haversineM(lat[a]! / kCoordScale, lon[a]! / kCoordScale, lat[b]! / kCoordScale, lon[b]! / kCoordScale);
    if (d < minDistanceM) continue;
    const v = speedKmh(d, dt);
    if (!(v > maxSpeedKmh)) continue;
    pairs++;
    if (at < 0 || v > speed) {
      at = j;
      speed = v;
    }
  }
  return { pairs, speed, at };
}

/**
 * Runs one task. `kernelsOf(arena)` gives this thread's kernels over an arena; none (no scratch room) throws
 * RangeError, as the row scan does when scratch cannot hold it: the caller runs the task another way.
 */
export function runClonedTask(kernelsOf: (arena: number) => Kernels | undefined, task: ClonedTask, budget?: QueryBudget): ClonedTaskResult {
  const runs: Run[] = [];
  for (const part of task.shards) {
    const k = kernelsOf(part.scan.layout.arena);
    if (!k) throw new RangeError('no kernels over the arena of a shard');
    runs.push(shardRun(k, slotKeys(kernelsOf, k, part), part, task.keyLo, task.keyHi, budget));
  }
  for (const part of task.liveParts) {
    const k = kernelsOf(part.arena);
    if (!k) throw new RangeError('no kernels over the arena of a live view');
    runs.push(...livePartRuns(k.memory.buffer, part, task.keyLo, task.keyHi, budget));
  }
  if (task.live.key.length > 0) runs.push(liveRun(task.live, task.keyLo, task.keyHi));

  const merge = new RunMerge(runs);
  const found = float64List(64);
  const g = new Gathered();
  // the runs at the current plate, ascending (oldest first)
  const members = new Int32Array(runs.length);
  const { minDistanceM, maxSpeedKmh } = task;
  const { group, key: keyOf } = merge;
  while (merge.size > 0) {
    budget?.tick();
    // one plate (the smallest key left): its group in every run that has it
    const key = keyOf[merge.top()]!;
    let m = 0, total = 0;
    while (merge.size > 0 && keyOf[merge.top()] === key) {
      const r = merge.top();
      let j = m++;
      for (; j > 0 && members[j - 1]! > r; j--) members[j] = members[j - 1]!;
      members[j] = r;
      const b = runs[r]!.bounds;
      total += b[group[r]! + 1]! - b[group[r]!]!;
      merge.pop();
    }
    if (total >= 2) {
      g.reserve(total);
      g.n = 0;
      for (let j = 0; j < m; j++) g.add(runs[members[j]!]!, members[j]!, group[members[j]!]!);
      const best = pairsOf(g, runs, minDistanceM, maxSpeedKmh);
      if (best.pairs > 0) {
        const a = g.perm[best.at - 1]!, b = g.perm[best.at]!;
        const ra = runs[g.run[a]!]!, rb = runs[g.run[b]!]!;
        found.push(key);
        found.push(best.pairs);
        found.push(best.speed);
        found.push(ra.sourceOf(g.idx[a]!));
        found.push(ra.rowOf(g.idx[a]!));
        found.push(rb.sourceOf(g.idx[b]!));
        found.push(rb.rowOf(g.idx[b]!));
      }
    }
    for (let j = 0; j < m; j++) {
      const r = members[j]!;
      group[r]!++;
      merge.enter(r);
    }
  }
  return { found: found.done() };
}
