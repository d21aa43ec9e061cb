/**
 * `POST /v1/reads` (ingest): a batch of reads → per-read validation → one durable append → ingest hooks
 * (hot-list matching) → `{accepted, rejected}`. When the answer is sent the accepted reads are durable and
 * visible to searches (the engine's append resolves only then).
 */
import { validateRead, type Read } from '../../model/read.js';
import { kBulkBodyLimit, type RequestContext, type Route, type RouteResponse } from '../route.js';

export interface IngestAnswer {
  accepted: number;
  rejected: Array<{ index: number; error: string }>;
}

async function ingest(ctx: RequestContext): Promise<RouteResponse> {
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
    if (result.stored.length > 0) await ctx.services.emitIngest({ tenant, reads: result.stored, requestId: ctx.requestId });
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
