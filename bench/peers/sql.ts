/**
 * The query model (src/model/query.ts) translated into the SQL a careful DBA would write for the peers,
 * faithful to API.md: the same predicates, the same ordering (distance, ts desc, id), the exact `total`.
 *
 * Table `reads(id, tenant, plate, ts, lat, lon, camera, region, confidence, make, color)`.
 *
 * Plate matching:
 *   exact      plate = 'P'                          (btree on plate)
 *   wildcard   plate LIKE 'P' with ? → _, * → %     (btree prefix range in the C locale; pg_trgm GIN otherwise)
 *   fuzzy      levenshtein(plate, 'P') <= k, behind two prefilters that can never drop a true match:
 *              - length(plate) within L ± k;
 *              - pigeonhole: cut P into k + 1 pieces; k edits leave one piece intact, and the first piece,
 *                if intact, is still a prefix, the last a suffix, a middle one a substring:
 *                  plate LIKE 'P1%' OR plate LIKE '%P2%' OR plate LIKE '%P3'
 *                (an insertion before a character is charged to that character's piece, one at the very end
 *                to the last piece). PostgreSQL answers these LIKEs from its btree / trigram indexes; this is
 *                the "trigram-assisted" fuzzy search, without `%` similarity thresholds that could lose matches.
 *   ocr        both sides through translate(…, 'ODQILZSGBV', '000112568U') first (API.md's classes).
 * Hot lists join reads against the entries: an equi-join for exact entries; for fuzzy entries the
 * symmetric-delete join (every string with ≤ k characters deleted, on both sides, joined on equal keys,
 * then verified with levenshtein) over the distinct plates in scope, which finds exactly the pairs within
 * k edits (Garbe's SymSpell idea) without a k-edit comparison of every entry with every plate.
 */
import { kOcrClasses } from '../../src/model/plate.js';
import type { HotlistQuery, PlateMatch, ReadFilter, SearchQuery, TenantScope } from '../../src/model/query.js';
import { kEarthRadiusM } from '../../src/query/reference/geo.js';
import { sqlDouble, sqlString, type SqlDialect } from './sql-dialect.js';

/** Longest plate (API.md): bounds the deletion positions of the symmetric-delete join. */
const kMaxPlateChars = 10;

/** `translate` arguments for the OCR classes: every member maps to its class's first character. */
const [kOcrFrom, kOcrTo] = (() => {
  let from = '';
  let to = '';
  for (const cls of kOcrClasses) {
    for (const ch of cls.slice(1)) {
      from += ch;
      to += cls[0];
    }
  }
  return [from, to];
})();

/** The scope's retention cutoff below which nothing is visible; the harness passes "no cutoff" as this. */
export const kNoCutoff = Number.MIN_SAFE_INTEGER;

/**
 * One statement for `total` and the ordered top `limit`: rows (id, distance, total), where the window count
 * runs over every matching row before the LIMIT, so each peer scans once (as the engine does).
 * An empty answer has no rows, and total 0.
 */
export interface SearchSql {
  sql: string;
}

function ocrMapped(expr: string, ocr: boolean): string {
  return ocr ? `translate(${expr}, ${sqlString(kOcrFrom)}, ${sqlString(kOcrTo)})` : expr;
}

function mapPatternOcr(pattern: string, ocr: boolean): string {
  if (!ocr) return pattern;
  let out = '';
  for (const ch of pattern) {
    const at = kOcrFrom.indexOf(ch);
    out += at < 0 ? ch : kOcrTo[at];
  }
  return out;
}

/** Haversine distance in metres from the read `r` to (lat, lon), written as src/query/reference/geo.ts computes it. */
function haversineSql(lat: number, lon: number): string {
  const rad = (expr: string) => `(${expr}) * pi() / 180`;
  const dLat = rad(`r.lat - ${sqlDouble(lat)}`);
  const dLon = rad(`r.lon - ${sqlDouble(lon)}`);
  const h =
    `power(sin(${dLat} / 2), 2) + cos(${rad(sqlDouble(lat))}) * cos(${rad('r.lat')}) * power(sin(${dLon} / 2), 2)`;
  return `2 * ${sqlDouble(kEarthRadiusM)} * asin(least(${sqlDouble(1)}, sqrt(${h})))`;
}

