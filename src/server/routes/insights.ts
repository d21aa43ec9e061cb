/**
 * `GET /v1/audit/insights?from=&to=` (auditor): patterns of misuse in the caller's tenant's own log
 * (src/server/audit/insights.ts has the definitions and the incremental index). `from` inclusive, `to`
 * exclusive (ISO-8601 with a zone, or epoch ms); without them, all time. Off-hours are counted in the
 * tenant's policy timezone (GET /v1/policy; UTC by default).
 */
import { BadInput } from '../../errors.js';
import { parseIsoTimestamp } from '../../model/time.js';
import { AuditInsights } from '../audit/insights.js';
import { governanceFor } from '../governance/for-server.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';

const indexes = new WeakMap<ServerServices, AuditInsights>();

/** The insights index of a running server (the transparency route counts searches with it). */
export function insightsOf(services: ServerServices): AuditInsights {
  const index = indexes.get(services);
  if (!index) throw new Error('the insights route module is not set up on this server');
  return index;
}

export function setup(services: ServerServices): void {
  const insights = new AuditInsights(services.auditTrail);
  indexes.set(services, insights);
  // built in the background, so the first call does not scan a year of log
  void insights.warm(services.auditTrail.tenants().filter((t) => t !== '_system')).catch((err: unknown) => {
    services.log.warn({ err }, 'audit insights could not be built at start; they are built on first use');
  });
}

function timeParam(q: URLSearchParams, name: string): number | undefined {
  const all = q.getAll(name);
  if (all.length > 1) throw BadInput(`${name} may be given once`, { field: name });
  const v = all[0];
  if (v === undefined) return undefined;
  const t = /^-?\d{1,16}$/.test(v) ? Number(v) : parseIsoTimestamp(v);
  if (t === undefined) throw BadInput(`${name} must be an ISO-8601 time with a zone or epoch milliseconds`, { field: name });
  return t;
}

async function insights(ctx: RequestContext): Promise<RouteResponse> {
  const from = timeParam(ctx.query, 'from') ?? -8.64e15;
  const to = timeParam(ctx.query, 'to') ?? 8.64e15;
  if (from > to) throw BadInput('from must not be after to');
  const index = insightsOf(ctx.services);
  const tz = (await governanceFor(ctx.services)).policies.get(ctx.principal.tenant).timezone;
  const answer = await index.compute(ctx.principal.tenant, from, to, tz);
  return { json: { ...answer, timezone: tz } };
}

export const routes: Route[] = [
  {
    method: 'GET', path: '/v1/audit/insights', roles: ['auditor'], action: 'audit.insights',
    summary: 'Patterns of misuse in the tenant\'s audit log (repeat plates, off-hours, reused cases, boilerplate purposes, foreign searches)',
    handler: insights,
  },
];
