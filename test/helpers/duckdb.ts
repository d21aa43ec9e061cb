/**
 * DuckDB as an independent oracle for the reference semantics (DESIGN.md "Differential tests").
 *
 * Reads are loaded into an in-memory table with an appender; a SearchQuery is translated into one SQL
 * statement whose values are all bound parameters. Everything API.md defines is written here again, in
 * SQL and from API.md's text, without importing from src/ (the OCR classes, the Earth radius, the
 * ordering), so a slip in the reference cannot be copied into its judge.
 *
 * What DuckDB 1.5.5 offers and what it does not:
 * - `levenshtein(a, b)`: plain Levenshtein (insert, delete, substitute).
 * - `damerau_levenshtein(a, b)` is the *unrestricted* Damerau–Levenshtein distance, not optimal string
 *   alignment (OSA): `damerau_levenshtein('CA', 'ABC') = 2` (CA → AC → ABC edits inside a swap), while
 *   OSA('CA', 'ABC') = 3. The two agree whenever either is ≤ 1 (a single edit is an alignment of both),
 *   and OSA ≥ true Damerau always. So for `transpositions: true` this file computes OSA itself, in SQL,
 *   with a recursive CTE over the DP rows (`osaCte`); `damerau_levenshtein` is only used to check those facts.
 * - `LIKE` with `_` and `%` is anchored and case-sensitive; patterns hold only A–Z0–9 and our wildcards,
 *   which are turned into `_`/`%` in SQL.
 * - `translate(s, from, to)` maps the OCR classes.
 * - No point-in-polygon without the spatial extension (not installable offline). For convex rings the
 *   query uses half-plane tests (strict: a point on an edge is ambiguous under even-odd and is kept out of
 *   random data with `ringBoundaryDistanceDeg`); `windingNumber` is a second, independent polygon rule for
 *   unit tests on rings where even-odd and non-zero winding agree.
 * - Haversine is written out in SQL. DuckDB's libm and V8's may differ in the last bit of sin/cos/asin,
 *   so random radii are never chosen within 1e-9 (relative) of a read's distance; radius 0 is exact on both.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { PlateMatch, ReadFilter, SearchQuery, TenantScope } from '../../src/model/query.js';
import type { StoredRead } from '../../src/model/read.js';

/** API.md: `0ODQ→0`, `1IL→1`, `2Z→2`, `5S→5`, `6G→6`, `8B→8`, `UV→U`, as `translate` arguments. */
const kOcrFrom = 'ODQILZSGBV';
const kOcrTo = '000112568U';
/** API.md's haversine radius, in metres. */
const kEarthRadiusSql = '6371008.8';

/** The fields of a hit that both sides return; `projectHit` cuts a reference Hit down to it. */
export interface OracleHit {
  id: string;
  tenant: string;
  plate: string;
  ts: number;
  lat: number;
  lon: number;
  camera: string;
  region: string | null;
  distance: number;
}

export interface OracleResult {
  hits: OracleHit[];
  total: number;
  truncated: boolean;
}

/** A reference hit (or StoredRead plus distance) reduced to the fields the oracle returns. */
export function projectHit(h: StoredRead & { distance: number }): OracleHit {
  return {
    id: h.id, tenant: h.tenant, plate: h.plate, ts: h.ts, lat: h.lat, lon: h.lon,
    camera: h.camera, region: h.region ?? null, distance: h.distance,
  };
}

/**
 * Optimal string alignment distance between `a` and `b` of every row of `source` (a SQL relation with
 * columns `a`, `b`), as a recursive CTE named `osa(a, b, d)`. One recursion step computes one DP row:
 *
 *   base[0] = i;  base[j] = min(prev[j] + 1, prev[j-1] + (a_i ≠ b_j), prev2[j-2] + 1 if a_i a_{i-1} = b_{j-1} b_j swapped)
 *   row[j]  = min over j' ≤ j of (base[j'] + j − j')        (the chain of insertions from the left, unrolled,
 *                                                            so a row needs no sequential scan)
 * DuckDB lists are 1-based: `prev[j + 1]` is d[i−1][j].
 */
