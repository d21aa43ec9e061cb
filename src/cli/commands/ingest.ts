/**
 * `platesearch ingest --data-dir D --tenant T FILE…`: bulk-loads reads without a server.
 *
 * NDJSON (`.ndjson`, `.jsonl`): one read a line, blank lines skipped. CSV (`.csv`): a header row naming the
 * read fields (`plate, ts, lat, lon, camera, region, confidence, make, color, readId`; other columns such as
 * an export's `id`/`tenant` are ignored), one read per row; `lat`, `lon`, `confidence` are numbers, `ts` is
 * ISO-8601 with a zone or epoch ms digits, an empty cell is an absent field. Every read goes to tenant T
 * (a read's own `tenant` field is ignored), is validated like `POST /v1/reads` (also: not beyond T's
 * retention), and is durable when the command ends. Files are streamed in batches. Bulk-loaded reads raise
 * no hot-list alerts.
 *
 * The engine of a data dir has one owner: while a server runs on D this command refuses to start (load
 * through `POST /v1/reads` instead), and a server does not start while it runs.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openEngine } from '../../engine/index.js';
import { isTenantName } from '../../model/tenant.js';
import { validateRead, type Read } from '../../model/read.js';
import { CsvReader } from '../../server/export/csv-reader.js';
import { acquireEngineLock } from '../../server/tenancy/data-dir-lock.js';
import { Directory } from '../../server/tenancy/directory.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch ingest --data-dir D [--key-store K] --tenant T FILE...

Bulk-loads reads into tenant T of data dir D, without a server (T is created if new).
  .ndjson / .jsonl  one JSON read per line (blank lines skipped)
  .csv              header row of read fields: plate,ts,lat,lon,camera[,region,confidence,make,color,readId]
                    (other columns are ignored; an empty cell is an absent field)
Reads are validated as POST /v1/reads validates them; a read's own "tenant" field is ignored.
Prints "accepted N rejected M" as the last line of stdout; each rejected read is reported
on stderr as FILE:LINE: reason (the first ${100} of them). Exit 0 when every file was read,
1 on an error (nothing after the last durable batch is kept), 2 on bad usage.
Refuses to run while a server runs on D (use POST /v1/reads there); bulk-loaded reads raise
no hot-list alerts.
${keyStoreUsage}`;

// reads per engine append: one fsync per batch; large enough to amortise it, small next to the heap
const kBatch = 10_000;
// rejected reads reported one by one on stderr; beyond this only counted
const kMaxReported = 100;

const kNumberFields = new Set(['lat', 'lon', 'confidence']);
const kReadFields = new Set(['plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color', 'readId']);

function fail(message: string): number {
  process.stderr.write(`platesearch ingest: ${message}\n\n${usage}\n`);
  return 2;
}

type Format = 'ndjson' | 'csv';

function formatOf(file: string): Format | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv') return 'csv';
  return undefined;
}

/** One CSV row as a read-shaped object, typed as the columns say. */
export function csvRowToObject(header: readonly string[], fields: readonly string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  header.forEach((name, i) => {
    if (!kReadFields.has(name)) return;
    const v = fields[i];
    if (v === undefined || v === '') return;
    if (kNumberFields.has(name)) o[name] = /^\s*$/.test(v) ? v : Number(v);
    else if (name === 'ts' && /^-?\d+$/.test(v)) o[name] = Number(v);
    else o[name] = v;
  });
  return o;
}

/** Items of one file: a parsed value (or a parse error) with its 1-based line. */
async function* itemsOf(file: string, format: Format): AsyncGenerator<{ line: number; value?: unknown; error?: string }> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      line++;
      const t = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      if (t.trim() === '') continue;
      try {
        yield { line, value: JSON.parse(t) };
      } catch {
        yield { line, error: 'line is not valid JSON' };
      }
    }
    return;
  }
  const reader = new CsvReader();
  let header: string[] | undefined;
  const rows = function* (records: ReturnType<CsvReader['push']>) {
    for (const r of records) {
      if (!header) {
        header = r.fields.map((f) => f.trim());
        continue;
      }
      if (r.fields.length !== header.length) {
        yield { line: r.line, error: `row has ${r.fields.length} fields, the header ${header.length}` };
        continue;
      }
      yield { line: r.line, value: csvRowToObject(header, r.fields) };
    }
  };
  for await (const chunk of stream) yield* rows(reader.push(chunk as string));
  yield* rows(reader.end());
  if (header && !header.includes('plate')) throw new Error(`${file}: the CSV header has no "plate" column`);
}

export const command: Command = {
  summary: 'bulk-load NDJSON or CSV reads without a server',
  usage,
  async run(args) {
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

    const keys = await openCommandKeys('ingest', dataDir, values['key-store']);
    const lock = acquireEngineLock(dataDir, 'ingest');
    const directory = await Directory.open(dataDir, { watch: false });
    const engine = await openEngine({ dataDir, threads: 0, keys });
    let accepted = 0;
    let rejected = 0;
    const reject = (file: string, line: number, error: string) => {
      rejected++;
      if (rejected <= kMaxReported) process.stderr.write(`${file}:${line}: ${error}\n`);
      else if (rejected === kMaxReported + 1) process.stderr.write('(further rejected reads are only counted)\n');
    };
    // one append in flight while the next batch is parsed: parsing and fsync overlap
    let inFlight: Promise<void> = Promise.resolve();
    try {
      await directory.ensureTenant(tenant);
      const cutoff = directory.retentionCutoff(tenant, Date.now());
      let batch: Read[] = [];
      const flush = async () => {
        await inFlight;
        if (batch.length === 0) return;
        const reads = batch;
        batch = [];
        inFlight = engine.append(tenant, reads).then(() => {
          accepted += reads.length; // duplicates by readId are accepted and stored once
        });
      };
      for (const file of files) {
        for await (const item of itemsOf(file, formatOf(file)!)) {
          if (item.error !== undefined) {
            reject(file, item.line, item.error);
            continue;
          }
          const v = validateRead(item.value);
          if (!v.ok) {
            reject(file, item.line, v.error);
            continue;
          }
          if (v.read.ts < cutoff) {
            reject(file, item.line, 'beyond retention');
            continue;
          }
          batch.push(v.read);
          if (batch.length >= kBatch) await flush();
        }
      }
      await flush();
      await inFlight;
    } finally {
      await inFlight.catch(() => {});
      await engine.close();
      await directory.close();
      await keys.store.close();
      lock.release();
    }
    process.stdout.write(`accepted ${accepted} rejected ${rejected}\n`);
    return 0;
  },
};
