/**
 * The positions of a list of non-negative integers in ascending order of value, ties in position order (a
 * stable sort's permutation). Sorted natively as numbers value · 2^b + position (b bits hold every
 * position), where a comparator called per compare costs several times as much: the hot-list tasks order
 * their (entry, plate) pairs by entry and the tenant's pairs by plate this way (src/query/hotlist-task.ts,
 * src/query/shard-pairs.ts).
 */

/** Positions below which value · 2^b + position stays exact in a double for every value < 2^31. */
const kNativeMax = 2 ** 22;

/** The positions of `values` (each in [0, 2^31)) in ascending order, ties in position order; null when they already are. */
export function ascendingOrder(values: Int32Array): Int32Array | null {
  const n = values.length;
  let sorted = true;
  for (let q = 1; q < n && sorted; q++) sorted = values[q - 1]! <= values[q]!;
  if (sorted) return null;
  const order = new Int32Array(n);
  if (n >= kNativeMax) {
    for (let q = 0; q < n; q++) order[q] = q;
    return order.sort((a, b) => values[a]! - values[b]! || a - b);
  }
  const scale = 2 ** Math.ceil(Math.log2(n + 1));
  const keys = new Float64Array(n);
  for (let q = 0; q < n; q++) keys[q] = values[q]! * scale + q;
  keys.sort();
  for (let q = 0; q < n; q++) order[q] = keys[q]! % scale;
  return order;
}
