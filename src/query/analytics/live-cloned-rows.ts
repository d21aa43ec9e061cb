/**
 * The cloned-plates analysis' live rows (cloned.ts): every live row passing the query's filter, ascending by
 * plate order key (plate-order.ts), with what a task needs of it (ClonedLiveRows, cloned-task.ts).
 *
 * Live plate codes are dense, so the order is a counting sort by plate and no row comparison at all:
 *   1. the passing rows of each live view (the kernels' row scan, live-row-scan.ts; the JS scan without
 *      kernels), and how many of them each plate code has;
 *   2. the key of each code met (one string read per plate, not per row) and its rank: with one view (the
 *      usual case) in the order of the generation's sorted plate order (live-plate-order.ts), kept for
 *      prefix patterns, merged with the few codes past it; with several, the keys of every view sorted as one
 *      f64 array and each code's key searched in it (the sort and searches were a third of this function);
 *   3. each row written straight from the block lanes at its rank's next slot, so a plate's rows stay in
 *      row order (nearly read order: live rows arrive roughly in time order); the key, ordinal and source
 *      filled in order after.
 * The library sort of a permutation by key with a comparator, which this replaces, took some 85% of a
 * live cloned-plates query over 1M reads.
 */
import { lowerBound } from '../../core/sorted-search.js';
import type { ReadFilter } from '../../model/query.js';
import { kLiveBlockRows, type LiveView } from '../../store/live-columns.js';
import type { QueryBudget } from '../budget.js';
import { prepareFilter } from '../filter-plan.js';
import { liveRowsPassing } from '../live-scan.js';
import type { Source } from '../sources.js';
import type { ClonedLiveRows } from './cloned-task.js';
import { liveRowScan, liveScansWithKernels } from './live-row-scan.js';
import { plateOrderKey } from './plate-order.js';
import { livePlateOrder, type LivePlateOrder } from '../../store/live-plate-order.js';
import { withFloor, type RowScanEnv } from './row-scan.js';

const kShift = Math.log2(kLiveBlockRows);
const kMask = kLiveBlockRows - 1;

type LiveSource = Source & { kind: 'live' };

/** Rows of `src` passing `filter` (retention floor folded in), ascending: the kernels when they can, else JS. */
export function passingLiveRows(src: LiveSource, filter: ReadFilter, env: RowScanEnv | undefined, budget: QueryBudget | undefined): Uint32Array {
  const view = src.view;
  if (env && liveScansWithKernels(view)) {
    const k = env.kernelsFor(view.cols.arena);
    if (k) {
      try {
        return liveRowScan(k, view, [withFloor(filter, src.minTs)], undefined, budget)[0]!;
      } catch (err) {
        if (!(err instanceof RangeError)) throw err; // scratch too small: the JS scan
      }
    }
  }
  return liveRowsPassing(view, prepareFilter(filter, src.minTs), budget ? () => budget.tick() : undefined);
}

/**
 * The order key of each plate of `order.sorted`, in that order: computed once per order (it is replaced, not
 * changed, when the generation's tail is merged in), so a query reads keys in sequence instead of every met
 * plate's string at random (half of this function's time at 1M live reads, 7 days). 8 B a covered plate.
 */
const orderKeys = new WeakMap<LivePlateOrder, Float64Array>();

function keysOf(order: LivePlateOrder, names: readonly string[]): Float64Array {
  let keys = orderKeys.get(order);
  if (!keys) {
    keys = new Float64Array(order.covered);
    for (let i = 0; i < order.covered; i++) keys[i] = plateOrderKey(names[order.sorted[i]!]!);
    orderKeys.set(order, keys);
  }
  return keys;
}

/** Ranks of the plate codes met (`rankOf[view][code]`), the key of each rank, and each rank's first row slot. */
interface Ranks {
  sorted: Float64Array;
  rankOf: Int32Array[];
  /** Rank r's rows go to [at[r], at[r + 1]). */
  at: Int32Array;
}

/**
 * One view: the ranks from the generation's sorted plate order (live-plate-order.ts, kept for prefix
 * patterns and extended as plates arrive), merged with its few unsorted tail codes, instead of sorting the
 * keys met and searching each code's key. Plates sort as their keys (plate-order.ts); undefined, for the
 * general path, if a key met is out of order (a plate outside the key's alphabet).
 */
function ranksByPlateOrder(view: LiveView, count: Int32Array): Ranks | undefined {
  const cols = view.cols;
  const names = cols.plates;
  const order = livePlateOrder(cols);
  const codes = count.length;
  // the codes met past the order (first seen after it was built), by key
  const tail: number[] = [];
  for (let c = Math.min(order.covered, codes); c < codes; c++) if (count[c] !== 0) tail.push(c);
  const tailKeys = Float64Array.from(tail, (c) => plateOrderKey(names[c]!));
  const byKey = Int32Array.from(tail.keys()).sort((a, b) => tailKeys[a]! - tailKeys[b]!);
  const keys = new Float64Array(codes);
  const rank = new Int32Array(codes);
  const at = new Int32Array(codes + 1);
  let u = 0, t = 0;
  const place = (c: number, key: number): boolean => {
    if (u > 0 && key <= keys[u - 1]!) {
      if (key < keys[u - 1]!) return false;
      rank[c] = u - 1; // two plates of one key (not in the key's alphabet) share its rank, as in the sort
    } else {
      keys[u] = key;
      rank[c] = u++;
    }
    at[u]! += count[c]!;
    return true;
  };
  const sorted = order.sorted;
  const sortedKeys = keysOf(order, names);
  for (let i = 0; i < order.covered; i++) {
    const c = sorted[i]!;
    if (c >= codes || count[c] === 0) continue; // a plate first seen after the view, or no row passing
    const key = sortedKeys[i]!;
    while (t < byKey.length && tailKeys[byKey[t]!]! < key) if (!place(tail[byKey[t]!]!, tailKeys[byKey[t++]!]!)) return undefined;
    if (!place(c, key)) return undefined;
  }
  while (t < byKey.length) if (!place(tail[byKey[t]!]!, tailKeys[byKey[t++]!]!)) return undefined;
  for (let r = 0; r < u; r++) at[r + 1]! += at[r]!;
  return { sorted: keys.subarray(0, u), rankOf: [rank], at: at.subarray(0, u + 1) };
}