function osaCte(source: string): string {
  return `
  osa_src AS (${source}),
  osa_dp(a, b, i, prev2, prev) AS (
    SELECT a, b, 0, NULL::BIGINT[], range(0, length(b) + 1) FROM osa_src
    UNION ALL
    SELECT a, b, i + 1, prev,
      list_transform(range(0, length(b) + 1), j -> list_min(list_transform(range(0, j + 1), jp -> base[jp + 1] + j - jp)))
    FROM (
      SELECT a, b, i, prev2, prev,
        list_transform(range(0, length(b) + 1), j ->
          CASE WHEN j = 0 THEN i + 1
          ELSE least(prev[j + 1] + 1,
                     prev[j] + CASE WHEN a[i + 1] = b[j] THEN 0 ELSE 1 END,
                     CASE WHEN i >= 1 AND j >= 2 AND a[i + 1] = b[j - 1] AND a[i] = b[j] THEN prev2[j - 1] + 1 ELSE 1000 END)
          END) AS base
      FROM osa_dp WHERE i < length(a)
    ) step
  ),
  osa(a, b, d) AS (SELECT a, b, prev[length(b) + 1] FROM osa_dp WHERE i = length(a))`;
}

/** Ring without the repeated closing point and without consecutive duplicates. */
function openRing(ring: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  for (const p of ring) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  while (out.length > 1 && out[0]![0] === out[out.length - 1]![0] && out[0]![1] === out[out.length - 1]![1]) out.pop();
  return out;
}

/** +1 counter-clockwise, −1 clockwise, 0 degenerate (shoelace sign); throws if the ring is not convex. */
export function convexOrientation(ring: ReadonlyArray<readonly [number, number]>): number {
  const r = openRing(ring);
  let area = 0;
  for (let i = 0; i < r.length; i++) {
    const [x1, y1] = r[i]!;
    const [x2, y2] = r[(i + 1) % r.length]!;
    area += x1 * y2 - x2 * y1;
  }
  const s = Math.sign(area);
  for (let i = 0; i < r.length; i++) {
    const [ax, ay] = r[i]!;
    const [bx, by] = r[(i + 1) % r.length]!;
    const [cx, cy] = r[(i + 2) % r.length]!;
    const turn = (bx - ax) * (cy - by) - (by - ay) * (cx - bx);
    // rounding noise on (nearly) collinear vertices is not a reflex angle
    const scale = Math.hypot(bx - ax, by - ay) * Math.hypot(cx - bx, cy - by);
    if (s !== 0 && Math.sign(turn) === -s && Math.abs(turn) > 1e-9 * scale) throw new Error('oracle polygon must be convex');
  }
  return s;
}

/** Smallest distance, in degrees on the plane, from (lon, lat) to any edge of the ring. */
export function ringBoundaryDistanceDeg(ring: ReadonlyArray<readonly [number, number]>, lat: number, lon: number): number {
  const r = openRing(ring);
  let best = Infinity;
  for (let i = 0; i < r.length; i++) {
    const [x1, y1] = r[i]!;
    const [x2, y2] = r[(i + 1) % r.length]!;
    const dx = x2 - x1, dy = y2 - y1;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((lon - x1) * dx + (lat - y1) * dy) / len2));
    best = Math.min(best, Math.hypot(lon - (x1 + t * dx), lat - (y1 + t * dy)));
  }
  return best;
}

/**
 * Non-zero winding number of the ring around (lon, lat) (Dan Sunday's crossing-direction form).
 * Independent of the reference's even-odd PNPOLY; the two agree on simple (non-self-intersecting) rings
 * for points off the boundary.
 */
export function windingNumber(ring: ReadonlyArray<readonly [number, number]>, lat: number, lon: number): number {
  const r = openRing(ring);
  let wn = 0;
  for (let i = 0; i < r.length; i++) {
    const [x1, y1] = r[i]!;
    const [x2, y2] = r[(i + 1) % r.length]!;
    const side = (x2 - x1) * (lat - y1) - (lon - x1) * (y2 - y1); // > 0: point left of the edge
    if (y1 <= lat) {
      if (y2 > lat && side > 0) wn++;
    } else if (y2 <= lat && side < 0) {
      wn--;
    }
  }
  return wn;
}

