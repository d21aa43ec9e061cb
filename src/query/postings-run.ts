/**
 * Where one dictionary entry's rows are in a shard's plate → rows lane (`postings`: row indexes sorted by
 * plate code, then row), found by interpolation and galloping instead of two plain binary searches.
 *
 *   postings   j:  0 1 2 3 4 5 6 7 8 9 …                     rows − 1
 *   plate[post[j]]:  0 0 1 2 2 2 3 4 4 5 …  (non-decreasing)   dictCount − 1
 *                         └─ run of d = 2 ─┘
 *
 * A day shard's dictionary entries have ~1.5 rows each, spread evenly over the codes, so entry d's run
 * starts near j = d · rows / dictCount: the search starts there and gallops (steps 1, 2, 4, …) toward it,
 * then halves the last step; the run's end is galloped to from its start. A few probes where the binary
 * searches took ~2 · log2(rows) (~38 at 400,000 rows), each reading two lanes at random places: the
 * bulk of an exact plate's per-shard cost while the code is cold. Held equal to LoadedShard.rowsOfPlate
 * (the plain definition) by test/postings-run.test.ts, on skewed runs too (a plate read thousands of times).
 */
import type { CodeAt, RowAt } from '../core/segment.js';
import { gallopFrom } from '../core/sorted-search.js';

/**
 * The postings run [start, end) of dictionary entry `d` (`postings`: entry j of the lane's `n`, at any width;
 * `plate`: row → code; `dictCount` entries).
 */
export function postingsRun(postings: RowAt, n: number, plate: CodeAt, dictCount: number, d: number): [number, number] {
  if (n === 0 || dictCount === 0) return [0, 0];
  const guess = Math.min(n - 1, Math.floor((d * n) / dictCount));
  const start = firstAtLeast(postings, n, plate, d, guess);
  return [start, firstAtLeast(postings, n, plate, d + 1, start)];
}

/** The first j with plate[postings(j)] ≥ code, searched outward from `from` (0 ≤ from < n). */
function firstAtLeast(postings: RowAt, n: number, plate: CodeAt, code: number, from: number): number {
  return gallopFrom(n, from, (j) => plate(postings(j)) < code);
}
