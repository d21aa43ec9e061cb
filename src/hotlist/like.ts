/**
 * Anchored wildcard match on bytes (`?` one character, `*` zero or more; SQL `LIKE` with `_` and `%`),
 * the verifier of the hot-list matcher's wildcard candidates. Greedy with one backtrack point (the
 * last `*`), which is exact for `?`/`*` patterns and linear in practice, unlike a backtracking regex.
 * Agrees with src/query/reference/wildcard.ts (tested differentially).
 */

export const kQuestion = 63; // '?'
export const kStar = 42; // '*'

export function likeMatch(p: Uint8Array, pOff: number, pLen: number, s: Uint8Array, sOff: number, sLen: number): boolean {
  let i = 0, j = 0, star = -1, mark = 0;
  while (j < sLen) {
    const pc = i < pLen ? p[pOff + i]! : -1;
    if (pc === kQuestion || (pc >= 0 && pc !== kStar && pc === s[sOff + j])) {
      i++;
      j++;
    } else if (pc === kStar) {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      // let the last `*` swallow one more character and retry from there
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < pLen && p[pOff + i] === kStar) i++;
  return i === pLen;
}
