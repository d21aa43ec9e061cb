/**
 * Sharing (admin): `PUT /v1/sharing/{grantee}` `{"expires": ISO | epoch ms | null}` gives tenant `grantee`
 * read access to the caller's tenant's reads (replacing an earlier grant to it), `DELETE` withdraws it at
 * once (204, also when there was none), `GET /v1/sharing` lists the active grants given and received.
 * Sharing with oneself or with an expiry not in the future → 400; with an unknown tenant → 404.
 */
import { BadInput, NotFound } from '../../errors.js';
import { isTenantName } from '../../model/tenant.js';
import { parseTimestamp } from '../../model/time.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';
import type { Grant } from '../tenancy/directory.js';

function grantJson(g: Grant) {
  return {
    grantor: g.grantor,
    grantee: g.grantee,
    expires: g.expires === null ? null : new Date(g.expires).toISOString(),
    created: new Date(g.created).toISOString(),
  };
}

function grantee(ctx: RequestContext): string {
  const name = ctx.params.grantee!;
  if (name === ctx.principal.tenant) throw BadInput('a tenant cannot share with itself');
  if (!isTenantName(name) || !ctx.services.directory.tenantExists(name)) throw NotFound(`unknown tenant ${JSON.stringify(name)}`);
  return name;
}

async function put(ctx: RequestContext): Promise<RouteResponse> {
  const to = grantee(ctx);
  const body = ctx.body ?? {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw BadInput('body must be a JSON object');
  const extra = Object.keys(body).filter((k) => k !== 'expires');
  if (extra.length > 0) throw BadInput(`unknown field ${JSON.stringify(extra[0])}`);
  const raw = (body as { expires?: unknown }).expires;
  let expires: number | null = null;
  if (raw !== undefined && raw !== null) {
    const t = parseTimestamp(raw);
    if (t === undefined) throw BadInput('expires must be an ISO-8601 time with a zone or epoch milliseconds');
    if (t <= ctx.now) throw BadInput('expires must be in the future');
    expires = t;
  }
  const g = await ctx.services.directory.grant(ctx.principal.tenant, to, expires, ctx.now);
  return { json: grantJson(g) };
}

async function remove(ctx: RequestContext): Promise<RouteResponse> {
  await ctx.services.directory.revokeGrant(ctx.principal.tenant, grantee(ctx));
  return { status: 204, empty: true };
}

function list(ctx: RequestContext): RouteResponse {
  const { given, received } = ctx.services.directory.listGrants(ctx.principal.tenant, ctx.now);
  return { json: { given: given.map(grantJson), received: received.map(grantJson) } };
}

export const routes: Route[] = [
  { method: 'GET', path: '/v1/sharing', roles: ['admin'], action: 'sharing.list', summary: 'Grants given and received', handler: list },
  { method: 'PUT', path: '/v1/sharing/{grantee}', roles: ['admin'], action: 'sharing.grant', body: 'json', summary: 'Share the tenant\'s reads with another tenant', handler: put },
  { method: 'DELETE', path: '/v1/sharing/{grantee}', roles: ['admin'], action: 'sharing.revoke', summary: 'Withdraw a grant', handler: remove },
];
