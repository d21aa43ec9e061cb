/**
 * `POST /v1/reads` (ingest): a batch of reads → per-read validation → one durable append → ingest hooks
 * (hot-list matching) → `{accepted, rejected}`. When the answer is sent the accepted reads are durable and
 * visible to searches (the engine's append resolves only then). A read whose readId is already stored is
 * not stored again, but still goes to the hooks as retried, so an alert a crash cut off is raised now.
 */
import { validateRead, type Read, type StoredRead } from '../../model/read.js';
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
