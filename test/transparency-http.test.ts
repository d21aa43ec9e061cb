/**
 * GET /v1/transparency?tenant=T (API.md v1.1): 404 unless T opted in; then the published counts, exact,
 * and never a plate, user, case or purpose (nor a partner's name). Through a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

describe('transparency', () => {
  let ts: TestServer;
  const now = Date.now();
  const plates = ['SECRET1', 'HIDDEN22', 'PRIVATE3'];
  const secrets = ['SECRET1', 'HIDDEN22', 'PRIVATE3', 'WANTED9', 'detective-zed', 'analyst-quinn', 'CASE-7781', 'stalking my ex', 'pd-partner'];

  beforeAll(async () => {
    ts = await startTestServer({
      users: [
        { tenant: 'pd-a', user: 'detective-zed', roles: ['investigator'] }, { tenant: 'pd-a', user: 'analyst-quinn', roles: ['investigator', 'dispatcher'] },
        { tenant: 'pd-a', user: 'adm', roles: ['admin'] }, { tenant: 'pd-a', user: 'cam', roles: ['ingest'] },
        { tenant: 'pd-partner', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-partner', user: 'adm', roles: ['admin'] },
      ],
    });
  });
  afterAll(async () => {
    await ts?.close();
  });

  const get = (tenant: string) => call(ts.url, 'GET', `/v1/transparency?tenant=${encodeURIComponent(tenant)}`);

  it('404 (one answer) unless the tenant opted in', async () => {
    const off = await get('pd-a');
    const unknown = await get('pd-nobody');
    const bad = await call(ts.url, 'GET', '/v1/transparency');
    for (const r of [off, unknown, bad]) {
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('PS_NOT_FOUND');
    }
    expect(off.json.error.message).toBe(unknown.json.error.message);
  });

  it('the published counts are exact and hold no plate, user, case, purpose or partner name', async () => {
    const reads = plates.flatMap((plate, i) => Array.from({ length: i + 2 }, (_, k) => ({ plate, ts: now - k * 60_000, lat: 37.7, lon: -122.4, camera: 'cam-1' })));
    expect((await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'cam'), json: reads })).json.accepted).toBe(9);
    expect((await call(ts.url, 'PUT', '/v1/hotlists/bolo', { token: ts.token('pd-a', 'analyst-quinn'), json: { entries: [{ plate: 'WANTED9', note: 'x' }, { plate: 'SECRET1', note: 'y' }] } })).status).toBe(200);
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-partner', { token: ts.token('pd-a', 'adm'), json: {} })).status).toBe(200);
    expect((await call(ts.url, 'PUT', '/v1/retention', { token: ts.token('pd-a', 'adm'), json: { retentionSeconds: 86_400 * 365 } })).status).toBe(200);
    const s1 = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'detective-zed'), json: { plate: 'SECRET1', purpose: 'stalking my ex', case: 'CASE-7781' } });
    const s2 = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'analyst-quinn'), json: { plate: 'PRIVATE3', purpose: 'stalking my ex', case: 'CASE-7781' } });
    expect([s1.json.total, s2.json.total]).toEqual([2, 4]);
    expect((await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-partner', 'inv'), json: { plate: 'HIDDEN22', purpose: 'p', case: 'c' } })).json.total).toBe(3);
    // a refused search is not counted
    expect((await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'detective-zed'), json: { plate: 'SECRET1' } })).status).toBe(400);

    expect((await call(ts.url, 'PUT', '/v1/policy', { token: ts.token('pd-a', 'adm'), json: { transparency: true } })).status).toBe(200);
    const r = await get('pd-a');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      tenant: 'pd-a', readsHeld: 9, retentionSeconds: 86_400 * 365, hotlists: 1, hotlistEntries: 2,
      searchesLast30Days: 2, hitsLast30Days: 6, partnerSearchesLast30Days: 1, sharedWith: 1, sharedFrom: 0,
    });
    for (const s of secrets) expect(r.text.toLowerCase()).not.toContain(s.toLowerCase());
    for (const v of Object.values(r.json)) expect(['number', 'string', 'object']).toContain(typeof v);
    expect(Object.keys(r.json).sort()).toEqual(['asOf', 'hitsLast30Days', 'hotlistEntries', 'hotlists', 'partnerSearchesLast30Days', 'readsHeld',
      'retentionSeconds', 'searchesLast30Days', 'sharedFrom', 'sharedWith', 'tenant']);

    // every look is recorded, in _system (no token) and in the tenant's own log
    const rid = r.headers['x-request-id'];
    expect((await readAudit(ts.dataDir, '_system')).filter((x) => x.requestId === rid)).toHaveLength(1);
    expect((await readAudit(ts.dataDir, 'pd-a')).filter((x) => x.requestId === rid)).toMatchObject([{ action: 'transparency', actorTenant: '_system' }]);

    // opting out withdraws it at once
    expect((await call(ts.url, 'PUT', '/v1/policy', { token: ts.token('pd-a', 'adm'), json: { transparency: false } })).status).toBe(200);
    expect((await get('pd-a')).status).toBe(404);
  });
});
