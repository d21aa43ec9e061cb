/**
 * Request bodies of `POST /v1/analytics/{convoy,multisite,frequent,cloned}` → the validated model
 * (src/model/analytics.ts). The shared rules come from src/query/parse.ts (purpose and case, the window,
 * the areas as in search), so an area or a time is refused here exactly as `/v1/search` refuses it; every
 * error is a coded 400 (PS_BAD_INPUT) naming its field.
 *
 * Judgement calls (API.md is silent; each protects the data owner or the investigator's reading):
 * - unknown fields are refused (a typo such as `minCamera` must not silently widen an analysis);
 * - `approval` is accepted and not interpreted here (it belongs to the accountability rules);
 * - frequent needs exactly one area, and each multisite site exactly one area: an analysis of "everywhere"
 *   is not a frequent-visitor question, and two areas in one site would be ambiguous (AND or OR);
 * - a site's `from`/`to` are optional (unbounded), like the request's own; both windows apply;
 * - `minSites` is 1..number of sites (default all); `minReads` 1–1,000,000; `minDays` 1–3660;
 *   `maxSpeedKmh` > 0 and ≤ 100,000; `minDistanceM` 0–20,100,000 (half the Earth's circumference).
 */
import { BadInput } from '../../errors.js';
import type { AnalyticsKind, AnalyticsQuery, ClonedQuery, ConvoyQuery, FrequentQuery, MultisiteQuery } from '../../model/analytics.js';
import { hasWildcard, kMaxPlateLength, normalisePattern } from '../../model/plate.js';
import type { ReadFilter } from '../../model/query.js';
import { kDefaultLimit, kMaxLimit, parseFilter, parseJustification, type Justification } from '../parse.js';

type Body = Record<string, unknown>;

const kCommon = ['purpose', 'case', 'from', 'to', 'limit', 'approval'];
const kAreaFields = ['near', 'bbox', 'polygon'] as const;
const kFields: Record<AnalyticsKind, Set<string>> = {
  convoy: new Set([...kCommon, 'plate', 'windowSeconds', 'minCameras']),
  multisite: new Set([...kCommon, 'sites', 'minSites']),
  frequent: new Set([...kCommon, ...kAreaFields, 'minReads', 'minDays']),
  cloned: new Set([...kCommon, 'maxSpeedKmh', 'minDistanceM']),
};
const kSiteFields = new Set<string>([...kAreaFields, 'from', 'to']);

export const kMinSites = 2;
export const kMaxSites = 10;

function asBody(input: unknown, field?: string): Body {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw BadInput(field ? `${field} must be a JSON object` : 'body must be a JSON object', field ? { field } : undefined);
  }
  return input as Body;
}

function rejectUnknown(body: Body, allowed: Set<string>, prefix = ''): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) throw BadInput(`unknown field ${JSON.stringify(prefix + key)}`, { field: prefix + key });
  }
}

const absent = (v: unknown) => v === undefined || v === null;

/** An integer in [min, max], or `dflt` when absent. */
function integer(body: Body, field: string, min: number, max: number, dflt: number): number {
  const v = body[field];
  if (absent(v)) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw BadInput(`${field} must be an integer in [${min}, ${max}]`, { field });
  }
  return v;
}

/** A finite number in (or at) the bounds, or `dflt` when absent. */
function number(body: Body, field: string, min: number, max: number, dflt: number, minExclusive = false): number {
  const v = body[field];
  if (absent(v)) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v > max || (minExclusive ? v <= min : v < min)) {
    throw BadInput(`${field} must be a number in ${minExclusive ? '(' : '['}${min}, ${max}]`, { field });
  }
  return v;
}

/** The request's window only (`from`, `to`), as search parses it. */
function windowOf(body: Body): ReadFilter {
  return parseFilter({ from: body.from, to: body.to });
}

