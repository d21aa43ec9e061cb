/**
 * `platesearch export --data-dir D --tenant T --format ndjson|csv|parquet [--out FILE]`: a tenant's retained
 * reads in an open format (src/server/export/format.ts, src/server/export/parquet.ts), ordered by ts then
 * id, to stdout or FILE. Needs the
 * data dir's engine to itself, like `ingest` (use `GET /v1/export` while a server runs).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink, open } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEngine } from '../../engine/index.js';
import { isTenantName } from '../../model/tenant.js';
import { exportHeader, exportLine, isAnyExportFormat } from '../../server/export/format.js';
import { ParquetExport } from '../../server/export/parquet.js';
import { acquireEngineLock } from '../../server/tenancy/data-dir-lock.js';
import { fsyncDirSync } from '../../server/tenancy/durable-file.js';
import { Directory } from '../../server/tenancy/directory.js';
import { auditedCli } from '../audited.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch export --data-dir D [--key-store K] --tenant T --format ndjson|csv|parquet [--out FILE]

Writes every retained read of tenant T (its own reads only, never shared ones), ordered by ts
then id, as NDJSON (one JSON object a line), CSV (header row, RFC 4180 quoting) or Parquet
(one row per read; ts TIMESTAMP(MILLIS, UTC), lat/lon/confidence DOUBLE, absent fields null),
with the fields id, tenant, plate, ts, lat, lon, camera, region, confidence, make, color (ts in
ISO-8601 UTC with milliseconds in NDJSON and CSV). To stdout, or to FILE (written to a temp file and renamed
into place when complete). Prints "exported N reads" on stderr.
Refuses to run while a server runs on D (use GET /v1/export there).
${keyStoreUsage}`;

function fail(message: string): number {
  process.stderr.write(`platesearch export: ${message}\n\n${usage}\n`);
  return 2;
}

async function write(out: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export const command: Command = {
  summary: 'write a tenant\'s retained reads as NDJSON, CSV or Parquet',
  usage,
  async run(args) {
    let values: { 'data-dir'?: string; 'key-store'?: string; tenant?: string; format?: string; out?: string };
    try {
      ({ values } = parseArgs({
        args,
        options: { 'data-dir': { type: 'string' }, tenant: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, ...keyStoreOption },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      return fail((err as Error).message);
    }
    const dataDir = values['data-dir'];
    const { tenant, format } = values;
    if (!dataDir) return fail('--data-dir is required');
    if (!tenant) return fail('--tenant is required');
    if (!isTenantName(tenant)) return fail(`not a tenant name: "${tenant}"`);
    if (!isAnyExportFormat(format)) return fail('--format must be ndjson, csv or parquet');

    const keys = await openCommandKeys('export', dataDir, values['key-store']);
    let rows = 0;
    // the key store stays open until the action's audit record is sealed and written
    try {
      await auditedCli(
        { dataDir, keys, action: 'cli.export', command: 'platesearch export', tenant, params: { tenant, format, out: values.out ?? null } },
        async () => {
          const lock = acquireEngineLock(dataDir, 'export');
          const directory = await Directory.open(dataDir, { watch: false });
          const engine = await openEngine({ dataDir, threads: 0, keys });
          const tmp = values.out ? join(dirname(values.out), `.${basename(values.out)}.${process.pid}.tmp`) : undefined;
          let out: NodeJS.WritableStream = process.stdout;
          let file: WriteStream | undefined;
          try {
            if (tmp) {
              file = createWriteStream(tmp, { mode: 0o644 });
              await once(file, 'open');
              out = file;
            }
            const minTs = directory.retentionCutoff(tenant, Date.now());
            const sink = out;
            const parquet = format === 'parquet' ? new ParquetExport((bytes) => write(sink, bytes)) : undefined;
            if (format !== 'parquet') await write(out, exportHeader(format));
            for await (const read of engine.exportReads({ tenant, minTs }, {})) {
              if (read.tenant !== tenant || read.ts < minTs) continue;
              if (parquet) await parquet.add(read);
              else await write(out, exportLine(format as 'ndjson' | 'csv', read));
              rows++;
            }
            await parquet?.finish();
            if (file && tmp && values.out) {
              file.end();
              await once(file, 'finish');
              const fh = await open(tmp, 'r+');
              await fh.sync();
              await fh.close();
              await rename(tmp, values.out);
              fsyncDirSync(dirname(values.out));
            }
          } catch (err) {
            if (file) {
              file.destroy();
              await unlink(tmp!).catch(() => {});
            }
            throw err;
          } finally {
            await engine.close();
            await directory.close();
            lock.release();
          }
        },
        () => ({ resultCount: rows }),
      );
    } finally {
      await keys.store.close();
    }
    process.stderr.write(`exported ${rows} reads\n`);
    return 0;
  },
};
