/**
 * A sorted order over a live generation's plate dictionary (src/store/live-columns.ts), so a pattern with
 * a fixed prefix (`GPV?11*`) is matched against the plates in the prefix's range, as a shard's sorted
 * dictionary is (src/query/segment-task.ts prefixRange), instead of against every live plate.
 *
 * Live plate codes are in first-seen order and keep growing. The order covers codes [0, covered) sorted
 * by plate; the codes after it (the tail) are matched as before, one kernel pass over their slots. When
 * the tail outgrows an eighth of what is covered, the next query sorts the tail (natively, as strings)
 * and merges it in: O(plates) per rebuild, each a constant fraction more plates, so amortised O(1) a
 * plate. Built on first use, beside the lanes (a generation that never sees a prefix query never has one);
 * 4 bytes a distinct plate.
 */
import type { LiveColumns } from './live-columns.js';

/** Tail size (plates) below which the tail is left unsorted whatever the covered size. */
const kMinTail = 4096;

export interface LivePlateOrder {
  /** Codes [0, covered) of the generation, ascending by plate. */
  sorted: Int32Array;
  covered: number;
}

const orders = new WeakMap<LiveColumns, LivePlateOrder>();

/** The order of `cols`'s plates, extended first when its tail has grown past the rebuild threshold. */
export function livePlateOrder(cols: LiveColumns): LivePlateOrder {
  const had = orders.get(cols) ?? { sorted: new Int32Array(0), covered: 0 };
  const count = cols.plateCount;
  if (count - had.covered <= Math.max(kMinTail, had.covered >>> 3)) return had;
  const plates = cols.plates;
  const tail = plates.slice(had.covered, count).sort();
  const merged = new Int32Array(count);
  const old = had.sorted;
  let i = 0, j = 0, o = 0;
  while (i < old.length && j < tail.length) {
    // distinct plates: never equal
    if (plates[old[i]!]! < tail[j]!) merged[o++] = old[i++]!;
    else merged[o++] = cols.plateCodes.get(tail[j++]!)!;
  }
  while (i < old.length) merged[o++] = old[i++]!;
  while (j < tail.length) merged[o++] = cols.plateCodes.get(tail[j++]!)!;
  const next = { sorted: merged, covered: count };
  orders.set(cols, next);
  return next;
}

/** [lo, hi): the positions of `order.sorted` whose plates start with `prefix` (non-empty). */
export function prefixSpan(cols: LiveColumns, order: LivePlateOrder, prefix: string): [number, number] {
  const plates = cols.plates;
  const sorted = order.sorted;
  const lowerBound = (key: string) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (plates[sorted[mid]!]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // plates are ASCII: every plate starting with the prefix sorts below prefix + U+FFFF
  return [lowerBound(prefix), lowerBound(prefix + '\uffff')];
}
