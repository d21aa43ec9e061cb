/**
 * `POST /v1/reads` (ingest): a batch of reads → per-read validation → one durable append → ingest hooks
 * (hot-list matching) → `{accepted, rejected}`. When the answer is sent the accepted reads are durable and
 * visible to searches (the engine's append resolves only then). A read whose readId is already stored is
 * not stored again, but still goes to the hooks as retried, so an alert a crash cut off is raised now.
 *
 * Bodies (NDJSON, JSON, MessagePack) are read on parse workers (src/ingest/parse-body.ts) into columns and
 * appended as columns (Engine.appendColumns): no object per read on this thread. The answer is the one the
 * object path gives (parse-body.ts falls back to it for every line it cannot prove valid; a MessagePack body
 * is unpacked and validated element by element, as that path does). The object path remains for engines
 * without appendColumns.
 */
import { availableParallelism } from 'node:os';
import { validateRead, type Read, type StoredRead } from '../../model/read.js';
import { ParsePool } from '../../ingest/pipeline.js';
import { parseBody, type BodyJob, type BodyResult } from '../../ingest/parse-body.js';
import { notAnArrayError, notJsonError, notMsgpackError, type RawBatch } from '../body.js';
import { kBulkBodyLimit, type IngestEvent, type RequestContext, type Route, type RouteResponse, type ServerServices } from '../route.js';

export interface IngestAnswer {
  accepted: number;
  rejected: Array<{ index: number; error: string }>;
}

/**
 * Bodies below this are parsed on the calling thread: a worker round trip (~0.1 ms and a copy of the
 * columns) costs more than reading a few hundred lines here.
 */
const kWorkerMinBytes = 64 << 10;

const pools = new WeakMap<ServerServices, ParsePool>();

/** The server's parse workers (one per core, at most 2), started with the server, closed at shutdown. */
function poolOf(services: ServerServices): ParsePool {
  let pool = pools.get(services);
  if (!pool) {
    pool = new ParsePool(Math.min(2, availableParallelism()), { unref: true });
    pools.set(services, pool);
    const p = pool;
    services.onClose(() => p.close());
  }
  return pool;
}

/** Parses a body into columns: on a worker when it is big enough (and the workers are up), else here. */
async function parseReads(services: ServerServices, batch: RawBatch, cutoff: number): Promise<BodyResult> {
  const format: BodyJob['format'] = batch.format;
  const pool = poolOf(services);
  let result: BodyResult;
  if (batch.bytes.length < kWorkerMinBytes || pool.threads === 0 || pool.broken) {
    result = parseBody({ kind: 'body', format, bytes: batch.bytes, cutoff });
  } else {
    // the body's memory moves to the worker: it must be a buffer of its own (readBody's concat of a body
    // this big is; a pooled slice would take its neighbours along)
    const own = batch.bytes.byteOffset === 0 && batch.bytes.byteLength === batch.bytes.buffer.byteLength;
    const bytes = own ? batch.bytes : Uint8Array.prototype.slice.call(batch.bytes);
    result = await pool.parseBody({ kind: 'body', format, bytes, cutoff });
  }
  if (result.notJson !== undefined) throw notJsonError(result.notJson);
  if (result.notMsgpack !== undefined) throw notMsgpackError(result.notMsgpack);
  if (result.notArray) throw notAnArrayError(batch.format);
  return result;
}

async function ingestColumns(ctx: RequestContext, batch: RawBatch): Promise<RouteResponse> {
  const { engine, directory } = ctx.services;
  const tenant = ctx.principal.tenant;
  const cutoff = directory.retentionCutoff(tenant, ctx.now);
  const parsed = await parseReads(ctx.services, batch, cutoff);
  const columns = parsed.columns;
  const accepted = columns.length;
  if (columns.length > 0) {
    const result = await engine.appendColumns!(tenant, columns);
    const retried: StoredRead[] = [];
    result.duplicates.forEach((i, k) => {
      const id = result.duplicateIds[k];
      if (id) retried.push(result.readAt(i, id));
    });
    let released = false;
    if (result.storedCount > 0 || retried.length > 0) {
      // the stored reads as objects only if a hook reads them (hot lists): made once, on first use, and only
      // while the hooks run (the columns go back to their parse worker after)
      let stored: StoredRead[] | undefined;
      const event: IngestEvent = {
        tenant, retried, requestId: ctx.requestId,
        get reads() {
          if (stored === undefined && released) throw new Error('ingest event: the batch\'s reads were read after the hooks returned');
          return (stored ??= result.stored());
        },
      };
      await ctx.services.emitIngest(event);
    }
    // appended (the live rows and the WAL record are copies) and the hooks done: the columns' buffer goes
    // back to its parse worker for a later body (not on an error: then the collector frees it)
    released = true;
    parsed.release?.();
  }
  ctx.audit.params = {
    ...ctx.audit.params,
    format: ctx.headers['content-type'] ?? null,
    items: parsed.items,
    accepted,
    rejected: parsed.rejected.length,
  };
  return { json: { accepted, rejected: parsed.rejected } satisfies IngestAnswer };
}

async function ingest(ctx: RequestContext): Promise<RouteResponse> {
  const batch = ctx.batch;
  if (batch && ctx.services.engine.appendColumns) return ingestColumns(ctx, batch);
  const { engine, directory } = ctx.services;
  const tenant = ctx.principal.tenant;
  const cutoff = directory.retentionCutoff(tenant, ctx.now);
  const reads: Read[] = [];
  const rejected: IngestAnswer['rejected'] = [];
  ctx.items.forEach((item, index) => {
    if (!item.ok) {
      rejected.push({ index, error: item.error });
      return;
    }
    const v = validateRead(item.value);
    if (!v.ok) rejected.push({ index, error: v.error });
    else if (v.read.ts < cutoff) rejected.push({ index, error: 'beyond retention' });
    else reads.push(v.read);
  });

  if (reads.length > 0) {
    const result = await engine.append(tenant, reads);
    // a retry carries the same read: it stands for the stored one, under the stored id
    const retried: StoredRead[] = [];
    result.duplicates.forEach((index, k) => {
      const id = result.duplicateIds[k];
      if (id) retried.push({ ...reads[index]!, id, tenant });
    });
    if (result.stored.length > 0 || retried.length > 0) {
      await ctx.services.emitIngest({ tenant, reads: result.stored, retried, requestId: ctx.requestId });
    }
  }
  ctx.audit.params = {
    ...ctx.audit.params,
    format: ctx.headers['content-type'] ?? null,
    items: ctx.items.length,
    accepted: reads.length,
    rejected: rejected.length,
  };
  return { json: { accepted: reads.length, rejected } satisfies IngestAnswer };
}

export const routes: Route[] = [
  {
    method: 'POST',
    path: '/v1/reads',
    roles: ['ingest'],
    action: 'ingest',
    body: 'batch',
    bodyLimit: kBulkBodyLimit,
    // an append is never abandoned half-way: once reads may be durable, the answer must say so
    timeBudgetMs: null,
    summary: 'Ingest a batch of reads (JSON array, NDJSON or MessagePack array)',
    handler: ingest,
  },
];

/** Starts the parse workers with the server, so the first big body does not wait for them. */
export function setup(services: ServerServices): void {
  poolOf(services);
}
