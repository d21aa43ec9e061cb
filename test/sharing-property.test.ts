/**
 * Random grant / revoke / expire / search sequences over 3 tenants, through the real server: a search never
 * returns a hit of a tenant that is neither the caller's nor granted to it (unexpired), and always returns
 * the reads of those that are.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from './helpers/server.js';

const kTenants = ['pd-a', 'pd-b', 'pd-c'] as const;
type T = (typeof kTenants)[number];

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  for (const t of kTenants) {
    const r = await call(s.url, 'POST', '/v1/reads', {
      token: s.token(t, 'ingest'),
      json: [{ plate: `P${t.slice(3).toUpperCase()}1`, ts: '2026-11-01T00:00:00Z', lat: 1, lon: 1, camera: 'c' }],
    });
    expect(r.json.accepted).toBe(1);
  }
});
afterAll(() => s.close());

type Op =
  | { kind: 'grant'; from: T; to: T; shortLived: boolean }
  | { kind: 'revoke'; from: T; to: T }
  | { kind: 'wait' }
  | { kind: 'search'; who: T };

const tenant = fc.constantFrom(...kTenants);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('grant' as const), from: tenant, to: tenant, shortLived: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), from: tenant, to: tenant }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('search' as const), who: tenant }) },
);

// a short-lived grant lives this long; a `wait` outlasts it
const kShortMs = 250;

describe('sharing over HTTP (property)', () => {
  it('searches see exactly own + unexpired granted tenants', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        // start from no grants
        for (const from of kTenants) for (const to of kTenants) {
          if (from !== to) await call(s.url, 'DELETE', `/v1/sharing/${to}`, { token: s.token(from, 'admin') });
        }
        const model = new Map<string, number | null>();
        for (const o of ops) {
          if (o.kind === 'grant') {
            const expires = o.shortLived ? Date.now() + kShortMs : null;
            const r = await call(s.url, 'PUT', `/v1/sharing/${o.to}`, {
              token: s.token(o.from, 'admin'),
              json: expires === null ? {} : { expires: new Date(expires).toISOString() },
            });
            if (o.from === o.to) expect(r.status).toBe(400);
            else {
              expect(r.status).toBe(200);
              model.set(`${o.from}>${o.to}`, expires);
            }
          } else if (o.kind === 'revoke') {
            const r = await call(s.url, 'DELETE', `/v1/sharing/${o.to}`, { token: s.token(o.from, 'admin') });
            if (o.from === o.to) expect(r.status).toBe(400);
            else expect(r.status).toBe(204);
            model.delete(`${o.from}>${o.to}`);
          } else if (o.kind === 'wait') {
            await new Promise((r) => setTimeout(r, kShortMs + 50));
          } else {
            const before = Date.now();
            const r = await call(s.url, 'POST', '/v1/search', { token: s.token(o.who, 'investigator'), json: { purpose: 'p', case: 'c' } });
            const after = Date.now();
            expect(r.status).toBe(200);
            const seen = new Set<string>(r.json.hits.map((h: { tenant: string }) => h.tenant));
            for (const t of kTenants) {
              const e = t === o.who ? null : model.get(`${t}>${o.who}`);
              const surelyVisible = t === o.who || (e !== undefined && (e === null || after < e));
              const surelyHidden = t !== o.who && (e === undefined || (e !== null && before >= e));
              if (surelyVisible) expect([t, seen.has(t)]).toEqual([t, true]);
              if (surelyHidden) expect([t, seen.has(t)]).toEqual([t, false]);
            }
          }
        }
      }),
      { numRuns: 12 },
    );
  });
});