/** A SQL statement under construction: `bind` appends a value and returns its `$n` placeholder. */
export class Statement {
  readonly params: DuckDBValue[] = [];
  bind(v: DuckDBValue): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
}

/** The plate column, or a bound pattern, mapped through the OCR classes when `ocr` is on. */
function ocrSql(expr: string, ocr: boolean): string {
  return ocr ? `translate(${expr}, '${kOcrFrom}', '${kOcrTo}')` : expr;
}

export function filterSql(st: Statement, filter: ReadFilter): string[] {
  const where: string[] = [];
  if (filter.from !== undefined) where.push(`r.ts >= ${st.bind(filter.from)}`);
  if (filter.to !== undefined) where.push(`r.ts < ${st.bind(filter.to)}`);
  if (filter.bbox) {
    const [minLon, minLat, maxLon, maxLat] = filter.bbox;
    where.push(`r.lon >= ${st.bind(minLon)} AND r.lat >= ${st.bind(minLat)} AND r.lon <= ${st.bind(maxLon)} AND r.lat <= ${st.bind(maxLat)}`);
  }
  if (filter.near) {
    const lat0 = st.bind(filter.near.lat), lon0 = st.bind(filter.near.lon);
    where.push(`2 * ${kEarthRadiusSql} * asin(least(1, sqrt(
        pow(sin(radians(r.lat - ${lat0}) / 2), 2)
      + cos(radians(${lat0})) * cos(radians(r.lat)) * pow(sin(radians(r.lon - ${lon0}) / 2), 2))))
      <= ${st.bind(filter.near.radiusM)}`);
  }
  if (filter.polygon) {
    const s = convexOrientation(filter.polygon);
    const ring = openRing(filter.polygon);
    if (s === 0) where.push('FALSE');
    for (let i = 0; s !== 0 && i < ring.length; i++) {
      const [x1, y1] = ring[i]!;
      const [x2, y2] = ring[(i + 1) % ring.length]!;
      const [bx1, by1, bx2, by2] = [st.bind(x1), st.bind(y1), st.bind(x2), st.bind(y2)];
      where.push(`${s} * ((${bx2} - ${bx1}) * (r.lat - ${by1}) - (${by2} - ${by1}) * (r.lon - ${bx1})) > 0`);
    }
  }
  if (filter.cameras) where.push(`r.camera IN (${filter.cameras.map((c) => st.bind(c)).join(', ')})`);
  if (filter.regions) where.push(`r.region IN (${filter.regions.map((c) => st.bind(c)).join(', ')})`);
  // v1.1: case-insensitive, on both sides (NULL make/color never passes IN)
  if (filter.makes) where.push(`lower(r.make) IN (${filter.makes.map((c) => `lower(${st.bind(c)})`).join(', ')})`);
  if (filter.colors) where.push(`lower(r.color) IN (${filter.colors.map((c) => `lower(${st.bind(c)})`).join(', ')})`);
  return where;
}

export function scopeSql(st: Statement, scopes: readonly TenantScope[]): string {
  if (scopes.length === 0) return 'FALSE';
  return '(' + scopes.map((s) => `(r.tenant = ${st.bind(s.tenant)} AND r.ts >= ${st.bind(s.minTs)})`).join(' OR ') + ')';
}

/** One in-memory DuckDB database with a `reads` table; create one per test file and `close` it after. */
export class DuckOracle {
  private constructor(private readonly instance: DuckDBInstance, private readonly conn: DuckDBConnection) {}

  static async create(): Promise<DuckOracle> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    return new DuckOracle(instance, conn);
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  async rows(sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    return (await this.conn.runAndReadAll(sql, params)).getRowObjects() as Record<string, unknown>[];
  }

