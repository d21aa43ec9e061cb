/**
 * Request bodies → the validated query model. Every rule of API.md "Search" lives here, and every
 * error names its field, so `/v1/search`, `/v1/search/hotlist`, hot lists and the CLI reject alike.
 */
import { BadInput } from '../errors.js';
import { hasWildcard, isPlateCode, isWildcardCode, kMaxPlateLength, normalisePattern } from '../model/plate.js';
import { parseTimestamp } from '../model/time.js';
import type { BBox, HotlistQuery, MatchMode, Near, PlateMatch, ReadFilter, SearchQuery } from '../model/query.js';

export const kDefaultLimit = 1000;
export const kMaxLimit = 10_000;
export const kDefaultLimitPerPlate = 100;
export const kMaxHotlistEntries = 1_000_000;
/** Polygons and camera/region lists are bounded so one request cannot pin a core (pattern complexity limit). */
export const kMaxPolygonPoints = 10_000;
export const kMaxListFilter = 10_000;
/** `purpose` and `case` go into every audit record; bounded so one request cannot bloat the log. */
export const kMaxPurposeLength = 1024;

const kFilterFields = ['from', 'to', 'bbox', 'near', 'polygon', 'cameras', 'regions', 'makes', 'colors'] as const;
const kMatchFields = ['match', 'maxEdits', 'ocr', 'transpositions'] as const;
const kSearchFields = new Set<string>(['plate', ...kMatchFields, ...kFilterFields, 'limit', 'after', 'purpose', 'case']);
const kHotlistSearchFields = new Set<string>([
  'plates', 'limitPerPlate', 'limit', ...kMatchFields, ...kFilterFields, 'purpose', 'case',
]);

export interface Justification {
  purpose: string;
  case: string;
}

type Body = Record<string, unknown>;

function asBody(input: unknown): Body {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw BadInput('body must be a JSON object');
  }
  return input as Body;
}

/** Judgement call: unknown fields are a 400 naming the field, so a typo (`maxEdit`) cannot silently widen a search. */
function rejectUnknown(body: Body, allowed: Set<string>): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) throw BadInput(`unknown field ${JSON.stringify(key)}`, { field: key });
  }
}

/** `purpose` and `case` are required: without them nothing runs (API.md). */
export function parseJustification(body: Body): Justification {
  const out: Partial<Justification> = {};
  for (const field of ['purpose', 'case'] as const) {
    const v = body[field];
    // Judgement call: a whitespace-only purpose or case states nothing, so it counts as empty.
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > kMaxPurposeLength) {
      throw BadInput(`${field} is required and must be a non-empty string of at most ${kMaxPurposeLength} characters`, { field });
    }
    out[field] = v;
  }
  return out as Justification;
}

function finiteNumber(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw BadInput(`${field} must be a finite number`, { field });
  return v;
}

function latitude(v: unknown, field: string): number {
  const x = finiteNumber(v, field);
  if (x < -90 || x > 90) throw BadInput(`${field} must be a latitude in [-90, 90]`, { field });
  return x;
}

function longitude(v: unknown, field: string): number {
  const x = finiteNumber(v, field);
  if (x < -180 || x > 180) throw BadInput(`${field} must be a longitude in [-180, 180]`, { field });
  return x;
}

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > kMaxListFilter) {
    throw BadInput(`${field} must be a non-empty array of at most ${kMaxListFilter} strings`, { field });
  }
  for (const s of v) if (typeof s !== 'string') throw BadInput(`${field} must contain only strings`, { field });
  return [...new Set(v as string[])];
}

