import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

const read = (plate: string, ts: string) => ({ plate, ts, lat: 37.77, lon: -122.41, camera: 'cam-1' });
const search = (tok: string) =>
  call(s.url, 'POST', '/v1/search', { token: tok, json: { plate: '7ABC123', purpose: 'investigation', case: 'c-1' } });

describe('sharing over HTTP', () => {
  it('grant, search across, list, revoke at once; audit lands in both logs', async () => {
    const a = s.token('pd-a', 'all');
    const b = s.token('pd-b', 'all');
    expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [read('7ABC123', '2026-11-01T12:00:00.000Z')] })).status).toBe(200);
    expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: [read('7ABC123', '2026-11-02T12:00:00.000Z')] })).status).toBe(200);

    let r = await search(b);
    expect(r.json.hits.map((h: { tenant: string }) => h.tenant)).toEqual(['pd-b']);

    const put = await call(s.url, 'PUT', '/v1/sharing/pd-b', { token: s.token('pd-a', 'admin'), json: {} });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ grantor: 'pd-a', grantee: 'pd-b', expires: null });

    r = await search(b);
    expect(r.json.hits.map((h: { tenant: string }) => h.tenant)).toEqual(['pd-b', 'pd-a']);
    // pd-a does not see pd-b (sharing is one-way); pd-c sees nothing of either
    expect((await search(a)).json.hits.map((h: { tenant: string }) => h.tenant)).toEqual(['pd-a']);
    expect((await search(s.token('pd-c', 'all'))).json.total).toBe(0);

    const listA = await call(s.url, 'GET', '/v1/sharing', { token: a });
    expect(listA.json.given.map((g: { grantee: string }) => g.grantee)).toEqual(['pd-b']);
    expect(listA.json.received).toEqual([]);
    const listB = await call(s.url, 'GET', '/v1/sharing', { token: b });
    expect(listB.json.received.map((g: { grantor: string }) => g.grantor)).toEqual(['pd-a']);

    // the shared search is in pd-a's log with actorTenant pd-b
    const aLog = await readAudit(s.dataDir, 'pd-a');
    const shared = aLog.filter((x) => x.actorTenant === 'pd-b');
    expect(shared.length).toBe(1);
    expect(shared[0]).toMatchObject({ tenant: 'pd-a', action: 'search', resultCount: 2 });

    const del = await call(s.url, 'DELETE', '/v1/sharing/pd-b', { token: a });
    expect(del.status).toBe(204);
    expect((await search(b)).json.hits.map((h: { tenant: string }) => h.tenant)).toEqual(['pd-b']);
    expect((await call(s.url, 'GET', '/v1/sharing', { token: b })).json.received).toEqual([]);
  });

  it('expired grants stop at once', async () => {
    await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [read('7ABC123', '2026-11-01T12:00:00.000Z')] });
    const expires = new Date(Date.now() + 1500).toISOString();
    const put = await call(s.url, 'PUT', '/v1/sharing/pd-b', { token: s.token('pd-a', 'admin'), json: { expires } });
    expect(put.status).toBe(200);
    expect(put.json.expires).toBe(expires);
    expect((await search(s.token('pd-b', 'investigator'))).json.total).toBe(1);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await search(s.token('pd-b', 'investigator'))).json.total).toBe(0);
  });

  it('refuses self, past expiry, bad bodies (400) and unknown tenants (404); admin only', async () => {
    const admin = s.token('pd-a', 'admin');
    const cases: Array<[string, string, unknown, number]> = [
      ['PUT', '/v1/sharing/pd-a', {}, 400],
      ['PUT', '/v1/sharing/pd-b', { expires: '2020-01-01T00:00:00Z' }, 400],
      ['PUT', '/v1/sharing/pd-b', { expires: 'tomorrow' }, 400],
      ['PUT', '/v1/sharing/pd-b', { expires: '2099-01-01T00:00:00' }, 400],
      ['PUT', '/v1/sharing/pd-b', { expiry: '2099-01-01T00:00:00Z' }, 400],
      ['PUT', '/v1/sharing/pd-b', [1], 400],
      ['PUT', '/v1/sharing/pd-zz', {}, 404],
      ['PUT', '/v1/sharing/..%2Fetc', {}, 404],
      ['DELETE', '/v1/sharing/pd-zz', undefined, 404],
    ];
    for (const [method, path, json, status] of cases) {
      const r = await call(s.url, method as 'PUT', path, { token: admin, json });
      expect([path, json, r.status]).toEqual([path, json, status]);
      expect(r.json.error.code).toMatch(/^PS_/);
    }
    expect((await call(s.url, 'PUT', '/v1/sharing/pd-b', { token: s.token('pd-a', 'investigator'), json: {} })).status).toBe(403);
    expect((await call(s.url, 'GET', '/v1/sharing', { token: s.token('pd-a', 'auditor') })).status).toBe(403);
    expect((await call(s.url, 'GET', '/v1/sharing', { token: admin })).json).toEqual({ given: [], received: [] });
    // PUT with no body at all is a grant without expiry
    expect((await call(s.url, 'PUT', '/v1/sharing/pd-b', { token: admin })).status).toBe(200);
  });
});
