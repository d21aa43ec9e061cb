/**
 * `GET /v1/transparency?tenant=T` (no token): the counts an agency chooses to publish (API.md v1.1
 * "Accountability"), for a public dashboard. 404 unless T's policy says `"transparency": true` (the same 404
 * for a tenant that does not exist: the endpoint does not tell who is a customer).
 *
 *   { "tenant", "asOf", "readsHeld", "retentionSeconds", "hotlists", "hotlistEntries",
 *     "searchesLast30Days", "hitsLast30Days", "partnerSearchesLast30Days", "sharedWith", "sharedFrom" }
 *
 * Counts only: no plate, no user, no case, no purpose, and no partner's name (how many agencies, not which).
 * Searches are our users' searches that ran (insights' definition), hits the reads they matched, partner
 * searches other tenants' searches whose scope held our data; the window is the 30 days before the call.
 *
 * Audited like every /v1 call (the caller has no tenant: `_system`), and also in T's own log when answered,
 * so an agency sees every look at its published counts.
 */
import { NotFound } from '../../errors.js';
import { isTenantName } from '../../model/tenant.js';
import { alertSystemFor } from '../../alerts/for-server.js';
import { governanceFor } from '../governance/for-server.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';
import { insightsOf } from './insights.js';

const kWindowMs = 30 * 86_400_000;
// the reads held are counted by a scan: a public, unauthenticated call reuses a count this fresh
const kReadsCacheMs = 2_000;

const readCounts = new WeakMap<ServerServices, Map<string, { at: number; count: number }>>();

async function readsHeld(ctx: RequestContext, tenant: string): Promise<number> {
  let cache = readCounts.get(ctx.services);
  if (!cache) readCounts.set(ctx.services, (cache = new Map()));
  const hit = cache.get(tenant);
  if (hit && ctx.now - hit.at < kReadsCacheMs) return hit.count;
  const scope = [{ tenant, minTs: ctx.services.directory.retentionCutoff(tenant, ctx.now) }];
  const result = await ctx.services.engine.search(scope, { filter: {}, limit: 1 }, ctx.signal);
  cache.set(tenant, { at: ctx.now, count: result.total });
  return result.total;
}

async function transparency(ctx: RequestContext): Promise<RouteResponse> {
  const tenant = ctx.query.get('tenant') ?? '';
  const notPublished = () => NotFound('no transparency report is published for this tenant');
  if (!isTenantName(tenant) || !ctx.services.directory.tenantExists(tenant)) throw notPublished();
  const g = await governanceFor(ctx.services);
  if (!g.policies.get(tenant).transparency) throw notPublished();
  const alerts = await alertSystemFor(ctx.services);
  const lists = alerts.hotlists.listsOf(tenant);
  const grants = ctx.services.directory.listGrants(tenant, ctx.now);
  const activity = await insightsOf(ctx.services).activity(tenant, ctx.now - kWindowMs, ctx.now + 1);
  ctx.audit.tenantsTouched = new Set([tenant]);
  return {
    json: {
      tenant,
      asOf: new Date(ctx.now).toISOString(),
      readsHeld: await readsHeld(ctx, tenant),
      retentionSeconds: ctx.services.directory.retentionSeconds(tenant) ?? null,
      hotlists: lists.length,
      hotlistEntries: lists.reduce((n, l) => n + l.list.plates.length, 0),
      searchesLast30Days: activity.searches,
      hitsLast30Days: activity.hits,
      partnerSearchesLast30Days: activity.partnerSearches,
      sharedWith: grants.given.length,
      sharedFrom: grants.received.length,
    },
  };
}

export const routes: Route[] = [
  {
    method: 'GET', path: '/v1/transparency', roles: 'public', action: 'transparency',
    summary: 'Published counts of a tenant that opted in (no plate, user or case)', handler: transparency,
  },
];