/** The tenant, its retention cutoff and every filter of `filter`, as conjuncts over alias `r`. */
export function filterConjuncts(d: SqlDialect, scope: TenantScope, filter: ReadFilter): string[] {
  const out = [`r.tenant = ${sqlString(scope.tenant)}`];
  if (scope.minTs > kNoCutoff) out.push(`r.ts >= ${d.timestamp(scope.minTs)}`);
  if (filter.from !== undefined) out.push(`r.ts >= ${d.timestamp(filter.from)}`);
  if (filter.to !== undefined) out.push(`r.ts < ${d.timestamp(filter.to)}`);
  if (filter.bbox) {
    const [minLon, minLat, maxLon, maxLat] = filter.bbox;
    out.push(
      `r.lon >= ${sqlDouble(minLon)}`, `r.lat >= ${sqlDouble(minLat)}`,
      `r.lon <= ${sqlDouble(maxLon)}`, `r.lat <= ${sqlDouble(maxLat)}`,
    );
  }
  if (filter.near) out.push(`${haversineSql(filter.near.lat, filter.near.lon)} <= ${sqlDouble(filter.near.radiusM)}`);
  if (filter.polygon) throw new Error('bench/peers/sql: polygon filters are not in the peer query set');
  if (filter.cameras) out.push(`r.camera IN (${filter.cameras.map(sqlString).join(', ')})`);
  if (filter.regions) out.push(`r.region IN (${filter.regions.map(sqlString).join(', ')})`);
  return out;
}

/** Cuts `p` into `parts` contiguous pieces as equal as possible (earlier pieces one longer). */
export function pigeonholePieces(p: string, parts: number): string[] {
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < parts; i++) {
    const len = Math.floor(p.length / parts) + (i < p.length % parts ? 1 : 0);
    out.push(p.slice(at, at + len));
    at += len;
  }
  return out;
}

/** The plate predicate and the distance expression of `match` over the (possibly OCR-mapped) column `x`. */
function platePredicate(match: PlateMatch, column: string): { where: string[]; distance: string } {
  const x = ocrMapped(column, match.ocr);
  const p = mapPatternOcr(match.pattern, match.ocr);
  switch (match.mode) {
    case 'exact':
      return { where: [`${x} = ${sqlString(p)}`], distance: '0' };
    case 'wildcard':
      return { where: [`${x} LIKE ${sqlString(p.replaceAll('?', '_').replaceAll('*', '%'))}`], distance: '0' };
    case 'fuzzy': {
      if (match.transpositions) throw new Error('bench/peers/sql: neither peer has optimal string alignment distance');
      const k = match.maxEdits;
      const distance = `levenshtein(${x}, ${sqlString(p)})`;
      const where = [`length(${x}) BETWEEN ${Math.max(0, p.length - k)} AND ${p.length + k}`];
      const pieces = pigeonholePieces(p, k + 1);
      if (k > 0 && pieces.every((s) => s.length > 0)) {
        const likes = pieces.map((s, i) =>
          i === 0 ? `${x} LIKE ${sqlString(s + '%')}`
          : i === pieces.length - 1 ? `${x} LIKE ${sqlString('%' + s)}`
          : `${x} LIKE ${sqlString('%' + s + '%')}`);
        where.push(`(${likes.join(' OR ')})`);
      }
      where.push(`${distance} <= ${k}`);
      return { where, distance };
    }
  }
}

/** `/v1/search` for one tenant. */
export function searchSql(d: SqlDialect, scope: TenantScope, query: SearchQuery): SearchSql {
  const where = filterConjuncts(d, scope, query.filter);
  let distance = '0';
  if (query.plate) {
    const m = platePredicate(query.plate, 'r.plate');
    where.push(...m.where);
    distance = m.distance;
  }
  return {
    sql: `SELECT r.id, ${distance} AS distance, count(*) OVER () AS total FROM reads r\nWHERE ${where.join('\n  AND ')}\n` +
      `ORDER BY distance, r.ts DESC, r.id\nLIMIT ${query.limit}`,
  };
}

