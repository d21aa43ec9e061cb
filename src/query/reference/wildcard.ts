/**
 * Reference wildcard match: `?` is exactly one character, `*` zero or more, anchored at both ends
 * (SQL `LIKE` with `_` and `%`). Normalised patterns hold only A–Z, 0–9, `?`, `*`, so the regular
 * expression needs no escaping.
 */
export function wildcardMatch(pattern: string, plate: string): boolean {
  const source = '^' + pattern.replaceAll('?', '.').replaceAll('*', '.*') + '$';
  return new RegExp(source, 's').test(plate);
}
