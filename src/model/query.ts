/**
 * The validated query model shared by the planner, the kernels' drivers and the reference.
 * Built from request bodies by src/query/parse.ts; inside the system, trust these types.
 */
import type { StoredRead } from './read.js';
import type { PendingHits } from './hit-sink.js';

export type MatchMode = 'exact' | 'wildcard' | 'fuzzy';

/** How a plate pattern is matched (API.md `/v1/search`). `pattern` is already normalised. */
export interface PlateMatch {
  pattern: string;
  mode: MatchMode;
  /** 0–2; only meaningful for `fuzzy` (0 otherwise). */
  maxEdits: number;
  ocr: boolean;
  /** Optimal string alignment instead of Levenshtein; only with `fuzzy`. */
  transpositions: boolean;
}

/** `[minLon, minLat, maxLon, maxLat]`, inclusive. */
export type BBox = [number, number, number, number];

export interface Near {
  lat: number;
  lon: number;
  radiusM: number;
}

/** Every filter of a search except the plate; all given filters are ANDed. */
export interface ReadFilter {
  /** Inclusive, epoch ms. */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
  bbox?: BBox;
  near?: Near;
  /** Ring of `[lon, lat]`, even-odd rule; the closing point may be repeated or not. */
  polygon?: Array<[number, number]>;
  cameras?: string[];
  regions?: string[];
  /** v1.1: the read's `make` / `color`, compared case-insensitively (src/model/label.ts). */
  makes?: string[];
  colors?: string[];
}

/** A position in the answer order (distance asc, ts desc, id asc): a hit's sort key. */
export interface SearchKey {
  distance: number;
  ts: number;
  id: string;
}

export interface SearchQuery {
  plate?: PlateMatch;
  filter: ReadFilter;
  /** 1–10000. */
  limit: number;
  /**
   * v1.1 paging: only reads that sort strictly after this key are returned (the page after it); `total`
   * still counts every match, and `truncated` says whether more remain after the page.
   */
  after?: SearchKey;
}

/** What a search or hot-list search may see of one tenant: reads with `ts >= minTs` (its retention cutoff). */
export interface TenantScope {
  tenant: string;
  minTs: number;
}

export interface Hit extends StoredRead {
  distance: number;
}

export interface SearchResult {
  hits: Hit[];
  /** Every matching read, whatever the page. */
  total: number;
  /** More matching reads sort after the last hit (`total` > hits before and on this page). */
  truncated: boolean;
  /** The hits went to the caller's sink, in order (src/model/hit-sink.ts): `hits` is empty. */
  written?: true;
  /** The hits are to be written to the caller's sink (src/model/hit-sink.ts PendingHits): `hits` is empty. */
  pending?: PendingHits;
}

export interface HotlistQuery {
  /** Normalised, de-duplicated entries in order of first appearance, each with its effective match. */
  entries: PlateMatch[];
  filter: ReadFilter;
  limitPerPlate: number;
}

export interface HotlistMatch {
  entry: string;
  total: number;
  truncated: boolean;
  hits: Hit[];
}

export interface HotlistResult {
  /** One element per entry with at least one hit, in the order of `HotlistQuery.entries`. */
  matches: HotlistMatch[];
  /** The matches went to the caller's sink, in order (src/model/hotlist-sink.ts): `matches` is empty. */
  written?: true;
}
