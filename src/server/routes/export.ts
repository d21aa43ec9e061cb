/**
 * `GET /v1/export?format=ndjson|csv|parquet&from=&to=` (admin): the caller's tenant's retained reads, ordered by
 * ts then id, in an open format (src/server/export/format.ts). Only the caller's own tenant, never granted
 * ones; the retention cutoff is the one at the request's arrival.
 *
 * The audit record states the number of rows, and it is written before the first byte: so the export is
 * first formatted into a spool (memory, then a temp file), counted, and then streamed from the spool.
 */
import { join } from 'node:path';
import { BadInput } from '../../errors.js';
import { parseIsoTimestamp } from '../../model/time.js';
import { exportHeader, exportLine, isAnyExportFormat, kExportContentType } from '../export/format.js';
import { kParquetContentType, ParquetExport } from '../export/parquet.js';
import { Spool } from '../export/spool.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';

// an export spooled but never streamed (its answer became a 503) is dropped after this long
const kUnstreamedSpoolMs = 5 * 60_000;

function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const t = /^-?\d{1,16}$/.test(v) ? Number(v) : parseIsoTimestamp(v);
  if (t === undefined) throw BadInput(`${name} must be an ISO-8601 time with a zone or epoch milliseconds`);
  return t;
}

export async function setup(services: ServerServices): Promise<void> {
  await Spool.sweep(join(services.dataDir, 'tmp'));
}

async function exportReads(ctx: RequestContext): Promise<RouteResponse> {
  const format = ctx.query.get('format') ?? 'ndjson';
  if (!isAnyExportFormat(format)) throw BadInput('format must be ndjson, csv or parquet');
  for (const key of ['format', 'from', 'to']) if (ctx.query.getAll(key).length > 1) throw BadInput(`${key} may be given once`);
  const from = timeParam(ctx.query, 'from');
  const to = timeParam(ctx.query, 'to');
  if (from !== undefined && to !== undefined && from > to) throw BadInput('from must not be after to');

  const tenant = ctx.principal.tenant;
  const minTs = ctx.services.directory.retentionCutoff(tenant, ctx.now);
  const spool = new Spool(join(ctx.services.dataDir, 'tmp'), ctx.services.keys.cipher);
  let rows = 0;
  // Parquet is binary: encoded a row group at a time into the same spool
  const parquet = format === 'parquet' ? new ParquetExport((bytes) => spool.writeBytes(bytes)) : undefined;
  try {
    if (format !== 'parquet') await spool.write(exportHeader(format));
    for await (const read of ctx.services.engine.exportReads({ tenant, minTs }, { from, to })) {
      if (read.tenant !== tenant || read.ts < minTs) continue; // belt and braces: never another tenant, never past retention
      ctx.signal.throwIfAborted();
      if (parquet) await parquet.add(read);
      else await spool.write(exportLine(format as 'ndjson' | 'csv', read));
      rows++;
    }
    await parquet?.finish();
    await spool.finish();
  } catch (err) {
    await spool.discard();
    throw err;
  }
  spool.expireUnlessDrained(kUnstreamedSpoolMs);
  ctx.audit.resultCount = rows;
  ctx.audit.tenantsTouched = new Set(rows > 0 ? [tenant] : []);
  return {
    contentType: format === 'parquet' ? kParquetContentType : kExportContentType[format],
    headers: {
      'Content-Disposition': `attachment; filename="${tenant}-reads.${format}"`,
      'X-Export-Rows': String(rows),
      'Cache-Control': 'no-store',
    },
    async stream(sink) {
      try {
        for await (const chunk of spool.drain()) {
          if (sink.signal.aborted) break;
          await sink.write(chunk);
        }
      } finally {
        await spool.discard();
      }
    },
  };
}

export const routes: Route[] = [
  { method: 'GET', path: '/v1/export', roles: ['admin'], action: 'export', timeBudgetMs: null, summary: 'Export the tenant\'s retained reads (NDJSON, CSV or Parquet)', handler: exportReads },
];
