/**
 * A live view's share of the cloned-plates tasks (cloned.ts, cloned-task.ts), read where the rows are: the
 * live rows are columnar in arena memory (src/store/live-columns.ts), so a pool worker holding the arena
 * groups them by plate itself, as it groups a shard's, and the calling thread no longer orders them (the
 * counting sort by plate of live-cloned-rows.ts was most of a live cloned query, and it ran while the
 * workers waited: the live/sealed ratio swung 0.73–2.40 under load; docs/storage-v2.md "Live vs sealed,
 * round 6").
 *
 * The calling thread, once per query and view:
 *   - the view's passing rows (the kernels' row scan, live-row-scan.ts), copied once into shared memory,
 *     every task of the query reads the same;
 *   - the view's plates in key order (plate-order.ts): for the codes the generation's sorted plate order
 *     covers (live-plate-order.ts), each code's position and the keys by position, computed once per order
 *     and kept in shared memory; the few codes past it (its unsorted tail) sorted per query.
 * A task, for its key range [keyLo, keyHi): two counting sorts of the passing rows by position (the
 * covered codes, then the tail), each giving a run of the task's plates in key order, the rows placed
 * straight from the block lanes; the task merges them with the shards' runs. Several tasks share the view:
 * each reads every passing row's plate code (a sequential pass) but places only its own.
 *
 * The view is pinned by the caller (StoreEngine.withRows) until the tasks are merged: a seal while they run
 * retires the generation, and its regions are freed only when the last pinned view lets go.
 */
import { lowerBound } from '../../core/sorted-search.js';
import { kLiveBlockRows, kLiveLanes, liveRegions, type LiveView } from '../../store/live-columns.js';
import { livePlateOrder, type LivePlateOrder } from '../../store/live-plate-order.js';
import type { QueryBudget } from '../budget.js';
import type { Run } from './cloned-task.js';
import { plateOrderKey } from './plate-order.js';

const kShift = Math.log2(kLiveBlockRows);
const kMask = kLiveBlockRows - 1;

/** Plates in key order over one code space: code c's position is pos[c] (-1: none), keys[p] ascending. */
interface KeyOrder {
  pos: Int32Array;
  keys: Float64Array;
}

export interface ClonedLivePart {
  /** The generation's arena (in the task's `arenas`) and the arena offset of each of the view's block regions. */
  arena: number;
  blocks: Int32Array;
  /** The view's rows passing the query's filter, ascending (shared memory: every task reads the same). */
  rows: Uint32Array;
  /** Codes [0, pos.length) of the generation's sorted plate order (shared memory, kept per order). */
  covered: KeyOrder;
  /** Codes [covered.pos.length, …) past it: tail.pos[c - covered.pos.length]. */
  tail: KeyOrder;
  /** Times of the view's rows lie in [tsLo, tsLo + 2^32) unless `tsWide` (from the blocks' zone maps). */
  tsLo: number;
  tsWide: boolean;
  ordinal: number;
  /** The view's index among the caller's sources. */
  source: number;
}

function shared<T extends Int32Array | Float64Array | Uint32Array>(make: (b: SharedArrayBuffer, n: number) => T, bytesPer: number, n: number): T {
  return make(new SharedArrayBuffer(Math.max(1, n) * bytesPer), n);
}

/** Keys of `codes` (plates named by `names`) put in key order; stable, so plates of one key stay in `codes`' order. */
function orderByKey(codes: ArrayLike<number>, names: readonly string[], codeBase: number, codeCount: number, inShared: boolean): KeyOrder {
  const n = codes.length;
  const raw = new Float64Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    raw[i] = plateOrderKey(names[codes[i]!]!);
    if (i > 0 && raw[i]! < raw[i - 1]!) sorted = false;
  }
  // plates in the key's alphabet sort as their keys (plate-order.ts): the string order is the key order
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  if (!sorted) perm.sort((a, b) => raw[a]! - raw[b]! || a - b);
  const pos = inShared ? shared((b, m) => new Int32Array(b, 0, m), 4, codeCount) : new Int32Array(codeCount);
  const keys = inShared ? shared((b, m) => new Float64Array(b, 0, m), 8, n) : new Float64Array(n);
  pos.fill(-1);
  for (let p = 0; p < n; p++) {
    keys[p] = raw[perm[p]!]!;
    pos[codes[perm[p]!]! - codeBase] = p;
  }
  return { pos, keys };
}

/** The key order of the codes an order covers: built once per order (it is replaced, not changed, as plates arrive). */
const coveredOrders = new WeakMap<LivePlateOrder, KeyOrder>();

function coveredOrder(order: LivePlateOrder, names: readonly string[]): KeyOrder {
  let o = coveredOrders.get(order);
  if (!o) coveredOrders.set(order, (o = orderByKey(order.sorted.subarray(0, order.covered), names, 0, order.covered, true)));
  return o;
}

/** The part of `view` (source `source`, tenant ordinal `ordinal`) whose passing rows are `rows`. */
export function clonedLivePart(view: LiveView, rows: Uint32Array, ordinal: number, source: number): ClonedLivePart {
  const cols = view.cols;
  const order = livePlateOrder(cols);
  const covered = coveredOrder(order, cols.plates);
  const first = order.covered;
  const tailCodes = Int32Array.from({ length: Math.max(0, view.plateCount - first) }, (_, i) => first + i);
  const tail = orderByKey(tailCodes, cols.plates, first, tailCodes.length, false);
  let lo = Infinity, hi = -Infinity;
  for (let b = 0; b < view.blockCount(); b++) {
    const z = cols.blocks[b]!.zone; // time extremes of every row written to the block: a superset of the view's
    lo = Math.min(lo, z[0]!);
    hi = Math.max(hi, z[1]!);
  }
  const sharedRows = shared((b, n) => new Uint32Array(b, 0, n), 4, rows.length);
  sharedRows.set(rows);
  return {
    arena: cols.arena, blocks: liveRegions(view).blocks, rows: sharedRows, covered, tail,
    tsLo: Number.isFinite(lo) ? lo : 0, tsWide: hi - lo >= 2 ** 32, ordinal, source,
  };
}

