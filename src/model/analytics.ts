/**
 * The validated model of the investigative analytics (API.md "Additions in v1.1 / Investigative analytics"):
 * the four queries and their result rows, shared by the parser (src/query/analytics/parse.ts), the engine
 * (src/query/analytics/) and the reference (src/query/reference/). Times are epoch ms inside the system;
 * the routes write them as ISO strings.
 */
import type { Hit, ReadFilter } from './query.js';

/** The common part: the request's optional window (`from` inclusive, `to` exclusive) and the cut. */
export interface AnalyticsBase {
  /** Only `from` and `to` (and, for frequent, the area) are set. */
  filter: ReadFilter;
  /** 1–10000. */
  limit: number;
}

/** Companions of one plate: reads of other plates at a camera of a target read within ±windowSeconds. */
export interface ConvoyQuery extends AnalyticsBase {
  kind: 'convoy';
  /** Normalised plate (exact). */
  plate: string;
  windowSeconds: number;
  minCameras: number;
}

/** Plates read in at least `minSites` of 2–10 (area, window) sites. */
export interface MultisiteQuery extends AnalyticsBase {
  kind: 'multisite';
  /** Each site's area (one of bbox, near, polygon) and its own from/to. */
  sites: ReadFilter[];
  minSites: number;
}

/** Plates with at least `minReads` reads in an area on at least `minDays` distinct UTC days. */
export interface FrequentQuery extends AnalyticsBase {
  kind: 'frequent';
  minReads: number;
  minDays: number;
}

/** Plates with consecutive reads too far apart for the time between them. */
export interface ClonedQuery extends AnalyticsBase {
  kind: 'cloned';
  maxSpeedKmh: number;
  minDistanceM: number;
}

export type AnalyticsQuery = ConvoyQuery | MultisiteQuery | FrequentQuery | ClonedQuery;
export type AnalyticsKind = AnalyticsQuery['kind'];

export interface ConvoyRow {
  plate: string;
  /** Distinct cameras of its companion reads. */
  cameras: number;
  /** Its companion reads (each read once, however many target reads it is near). */
  together: number;
  first: number;
  last: number;
}

export interface MultisiteRow {
  plate: string;
  /** Indexes of the sites it was read in, ascending. */
  sites: number[];
  /** Its reads inside any site (a read in two sites counts once). */
  reads: number;
}

export interface FrequentRow {
  plate: string;
  reads: number;
  days: number;
  first: number;
  last: number;
}

export interface ClonedRow {
  plate: string;
  pairs: number;
  /** Speed of the fastest pair, km/h. */
  maxSpeedKmh: number;
  /** The fastest pair (the earliest of equally fast ones), in read order. */
  example: [Hit, Hit];
}

export interface AnalyticsResultOf<R> {
  results: R[];
  total: number;
  truncated: boolean;
}

export type ConvoyResult = AnalyticsResultOf<ConvoyRow>;
export type MultisiteResult = AnalyticsResultOf<MultisiteRow>;
export type FrequentResult = AnalyticsResultOf<FrequentRow>;
export type ClonedResult = AnalyticsResultOf<ClonedRow>;

export type AnalyticsResult =
  | ({ kind: 'convoy' } & ConvoyResult)
  | ({ kind: 'multisite' } & MultisiteResult)
  | ({ kind: 'frequent' } & FrequentResult)
  | ({ kind: 'cloned' } & ClonedResult);

/** Plate ascending by code units: the last tie-break of every analysis. */
export function comparePlates(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A UTC day number (days since 1970-01-01). */
export function utcDay(ts: number): number {
  return Math.floor(ts / 86_400_000);
}

/**
 * The speed between two reads, km/h: metres over max(Δt, 1 s). Written once so that the engine and the
 * reference compute the same double (the DuckDB peer writes the same operations in the same order).
 */
export function speedKmh(distanceM: number, dtMs: number): number {
  return (distanceM / Math.max(dtMs / 1000, 1)) * 3.6;
}
