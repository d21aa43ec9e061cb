/**
 * The few places where DuckDB's and PostgreSQL's SQL differ, for the peer queries of bench/peers/sql.ts.
 * Everything else (LIKE, translate, levenshtein, window functions, haversine arithmetic) is written once.
 */

export interface SqlDialect {
  readonly name: 'duckdb' | 'postgres';
  /** A timestamp literal of the `ts` column's type for epoch milliseconds `ms`. */
  timestamp(ms: number): string;
  /** A set-returning expression yielding one text row per element of `values` (entries hold no commas). */
  unnestText(values: readonly string[]): string;
  /** Epoch milliseconds (an exact integer) of a `ts` expression, for time arithmetic (analytics). */
  epochMs(expr: string): string;
  /** The distinct values of an integer expression as a sorted list/array aggregate (multisite's `sites`). */
  sortedDistinct(expr: string): string;
}

/** SQL string literal (standard quoting; both peers run with standard-conforming strings). */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A double literal: JS prints the shortest decimal that round-trips, and the cast keeps it a double. */
export function sqlDouble(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  return `CAST(${x} AS FLOAT8)`;
}

/** DuckDB: `ts` is TIMESTAMP (UTC, microseconds). */
export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  timestamp: (ms) => `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`,
  unnestText: (values) => `unnest(string_split(${sqlString(values.join(','))}, ','))`,
  epochMs: (expr) => `epoch_ms(${expr})`,
  sortedDistinct: (expr) => `list(DISTINCT ${expr} ORDER BY ${expr})`,
};

/** PostgreSQL: `ts` is timestamptz; the server runs in UTC. */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  timestamp: (ms) => `'${new Date(ms).toISOString()}'::timestamptz`,
  unnestText: (values) => `unnest(string_to_array(${sqlString(values.join(','))}, ','))`,
  epochMs: (expr) => `(extract(epoch FROM ${expr}) * 1000)::bigint`,
  sortedDistinct: (expr) => `array_agg(DISTINCT ${expr} ORDER BY ${expr})`,
};