/** The key-range bounds cutting a part's plates into `parts` ranges of about as many plates each. */
export function livePartQuantiles(part: ClonedLivePart, parts: number): number[] {
  const keys = part.covered.keys.length >= part.tail.keys.length ? part.covered.keys : part.tail.keys;
  const out: number[] = [];
  for (let t = 1; t < parts && keys.length > 0; t++) out.push(keys[Math.floor((t * keys.length) / parts)]!);
  return out;
}

/** Passing rows of the part with a plate in the task's range (an estimate, for the pool's balancing). */
export function livePartRowsIn(part: ClonedLivePart, keyLo: number, keyHi: number): number {
  let plates = 0, all = 0;
  for (const o of [part.covered, part.tail]) {
    plates += lowerBound(o.keys, keyHi) - lowerBound(o.keys, keyLo);
    all += o.keys.length;
  }
  return all === 0 ? 0 : Math.ceil((part.rows.length * plates) / all);
}

/**
 * The part's runs for plates with keys in [keyLo, keyHi) (none empty): the covered codes' and the tail's,
 * each in key order. `buf` is the memory of the part's arena.
 */
export function livePartRuns(buf: ArrayBufferLike, part: ClonedLivePart, keyLo: number, keyHi: number, budget: QueryBudget | undefined): Run[] {
  const runs: Run[] = [];
  const i32 = new Int32Array(buf), f64 = new Float64Array(buf);
  const covered = part.covered.pos.length;
  for (const [o, codeBase] of [[part.covered, 0], [part.tail, covered]] as const) {
    const run = orderRun(i32, f64, part, o, codeBase, keyLo, keyHi, budget);
    if (run) runs.push(run);
  }
  return runs;
}

/**
 * A counting sort of the part's passing rows whose code lies in [codeBase, codeBase + o.pos.length) and
 * whose position lies in the range's, by position: rows stay in row order within a plate (nearly read order).
 */
function orderRun(
  i32: Int32Array, f64: Float64Array, part: ClonedLivePart, o: KeyOrder, codeBase: number, keyLo: number, keyHi: number, budget: QueryBudget | undefined,
): Run | undefined {
  const pLo = lowerBound(o.keys, keyLo), span = lowerBound(o.keys, keyHi) - pLo;
  if (span <= 0) return undefined;
  const { rows, blocks } = part;
  const pos = o.pos, codes = pos.length;
  const plateLane = kLiveLanes.plate >> 2;
  // 1. rows per position (at[p + 1]); each row's position relative to the range, kept for the second pass
  const at = new Int32Array(span + 1);
  const rel = new Int32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    budget?.tick();
    const g = rows[j]!;
    const c = i32[(blocks[g >>> kShift]! >> 2) + plateLane + (g & kMask)]! - codeBase;
    const p = c >= 0 && c < codes ? pos[c]! - pLo : -1;
    if (p >= 0 && p < span) at[p + 1]!++;
    rel[j] = p >= 0 && p < span ? p : -1;
  }
  // groups: positions with rows, one group a key (two plates outside the key's alphabet may share one)
  let groups = 0, prev = NaN;
  for (let p = 0; p < span; p++) {
    if (at[p + 1] === 0) continue;
    if (o.keys[pLo + p] !== prev) groups++;
    prev = o.keys[pLo + p]!;
  }
  const keys = new Float64Array(groups), bounds = new Int32Array(groups + 1);
  for (let p = 0, g = 0; p < span; p++) {
    const count = at[p + 1]!;
    at[p + 1]! += at[p]!;
    if (count === 0) continue;
    if (g === 0 || keys[g - 1] !== o.keys[pLo + p]) keys[g++] = o.keys[pLo + p]!;
    bounds[g] = at[p + 1]!;
  }
  // 2. each row at its position's next slot: ts − tsLo, lat, lon and the generation row, as a shard run's
  const n = at[span]!;
  const rec = new Int32Array(4 * n);
  const tsWide = part.tsWide ? new Float64Array(n) : null;
  const base = part.tsLo;
  const tsLane = kLiveLanes.ts >> 2, latLane = kLiveLanes.lat >> 2, lonLane = kLiveLanes.lon >> 2;
  for (let j = 0; j < rows.length; j++) {
    const p = rel[j]!;
    if (p < 0) continue;
    budget?.tick();
    const g = rows[j]!;
    const b = blocks[g >>> kShift]! >> 2, r = g & kMask;
    const slot = at[p]!++;
    const w = 4 * slot;
    const t = i32[b + tsLane + 2 * r + 1]! * 4294967296 + (i32[b + tsLane + 2 * r]! >>> 0);
    if (tsWide === null) rec[w] = t - base;
    else tsWide[slot] = t;
    rec[w + 1] = i32[b + latLane + r]!;
    rec[w + 2] = i32[b + lonLane + r]!;
    rec[w + 3] = g;
  }
  const seqLane = kLiveLanes.seq >> 3;
  const { ordinal, source } = part;
  return {
    keys, bounds, rec, base, tsWide,
    ordinalOf: () => ordinal,
    seqOf: (g) => f64[(blocks[g >>> kShift]! >> 3) + seqLane + (g & kMask)]!,
    sourceOf: () => source,
    rowOf: (g) => g,
  };
}
