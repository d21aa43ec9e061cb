/** Searches over ascending sequences: a binary search over numbers, and a galloping search from a guess. */

/** The first index of ascending `a` holding a value ≥ v (a.length when none does). */
export function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The first index in (from, end] of `a` (ascending on [from, end)) holding a value ≥ v, end when none does,
 * given a[from] < v: searched forward from `from` in doubling steps, then by halving, so a near answer costs
 * a few reads (for walking two ascending sequences side by side; a closure-free `gallopFrom`).
 */
export function gallopAtLeast(a: ArrayLike<number>, from: number, end: number, v: number): number {
  let lo = from, hi = from + 1; // the answer is in (lo, hi]: a[lo] < v, and a[hi] ≥ v or hi = end
  for (let step = 1; hi < end && a[hi]! < v; step *= 2) {
    lo = hi;
    hi = lo + step;
  }
  if (hi > end) hi = end;
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The first j in [0, n] for which `below(j)` is false, where `below` is true on a prefix of [0, n): searched
 * outward from `from` (0 ≤ from < n) in doubling steps, then by halving. A good guess (an interpolated
 * position) costs a few probes; a bad one costs twice a binary search.
 */
export function gallopFrom(n: number, from: number, below: (j: number) => boolean): number {
  if (from >= n) return n;
  let lo: number, hi: number; // the answer is in (lo, hi]: below at lo (or lo = -1), not below at hi (or hi = n)
  if (!below(from)) {
    hi = from;
    let step = 1;
    lo = from - step;
    while (lo >= 0 && !below(lo)) {
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
    if (lo < -1) lo = -1;
  } else {
    lo = from;
    let step = 1;
    hi = from + step;
    while (hi < n && below(hi)) {
      lo = hi;
      step *= 2;
      hi = lo + step;
    }
    if (hi > n) hi = n;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (below(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}
