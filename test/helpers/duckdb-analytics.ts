/**
 * DuckDB as an independent oracle for the four analyses of API.md "Investigative analytics", written in
 * SQL from API.md's text (not from src/): scope and filters come from duckdb.ts (`scopeSql`, `filterSql`,
 * themselves written from API.md), everything else is here. The same statements are the DuckDB peer's in
 * bench/peers (bench/peers/analytics.ts imports them).
 *
 * Answers come back in the model's shape (times as epoch ms; cloned examples as the pair's ids).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AnalyticsQuery, ClonedQuery, ConvoyQuery, FrequentQuery, MultisiteQuery } from '../../src/model/analytics.js';
import type { TenantScope } from '../../src/model/query.js';
import { filterSql, scopeSql, Statement, type DuckOracle } from './duckdb.js';

const kEarthRadiusSql = '6371008.8';

export interface SqlOf {
  sql: string;
  params: DuckDBValue[];
}

/** Visible reads in the request's window: the CTE `v`. */
function visible(st: Statement, scopes: readonly TenantScope[], q: AnalyticsQuery): string {
  const where = [scopeSql(st, scopes), ...filterSql(st, q.filter)];
  return `v AS (SELECT r.* FROM reads r WHERE ${where.join(' AND ')})`;
}

/** Plate ascending by bytes: DuckDB's default VARCHAR collation is binary. */
const kTotal = 'count(*) OVER () AS total';

export function convoySql(scopes: readonly TenantScope[], q: ConvoyQuery): SqlOf {
  const st = new Statement();
  const v = visible(st, scopes, q);
  const plate = st.bind(q.plate);
  const ms = st.bind(q.windowSeconds * 1000);
  const sql = `WITH ${v},
    t AS (SELECT camera, ts FROM v WHERE plate = ${plate}),
    c AS (SELECT v.* FROM v WHERE v.plate <> ${plate}
          AND EXISTS (SELECT 1 FROM t WHERE t.camera = v.camera AND abs(v.ts - t.ts) <= ${ms})),
    g AS (SELECT plate, count(DISTINCT camera) AS cameras, count(*) AS together, min(ts) AS first, max(ts) AS last
          FROM c GROUP BY plate HAVING count(DISTINCT camera) >= ${st.bind(q.minCameras)})
    SELECT *, ${kTotal} FROM g ORDER BY cameras DESC, together DESC, plate ASC LIMIT ${st.bind(q.limit)}::BIGINT`;
  return { sql, params: st.params };
}

export function multisiteSql(scopes: readonly TenantScope[], q: MultisiteQuery): SqlOf {
  const st = new Statement();
  const v = visible(st, scopes, q);
  const inSite = q.sites.map((site, k) => {
    const where = filterSql(st, site);
    return `SELECT r.id, r.plate, ${k} AS site FROM v r${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  });
  const sql = `WITH ${v},
    s AS (${inSite.join(' UNION ALL ')}),
    g AS (SELECT plate, list(DISTINCT site ORDER BY site) AS sites, count(DISTINCT site) AS nsites, count(DISTINCT id) AS reads
          FROM s GROUP BY plate HAVING count(DISTINCT site) >= ${st.bind(q.minSites)})
    SELECT *, ${kTotal} FROM g ORDER BY nsites DESC, reads DESC, plate ASC LIMIT ${st.bind(q.limit)}::BIGINT`;
  return { sql, params: st.params };
}

export function frequentSql(scopes: readonly TenantScope[], q: FrequentQuery): SqlOf {
  const st = new Statement();
  const v = visible(st, scopes, q);
  const sql = `WITH ${v},
    g AS (SELECT plate, count(*) AS reads, count(DISTINCT floor(ts / 86400000.0)) AS days, min(ts) AS first, max(ts) AS last
          FROM v GROUP BY plate)
    SELECT *, ${kTotal} FROM g WHERE reads >= ${st.bind(q.minReads)} AND days >= ${st.bind(q.minDays)}
    ORDER BY reads DESC, plate ASC LIMIT ${st.bind(q.limit)}::BIGINT`;
  return { sql, params: st.params };
}

export function clonedSql(scopes: readonly TenantScope[], q: ClonedQuery): SqlOf {
  const st = new Statement();
  const v = visible(st, scopes, q);
  const sql = `WITH ${v},
    o AS (SELECT id, plate, ts, lat, lon,
            lag(id) OVER w AS pid, lag(ts) OVER w AS pts, lag(lat) OVER w AS plat, lag(lon) OVER w AS plon
          FROM v WINDOW w AS (PARTITION BY plate ORDER BY ts, id)),
    d AS (SELECT *, 2 * ${kEarthRadiusSql} * asin(least(1, sqrt(
            pow(sin(radians(lat - plat) / 2), 2) + cos(radians(plat)) * cos(radians(lat)) * pow(sin(radians(lon - plon) / 2), 2)))) AS dist
          FROM o WHERE pid IS NOT NULL),
    p AS (SELECT *, (dist / greatest((ts - pts) / 1000.0, 1)) * 3.6 AS speed FROM d),
    f AS (SELECT *, row_number() OVER (PARTITION BY plate ORDER BY speed DESC, ts ASC, id ASC) AS rn,
            count(*) OVER (PARTITION BY plate) AS pairs
          FROM p WHERE dist >= ${st.bind(q.minDistanceM)} AND speed > ${st.bind(q.maxSpeedKmh)})
    SELECT plate, pairs, speed AS max_speed, pid AS a, id AS b, ${kTotal} FROM f WHERE rn = 1
    ORDER BY pairs DESC, plate ASC LIMIT ${st.bind(q.limit)}::BIGINT`;
  return { sql, params: st.params };
}

export function analyticsSql(scopes: readonly TenantScope[], q: AnalyticsQuery): SqlOf {
  switch (q.kind) {
    case 'convoy':
      return convoySql(scopes, q);
    case 'multisite':
      return multisiteSql(scopes, q);
    case 'frequent':
      return frequentSql(scopes, q);
    case 'cloned':
      return clonedSql(scopes, q);
  }
}

/** An analysis' rows as DuckDB computes them, in a shape every side can be projected to (`project*`). */
export interface OracleAnalytics {
  total: number;
  truncated: boolean;
  results: Array<Record<string, unknown>>;
}

export async function duckAnalytics(db: DuckOracle, scopes: readonly TenantScope[], q: AnalyticsQuery): Promise<OracleAnalytics> {
  const { sql, params } = analyticsSql(scopes, q);
  const rows = await db.rows(sql, params);
  const total = rows.length === 0 ? 0 : Number(rows[0]!.total);
  const results = rows.map((r): Record<string, unknown> => {
    switch (q.kind) {
      case 'convoy':
        return { plate: String(r.plate), cameras: Number(r.cameras), together: Number(r.together), first: Number(r.first), last: Number(r.last) };
      case 'multisite':
        return { plate: String(r.plate), sites: (r.sites as { items: unknown[] }).items.map(Number), reads: Number(r.reads) };
      case 'frequent':
        return { plate: String(r.plate), reads: Number(r.reads), days: Number(r.days), first: Number(r.first), last: Number(r.last) };
      case 'cloned':
        return { plate: String(r.plate), pairs: Number(r.pairs), maxSpeedKmh: Number(r.max_speed), example: [String(r.a), String(r.b)] };
    }
  });
  return { total, truncated: total > results.length, results };
}