  /** Replaces the `reads` table with these reads (appender, no SQL-built values). */
  async loadReads(reads: readonly StoredRead[]): Promise<void> {
    await this.conn.run(`CREATE OR REPLACE TABLE reads (
      id VARCHAR NOT NULL, tenant VARCHAR NOT NULL, plate VARCHAR NOT NULL, ts BIGINT NOT NULL,
      lat DOUBLE NOT NULL, lon DOUBLE NOT NULL, camera VARCHAR NOT NULL, region VARCHAR, make VARCHAR, color VARCHAR)`);
    const app = await this.conn.createAppender('reads');
    for (const r of reads) {
      app.appendVarchar(r.id);
      app.appendVarchar(r.tenant);
      app.appendVarchar(r.plate);
      app.appendBigInt(BigInt(r.ts));
      app.appendDouble(r.lat);
      app.appendDouble(r.lon);
      app.appendVarchar(r.camera);
      if (r.region === undefined) app.appendNull();
      else app.appendVarchar(r.region);
      if (r.make === undefined) app.appendNull();
      else app.appendVarchar(r.make);
      if (r.color === undefined) app.appendNull();
      else app.appendVarchar(r.color);
      app.endRow();
    }
    app.closeSync();
  }

  /** The SQL for a search (exported for debugging a failing case). */
  searchSql(scopes: readonly TenantScope[], query: SearchQuery): { sql: string; params: DuckDBValue[] } {
    const st = new Statement();
    const where = [scopeSql(st, scopes), ...filterSql(st, query.filter)];
    let distance = '0';
    let join = '';
    let with_ = '';
    const m: PlateMatch | undefined = query.plate;
    if (m) {
      const plate = ocrSql('r.plate', m.ocr);
      const pattern = ocrSql(`${st.bind(m.pattern)}::VARCHAR`, m.ocr);
      if (m.mode === 'exact') {
        where.push(`${plate} = ${pattern}`);
      } else if (m.mode === 'wildcard') {
        where.push(`${plate} LIKE replace(replace(${pattern}, '?', '_'), '*', '%')`);
      } else if (!m.transpositions) {
        distance = `levenshtein(${plate}, ${pattern})`;
        where.push(`${distance} <= ${st.bind(m.maxEdits)}`);
      } else {
        with_ = `WITH RECURSIVE ${osaCte(`SELECT DISTINCT ${pattern} AS a, ${plate} AS b FROM reads r`)} `;
        join = `JOIN osa ON osa.b = ${plate}`;
        distance = 'osa.d';
        where.push(`osa.d <= ${st.bind(m.maxEdits)}`);
      }
    }
    const sql = `${with_}
      SELECT r.id, r.tenant, r.plate, r.ts, r.lat, r.lon, r.camera, r.region, ${distance} AS distance,
             count(*) OVER () AS total
      FROM reads r ${join}
      WHERE ${where.join('\n AND ')}
      ORDER BY distance ASC, r.ts DESC, r.id ASC
      LIMIT ${st.bind(query.limit)}::BIGINT`;
    return { sql, params: st.params };
  }

  /** API.md `/v1/search` over the loaded reads, computed by DuckDB. */
  async search(scopes: readonly TenantScope[], query: SearchQuery): Promise<OracleResult> {
    const { sql, params } = this.searchSql(scopes, query);
    const rows = await this.rows(sql, params);
    const total = rows.length === 0 ? 0 : Number(rows[0]!.total);
    const hits = rows.map((row) => ({
      id: String(row.id), tenant: String(row.tenant), plate: String(row.plate), ts: Number(row.ts),
      lat: Number(row.lat), lon: Number(row.lon), camera: String(row.camera),
      region: row.region === null ? null : String(row.region), distance: Number(row.distance),
    }));
    return { hits, total, truncated: total > hits.length };
  }

  /** Loads `(a, b)` pairs and returns `expr` (over columns `a`, `b`) for each, in order. */
  private async overPairs(pairs: ReadonlyArray<readonly [string, string]>, select: (table: string) => string): Promise<unknown[]> {
    await this.conn.run('CREATE OR REPLACE TABLE pairs (pid INTEGER, a VARCHAR, b VARCHAR)');
    const app = await this.conn.createAppender('pairs');
    pairs.forEach(([a, b], i) => {
      app.appendInteger(i);
      app.appendVarchar(a);
      app.appendVarchar(b);
      app.endRow();
    });
    app.closeSync();
    const rows = await this.rows(select('pairs'));
    if (rows.length !== pairs.length) throw new Error(`expected ${pairs.length} rows, got ${rows.length}`);
    return rows.map((r) => r.v);
  }

