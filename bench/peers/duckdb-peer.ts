/**
 * DuckDB as a peer: a native table in a database file, bulk-loaded from the spill file by DuckDB's own
 * reader (`COPY … FROM`, parallel, as a DBA would load a file), checkpointed, queried with `threads` threads.
 * When the spill has backslash escapes (text with tabs, newlines or backslashes, which COPY's CSV reader
 * would keep as written), the rows go through the appender instead, unescaped on the JS side; that path
 * is slower (the JS parse costs about as much as the appender itself) but gives the same table. No indexes: DuckDB's own zone maps (row-group min/max)
 * are what it prunes with, and the rows arrive in time order, as a real feed would.
 * The size figure is the database's used blocks after CHECKPOINT: the compressed table.
 */
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hotlistAnswerFromRows, type Answer } from './answer.js';
import { loadReport, type LoadReport, type Peer } from './peer.js';
import type { BenchQuery } from './query-set.js';
import { kSpillColumns, readSpill } from './spill.js';
import { duckdbDialect, sqlString } from './sql-dialect.js';
import { hotlistSql, searchSql } from './sql.js';
import { analyticsSql } from './analytics-sql.js';
import { sqlAnalyticsAnswer } from './analytics-answer.js';

const kCreateTable = `CREATE TABLE reads (
  id VARCHAR NOT NULL, tenant VARCHAR NOT NULL, plate VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
  lat DOUBLE NOT NULL, lon DOUBLE NOT NULL, camera VARCHAR NOT NULL,
  region VARCHAR, confidence DOUBLE, make VARCHAR, color VARCHAR)`;

/** The spill's columns as DuckDB reads them. */
const kSpillTypes: Record<(typeof kSpillColumns)[number], string> = {
  id: 'VARCHAR', tenant: 'VARCHAR', plate: 'VARCHAR', ts: 'TIMESTAMPTZ', lat: 'DOUBLE', lon: 'DOUBLE',
  camera: 'VARCHAR', region: 'VARCHAR', confidence: 'DOUBLE', make: 'VARCHAR', color: 'VARCHAR',
};

/** Where hot-list entries are, for hotlistSql. */
const kEntriesRelation = 'SELECT entry FROM temp.main.hotlist_entries';

function optionalText(a: DuckDBAppender, s: string | undefined): void {
  if (s === undefined) a.appendNull();
  else a.appendVarchar(s);
}

export class DuckdbPeer implements Peer {
  readonly name = 'duckdb' as const;

  private constructor(private readonly instance: DuckDBInstance, private readonly conn: DuckDBConnection) {}

  /** `memoryLimit` keeps DuckDB's buffer pool (default: 80% of RAM) polite on a shared machine. */
  static async open(dir: string, threads: number, memoryLimit = '4GB'): Promise<DuckdbPeer> {
    const instance = await DuckDBInstance.create(join(dir, 'peers.duckdb'), {
      threads: String(threads), memory_limit: memoryLimit,
    });
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return new DuckdbPeer(instance, conn);
  }

  async version(): Promise<string> {
    const r = await this.conn.runAndReadAll('SELECT version()');
    return String(r.getRowsJS()[0]![0]);
  }

  /** Loads the spill file; `escaped`: the spill has backslash escapes (SpillWriter.escaped). */
  async load(spillPath: string, escaped: boolean): Promise<LoadReport> {
    const t0 = performance.now();
    await this.conn.run(kCreateTable);
    const rows = escaped ? await this.appendSpill(spillPath) : await this.copySpill(spillPath);
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    await this.conn.run('CHECKPOINT');
    const checkpointMs = performance.now() - t1;
    const size = (await this.conn.runAndReadAll(
      'SELECT block_size, used_blocks, total_blocks FROM pragma_database_size()')).getRowsJS()[0]!;
    const blockSize = Number(size[0]);
    const used = Number(size[1]) * blockSize;
    return loadReport('duckdb', rows, loadMs + checkpointMs, used,
      'database used blocks after CHECKPOINT (compressed table)', {
        [escaped ? 'appenderMs' : 'copyMs']: loadMs, checkpointMs, totalBlocksBytes: Number(size[2]) * blockSize,
      });
  }

