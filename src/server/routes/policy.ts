/**
 * The tenant's oversight policy (API.md v1.1 "Accountability"): `PUT /v1/policy` (admin) states it whole,
 * durable before the answer; `GET /v1/policy` shows it, with the defaults for a tenant that never set one.
 *
 * Who may read it (a judgement call, written in docs/governance.md): every role of the tenant except
 * `ingest`. Investigators and dispatchers need to know when a search will need an approval, supervisors
 * decide approvals against it, auditors read insights in its timezone; a camera's ingest key has no
 * business with it.
 *
 * Setting up this module also registers the broad-search guard (src/server/governance/guard.ts) that
 * enforces the policy on every search, hot-list search and analytics request.
 */
import { governanceFor } from '../governance/for-server.js';
import { broadSearchGuard } from '../governance/guard.js';
import { parsePolicy, type StoredPolicy } from '../governance/policy.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';

export async function setup(services: ServerServices): Promise<void> {
  const g = await governanceFor(services);
  services.onRequest((ctx, route) => broadSearchGuard(g, ctx, route));
}

function policyJson(p: StoredPolicy) {
  return {
    broad: { ...p.broad },
    timezone: p.timezone,
    transparency: p.transparency,
    updated: p.updated === undefined ? null : new Date(p.updated).toISOString(),
  };
}

async function get(ctx: RequestContext): Promise<RouteResponse> {
  const g = await governanceFor(ctx.services);
  return { json: policyJson(g.policies.get(ctx.principal.tenant)) };
}

async function warmInsights(ctx: RequestContext, tz: string): Promise<void> {
  try {
    const { insightsOf } = await import('./insights.js');
    await insightsOf(ctx.services).compute(ctx.principal.tenant, 0, 0, tz);
  } catch {
    // no insights module on this server (a test's module list), or the log is unreadable: the call will say
  }
}

async function put(ctx: RequestContext): Promise<RouteResponse> {
  const policy = parsePolicy(ctx.body);
  const g = await governanceFor(ctx.services);
  const stored = await g.policies.set(ctx.principal.tenant, policy, ctx.now);
  // insights count off-hours in this timezone: derive its lists now, not in an auditor's first call
  void warmInsights(ctx, stored.timezone);
  return { json: policyJson(stored) };
}

export const routes: Route[] = [
  {
    method: 'GET', path: '/v1/policy', roles: ['admin', 'auditor', 'supervisor', 'investigator', 'dispatcher'], action: 'policy.get',
    summary: 'The tenant\'s oversight policy (broad-search rule, timezone, transparency)', handler: get,
  },
  {
    method: 'PUT', path: '/v1/policy', roles: ['admin'], action: 'policy.set', body: 'json',
    summary: 'Set the tenant\'s oversight policy', handler: put,
  },
];