  async levenshtein(pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
    return (await this.overPairs(pairs, (t) => `SELECT levenshtein(a, b) AS v FROM ${t} ORDER BY pid`)).map(Number);
  }

  /** DuckDB's `damerau_levenshtein`: unrestricted Damerau–Levenshtein, not OSA (see the header). */
  async damerauLevenshtein(pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
    return (await this.overPairs(pairs, (t) => `SELECT damerau_levenshtein(a, b) AS v FROM ${t} ORDER BY pid`)).map(Number);
  }

  /** Optimal string alignment distance computed in SQL by `osaCte`. */
  async osa(pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
    return (
      await this.overPairs(pairs, (t) =>
        `WITH RECURSIVE ${osaCte(`SELECT DISTINCT a, b FROM ${t}`)}
         SELECT osa.d AS v FROM ${t} p JOIN osa ON osa.a = p.a AND osa.b = p.b ORDER BY p.pid`)
    ).map(Number);
  }

  /** `b LIKE a` with our wildcards (`?`, `*`) turned into `_`, `%` in SQL; `ocr` maps both sides first. */
  async like(pairs: ReadonlyArray<readonly [string, string]>, ocr = false): Promise<boolean[]> {
    const b = ocrSql('b', ocr), a = ocrSql('a', ocr);
    return (
      await this.overPairs(pairs, (t) => `SELECT ${b} LIKE replace(replace(${a}, '?', '_'), '*', '%') AS v FROM ${t} ORDER BY pid`)
    ).map(Boolean);
  }

  /** Haversine distance in metres, in SQL, from `[lat1, lon1, lat2, lon2]` rows. */
  async haversine(rows: ReadonlyArray<readonly [number, number, number, number]>): Promise<number[]> {
    await this.conn.run('CREATE OR REPLACE TABLE points (pid INTEGER, lat1 DOUBLE, lon1 DOUBLE, lat2 DOUBLE, lon2 DOUBLE)');
    const app = await this.conn.createAppender('points');
    rows.forEach((row, i) => {
      app.appendInteger(i);
      for (const v of row) app.appendDouble(v);
      app.endRow();
    });
    app.closeSync();
    const out = await this.rows(`SELECT 2 * ${kEarthRadiusSql} * asin(least(1, sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2) + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2)))) AS v
      FROM points ORDER BY pid`);
    return out.map((r) => Number(r.v));
  }

  /** `translate` through the OCR classes of API.md. */
  async ocrTranslate(strings: readonly string[]): Promise<string[]> {
    const pairs = strings.map((s) => [s, ''] as const);
    return (await this.overPairs(pairs, (t) => `SELECT ${ocrSql('a', true)} AS v FROM ${t} ORDER BY pid`)).map(String);
  }
}

/**
 * A Parquet file as DuckDB reads it (the Parquet export's judge): every row, in file order, with `ts` as
 * epoch milliseconds, and the column types DuckDB sees. A fresh in-memory database per call.
 */
export async function duckReadParquet(file: string): Promise<{ rows: Record<string, unknown>[]; types: Record<string, string>; rowGroups: number }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    const lit = `'${file.replace(/'/g, "''")}'`;
    const types = Object.fromEntries(
      (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit})`)).getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]),
    );
    const rows = (await conn.runAndReadAll(
      `SELECT id, tenant, plate, epoch_ms(ts)::DOUBLE AS ts, lat, lon, camera, region, confidence, make, color FROM read_parquet(${lit}) WITH ORDINALITY AS t ORDER BY ordinality`,
    )).getRowObjects() as Record<string, unknown>[];
    const rowGroups = Number((await conn.runAndReadAll(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${lit})`)).getRowObjects()[0]!.n);
    return { rows, types, rowGroups };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
