/** Binary search over an ascending array of numbers (a typed array or a plain one). */

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
