/**
 * `platesearch ingest --data-dir D --tenant T FILE…`: bulk-loads reads without a server.
 *
 * NDJSON (`.ndjson`, `.jsonl`): one read a line, blank lines skipped. CSV (`.csv`): a header row naming the
 * read fields (`plate, ts, lat, lon, camera, region, confidence, make, color, readId`; other columns such as
 * an export's `id`/`tenant` are ignored), one read per row; `lat`, `lon`, `confidence` are numbers, `ts` is
 * ISO-8601 with a zone or epoch ms digits, an empty cell is an absent field. Every read goes to tenant T
 * (a read's own `tenant` field is ignored), is validated like `POST /v1/reads` (also: not beyond T's
 * retention), and is durable when the command ends. Bulk-loaded reads raise no hot-list alerts.
 *
 * A parallel pipeline (src/ingest/pipeline.ts): the files are cut into pieces at line/record boundaries,
 * parsed and validated on worker threads, and the accepted reads go as columns into a bulk load of the tenant
 * (src/store/bulk-load.ts) that writes day shards directly (no WAL) and commits them with one manifest write
 * at the end: `accepted N rejected M` is printed only after that commit is durable, and an error before it
 * keeps nothing of this run. Memory is bounded by the pieces in flight and one accumulator of rows.
 * A CSV file whose header has no "plate" column fails the run before any of its rows are read.
 *
 * The engine of a data dir has one owner: while a server runs on D this command refuses to start (load
 * through `POST /v1/reads` instead), and a server does not start while it runs.
 */
import { extname } from 'node:path';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openEngine } from '../../engine/index.js';
import { isTenantName } from '../../model/tenant.js';
import { ingestFile, ParsePool } from '../../ingest/pipeline.js';
import type { IngestFormat } from '../../ingest/parse-chunk.js';
import type { BulkLoad } from '../../store/bulk-load.js';
import { acquireEngineLock } from '../../server/tenancy/data-dir-lock.js';
import { Directory } from '../../server/tenancy/directory.js';
import { auditedCli } from '../audited.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

export { csvRowToObject } from '../../ingest/parse-chunk.js';

const usage = `usage: platesearch ingest --data-dir D [--key-store K] --tenant T FILE...

Bulk-loads reads into tenant T of data dir D, without a server (T is created if new).
  .ndjson / .jsonl  one JSON read per line (blank lines skipped)
  .csv              header row of read fields: plate,ts,lat,lon,camera[,region,confidence,make,color,readId]
                    (other columns are ignored; an empty cell is an absent field)
Reads are validated as POST /v1/reads validates them; a read's own "tenant" field is ignored.
Prints "accepted N rejected M" as the last line of stdout once every accepted read is durable;
each rejected read is reported on stderr as FILE:LINE: reason (the first ${100} of them).
Exit 0 when every file was read, 1 on an error (nothing of the run is kept), 2 on bad usage.
Refuses to run while a server runs on D (use POST /v1/reads there); bulk-loaded reads raise
no hot-list alerts.
${keyStoreUsage}`;

// rejected reads reported one by one on stderr; beyond this only counted
const kMaxReported = 100;

function fail(message: string): number {
  process.stderr.write(`platesearch ingest: ${message}\n\n${usage}\n`);
  return 2;
}

function formatOf(file: string): IngestFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv') return 'csv';
  return undefined;
}

export const command: Command = {
  summary: 'bulk-load NDJSON or CSV reads without a server',
  usage,
  async run(args, context) {
    let values: { 'data-dir'?: string; 'key-store'?: string; tenant?: string };
    let files: string[];
    try {
      ({ values, positionals: files } = parseArgs({
        args,
        options: { 'data-dir': { type: 'string' }, tenant: { type: 'string' }, ...keyStoreOption },
        strict: true,
        allowPositionals: true,
      }));
    } catch (err) {
      return fail((err as Error).message);
    }
    const dataDir = values['data-dir'];
    const tenant = values.tenant;
    if (!dataDir) return fail('--data-dir is required');
    if (!tenant) return fail('--tenant is required');
    if (!isTenantName(tenant)) return fail(`not a tenant name: "${tenant}"`);
    if (files.length === 0) return fail('at least one FILE is required');
    for (const f of files) if (!formatOf(f)) return fail(`${f}: unknown file type (use .ndjson, .jsonl or .csv)`);

    // a missing or unreadable file fails the run before anything is loaded
    for (const f of files) {
      try {
        await access(f, fsConstants.R_OK);
      } catch (err) {
        process.stderr.write(`platesearch ingest: ${f}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
        return 1;
      }
    }
    const keys = await (context?.openKeys ?? openCommandKeys)('ingest', dataDir, values['key-store']);
    let accepted = 0;
    let rejected = 0;
    const reject = (file: string, line: number, error: string) => {
      rejected++;
      if (rejected <= kMaxReported) process.stderr.write(`${file}:${line}: ${error}\n`);
      else if (rejected === kMaxReported + 1) process.stderr.write('(further rejected reads are only counted)\n');
    };
    const rejectUnreported = (count: number) => {
      if (rejected < kMaxReported) throw new Error('unreported rejects before the report limit'); // pieces report ≥ 100
      if (rejected === kMaxReported) process.stderr.write('(further rejected reads are only counted)\n');
      rejected += count;
    };
    // the key store stays open until the action's audit record is sealed and written
    try {
      await auditedCli(
        { dataDir, keys, action: 'cli.ingest', command: 'platesearch ingest', tenant, params: { tenant, files } },
        async () => {
          const lock = acquireEngineLock(dataDir, 'ingest');
          let directory: Directory | undefined;
          let engine: Awaited<ReturnType<typeof openEngine>> | undefined;
          const pool = new ParsePool();
          let bulk: BulkLoad | undefined;
          try {
            directory = await Directory.open(dataDir, { watch: false });
            engine = await openEngine({ dataDir, threads: 0, keys });
            await directory.ensureTenant(tenant);
            const cutoff = directory.retentionCutoff(tenant, Date.now());
            const load = (bulk = await engine.bulkLoad(tenant, { load: false }));
            const sink = { add: (c: Parameters<BulkLoad['add']>[0]) => load.add(c), reject, rejectUnreported };
            for (const file of files) await ingestFile(file, formatOf(file)!, cutoff, pool, sink);
            accepted = (await load.finish()).accepted; // duplicates by readId are accepted and stored once
          } catch (err) {
            await bulk?.abort().catch(() => undefined);
            throw err;
          } finally {
            await pool.close();
            await engine?.close();
            await directory?.close();
            lock.release();
          }
        },
        () => ({ resultCount: accepted, params: { accepted, rejected } }),
      );
    } finally {
      await keys.store.close();
    }
    process.stdout.write(`accepted ${accepted} rejected ${rejected}\n`);
    return 0;
  },
};
