/**
 * The reference search: a plain scan over reads that applies API.md to the letter. It is the judge of
 * every kernel, the executor and the server; it favours being obviously right over being fast.
 */
import { foldLabel } from '../../model/label.js';
import { ocrMap } from '../../model/plate.js';
import type {
  Hit, HotlistQuery, HotlistResult, PlateMatch, ReadFilter, SearchKey, SearchQuery, SearchResult, TenantScope,
} from '../../model/query.js';
import type { StoredRead } from '../../model/read.js';
import { levenshtein, osaDistance } from './distance.js';
import { inBBox, inPolygon, inRadius } from './geo.js';
import { wildcardMatch } from './wildcard.js';

/** Distance of `plate` under `match`, or -1 when it does not match. */
export function plateDistance(match: PlateMatch, plate: string): number {
  const p = match.ocr ? ocrMap(match.pattern) : match.pattern;
  const s = match.ocr ? ocrMap(plate) : plate;
  switch (match.mode) {
    case 'exact':
      return p === s ? 0 : -1;
    case 'wildcard':
      return wildcardMatch(p, s) ? 0 : -1;
    case 'fuzzy': {
      const d = match.transpositions ? osaDistance(p, s) : levenshtein(p, s);
      return d <= match.maxEdits ? d : -1;
    }
  }
}

export function matchesFilter(filter: ReadFilter, read: StoredRead): boolean {
  if (filter.from !== undefined && read.ts < filter.from) return false;
  if (filter.to !== undefined && read.ts >= filter.to) return false;
  if (filter.bbox && !inBBox(filter.bbox, read.lat, read.lon)) return false;
  if (filter.near && !inRadius(filter.near, read.lat, read.lon)) return false;
  if (filter.polygon && !inPolygon(filter.polygon, read.lat, read.lon)) return false;
  if (filter.cameras && !filter.cameras.includes(read.camera)) return false;
  if (filter.regions && (read.region === undefined || !filter.regions.includes(read.region))) return false;
  if (filter.makes && (read.make === undefined || !filter.makes.some((m) => foldLabel(m) === foldLabel(read.make!)))) return false;
  if (filter.colors && (read.color === undefined || !filter.colors.some((c) => foldLabel(c) === foldLabel(read.color!)))) return false;
  return true;
}

/** distance ascending, then ts descending, then id ascending by string comparison. */
export function compareHits(a: Hit, b: Hit): number {
  if (a.distance !== b.distance) return a.distance - b.distance;
  if (a.ts !== b.ts) return b.ts - a.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function visible(scopes: readonly TenantScope[], read: StoredRead): boolean {
  const scope = scopes.find((s) => s.tenant === read.tenant);
  return scope !== undefined && read.ts >= scope.minTs;
}

function collect(reads: Iterable<StoredRead>, scopes: readonly TenantScope[], plate: PlateMatch | undefined, filter: ReadFilter): Hit[] {
  const hits: Hit[] = [];
  for (const read of reads) {
    if (!visible(scopes, read) || !matchesFilter(filter, read)) continue;
    const distance = plate ? plateDistance(plate, read.plate) : 0;
    if (distance < 0) continue;
    hits.push({ ...read, distance });
  }
  return hits.sort(compareHits);
}

/** Does hit `h` sort strictly after the key `k` (the page boundary of a cursor)? */
export function sortsAfter(h: Hit, k: SearchKey): boolean {
  return compareHits(h, { ...h, distance: k.distance, ts: k.ts, id: k.id }) > 0;
}

export function referenceSearch(reads: Iterable<StoredRead>, scopes: readonly TenantScope[], query: SearchQuery): SearchResult {
  const all = collect(reads, scopes, query.plate, query.filter);
  const after = query.after;
  const rest = after ? all.filter((h) => sortsAfter(h, after)) : all;
  return { hits: rest.slice(0, query.limit), total: all.length, truncated: rest.length > query.limit };
}

export function referenceHotlistSearch(reads: readonly StoredRead[], scopes: readonly TenantScope[], query: HotlistQuery): HotlistResult {
  const matches: HotlistResult['matches'] = [];
  for (const entry of query.entries) {
    const all = collect(reads, scopes, entry, query.filter);
    if (all.length === 0) continue;
    matches.push({ entry: entry.pattern, total: all.length, truncated: all.length > query.limitPerPlate, hits: all.slice(0, query.limitPerPlate) });
  }
  return { matches };
}
