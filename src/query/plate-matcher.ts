/**
 * Plate matching on the JS side: a PlateMatch compiled once into a function from plate to distance
 * (-1 = no match), with API.md's semantics (the reference, src/query/reference, is the judge).
 * Used over dictionaries (distinct plates), the live segment, and to verify hot-list candidates.
 */
import { ocrMap } from '../model/plate.js';
import type { PlateMatch } from '../model/query.js';

export type PlateMatcher = (plate: string) => number;

const row0 = new Int32Array(16);
const row1 = new Int32Array(16);
const row2 = new Int32Array(16);

/**
 * Edit distance between a and b (Levenshtein, or OSA with `osa`), or k+1 when it exceeds k.
 * Two/three rolling rows of the textbook table (see src/query/reference/distance.ts); stops early once a
 * whole row exceeds k. Strings are at most 10 characters (plus pattern length ≤ 10).
 */
export function boundedDistance(a: string, b: string, k: number, osa: boolean): number {
  const n = a.length, m = b.length;
  if (Math.abs(n - m) > k) return k + 1;
  let prev2 = row2, prev = row0, cur = row1;
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const bj = b.charCodeAt(j - 1);
      let v = prev[j - 1]! + (ai === bj ? 0 : 1);
      const del = prev[j]! + 1;
      const ins = cur[j - 1]! + 1;
      if (del < v) v = del;
      if (ins < v) v = ins;
      if (osa && i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) {
        const t = prev2[j - 2]! + 1;
        if (t < v) v = t;
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > k && !osa) return k + 1;
    if (rowMin > k + 1) return k + 1;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  const d = prev[m]!;
  return d > k ? k + 1 : d;
}

/** Compiles `match` into a matcher. */
export function compilePlateMatch(match: PlateMatch): PlateMatcher {
  const pattern = match.ocr ? ocrMap(match.pattern) : match.pattern;
  const map = match.ocr ? ocrMap : (s: string) => s;
  switch (match.mode) {
    case 'exact':
      return (plate) => (map(plate) === pattern ? 0 : -1);
    case 'wildcard': {
      // runs of '*' are one '*': a pattern of thousands of stars would otherwise compile to a regex
      // that overflows the stack (a 500) or backtracks combinatorially
      const re = new RegExp('^' + pattern.replace(/\*+/g, '*').replaceAll('?', '.').replaceAll('*', '.*') + '$', 's');
      const fixed = pattern.replaceAll('*', '').length;
      const hasStar = pattern.includes('*');
      return (plate) => {
        if (plate.length < fixed || (!hasStar && plate.length !== fixed)) return -1;
        return re.test(map(plate)) ? 0 : -1;
      };
    }
    case 'fuzzy': {
      const k = match.maxEdits;
      const osa = match.transpositions;
      return (plate) => {
        if (Math.abs(plate.length - pattern.length) > k) return -1;
        const d = boundedDistance(pattern, map(plate), k, osa);
        return d <= k ? d : -1;
      };
    }
  }
}

/** True when `match` is satisfied only by the pattern itself (a dictionary lookup, no scan). */
export function isLookup(match: PlateMatch): boolean {
  return !match.ocr && (match.mode === 'exact' || (match.mode === 'fuzzy' && match.maxEdits === 0));
}

const kPrefixThenStars = /^([A-Z0-9]+)\*+$/;

/**
 * The literal start of a wildcard pattern that is that start and then only stars (`9*`, `AB**`), without OCR
 * classes: every plate with that start matches, at distance 0, so the plates need no matcher and a sorted
 * dictionary answers by range. Undefined for any other pattern.
 */
export function prefixThenStars(match: PlateMatch): string | undefined {
  if (match.mode !== 'wildcard' || match.ocr) return undefined;
  return kPrefixThenStars.exec(match.pattern)?.[1];
}