/** One area (exactly one of near, bbox, polygon) plus whatever window `body` has, as search parses them. */
function areaOf(body: Body, prefix: string): ReadFilter {
  const given = kAreaFields.filter((f) => !absent(body[f]));
  if (given.length !== 1) {
    throw BadInput(`${prefix || 'body'} needs exactly one area: near, bbox or polygon`, { field: prefix ? prefix.slice(0, -1) : 'near' });
  }
  const sub: Body = { from: body.from, to: body.to, [given[0]!]: body[given[0]!] };
  try {
    return parseFilter(sub);
  } catch (err) {
    // name the field within the site (sites[1].near.radiusM), not as if it were top-level
    const e = err as { details?: { field?: string }; message: string };
    if (prefix && e.details?.field) throw BadInput(`${prefix}${e.message}`, { field: prefix + e.details.field });
    throw err;
  }
}

function parsePlate(body: Body): string {
  const raw = body.plate;
  if (typeof raw !== 'string') throw BadInput('plate is required and must be a string', { field: 'plate' });
  const plate = normalisePattern(raw);
  if (plate.length === 0) throw BadInput('plate is empty after normalisation', { field: 'plate' });
  if (hasWildcard(plate)) throw BadInput('plate must be one plate: the convoy target is matched exactly', { field: 'plate' });
  if (plate.length > kMaxPlateLength) throw BadInput(`plate has more than ${kMaxPlateLength} characters`, { field: 'plate' });
  return plate;
}

function parseConvoy(body: Body, limit: number): ConvoyQuery {
  return {
    kind: 'convoy', filter: windowOf(body), limit,
    plate: parsePlate(body),
    windowSeconds: integer(body, 'windowSeconds', 1, 3600, 120),
    minCameras: integer(body, 'minCameras', 1, 100, 3),
  };
}

function parseMultisite(body: Body, limit: number): MultisiteQuery {
  const raw = body.sites;
  if (!Array.isArray(raw) || raw.length < kMinSites || raw.length > kMaxSites) {
    throw BadInput(`sites must be an array of ${kMinSites}-${kMaxSites} sites`, { field: 'sites' });
  }
  const sites = raw.map((s, k) => {
    const site = asBody(s, `sites[${k}]`);
    rejectUnknown(site, kSiteFields, `sites[${k}].`);
    return areaOf(site, `sites[${k}].`);
  });
  return { kind: 'multisite', filter: windowOf(body), limit, sites, minSites: integer(body, 'minSites', 1, sites.length, sites.length) };
}

function parseFrequent(body: Body, limit: number): FrequentQuery {
  return {
    kind: 'frequent', filter: areaOf(body, ''), limit,
    minReads: integer(body, 'minReads', 1, 1_000_000, 5),
    minDays: integer(body, 'minDays', 1, 3660, 1),
  };
}

function parseCloned(body: Body, limit: number): ClonedQuery {
  return {
    kind: 'cloned', filter: windowOf(body), limit,
    maxSpeedKmh: number(body, 'maxSpeedKmh', 0, 100_000, 250, true),
    minDistanceM: number(body, 'minDistanceM', 0, 20_100_000, 5000),
  };
}

/** A body of `POST /v1/analytics/<kind>` → the query and the stated purpose and case. */
export function parseAnalyticsRequest(kind: AnalyticsKind, input: unknown): { query: AnalyticsQuery; justification: Justification } {
  const body = asBody(input);
  rejectUnknown(body, kFields[kind]);
  const justification = parseJustification(body);
  if (!absent(body.approval) && typeof body.approval !== 'string') throw BadInput('approval must be a string', { field: 'approval' });
  const limit = integer(body, 'limit', 1, kMaxLimit, kDefaultLimit);
  switch (kind) {
    case 'convoy':
      return { query: parseConvoy(body, limit), justification };
    case 'multisite':
      return { query: parseMultisite(body, limit), justification };
    case 'frequent':
      return { query: parseFrequent(body, limit), justification };
    case 'cloned':
      return { query: parseCloned(body, limit), justification };
  }
}