/** The filters shared by `/v1/search`, `/v1/search/hotlist` and export. */
export function parseFilter(body: Body): ReadFilter {
  const filter: ReadFilter = {};
  for (const field of ['from', 'to'] as const) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    const t = parseTimestamp(v);
    if (t === undefined) {
      throw BadInput(`${field} must be an ISO-8601 string with a zone or epoch milliseconds`, { field });
    }
    filter[field] = t;
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
    throw BadInput('from must not be after to', { field: 'from' });
  }

  if (body.bbox !== undefined && body.bbox !== null) {
    const b = body.bbox;
    if (!Array.isArray(b) || b.length !== 4) throw BadInput('bbox must be [minLon, minLat, maxLon, maxLat]', { field: 'bbox' });
    const bbox: BBox = [longitude(b[0], 'bbox[0]'), latitude(b[1], 'bbox[1]'), longitude(b[2], 'bbox[2]'), latitude(b[3], 'bbox[3]')];
    if (bbox[0] > bbox[2] || bbox[1] > bbox[3]) {
      throw BadInput('bbox minimum must not exceed its maximum (v1 does not cross the antimeridian)', { field: 'bbox' });
    }
    filter.bbox = bbox;
  }

  if (body.near !== undefined && body.near !== null) {
    const n = body.near as Body;
    if (typeof n !== 'object' || Array.isArray(n)) throw BadInput('near must be {lat, lon, radiusM}', { field: 'near' });
    const near: Near = { lat: latitude(n.lat, 'near.lat'), lon: longitude(n.lon, 'near.lon'), radiusM: finiteNumber(n.radiusM, 'near.radiusM') };
    if (near.radiusM < 0) throw BadInput('near.radiusM must not be negative', { field: 'near.radiusM' });
    filter.near = near;
  }

  if (body.polygon !== undefined && body.polygon !== null) {
    const p = body.polygon;
    if (!Array.isArray(p) || p.length > kMaxPolygonPoints) {
      throw BadInput(`polygon must be an array of at most ${kMaxPolygonPoints} [lon, lat] points`, { field: 'polygon' });
    }
    const ring: Array<[number, number]> = p.map((pt, i) => {
      if (!Array.isArray(pt) || pt.length !== 2) throw BadInput(`polygon[${i}] must be [lon, lat]`, { field: 'polygon' });
      return [longitude(pt[0], `polygon[${i}][0]`), latitude(pt[1], `polygon[${i}][1]`)];
    });
    const distinct = new Set(ring.map(([x, y]) => `${x},${y}`));
    if (distinct.size < 3) throw BadInput('polygon needs at least 3 distinct points', { field: 'polygon' });
    filter.polygon = ring;
  }

  if (body.cameras !== undefined && body.cameras !== null) filter.cameras = stringList(body.cameras, 'cameras');
  if (body.regions !== undefined && body.regions !== null) filter.regions = stringList(body.regions, 'regions');
  // v1.1: matched case-insensitively (src/model/label.ts); an empty list is a 400 like cameras
  if (body.makes !== undefined && body.makes !== null) filter.makes = stringList(body.makes, 'makes');
  if (body.colors !== undefined && body.colors !== null) filter.colors = stringList(body.colors, 'colors');
  return filter;
}

/** The match options of a request body (`match`, `maxEdits`, `ocr`, `transpositions`), before a pattern resolves them. */
export interface MatchOptions {
  match?: MatchMode;
  maxEdits?: number;
  ocr: boolean;
  transpositions: boolean;
}

function parseMatchOptions(body: Body): MatchOptions {
  const opts: MatchOptions = { ocr: false, transpositions: false };
  if (body.match !== undefined && body.match !== null) {
    if (body.match !== 'exact' && body.match !== 'wildcard' && body.match !== 'fuzzy') {
      throw BadInput('match must be "exact", "wildcard" or "fuzzy"', { field: 'match' });
    }
    opts.match = body.match;
  }
  if (body.maxEdits !== undefined && body.maxEdits !== null) {
    const k = body.maxEdits;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 2) {
      throw BadInput('maxEdits must be an integer in [0, 2]', { field: 'maxEdits' });
    }
    if (opts.match !== 'fuzzy') throw BadInput('maxEdits needs match "fuzzy"', { field: 'maxEdits' });
    opts.maxEdits = k;
  }
  for (const field of ['ocr', 'transpositions'] as const) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') throw BadInput(`${field} must be a boolean`, { field });
    opts[field] = v;
  }
  // Judgement call: `maxEdits` given at all (any value, even 0) without match "fuzzy" is a 400, as API.md
  // says; `transpositions: false` asks for nothing, so only `true` is refused without "fuzzy".
  // A field sent as JSON null counts as absent, here and for every optional field.
  if (opts.transpositions && opts.match !== 'fuzzy') {
    throw BadInput('transpositions needs match "fuzzy"', { field: 'transpositions' });
  }
  return opts;
}

/** A plate pattern's error, naming the field (`plates[7]` when it is entry `index` of the list `field`). */
function badPattern(field: string, index: number | undefined, why: string): never {
  const name = index === undefined ? field : `${field}[${index}]`;
  throw BadInput(`${name}${why}`, { field: name });
}

/**
 * Normalises one pattern and resolves its effective match mode. `field` names it in errors; `index`, when
 * given, is its place in the list `field`: the name `plates[7]` is made only for an error, not once for each
 * of a hot list's entries.
 */
