/**
 * The 401/403 matrix of API.md "Authentication and roles": every /v1 route the server has (including the
 * routes other modules add) × every role, plus no token, a malformed token, an unknown token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAnyRole, kRoles } from '../src/model/tenant.js';
import { call, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

/** The roles API.md gives each route; the server's table must agree. */
const kExpectedRoles: Record<string, string[]> = {
  'POST /v1/reads': ['ingest'],
  'POST /v1/search': ['investigator', 'dispatcher'],
  'POST /v1/search/hotlist': ['investigator', 'dispatcher'],
  'PUT /v1/hotlists/{name}': ['dispatcher', 'admin'],
  'GET /v1/hotlists/{name}': ['dispatcher', 'admin'],
  'DELETE /v1/hotlists/{name}': ['dispatcher', 'admin'],
  'GET /v1/alerts': ['dispatcher'],
  'GET /v1/audit': ['auditor'],
  'GET /v1/audit/verify': ['auditor'],
  'PUT /v1/sharing/{grantee}': ['admin'],
  'DELETE /v1/sharing/{grantee}': ['admin'],
  'GET /v1/sharing': ['admin'],
  'PUT /v1/retention': ['admin'],
  'GET /v1/export': ['admin'],
  'GET /v1/retention': ['admin'],
  'GET /v1/hotlists': ['dispatcher', 'admin'],
  // v1.1 accountability (supervisors also reach the investigator routes through role implication)
  'POST /v1/search/preview': ['investigator', 'dispatcher'],
  'GET /v1/policy': ['admin', 'auditor', 'supervisor', 'investigator', 'dispatcher'],
  'PUT /v1/policy': ['admin'],
  'POST /v1/approvals': ['investigator', 'dispatcher'],
  'PUT /v1/approvals/{id}': ['supervisor'],
  'GET /v1/approvals': ['investigator', 'dispatcher', 'supervisor', 'auditor'],
  'GET /v1/audit/insights': ['auditor'],
};

function concretePath(path: string): string {
  return path.replace(/\{[^}]+\}/g, 'matrix-x');
}

async function probe(method: string, path: string, kind: string | undefined, token: string | undefined) {
  const body = kind === 'batch' ? { json: [] } : kind === 'json' ? { json: {} } : {};
  const res = await fetchStatus(method, concretePath(path), token, body);
  return res;
}

async function fetchStatus(method: string, path: string, token: string | undefined, body: { json?: unknown }) {
  // streams (alerts, export) answer a head and keep going: only the status matters here
  const { request } = await import('undici');
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body.json !== undefined) {
    payload = JSON.stringify(body.json);
    headers['content-type'] = 'application/json';
  }
  const ac = new AbortController();
  const res = await request(ts.url + path, { method: method as 'GET', headers, body: payload, signal: ac.signal });
  const status = res.statusCode;
  const type = String(res.headers['content-type'] ?? '');
  let code: string | undefined;
  if (type.startsWith('application/json') && status >= 400) code = ((await res.body.json()) as { error: { code: string } }).error.code;
  else ac.abort();
  res.body.on('error', () => {});
  return { status, code };
}

describe('401/403 matrix', () => {
  it('the route table gives each API.md route the roles API.md names', () => {
    const table = new Map(ts.server.router.routes().map((r) => [`${r.method} ${r.path}`, r.roles]));
    for (const [key, roles] of Object.entries(kExpectedRoles)) {
      const have = table.get(key);
      if (have === undefined) continue; // a module not merged yet; its own tests cover it when it lands
      expect([...(have as string[])].sort(), key).toEqual([...roles].sort());
    }
    // the routes of this part of the server are always there
    for (const key of ['POST /v1/reads', 'POST /v1/search', 'POST /v1/search/hotlist']) expect(table.has(key)).toBe(true);
  });

  it('every /v1 route × every role: 403 exactly when the role may not, never 401 with a valid token', async () => {
    const routes = ts.server.router.routes().filter((r) => r.path.startsWith('/v1/') && r.roles !== 'public');
    expect(routes.length).toBeGreaterThanOrEqual(3);
    for (const route of routes) {
      for (const role of kRoles) {
        const { status, code } = await probe(route.method, route.path, route.body, ts.token('pd-a', role));
        // role implication (model/tenant.ts): a supervisor may what an investigator may
        const allowed = hasAnyRole([role], route.roles as readonly (typeof role)[]);
        const label = `${route.method} ${route.path} as ${role} → ${status} ${code ?? ''}`;
        if (allowed) {
          expect(status, label).not.toBe(401);
          expect(status, label).not.toBe(403);
          expect(status, label).toBeLessThan(500);
        } else {
          expect(status, label).toBe(403);
          expect(code, label).toBe('PS_FORBIDDEN');
        }
      }
    }
  });

  it('every /v1 route: no token, a malformed header, an unknown or revoked-looking token → 401', async () => {
    const routes = ts.server.router.routes().filter((r) => r.path.startsWith('/v1/') && r.roles !== 'public');
    const bad = [undefined, '', 'not-a-token', 'ps_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'];
    for (const route of routes) {
      for (const token of bad) {
        const { status, code } = await probe(route.method, route.path, route.body, token);
        expect(status, `${route.method} ${route.path} token=${token}`).toBe(401);
        expect(code).toBe('PS_UNAUTHENTICATED');
      }
    }
  });

  it('a non-Bearer scheme is not a token (401); the scheme name is case-insensitive', async () => {
    const t = ts.token('pd-a', 'investigator');
    const body = { plate: 'ABC1', purpose: 'p', case: 'c' };
    const basic = await call(ts.url, 'POST', '/v1/search', { json: body, headers: { authorization: `Basic ${t}` } });
    expect(basic.status).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="platesearch"');
    expect((await call(ts.url, 'POST', '/v1/search', { json: body, headers: { authorization: `bearer ${t}` } })).status).toBe(200);
  });

  it('a user with several roles may do what any of them may', async () => {
    const t = ts.token('pd-a', 'all');
    expect((await call(ts.url, 'POST', '/v1/reads', { token: t, json: [] })).status).toBe(200);
    expect((await call(ts.url, 'POST', '/v1/search', { token: t, json: { purpose: 'p', case: 'c' } })).status).toBe(200);
  });

  it('/healthz and /metrics need no token', async () => {
    expect((await call(ts.url, 'GET', '/healthz')).json).toEqual({ ok: true });
    const m = await call(ts.url, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toContain('platesearch_http_requests_total');
  });
});
