/**
 * `GET /v1/audit` and `GET /v1/audit/verify` (auditor): the caller's own tenant's log only.
 *
 * Query: `from`/`to` (ISO-8601 with a zone, or epoch ms; `from` inclusive, `to` exclusive, on the record's
 * `ts`), `user`, `action` (exact), `after` (a seq: records with a greater seq), `limit` (1–1000, default
 * 100). Answer `{records, next}` by ascending seq; `next` is the seq to pass as `after`, or null.
 */
import { BadInput } from '../../errors.js';
import { parseIsoTimestamp } from '../../model/time.js';
import { kMaxAuditPage, type AuditQuery } from '../audit/trail.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';

function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const t = /^-?\d{1,16}$/.test(v) ? Number(v) : parseIsoTimestamp(v);
  if (t === undefined) throw BadInput(`${name} must be an ISO-8601 time with a zone or epoch milliseconds`);
  return t;
}

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,16}$/.test(v) || Number(v) < min || Number(v) > max) throw BadInput(`${name} must be an integer in [${min}, ${max}]`);
  return Number(v);
}

function stringParam(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v.length === 0 || v.length > 256) throw BadInput(`${name} must be 1-256 characters`);
  return v;
}

/** Parses the audit query string (exported for tests). */
export function parseAuditQuery(q: URLSearchParams): AuditQuery {
  for (const key of ['from', 'to', 'user', 'action', 'limit', 'after']) {
    if (q.getAll(key).length > 1) throw BadInput(`${key} may be given once`);
  }
  const query: AuditQuery = {
    from: timeParam(q, 'from'),
    to: timeParam(q, 'to'),
    user: stringParam(q, 'user'),
    action: stringParam(q, 'action'),
    limit: intParam(q, 'limit', 1, kMaxAuditPage),
    after: intParam(q, 'after', 0, Number.MAX_SAFE_INTEGER),
  };
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw BadInput('from must not be after to');
  return query;
}

async function list(ctx: RequestContext): Promise<RouteResponse> {
  const page = await ctx.services.auditTrail.query(ctx.principal.tenant, parseAuditQuery(ctx.query));
  ctx.audit.resultCount = 0;
  return { json: { records: page.records, next: page.next } };
}

async function verify(ctx: RequestContext): Promise<RouteResponse> {
  return { json: await ctx.services.auditTrail.verify(ctx.principal.tenant) };
}

export const routes: Route[] = [
  { method: 'GET', path: '/v1/audit', roles: ['auditor'], action: 'audit.query', summary: 'Records of the caller\'s tenant\'s audit log', handler: list },
  { method: 'GET', path: '/v1/audit/verify', roles: ['auditor'], action: 'audit.verify', timeBudgetMs: null, summary: 'Verifies the caller\'s tenant\'s audit chain', handler: verify },
];
