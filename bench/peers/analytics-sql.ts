/**
 * The four analyses of API.md "Investigative analytics" as the SQL a careful DBA would write for the peers
 * (DuckDB, PostgreSQL), from API.md's text: one statement each, `count(*) OVER ()` for `total`, ordered as
 * API.md says and cut at `limit`. Time arithmetic runs on epoch milliseconds (`SqlDialect.epochMs`) so that
 * windows and UTC days are exact; the time filters stay on the `ts` column so zone maps and indexes prune.
 *
 *   convoy     targets = the plate's reads; companions = reads of other plates with EXISTS a target read at
 *              the same camera within ±window (a semi-join, each read once); GROUP BY plate
 *   multisite  one SELECT per site (its area and window) UNION ALL, GROUP BY plate: distinct sites, distinct ids
 *   frequent   GROUP BY plate: count, distinct UTC days (floor(ms / 86400000)), min, max
 *   cloned     lag() over (PARTITION BY plate ORDER BY ts, id) for the previous read, haversine between them
 *              written as src/query/reference/geo.ts computes it, speed = metres / max(Δs, 1) × 3.6;
 *              row_number() picks the fastest pair (the earliest of equally fast ones)
 *
 * Rows: convoy (plate, cameras, together, first, last, total); multisite (plate, sites, reads, total);
 * frequent (plate, reads, days, first, last, total); cloned (plate, pairs, max_speed, a, b, total) with
 * a, b the pair's ids. `first`/`last` in epoch ms.
 */
import type { AnalyticsQuery, ClonedQuery, ConvoyQuery, FrequentQuery, MultisiteQuery } from '../../src/model/analytics.js';
import type { ReadFilter, TenantScope } from '../../src/model/query.js';
import { kEarthRadiusM } from '../../src/query/reference/geo.js';
import { filterConjuncts } from './sql.js';
import { sqlDouble, sqlString, type SqlDialect } from './sql-dialect.js';

const kTotal = 'count(*) OVER () AS total';

/** The scope's visible reads in the request's window, with `ms` = epoch ms of ts: the CTE `v`. */
function visible(d: SqlDialect, scope: TenantScope, window: ReadFilter): string {
  return `v AS (SELECT r.id, r.plate, r.camera, r.lat, r.lon, r.ts, ${d.epochMs('r.ts')} AS ms FROM reads r
    WHERE ${filterConjuncts(d, scope, window).join(' AND ')})`;
}

/** A site's area and window as conjuncts over `v` aliased `r` (the tenant test is already in `v`). */
function siteConjuncts(d: SqlDialect, scope: TenantScope, site: ReadFilter): string[] {
  return filterConjuncts(d, scope, site).slice(1);
}

function limit(n: number): string {
  return `LIMIT ${Math.floor(n)}`;
}

export function convoySql(d: SqlDialect, scope: TenantScope, q: ConvoyQuery): string {
  const ms = q.windowSeconds * 1000;
  return `WITH ${visible(d, scope, q.filter)},
    t AS (SELECT camera, ms FROM v WHERE plate = ${sqlString(q.plate)}),
    c AS (SELECT v.plate, v.camera, v.ms FROM v WHERE v.plate <> ${sqlString(q.plate)}
          AND EXISTS (SELECT 1 FROM t WHERE t.camera = v.camera AND t.ms BETWEEN v.ms - ${ms} AND v.ms + ${ms})),
    g AS (SELECT plate, count(DISTINCT camera) AS cameras, count(*) AS together, min(ms) AS first, max(ms) AS last
          FROM c GROUP BY plate HAVING count(DISTINCT camera) >= ${q.minCameras})
    SELECT plate, cameras, together, first, last, ${kTotal} FROM g ORDER BY cameras DESC, together DESC, plate ASC ${limit(q.limit)}`;
}

export function multisiteSql(d: SqlDialect, scope: TenantScope, q: MultisiteQuery): string {
  const parts = q.sites.map((site, k) => {
    const where = siteConjuncts(d, scope, site);
    return `SELECT r.id, r.plate, ${k} AS site FROM v r${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  });
  return `WITH ${visible(d, scope, q.filter)},
    s AS (${parts.join(' UNION ALL ')}),
    g AS (SELECT plate, ${d.sortedDistinct('site')} AS sites, count(DISTINCT site) AS nsites, count(DISTINCT id) AS reads
          FROM s GROUP BY plate HAVING count(DISTINCT site) >= ${q.minSites})
    SELECT plate, sites, reads, ${kTotal} FROM g ORDER BY nsites DESC, reads DESC, plate ASC ${limit(q.limit)}`;
}

export function frequentSql(d: SqlDialect, scope: TenantScope, q: FrequentQuery): string {
  return `WITH ${visible(d, scope, q.filter)},
    g AS (SELECT plate, count(*) AS reads, count(DISTINCT floor(ms / 86400000.0)) AS days, min(ms) AS first, max(ms) AS last
          FROM v GROUP BY plate)
    SELECT plate, reads, days, first, last, ${kTotal} FROM g WHERE reads >= ${q.minReads} AND days >= ${q.minDays}
    ORDER BY reads DESC, plate ASC ${limit(q.limit)}`;
}

export function clonedSql(d: SqlDialect, scope: TenantScope, q: ClonedQuery): string {
  const rad = (e: string) => `(${e}) * pi() / 180`;
  const h = `power(sin(${rad('lat - plat')} / 2), 2) + cos(${rad('plat')}) * cos(${rad('lat')}) * power(sin(${rad('lon - plon')} / 2), 2)`;
  return `WITH ${visible(d, scope, q.filter)},
    o AS (SELECT id, plate, ms, lat, lon,
            lag(id) OVER w AS pid, lag(ms) OVER w AS pms, lag(lat) OVER w AS plat, lag(lon) OVER w AS plon
          FROM v WINDOW w AS (PARTITION BY plate ORDER BY ms, id)),
    dd AS (SELECT *, 2 * ${sqlDouble(kEarthRadiusM)} * asin(least(${sqlDouble(1)}, sqrt(${h}))) AS dist FROM o WHERE pid IS NOT NULL),
    p AS (SELECT *, (dist / greatest((ms - pms) / 1000.0, 1)) * 3.6 AS speed FROM dd),
    f AS (SELECT *, row_number() OVER (PARTITION BY plate ORDER BY speed DESC, ms ASC, id ASC) AS rn,
            count(*) OVER (PARTITION BY plate) AS pairs
          FROM p WHERE dist >= ${sqlDouble(q.minDistanceM)} AND speed > ${sqlDouble(q.maxSpeedKmh)})
    SELECT plate, pairs, speed AS max_speed, pid AS a, id AS b, ${kTotal} FROM f WHERE rn = 1
    ORDER BY pairs DESC, plate ASC ${limit(q.limit)}`;
}

export function analyticsSql(d: SqlDialect, scope: TenantScope, q: AnalyticsQuery): string {
  switch (q.kind) {
    case 'convoy':
      return convoySql(d, scope, q);
    case 'multisite':
      return multisiteSql(d, scope, q);
    case 'frequent':
      return frequentSql(d, scope, q);
    case 'cloned':
      return clonedSql(d, scope, q);
  }
}