  private async copySpill(spillPath: string): Promise<number> {
    // ts is read with its zone and stored as UTC (the session zone is UTC, see open()).
    const columns = Object.entries(kSpillTypes).map(([k, v]) => `'${k}': '${v}'`).join(', ');
    await this.conn.run(`INSERT INTO reads SELECT ${kSpillColumns.join(', ')} FROM read_csv(${sqlString(spillPath)}, ` +
      `delim = '\t', header = false, quote = '', escape = '', nullstr = '\\N', auto_detect = false, columns = {${columns}})`);
    const n = (await this.conn.runAndReadAll('SELECT count(*) FROM reads')).getRowsJS()[0]![0];
    return Number(n);
  }

  private async appendSpill(spillPath: string): Promise<number> {
    const a = await this.conn.createAppender('reads');
    let rows = 0;
    for await (const r of readSpill(spillPath)) {
      a.appendVarchar(r.id);
      a.appendVarchar(r.tenant);
      a.appendVarchar(r.plate);
      a.appendTimestamp(new DuckDBTimestampValue(BigInt(r.ts) * 1000n));
      a.appendDouble(r.lat);
      a.appendDouble(r.lon);
      a.appendVarchar(r.camera);
      optionalText(a, r.region);
      if (r.confidence === undefined) a.appendNull();
      else a.appendDouble(r.confidence);
      optionalText(a, r.make);
      optionalText(a, r.color);
      a.endRow();
      rows++;
    }
    a.flushSync();
    a.closeSync();
    return rows;
  }

  async run(q: BenchQuery): Promise<Answer> {
    if (q.kind === 'analytics') {
      const rows = (await this.conn.runAndReadAll(analyticsSql(duckdbDialect, q.scope, q.query))).getRowsJS();
      // a list column may come back as a DuckDB list value rather than an array
      return sqlAnalyticsAnswer(q.query.kind, rows.map((r) => r.map((v) => (v !== null && typeof v === 'object' && 'items' in v ? (v as { items: unknown[] }).items : v))));
    }
    if (q.kind === 'search') {
      const sql = searchSql(duckdbDialect, q.scope, q.query);
      // Columns, not rows: getRowsJS costs more than the query on tens of thousands of rows.
      const [ids, , totals] = (await this.conn.runAndReadAll(sql.sql)).getColumnsJS();
      return { kind: 'search', total: totals && totals.length > 0 ? Number(totals[0]) : 0, ids: (ids ?? []).map(String) };
    }
    await this.fillEntries(q.query.entries.map((e) => e.pattern));
    const result = await this.conn.runAndReadAll(hotlistSql(duckdbDialect, q.scope, q.query, kEntriesRelation));
    const [entries = [], totals = [], ids = []] = result.getColumnsJS();
    return hotlistAnswerFromRows(q.query.entries.map((e) => e.pattern),
      entries.map((entry, i) => [String(entry), Number(totals[i]), String(ids[i])] as const));
  }

  /** A hot list's entries reach DuckDB through its appender into a temp table (part of the timed query). */
  private async fillEntries(entries: readonly string[]): Promise<void> {
    await this.conn.run('CREATE OR REPLACE TEMP TABLE hotlist_entries (entry VARCHAR NOT NULL)');
    const a = await this.conn.createAppender('hotlist_entries', 'main', 'temp');
    for (const e of entries) {
      a.appendVarchar(e);
      a.endRow();
    }
    a.flushSync();
    a.closeSync();
  }

  /** EXPLAIN ANALYZE of the query (the hot-list statement, or the search statement). */
  async explain(q: BenchQuery): Promise<string> {
    if (q.kind === 'hotlist') await this.fillEntries(q.query.entries.map((e) => e.pattern));
    const sql = q.kind === 'search' ? searchSql(duckdbDialect, q.scope, q.query).sql
      : q.kind === 'analytics' ? analyticsSql(duckdbDialect, q.scope, q.query)
      : hotlistSql(duckdbDialect, q.scope, q.query, kEntriesRelation);
    const rows = (await this.conn.runAndReadAll(`EXPLAIN ANALYZE ${sql}`)).getRowsJS();
    return rows.map((r) => String(r[1])).join('\n');
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
