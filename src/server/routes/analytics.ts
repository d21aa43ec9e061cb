/**
 * `POST /v1/analytics/{convoy,multisite,frequent,cloned}` (investigator, dispatcher): API.md "Investigative
 * analytics". The body is parsed by src/query/analytics/parse.ts; the caller's scopes (own tenant plus active
 * grants, each with its retention cutoff) are resolved here and handed to the engine, which reads nothing
 * else. Each runs under the route's query time budget (503 PS_QUERY_TIMEOUT; the pool keeps serving).
 *
 * Audit: `analytics.<kind>`, `resultCount` = `total`, and `tenantsTouched` = every tenant in scope (API.md
 * v1.1: the tenant's data was searched whether or not a read of it shaped the answer), so the record goes
 * to each of their logs.
 */
import { performance } from 'node:perf_hooks';
import type { AnalyticsKind, AnalyticsResult } from '../../model/analytics.js';
import { formatTimestamp } from '../../model/time.js';
import { parseAnalyticsRequest } from '../../query/analytics/parse.js';
import { hitToJson } from '../hit-json.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';

const kRoles = ['investigator', 'dispatcher'] as const;

/** The answer's rows: times as ISO-8601 UTC with milliseconds (as hits), hits as search writes them. */
export function resultsToJson(r: AnalyticsResult): unknown[] {
  switch (r.kind) {
    case 'convoy':
      return r.results.map((x) => ({ plate: x.plate, cameras: x.cameras, together: x.together, first: formatTimestamp(x.first), last: formatTimestamp(x.last) }));
    case 'multisite':
      return r.results.map((x) => ({ plate: x.plate, sites: x.sites, reads: x.reads }));
    case 'frequent':
      return r.results.map((x) => ({ plate: x.plate, reads: x.reads, days: x.days, first: formatTimestamp(x.first), last: formatTimestamp(x.last) }));
    case 'cloned':
      return r.results.map((x) => ({ plate: x.plate, pairs: x.pairs, maxSpeedKmh: x.maxSpeedKmh, example: x.example.map(hitToJson) }));
  }
}

function handler(kind: AnalyticsKind) {
  return async (ctx: RequestContext): Promise<RouteResponse> => {
    const { query, justification } = parseAnalyticsRequest(kind, ctx.body);
    ctx.audit.purpose = justification.purpose;
    ctx.audit.case = justification.case;
    const { engine, directory } = ctx.services;
    const scopes = directory.scopesFor(ctx.principal.tenant, ctx.now);
    // set before running: a request that times out was still run over every tenant in scope
    ctx.audit.tenantsTouched = new Set(scopes.map((s) => s.tenant));
    const start = performance.now();
    const result = await engine.analytics(scopes, query, ctx.signal);
    const tookMs = Math.round((performance.now() - start) * 1000) / 1000;
    ctx.audit.resultCount = result.total;
    return { json: { results: resultsToJson(result), total: result.total, truncated: result.truncated, queryId: ctx.requestId, tookMs } };
  };
}

const kSummaries: Record<AnalyticsKind, string> = {
  convoy: 'Vehicles travelling with a plate (companions at the same cameras within a time window)',
  multisite: 'Vehicles read at several sites, each an area and a time window',
  frequent: 'Vehicles read often in one area (frequent visitors)',
  cloned: 'Plates read too far apart for the time between reads (possible cloned plates)',
};

export const routes: Route[] = (['convoy', 'multisite', 'frequent', 'cloned'] as const).map((kind) => ({
  method: 'POST' as const,
  path: `/v1/analytics/${kind}`,
  roles: kRoles,
  action: `analytics.${kind}`,
  body: 'json' as const,
  summary: kSummaries[kind],
  handler: handler(kind),
}));
