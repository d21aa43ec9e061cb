/**
 * Reference wildcard match: `?` is exactly one character, `*` zero or more, anchored at both ends
 * (SQL `LIKE` with `_` and `%`).
 *
 * A dynamic programme rather than a regular expression: a pattern may hold any number of `*`
 * (only its non-`*` characters are bounded), and a backtracking regex over `*A*A*A…` is exponential.
 *
 *   m[i][j] = pattern[0..i) matches plate[0..j)
 *   m[0][0] = true
 *   '*':  m[i][j] = m[i-1][j]  (matches nothing)  ||  m[i][j-1]  (swallows plate[j-1])
 *   '?':  m[i][j] = m[i-1][j-1]
 *   c:    m[i][j] = m[i-1][j-1] && c === plate[j-1]
 */
export function wildcardMatch(pattern: string, plate: string): boolean {
  let prev: boolean[] = new Array<boolean>(plate.length + 1).fill(false);
  prev[0] = true;
  for (let i = 1; i <= pattern.length; i++) {
    const p = pattern[i - 1]!;
    const cur: boolean[] = new Array<boolean>(plate.length + 1).fill(false);
    cur[0] = p === '*' && prev[0]!;
    for (let j = 1; j <= plate.length; j++) {
      if (p === '*') cur[j] = prev[j]! || cur[j - 1]!;
      else cur[j] = prev[j - 1]! && (p === '?' || p === plate[j - 1]);
    }
    prev = cur;
  }
  return prev[plate.length]!;
}
