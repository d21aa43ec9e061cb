/**
 * Case-insensitive labels: the `makes` and `colors` search filters (API.md v1.1) match a read's `make`
 * and `color` "case-insensitively". One definition, used by the reference, the kernels' masks, the JS
 * scans and the tests' DuckDB twin (`lower()`): both sides lower-cased with String.prototype.toLowerCase
 * (Unicode simple lower-casing, no locale), then compared for equality. Judgement call: no trimming and
 * no accent folding, so `"Škoda"` matches `"ŠKODA"` but not `"Skoda"`; a read without the label never
 * matches a list.
 */
export function foldLabel(s: string): string {
  return s.toLowerCase();
}

/** The folded set of a filter list (undefined when the filter is absent). */
export function foldedSet(list: readonly string[] | undefined): Set<string> | null {
  return list ? new Set(list.map(foldLabel)) : null;
}

/** Does a read's optional label pass a folded list? */
export function labelPasses(wanted: Set<string> | null, value: string | undefined): boolean {
  return wanted === null || (value !== undefined && wanted.has(foldLabel(value)));
}