/** Any views: the keys met sorted as one f64 array, each code's rank searched in it (a plate in two views has one rank). */
function ranksBySort(picked: ReadonlyArray<{ src: LiveSource; count: Int32Array }>, plates: number): Ranks {
  const keyOf = picked.map((p) => {
    const keys = new Float64Array(p.count.length).fill(-1);
    const names = p.src.view.cols.plates;
    for (let c = 0; c < keys.length; c++) if (p.count[c] !== 0) keys[c] = plateOrderKey(names[c]!);
    return keys;
  });
  const all = new Float64Array(plates);
  let m = 0;
  for (const keys of keyOf) for (let c = 0; c < keys.length; c++) if (keys[c]! >= 0) all[m++] = keys[c]!;
  all.sort();
  let u = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[u - 1]) all[u++] = all[i]!;
  const sorted = all.subarray(0, u);
  const at = new Int32Array(u + 1);
  const rankOf = picked.map((p, i) => {
    const keys = keyOf[i]!;
    const rank = new Int32Array(keys.length);
    for (let c = 0; c < keys.length; c++) {
      if (keys[c]! < 0) continue;
      const r = (rank[c] = lowerBound(sorted, keys[c]!));
      at[r + 1]! += p.count[c]!;
    }
    return rank;
  });
  for (let r = 0; r < u; r++) at[r + 1]! += at[r]!;
  return { sorted, rankOf, at };
}

/** The live rows among `sources` (those whose index `take` accepts) passing `filter`, ascending by plate key. */
export function liveRowsByPlate(
  sources: readonly Source[], filter: ReadFilter, env: RowScanEnv | undefined, budget: QueryBudget | undefined, take: (si: number) => boolean = () => true,
): ClonedLiveRows {
  // 1. rows and rows per code, per live view
  const picked: Array<{ si: number; src: LiveSource; rows: Uint32Array; count: Int32Array }> = [];
  let n = 0, plates = 0;
  sources.forEach((src, si) => {
    if (src.kind !== 'live' || src.view.length === 0 || !take(si)) return;
    const view: LiveView = src.view;
    const rows = passingLiveRows(src, filter, env, budget);
    const count = new Int32Array(view.plateCount);
    const blocks = view.cols.blocks;
    for (let j = 0; j < rows.length; j++) {
      const g = rows[j]!;
      count[blocks[g >>> kShift]!.plate[g & kMask]!]!++;
    }
    for (let c = 0; c < count.length; c++) if (count[c] !== 0) plates++;
    picked.push({ si, src, rows, count });
    n += rows.length;
  });
  // 2. each code's rank among the keys met, the keys by rank and each rank's first slot
  const { sorted, rankOf, at } = (picked.length === 1 ? ranksByPlateOrder(picked[0]!.src.view, picked[0]!.count) : undefined) ?? ranksBySort(picked, plates);
  // 3. each row at its rank's next slot; the key, ordinal and source are each rank's or view's, written in
  // order after (fewer scattered writes a row: the scatter is most of this function's time)
  const out: ClonedLiveRows = {
    key: new Float64Array(n), ts: new Float64Array(n), lat: new Int32Array(n), lon: new Int32Array(n),
    ordinal: new Int32Array(n), seq: new Float64Array(n), source: new Int32Array(n), row: new Uint32Array(n),
  };
  for (let r = 0; r < sorted.length; r++) out.key.fill(sorted[r]!, at[r]!, at[r + 1]!);
  const next = at.slice(0, sorted.length);
  const one = picked.length === 1;
  if (one) {
    out.ordinal.fill(picked[0]!.src.ordinal);
    out.source.fill(picked[0]!.si);
  }
  picked.forEach((p, i) => {
    const rank = rankOf[i]!;
    const blocks = p.src.view.cols.blocks;
    const ordinal = p.src.ordinal;
    for (let j = 0; j < p.rows.length; j++) {
      budget?.tick();
      const g = p.rows[j]!;
      const block = blocks[g >>> kShift]!;
      const r = g & kMask;
      const o = next[rank[block.plate[r]!]!]!++;
      out.ts[o] = block.tsAt(r);
      out.lat[o] = block.lat[r]!;
      out.lon[o] = block.lon[r]!;
      out.seq[o] = block.seq[r]!;
      out.row[o] = g;
      if (!one) {
        out.ordinal[o] = ordinal;
        out.source[o] = p.si;
      }
    }
  });
  return out;
}
