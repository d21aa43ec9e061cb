/**
 * `node dist/bench/duckdb-load.js FILE [--threads N]`: DuckDB's own bulk load of an NDJSON or CSV file into a
 * table of a database file (read_json / read_csv, then CHECKPOINT: durable, as `platesearch ingest` is),
 * the peer for the bulk-load target of issue 11. Prints `loaded N rows in T s` on stdout. Run it next to
 * `platesearch ingest` on the same file (bench/RESULTS.md "Bulk load").
 *
 * NDJSON: the columns of a read (plus the generator's `tenant`) with an explicit schema (ts TIMESTAMPTZ), so
 * DuckDB parses and converts the same fields our ingest does. CSV: the header's columns, with ts, lat, lon
 * and confidence typed the same way and the rest as DuckDB infers them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node dist/bench/duckdb-load.js FILE [--threads N]\n');
    return 2;
  }
  const ti = args.indexOf('--threads');
  const threads = ti >= 0 ? Number(args[ti + 1]) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ps-duckdb-load-'));
  try {
    const db = await DuckDBInstance.create(join(dir, 'reads.duckdb'), threads ? { threads: String(threads) } : {});
    const con = await db.connect();
    const t0 = performance.now();
    const lit = `'${file.replace(/'/g, "''")}'`;
    const columns = `{tenant: 'VARCHAR', plate: 'VARCHAR', ts: 'TIMESTAMPTZ', lat: 'DOUBLE', lon: 'DOUBLE', camera: 'VARCHAR', ` +
      `region: 'VARCHAR', confidence: 'DOUBLE', make: 'VARCHAR', color: 'VARCHAR', readId: 'VARCHAR'}`;
    const source = extname(file).toLowerCase() === '.csv'
      ? `read_csv(${lit}, header = true, types = {ts: 'TIMESTAMPTZ', lat: 'DOUBLE', lon: 'DOUBLE', confidence: 'DOUBLE'})`
      : `read_json(${lit}, format = 'newline_delimited', columns = ${columns})`;
    await con.run(`CREATE TABLE reads AS SELECT * FROM ${source}`);
    await con.run('CHECKPOINT');
    const rows = Number((await con.runAndReadAll('SELECT count(*) FROM reads')).getRows()[0]![0]);
    const s = (performance.now() - t0) / 1000;
    process.stdout.write(`loaded ${rows} rows in ${s.toFixed(2)} s (${Math.round(rows / s)} rows/s)\n`);
    con.closeSync();
    db.closeSync();
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
