/**
 * How many rows of a shard have a plate matching a broad pattern, read off the shard's own structures
 * instead of matching its dictionary and counting its rows (issue 12, "cost by the page").
 *
 * A search whose page is already full with newer rows (the merge's bound, src/query/row-top.ts) still
 * owes `total` the matches of every older shard. For a shard lying wholly inside the time window with no
 * other filter, that count is "rows whose plate matches", and for the broadest patterns, those with tens
 * of thousands of matches, it needs no pass at all:
 *
 *   `P*` (literal prefix)   the plates form one range [lo, hi) of the sorted dictionary (two binary searches
 *                           over its slots) and the plate → rows lane is sorted by plate: the rows are the
 *                           postings between the first of `lo` and the first of `hi` (two more)
 *   `*c*`, `*cd*`          the shard's rows by contained character and bigram (src/store/plate-gram-rows.ts)
 *
 * Any other pattern, OCR classes, or a shard the window cuts: undefined (the task matches and counts).
 */
import type { PlateMatch, ReadFilter } from '../model/query.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { plateGramRows, plateGramRowsKey } from '../store/plate-gram-rows.js';
import { prefixThenStars } from './plate-matcher.js';

/** Shard tasks answered by these counts on this thread (tests: the shortcut ran). */
export const plateRowsAnswers = { count: 0 };

const kContains = /^\*+([A-Z0-9]{1,2})\*+$/;

/**
 * The rows of `shard` matching `match` under `filter` (retention floor folded in), when the shard lies
 * wholly inside the window, the filter has no other condition and the pattern is one of the shapes above.
 */
export function wholeShardPlateRows(shard: LoadedShard, match: PlateMatch, filter: ReadFilter): number | undefined {
  if (match.mode !== 'wildcard' || match.ocr) return undefined;
  if (filter.bbox || filter.near || filter.polygon || filter.cameras || filter.regions || filter.makes || filter.colors) return undefined;
  const m = shard.meta;
  if ((filter.from ?? -Infinity) > m.minTs || (filter.to ?? Infinity) <= m.maxTs) return undefined;
  const shape = shapeOf(match);
  if (shape.contains !== undefined) return plateGramRows(shard)[shape.contains]!;
  if (shape.prefix !== undefined) return prefixRows(shard, shape.prefix);
  return undefined;
}

/** The last pattern's shape: a search asks once per shard (~30 a tenant), with one pattern. */
let last: { pattern: string; contains?: number; prefix?: string } = { pattern: '' };

function shapeOf(match: PlateMatch): { contains?: number; prefix?: string } {
  const pattern = match.pattern;
  if (last.pattern === pattern) return last;
  const contains = kContains.exec(pattern);
  const prefix = contains ? undefined : prefixThenStars(match);
  last = { pattern };
  if (contains) last.contains = plateGramRowsKey(contains[1]!);
  if (prefix !== undefined) last.prefix = prefix;
  return last;
}

/** Rows whose plate starts with `p` (plate characters only). */
function prefixRows(shard: LoadedShard, p: string): number {
  const [lo, hi] = shard.plateRange(p);
  if (hi <= lo) return 0;
  const post = shard.postings, plate = shard.plate;
  const n = shard.rows;
  return firstIndex(n, (j) => plate(post(j)) >= hi) - firstIndex(n, (j) => plate(post(j)) >= lo);
}

/** The first i in [0, n) with `at(i)` true, for a predicate false then true along i; n when none. */
function firstIndex(n: number, at: (i: number) => boolean): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