/** Deletion-neighbourhood keys of column `m` of relation `src` (every string with ≤ k characters removed). */
function deletionKeys(src: string, carry: string, k: number): string {
  const n = kMaxPlateChars;
  if (k === 0) return `SELECT ${carry}, m AS key FROM ${src}`;
  if (k === 1) {
    return `SELECT ${carry}, CASE WHEN g.i = 0 THEN m ELSE substr(m, 1, g.i - 1) || substr(m, g.i + 1) END AS key\n` +
      `    FROM ${src} CROSS JOIN generate_series(0, ${n}) AS g(i) WHERE g.i <= length(m)`;
  }
  if (k === 2) {
    // (i, j) = (0, 0): no deletion; (0, j): delete j; (i, j), 1 ≤ i < j: delete i and j (1-based positions).
    return `SELECT ${carry}, CASE WHEN g.i = 0 AND h.j = 0 THEN m\n` +
      `      WHEN g.i = 0 THEN substr(m, 1, h.j - 1) || substr(m, h.j + 1)\n` +
      `      ELSE substr(m, 1, g.i - 1) || substr(m, g.i + 1, h.j - g.i - 1) || substr(m, h.j + 1) END AS key\n` +
      `    FROM ${src} CROSS JOIN generate_series(0, ${n}) AS g(i) CROSS JOIN generate_series(0, ${n}) AS h(j)\n` +
      `    WHERE h.j <= length(m) AND (g.i < h.j OR (g.i = 0 AND h.j = 0))`;
  }
  throw new Error(`bench/peers/sql: maxEdits ${k} is outside API.md's 0-2`);
}

/**
 * `/v1/search/hotlist` for one tenant: rows (entry, total, id) with each entry's hits in search order,
 * cut at `limitPerPlate`, ordered by entry then rank. Every entry must share one match mode (the API's rule).
 * The entries come inline (one string literal, split), or from `entriesRelation`, a query with one column
 * `entry` that the caller has filled (DuckDB joins a temp table filled by its appender 4x faster than the
 * split literal: 100k entries, measured here).
 */
export function hotlistSql(d: SqlDialect, scope: TenantScope, query: HotlistQuery, entriesRelation?: string): string {
  const first = query.entries[0];
  if (!first) throw new Error('bench/peers/sql: a hot list needs entries');
  for (const e of query.entries) {
    if (e.mode !== first.mode || e.maxEdits !== first.maxEdits || e.ocr !== first.ocr || e.transpositions) {
      throw new Error('bench/peers/sql: hot-list entries must share one match mode (and no transpositions)');
    }
  }
  const scoped = filterConjuncts(d, scope, query.filter).join(' AND ');
  const entries = entriesRelation !== undefined ? `e AS (${entriesRelation})`
    : `e AS (SELECT ${d.unnestText(query.entries.map((x) => x.pattern))} AS entry)`;
  const xr = ocrMapped('r.plate', first.ocr);
  const xe = ocrMapped('e.entry', first.ocr);
  let matched: string[];
  switch (first.mode) {
    case 'exact':
      matched = [`m AS (SELECT e.entry, r.id, r.ts, 0 AS distance FROM reads r JOIN e ON ${xr} = ${xe} WHERE ${scoped})`];
      break;
    case 'wildcard':
      matched = [
        `m AS (SELECT e.entry, r.id, r.ts, 0 AS distance FROM reads r JOIN e ` +
        `ON ${xr} LIKE replace(replace(${xe}, '?', '_'), '*', '%') WHERE ${scoped})`,
      ];
      break;
    case 'fuzzy': {
      const k = first.maxEdits;
      matched = [
        `p AS (SELECT DISTINCT r.plate FROM reads r WHERE ${scoped})`,
        `pm AS (SELECT plate, ${ocrMapped('plate', first.ocr)} AS m FROM p)`,
        `em AS (SELECT entry, ${ocrMapped('entry', first.ocr)} AS m FROM e)`,
        `pk AS (${deletionKeys('pm', 'plate, m', k)})`,
        `ek AS (${deletionKeys('em', 'entry, m', k)})`,
        `c AS (SELECT DISTINCT ek.entry, ek.m AS em, pk.plate, pk.m AS pm FROM ek JOIN pk ON ek.key = pk.key)`,
        `v AS (SELECT entry, plate, levenshtein(em, pm) AS distance FROM c WHERE levenshtein(em, pm) <= ${k})`,
        `m AS (SELECT v.entry, r.id, r.ts, v.distance FROM v JOIN reads r ON r.plate = v.plate WHERE ${scoped})`,
      ];
      break;
    }
  }
  return `WITH ${[entries, ...matched].join(',\n')},\n` +
    `w AS (SELECT entry, id, count(*) OVER (PARTITION BY entry) AS total,\n` +
    `        row_number() OVER (PARTITION BY entry ORDER BY distance, ts DESC, id) AS rn FROM m)\n` +
    `SELECT entry, total, id FROM w WHERE rn <= ${query.limitPerPlate} ORDER BY entry, rn`;
}
