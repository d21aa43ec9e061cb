/**
 * `GET /v1/me` (any role): who the token belongs to, so a client (the web console) shows only what the
 * caller's roles allow. `audited: true` says that this and every other /v1 call of the caller is recorded in
 * the tenant's audit log (the console tells its user so at sign-in).
 */
import { kRoles } from '../../model/tenant.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';

function me(ctx: RequestContext): RouteResponse {
  const { tenant, user, roles } = ctx.principal;
  return { json: { tenant, user, roles: [...roles], audited: true } };
}

export const routes: Route[] = [
  { method: 'GET', path: '/v1/me', roles: kRoles, action: 'me', summary: 'The caller: tenant, user, roles', handler: me },
];
