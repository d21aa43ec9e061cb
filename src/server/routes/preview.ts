/**
 * `POST /v1/search/preview` (investigator, dispatcher; supervisors through role implication): the body of a
 * search, answered with what running it would reach, without any read:
 * `{"total", "tenants", "broad", "needsApproval", "reasons"}`.
 *
 * - `total`: the exact number of matching reads (the engine's count; one hit at most is fetched, and
 *   dropped);
 * - `tenants`: every tenant in the caller's scope (own first), i.e. whose data the search would reach,
 *   matching or not (API.md v1.1 Audit rules); each gets the record in its log (`tenantsTouched`);
 * - `broad` / `needsApproval`: the policy's broad rule (src/query/broadness.ts) and whether the tenant
 *   requires an approval for it; `reasons` says what makes it broad.
 *
 * Like a search it needs `purpose` and `case` (400 without) and is audited (`search.preview`,
 * `resultCount` = total). An `approval` in the body is ignored (the guard takes it out).
 */
import { performance } from 'node:perf_hooks';
import { assessBroadness } from '../../query/broadness.js';
import { parseSearchRequest } from '../../query/parse.js';
import { governanceFor } from '../governance/for-server.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';

async function preview(ctx: RequestContext): Promise<RouteResponse> {
  const { query, justification } = parseSearchRequest(ctx.body);
  ctx.audit.purpose = justification.purpose;
  ctx.audit.case = justification.case;
  const { engine, directory } = ctx.services;
  const scopes = directory.scopesFor(ctx.principal.tenant, ctx.now);
  const start = performance.now();
  const result = await engine.search(scopes, { ...query, limit: 1 }, ctx.signal);
  const g = await governanceFor(ctx.services);
  const policy = g.policies.get(ctx.principal.tenant);
  const b = assessBroadness(ctx.body, policy.broad);
  ctx.audit.resultCount = result.total;
  ctx.audit.tenantsTouched = new Set(scopes.map((s) => s.tenant));
  if (b.broad) ctx.audit.extra.broad = true;
  return {
    json: {
      total: result.total,
      tenants: scopes.map((s) => s.tenant),
      broad: b.broad,
      needsApproval: b.broad && policy.broad.requireApproval,
      reasons: b.reasons,
      queryId: ctx.requestId,
      tookMs: Math.round((performance.now() - start) * 1000) / 1000,
    },
  };
}

export const routes: Route[] = [
  {
    method: 'POST', path: '/v1/search/preview', roles: ['investigator', 'dispatcher'], action: 'search.preview', body: 'json',
    summary: 'What a search would reach (count, tenants, broad, needs approval), without returning reads', handler: preview,
  },
];
