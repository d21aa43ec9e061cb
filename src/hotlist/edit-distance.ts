/**
 * Bounded edit distance on byte strings, for verifying the hot-list matcher's candidates: the same
 * dynamic programme as src/query/reference/distance.ts (Levenshtein, or optimal string alignment when
 * transpositions count), but on preallocated rows, with a length pre-check and an early exit once a
 * whole row exceeds the bound. Plates are ≤ 10 characters, so the 11 × 11 table is cheap; the point
 * is to allocate nothing per candidate.
 *
 *   row i of d:  d[i][j] = distance between a[0..i) and b[0..j)
 *   pp = row i-2 (OSA only), p = row i-1, c = row i; rows are rotated, never reallocated.
 */

// one more than the longest plate; plates and patterns are ≤ 10 characters
const kRow = 11;

const rowA = new Int32Array(kRow + 1);
const rowB = new Int32Array(kRow + 1);
const rowC = new Int32Array(kRow + 1);

/**
 * Distance between `a[aOff … aOff+aLen)` and `b[bOff … bOff+bLen)` if it is ≤ `k`, else `k + 1`.
 * `osa` adds adjacent transposition at cost 1 (no edits inside a swapped pair).
 */
export function boundedDistance(
  a: Uint8Array, aOff: number, aLen: number,
  b: Uint8Array, bOff: number, bLen: number,
  k: number, osa: boolean,
): number {
  const diff = aLen > bLen ? aLen - bLen : bLen - aLen;
  if (diff > k) return k + 1;
  let pp = rowA, p = rowB, c = rowC;
  for (let j = 0; j <= bLen; j++) p[j] = j;
  for (let i = 1; i <= aLen; i++) {
    const ai = a[aOff + i - 1]!;
    c[0] = i;
    let rowMin = i;
    for (let j = 1; j <= bLen; j++) {
      const bj = b[bOff + j - 1]!;
      let v = p[j - 1]! + (ai === bj ? 0 : 1);
      const del = p[j]! + 1;
      if (del < v) v = del;
      const ins = c[j - 1]! + 1;
      if (ins < v) v = ins;
      if (osa && i > 1 && j > 1 && ai === b[bOff + j - 2] && a[aOff + i - 2] === bj) {
        const t = pp[j - 2]! + 1;
        if (t < v) v = t;
      }
      c[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // Levenshtein rows never decrease below their minimum; OSA can reach back two rows, so only exit
    // once both of the last two rows are over the bound
    if (rowMin > k && (!osa || minOf(p, bLen) > k)) return k + 1;
    const t = pp; pp = p; p = c; c = t;
  }
  const d = p[bLen]!;
  return d <= k ? d : k + 1;
}

function minOf(row: Int32Array, len: number): number {
  let m = row[0]!;
  for (let j = 1; j <= len; j++) if (row[j]! < m) m = row[j]!;
  return m;
}
