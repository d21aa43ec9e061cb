/**
 * PostgreSQL 15 as a peer: the spill file COPY'd in through psql, then the indexes a DBA would add for
 * these searches (btree on plate, on ts, on (tenant, ts); a pg_trgm GIN on plate for LIKE '%…%' and the
 * fuzzy prefilter), then VACUUM ANALYZE. The size figure is the table with its indexes.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { hotlistAnswerFromRows, type Answer } from './answer.js';
import { loadReport, type LoadReport, type Peer } from './peer.js';
import { kPostgresBin, PostgresServer } from './postgres-server.js';
import type { BenchQuery } from './query-set.js';
import { kSpillColumns } from './spill.js';
import { postgresDialect } from './sql-dialect.js';
import { hotlistSql, searchSql } from './sql.js';
import { analyticsSql } from './analytics-sql.js';
import { sqlAnalyticsAnswer } from './analytics-answer.js';

const kCreateTable = `CREATE TABLE reads (
  id text NOT NULL, tenant text NOT NULL, plate text NOT NULL, ts timestamptz NOT NULL,
  lat float8 NOT NULL, lon float8 NOT NULL, camera text NOT NULL,
  region text, confidence float8, make text, color text)`;

const kIndexes = [
  'CREATE INDEX reads_plate ON reads (plate)',
  'CREATE INDEX reads_ts ON reads (ts)',
  'CREATE INDEX reads_tenant_ts ON reads (tenant, ts)',
  'CREATE INDEX reads_plate_trgm ON reads USING gin (plate gin_trgm_ops)',
];

/**
 * shared_buffers for `reads` reads: room for the table and its indexes (248 B/read measured at 1M reads),
 * from 128 MB up to 6 GB, a quarter of this 24 GiB machine (the usual rule); the OS cache holds the rest.
 */
export function sharedBuffersFor(reads: number): string {
  const mb = Math.min(6144, Math.max(128, Math.ceil((reads * 300) / 2 ** 20)));
  return `${mb}MB`;
}

function copyFromFile(server: PostgresServer, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const psql = spawn(join(kPostgresBin, 'psql'),
      [...server.psqlArgs(), '-c', `COPY reads (${kSpillColumns.join(', ')}) FROM STDIN`],
      { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    psql.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    psql.once('error', reject);
    psql.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql COPY failed (${code}): ${stderr}`))));
    const input = createReadStream(path, { highWaterMark: 1 << 20 });
    input.once('error', reject);
    input.pipe(psql.stdin);
  });
}

export class PostgresPeer implements Peer {
  readonly name = 'postgres' as const;

  private constructor(private readonly server: PostgresServer, private readonly db: pg.Client) {}

  static async start(reads: number, threads: number): Promise<PostgresPeer> {
    const server = await PostgresServer.start({
      sharedBuffers: sharedBuffersFor(reads), parallelWorkers: Math.max(0, threads - 1),
    });
    try {
      const db = server.client();
      await db.connect();
      return new PostgresPeer(server, db);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  async version(): Promise<string> {
    return String((await this.db.query('SHOW server_version')).rows[0].server_version);
  }

  async load(spillPath: string): Promise<LoadReport> {
    const t0 = performance.now();
    await this.db.query('CREATE EXTENSION pg_trgm');
    await this.db.query('CREATE EXTENSION fuzzystrmatch');
    await this.db.query(kCreateTable);
    await copyFromFile(this.server, spillPath);
    const copyMs = performance.now() - t0;
    const t1 = performance.now();
    for (const sql of kIndexes) await this.db.query(sql);
    const indexMs = performance.now() - t1;
    const t2 = performance.now();
    await this.db.query('VACUUM ANALYZE reads');
    const vacuumMs = performance.now() - t2;
    const size = (await this.db.query(
      `SELECT (SELECT count(*) FROM reads) AS rows, pg_relation_size('reads') AS heap,
              pg_indexes_size('reads') AS indexes, pg_total_relation_size('reads') AS total`)).rows[0];
    return loadReport('postgres', Number(size.rows), copyMs + indexMs + vacuumMs, Number(size.total),
      'pg_total_relation_size: heap, TOAST, the four indexes', {
        copyMs, indexMs, vacuumAnalyzeMs: vacuumMs, heapBytes: Number(size.heap), indexBytes: Number(size.indexes),
      });
  }

  /** Writes every dirty shared buffer to the OS (quiesce.ts); the load leaves gigabytes of them. */
  async checkpoint(): Promise<void> {
    await this.db.query('CHECKPOINT');
  }

  async run(q: BenchQuery): Promise<Answer> {
    if (q.kind === 'analytics') {
      const res = await this.db.query({ text: analyticsSql(postgresDialect, q.scope, q.query), rowMode: 'array' });
      return sqlAnalyticsAnswer(q.query.kind, res.rows as unknown[][]);
    }
    if (q.kind === 'search') {
      const sql = searchSql(postgresDialect, q.scope, q.query);
      const top = await this.db.query({ text: sql.sql, rowMode: 'array' });
      const rows = top.rows as unknown[][];
      return { kind: 'search', total: rows.length > 0 ? Number(rows[0]![2]) : 0, ids: rows.map((r) => String(r[0])) };
    }
    const rows = await this.db.query({ text: hotlistSql(postgresDialect, q.scope, q.query), rowMode: 'array' });
    return hotlistAnswerFromRows(q.query.entries.map((e) => e.pattern),
      rows.rows.map((r: unknown[]) => [String(r[0]), Number(r[1]), String(r[2])] as const));
  }

  /** EXPLAIN (ANALYZE, BUFFERS) of the query's statement. */
  async explain(q: BenchQuery): Promise<string> {
    const sql = q.kind === 'search' ? searchSql(postgresDialect, q.scope, q.query).sql
      : q.kind === 'analytics' ? analyticsSql(postgresDialect, q.scope, q.query) : hotlistSql(postgresDialect, q.scope, q.query);
    const r = await this.db.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, rowMode: 'array' });
    return (r.rows as unknown[][]).map((row) => String(row[0])).join('\n');
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => {});
    await this.server.stop();
  }
}