export function parsePlateMatch(raw: unknown, opts: MatchOptions, field: string, index?: number): PlateMatch {
  if (typeof raw !== 'string') badPattern(field, index, ' must be a string');
  const pattern = normalisePattern(raw as string);
  if (pattern.length === 0) badPattern(field, index, ' is empty after normalisation');
  // only a pattern longer than a plate can have too many characters besides "*"
  if (pattern.length > kMaxPlateLength && pattern.replaceAll('*', '').length > kMaxPlateLength) {
    badPattern(field, index, ` has more than ${kMaxPlateLength} characters besides "*"`);
  }
  const wild = hasWildcard(pattern);
  const mode: MatchMode = opts.match ?? (wild ? 'wildcard' : 'exact');
  if (wild && mode !== 'wildcard') badPattern(field, index, ': "?" and "*" need match "wildcard"');
  return plateMatch(pattern, mode, opts);
}

function plateMatch(pattern: string, mode: MatchMode, opts: MatchOptions): PlateMatch {
  return {
    pattern,
    mode,
    maxEdits: mode === 'fuzzy' ? (opts.maxEdits ?? 1) : 0,
    ocr: opts.ocr,
    transpositions: mode === 'fuzzy' && opts.transpositions,
  };
}

/**
 * A hot-list entry as clients send it, read in one pass: already normal (A–Z, 0–9, `?`, `*`) and no longer
 * than a plate, so that normalising, the length rule and the wildcard test of parsePlateMatch all come out
 * as this pass says. 1 when it has a wildcard, 0 when not, -1 for any other entry (parsePlateMatch parses it,
 * and names it in its error). A 100-entry list is on the main thread of every hot-list search.
 */
function normalEntryWildcard(raw: unknown): number {
  if (typeof raw !== 'string') return -1;
  const n = raw.length;
  if (n === 0 || n > kMaxPlateLength) return -1;
  let wild = 0;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (isPlateCode(c)) continue;
    if (isWildcardCode(c)) wild = 1;
    else return -1;
  }
  return wild;
}

/** parsePlateMatch(raw, opts, 'plates', index), with a normal entry's pass in place of its steps. */
function parseHotlistEntry(raw: unknown, opts: MatchOptions, index: number): PlateMatch {
  const wild = normalEntryWildcard(raw);
  if (wild < 0) return parsePlateMatch(raw, opts, 'plates', index);
  const mode: MatchMode = opts.match ?? (wild === 1 ? 'wildcard' : 'exact');
  if (wild === 1 && mode !== 'wildcard') return parsePlateMatch(raw, opts, 'plates', index); // its 400
  return plateMatch(raw as string, mode, opts);
}

function parseLimit(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > kMaxLimit) {
    throw BadInput(`${field} must be an integer in [1, ${kMaxLimit}]`, { field });
  }
  return v;
}

/**
 * `POST /v1/search` body → query plus the stated purpose and case, and the raw `after` cursor (v1.1), which
 * only the caller can check (src/query/cursor.ts binds it to the query, the justification and the caller).
 */
export function parseSearchRequest(input: unknown): { query: SearchQuery; justification: Justification; cursor?: unknown } {
  const body = asBody(input);
  rejectUnknown(body, kSearchFields);
  const justification = parseJustification(body);
  const opts = parseMatchOptions(body);
  const query: SearchQuery = { filter: parseFilter(body), limit: parseLimit(body.limit, 'limit', kDefaultLimit) };
  if (body.plate !== undefined && body.plate !== null) query.plate = parsePlateMatch(body.plate, opts, 'plate');
  if (body.after !== undefined && body.after !== null) return { query, justification, cursor: body.after };
  return { query, justification };
}

/** `POST /v1/search/hotlist` body → entries (normalised, merged, first-appearance order) plus filters. */
export function parseHotlistSearchRequest(input: unknown): { query: HotlistQuery; justification: Justification } {
  const body = asBody(input);
  rejectUnknown(body, kHotlistSearchFields);
  const justification = parseJustification(body);
  const opts = parseMatchOptions(body);
  const plates = body.plates;
  if (!Array.isArray(plates) || plates.length < 1 || plates.length > kMaxHotlistEntries) {
    throw BadInput(`plates must be an array of 1-${kMaxHotlistEntries} strings`, { field: 'plates' });
  }
  const seen = new Set<string>();
  const entries: PlateMatch[] = [];
  for (let i = 0; i < plates.length; i++) {
    const entry = parseHotlistEntry(plates[i], opts, i);
    // one lookup: an entry seen before leaves the set's size as it was
    const before = seen.size;
    seen.add(entry.pattern);
    if (seen.size !== before) entries.push(entry);
  }
  if (body.limit !== undefined) parseLimit(body.limit, 'limit', kDefaultLimit); // accepted for symmetry; per-entry cut is limitPerPlate
  const query: HotlistQuery = {
    entries,
    filter: parseFilter(body),
    limitPerPlate: parseLimit(body.limitPerPlate, 'limitPerPlate', kDefaultLimitPerPlate),
  };
  return { query, justification };
}
