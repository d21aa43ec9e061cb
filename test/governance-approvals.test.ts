/**
 * Oversight before broad searches (API.md v1.1 "Accountability"): the policy, the broad rule over every
 * governed route, preview, and approvals with four eyes, one use, 24 h, one exact body. Through a real
 * server; the area formulas against plain definitions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bboxAreaKm2, discAreaKm2, kEarthRadiusKm, polygonAreaKm2 } from '../src/model/geo-area.js';
import { assessBroadness } from '../src/query/broadness.js';
import { ApprovalStore, kApprovalTtlMs } from '../src/server/governance/approvals.js';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

const rule = { maxAreaKm2: 50, maxDays: 7 };
const day = 86_400_000;

describe('areas', () => {
  it('a polygon that is a box has the box\'s area; the box is the latitude zone\'s share', () => {
    fc.assert(fc.property(
      fc.double({ min: -179, max: 178, noNaN: true }), fc.double({ min: -80, max: 79, noNaN: true }),
      fc.double({ min: 0.001, max: 1, noNaN: true }), fc.double({ min: 0.001, max: 1, noNaN: true }),
      (lon, lat, w, h) => {
        const box = bboxAreaKm2(lon, lat, lon + w, lat + h);
        const ring: Array<[number, number]> = [[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h]];
        expect(polygonAreaKm2(ring)).toBeCloseTo(box, 6);
        expect(polygonAreaKm2([...ring].reverse())).toBeCloseTo(box, 6);
        // the zone between two parallels is 2πR²(sin φ2 − sin φ1); the box its w/360 share
        const zone = 2 * Math.PI * kEarthRadiusKm ** 2 * (Math.sin(((lat + h) * Math.PI) / 180) - Math.sin((lat * Math.PI) / 180));
        expect(box).toBeCloseTo((zone * w) / 360, 6);
      },
    ), { numRuns: 200 });
  });

  it('a small triangle: within 0.5 % of the local flat (equirectangular) shoelace area', () => {
    fc.assert(fc.property(
      fc.double({ min: -170, max: 170, noNaN: true }), fc.double({ min: -70, max: 70, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: -0.05, max: 0.05, noNaN: true }), fc.double({ min: -0.05, max: 0.05, noNaN: true })), { minLength: 3, maxLength: 3 }),
      (lon0, lat0, pts) => {
        const ring = pts.map(([dx, dy]) => [lon0 + dx, lat0 + dy] as [number, number]);
        const kx = ((Math.PI * kEarthRadiusKm) / 180) * Math.cos((lat0 * Math.PI) / 180);
        const ky = (Math.PI * kEarthRadiusKm) / 180;
        let s = 0;
        for (let i = 0; i < 3; i++) {
          const [x1, y1] = ring[i]!;
          const [x2, y2] = ring[(i + 1) % 3]!;
          s += x1 * kx * (y2 * ky) - x2 * kx * (y1 * ky);
        }
        const flat = Math.abs(s) / 2;
        if (flat < 0.01) return; // degenerate
        expect(Math.abs(polygonAreaKm2(ring) - flat) / flat).toBeLessThan(0.005);
      },
    ), { numRuns: 200 });
  });

  it('near is π r²', () => {
    expect(discAreaKm2(1000)).toBeCloseTo(Math.PI, 10);
  });
});

describe('the broad rule', () => {
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const small = { near: { lat: 37.77, lon: -122.42, radiusM: 1000 } };
  const wide = { bbox: [-123, 37, -121, 39] };
  it('weak pattern AND (area or window unbounded/too big)', () => {
    const cases: Array<[Record<string, unknown>, boolean]> = [
      [{ plate: '7ABC123' }, false], // a plate narrows, whatever else
      [{ plate: '7A*' }, true], // 2 literals, no area, no window
      [{ plate: '7A?1*' }, false], // 3 literals
      [{ ...small, from: iso(t0), to: iso(t0 + day) }, false],
      [{ ...small, from: iso(t0), to: iso(t0 + 8 * day) }, true],
      [{ ...small, from: t0 }, true], // no end: unbounded window
      [{ ...wide, from: iso(t0), to: iso(t0 + day) }, true],
      [{ ...wide, ...small, from: iso(t0), to: iso(t0 + day) }, false], // ANDed areas: the smallest
      [{ polygon: [[-122.5, 37.7], [-122.45, 37.7], [-122.45, 37.75]], from: iso(t0), to: iso(t0 + day) }, false],
      [{ polygon: [[-123, 37], [-121, 39], [-121, 37], [-123, 39]], from: iso(t0), to: iso(t0 + day) }, true], // a figure eight: its box
      [{ plates: ['7ABC123', 'XYZ9'], from: iso(t0) }, false],
      [{ plates: ['7ABC123', '1*'], ...small, from: iso(t0), to: iso(t0 + day) }, false],
      [{ plates: ['7ABC123', '1*'] }, true],
      [{ sites: [{ ...small, from: iso(t0), to: iso(t0 + day) }, { ...small, from: iso(t0), to: iso(t0 + day) }] }, false],
      [{ sites: [{ ...small, from: iso(t0), to: iso(t0 + day) }, { ...wide, from: iso(t0), to: iso(t0 + day) }] }, true],
      [{ sites: [{ ...small }, { ...small }], from: iso(t0), to: iso(t0 + day) }, false], // the request's window
      [{ ...small, from: 'not a time', to: iso(t0) }, true],
    ];
    for (const [body, broad] of cases) expect(assessBroadness(body, rule).broad, JSON.stringify(body)).toBe(broad);
  });
});

describe('approvals store: 24 h, once', () => {
  it('an approval expires 24 h after the request, and is used once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'platesearch-apr-'));
    try {
      const store = await ApprovalStore.open(dir);
      const now = Date.now();
      const body = { purpose: 'p', case: 'c', from: 0 };
      const a = await store.request('pd-a', 'inv', '/v1/search', body, 'r', now);
      await store.decide(a.id, 'pd-a', 'sup', 'approved', null, now + 1000);
      const use = { tenant: 'pd-a', user: 'inv', route: '/v1/search', body, requestId: 'x', now: now + kApprovalTtlMs };
      await expect(store.consume(a.id, use)).rejects.toMatchObject({ code: 'PS_APPROVAL_REQUIRED' });
      await expect(store.consume(a.id, { ...use, now: now + kApprovalTtlMs - 1 })).resolves.toMatchObject({ state: 'used' });
      await expect(store.consume(a.id, { ...use, now: now + 2000 })).rejects.toMatchObject({ code: 'PS_APPROVAL_REQUIRED' });
      // durable: a reopened store knows it is used
      const again = await ApprovalStore.open(dir);
      expect(again.get(a.id, now)?.state).toBe('used');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}.keys`, { recursive: true, force: true });
    }
  });
});

describe('over HTTP', () => {
  let ts: TestServer;
  const now = Date.now();
  const from = new Date(now - 30 * day).toISOString();
  const to = new Date(now + day).toISOString();
  const broadBody = { from, to, limit: 10, purpose: 'sweep', case: 'C-1' };
  const users = [
    { tenant: 'pd-a', user: 'inv', roles: ['investigator'] as const },
    { tenant: 'pd-a', user: 'inv2', roles: ['investigator'] as const },
    { tenant: 'pd-a', user: 'sup', roles: ['supervisor'] as const },
    { tenant: 'pd-a', user: 'sup2', roles: ['supervisor'] as const },
    { tenant: 'pd-a', user: 'adm', roles: ['admin'] as const },
    { tenant: 'pd-a', user: 'aud', roles: ['auditor'] as const },
    { tenant: 'pd-a', user: 'cam', roles: ['ingest'] as const },
    { tenant: 'pd-b', user: 'sup', roles: ['supervisor'] as const },
    { tenant: 'pd-b', user: 'adm', roles: ['admin'] as const },
    { tenant: 'pd-b', user: 'cam', roles: ['ingest'] as const },
  ].map((u) => ({ ...u, roles: [...u.roles] }));
  const tok = (t: string, u: string) => ts.token(t, u);

  beforeAll(async () => {
    ts = await startTestServer({ users, keepDataDir: true });
    const reads = (plate: string, n: number) => Array.from({ length: n }, (_, i) => ({ plate, ts: now - i * 3600_000, lat: 37.77, lon: -122.42, camera: 'c1' }));
    expect((await call(ts.url, 'POST', '/v1/reads', { token: tok('pd-a', 'cam'), json: reads('ABC123', 5) })).status).toBe(200);
    expect((await call(ts.url, 'POST', '/v1/reads', { token: tok('pd-b', 'cam'), json: reads('XYZ789', 3) })).status).toBe(200);
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: tok('pd-b', 'adm'), json: {} })).status).toBe(200);
  });
  afterAll(async () => {
    const dir = ts?.dataDir;
    await ts?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('policy: defaults, validation, who may read it', async () => {
    const g = await call(ts.url, 'GET', '/v1/policy', { token: tok('pd-a', 'inv') });
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({ broad: { maxAreaKm2: 50, maxDays: 7, requireApproval: false }, timezone: 'UTC', transparency: false });
    expect((await call(ts.url, 'GET', '/v1/policy', { token: tok('pd-a', 'cam') })).status).toBe(403);
    expect((await call(ts.url, 'PUT', '/v1/policy', { token: tok('pd-a', 'sup'), json: {} })).status).toBe(403);
    for (const bad of [{ timezone: 'Mars/Olympus' }, { broad: { maxDays: 0 } }, { broad: { requireApproval: 'yes' } }, { transparency: 1 }, { color: 'red' }, { broad: { maxAreaKm: 1 } }]) {
      const r = await call(ts.url, 'PUT', '/v1/policy', { token: tok('pd-a', 'adm'), json: bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json.error.code).toBe('PS_BAD_INPUT');
    }
    const put = await call(ts.url, 'PUT', '/v1/policy', { token: tok('pd-a', 'adm'), json: { broad: { maxAreaKm2: 10, maxDays: 3, requireApproval: true }, timezone: 'America/Los_Angeles' } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ broad: { maxAreaKm2: 10, maxDays: 3, requireApproval: true }, timezone: 'America/Los_Angeles', transparency: false });
    expect((await call(ts.url, 'GET', '/v1/policy', { token: tok('pd-a', 'aud') })).json.timezone).toBe('America/Los_Angeles');
    // pd-b's stays the default
    expect((await call(ts.url, 'GET', '/v1/policy', { token: tok('pd-b', 'adm') })).json.broad.requireApproval).toBe(false);
  });

  it('preview: total, tenants in scope, broad, needsApproval; no reads; audited in every scoped tenant\'s log', async () => {
    const p = await call(ts.url, 'POST', '/v1/search/preview', { token: tok('pd-a', 'inv'), json: broadBody });
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ total: 8, tenants: ['pd-a', 'pd-b'], broad: true, needsApproval: true });
    expect(p.json.hits).toBeUndefined();
    expect(p.text).not.toContain('ABC123');
    const narrow = await call(ts.url, 'POST', '/v1/search/preview', { token: tok('pd-a', 'sup'), json: { plate: 'ABC123', purpose: 'p', case: 'c' } });
    expect(narrow.json).toMatchObject({ total: 5, broad: false, needsApproval: false });
    expect((await call(ts.url, 'POST', '/v1/search/preview', { token: tok('pd-a', 'inv'), json: { plate: 'ABC123' } })).status).toBe(400);
    const rid = p.headers['x-request-id'];
    for (const t of ['pd-a', 'pd-b']) {
      const recs = (await readAudit(ts.dataDir, t)).filter((r) => r.requestId === rid);
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ action: 'search.preview', purpose: 'sweep', case: 'C-1', resultCount: 8, tenantsTouched: ['pd-a', 'pd-b'], actorTenant: 'pd-a' });
    }
  });

  it('a broad search without approval → 403 PS_APPROVAL_REQUIRED; narrow ones run; supervisors search as investigators', async () => {
    const r = await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: broadBody });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('PS_APPROVAL_REQUIRED');
    expect(r.text).not.toContain('ABC123');
    // without purpose and case: the 400 API.md asks for, not a 403 (nothing runs either way)
    const unjustified = await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: { from, to } });
    expect(unjustified.status).toBe(400);
    const hot = await call(ts.url, 'POST', '/v1/search/hotlist', { token: tok('pd-a', 'inv'), json: { plates: ['ABC123', 'X*'], purpose: 'p', case: 'c' } });
    expect(hot.json.error?.code).toBe('PS_APPROVAL_REQUIRED');
    const ok = await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'sup'), json: { plate: 'ABC123', purpose: 'p', case: 'c' } });
    expect(ok.status).toBe(200);
    expect(ok.json.total).toBe(5);
    const small = await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: { near: { lat: 37.77, lon: -122.42, radiusM: 500 }, from: new Date(now - day).toISOString(), to, purpose: 'p', case: 'c' } });
    expect(small.status).toBe(200);
    // the refusal is recorded, as denied
    const rec = (await readAudit(ts.dataDir, 'pd-a')).find((x) => x.requestId === r.headers['x-request-id']);
    expect(rec).toMatchObject({ action: 'search', outcome: 'denied', status: 403, broad: true });
  });

  it('approvals: four eyes, same tenant, once, exact body and route', async () => {
    const asked = await call(ts.url, 'POST', '/v1/approvals', { token: tok('pd-a', 'inv'), json: { request: broadBody, route: '/v1/search', reason: 'burglary series, whole county' } });
    expect(asked.status).toBe(200);
    expect(asked.json).toMatchObject({ state: 'pending', requester: 'inv', route: '/v1/search' });
    const id = asked.json.id as string;
    // a supervisor asking for themself cannot approve it
    const own = await call(ts.url, 'POST', '/v1/approvals', { token: tok('pd-a', 'sup'), json: { request: broadBody, route: '/v1/search', reason: 'mine' } });
    expect(own.status).toBe(200);
    const self = await call(ts.url, 'PUT', `/v1/approvals/${own.json.id}`, { token: tok('pd-a', 'sup'), json: { decision: 'approved' } });
    expect(self.status).toBe(403);
    expect((await call(ts.url, 'PUT', `/v1/approvals/${id}`, { token: tok('pd-a', 'inv2'), json: { decision: 'approved' } })).status).toBe(403);
    expect((await call(ts.url, 'PUT', `/v1/approvals/${id}`, { token: tok('pd-b', 'sup'), json: { decision: 'approved' } })).status).toBe(403);
    expect((await call(ts.url, 'PUT', '/v1/approvals/apr_nope', { token: tok('pd-a', 'sup'), json: { decision: 'approved' } })).status).toBe(404);
    // pending: not usable yet
    expect((await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: { ...broadBody, approval: id } })).status).toBe(403);
    const dec = await call(ts.url, 'PUT', `/v1/approvals/${id}`, { token: tok('pd-a', 'sup'), json: { decision: 'approved', note: 'ok for 24 h' } });
    expect(dec.status).toBe(200);
    expect(dec.json).toMatchObject({ state: 'approved', decidedBy: 'sup', note: 'ok for 24 h' });
    expect((await call(ts.url, 'PUT', `/v1/approvals/${id}`, { token: tok('pd-a', 'sup2'), json: { decision: 'denied' } })).status).toBe(409);
    // another body, another route, another user: refused, and the approval stays unused
    expect((await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: { ...broadBody, limit: 11, approval: id } })).json.error.code).toBe('PS_APPROVAL_REQUIRED');
    expect((await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv2'), json: { ...broadBody, approval: id } })).status).toBe(403);
    expect((await call(ts.url, 'POST', '/v1/search/hotlist', { token: tok('pd-a', 'inv'), json: { plates: ['X*'], purpose: 'sweep', case: 'C-1', approval: id } })).status).toBe(403);
    // the exact body, keys in another order: 200 once
    const reordered = { case: 'C-1', purpose: 'sweep', approval: id, limit: 10, to, from };
    const run = await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: reordered });
    expect(run.status).toBe(200);
    expect(run.json.total).toBe(8);
    const twice = await call(ts.url, 'POST', '/v1/search', { token: tok('pd-a', 'inv'), json: reordered });
    expect(twice.status).toBe(403);
    expect(twice.json.error.code).toBe('PS_APPROVAL_REQUIRED');

    const list = await call(ts.url, 'GET', '/v1/approvals?state=used', { token: tok('pd-a', 'sup2') });
    expect(list.json.approvals.map((a: { id: string }) => a.id)).toEqual([id]);
    const mine = await call(ts.url, 'GET', '/v1/approvals', { token: tok('pd-a', 'inv2') });
    expect(mine.json.approvals).toEqual([]);
    expect((await call(ts.url, 'GET', '/v1/approvals?state=bogus', { token: tok('pd-a', 'sup') })).status).toBe(400);

    const log = await readAudit(ts.dataDir, 'pd-a');
    const used = log.find((x) => x.requestId === run.headers['x-request-id']);
    expect(used).toMatchObject({ action: 'search', outcome: 'ok', broad: true, approval: id, purpose: 'sweep', case: 'C-1' });
    expect(used!.params.approval).toBe(id);
    expect(log.filter((x) => x.action === 'approval.request' && x.approval === id)).toHaveLength(1);
    expect(log.filter((x) => x.action === 'approval.decide' && x.approval === id && x.outcome === 'ok')).toHaveLength(1);
  });

  it('bad approval requests are 400s', async () => {
    for (const bad of [
      { request: broadBody, route: '/v1/export', reason: 'r' },
      { request: broadBody, route: '/v1/search' },
      { request: [1], route: '/v1/search', reason: 'r' },
      { request: { from }, route: '/v1/search', reason: 'r' },
      { request: broadBody, route: '/v1/search', reason: 'r', extra: 1 },
    ]) {
      expect((await call(ts.url, 'POST', '/v1/approvals', { token: tok('pd-a', 'inv'), json: bad })).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await call(ts.url, 'POST', '/v1/approvals', { token: tok('pd-a', 'aud'), json: { request: broadBody, route: '/v1/search', reason: 'r' } })).status).toBe(403);
  });

  it('policy and approvals survive a restart', async () => {
    const dataDir = ts.dataDir;
    const before = (await call(ts.url, 'GET', '/v1/approvals', { token: tok('pd-a', 'sup') })).json.approvals;
    await ts.server.close();
    const again = await startTestServer({ dataDir, users: [{ tenant: 'pd-a', user: 'sup3', roles: ['supervisor'] }] });
    try {
      const sup = again.token('pd-a', 'sup3');
      expect((await call(again.url, 'GET', '/v1/policy', { token: sup })).json.broad.requireApproval).toBe(true);
      expect((await call(again.url, 'GET', '/v1/approvals', { token: sup })).json.approvals).toEqual(before);
    } finally {
      await again.close();
    }
  });
});

describe('the guard is generic over governed actions (a probe route with an analytics.* action)', () => {
  it('an analytics.* route gets the broad rule, the approval taken out of its body, and its parser never sees it', async () => {
    const { routeModules } = await import('../src/server/routes/index.js');
    const seen: unknown[] = [];
    const analytics = {
      routes: [{
        method: 'POST' as const, path: '/v1/analytics/probe', roles: ['investigator' as const], action: 'analytics.probe', body: 'json' as const,
        handler: (ctx: { body: unknown }) => {
          seen.push(ctx.body);
          if (Object.hasOwn(ctx.body as object, 'approval')) throw new Error('parser saw approval');
          return { json: { results: [], total: 0, truncated: false } };
        },
      }],
    };
    const s = await startTestServer({
      modules: [...routeModules, analytics],
      users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'sup', roles: ['supervisor'] }, { tenant: 'pd-a', user: 'adm', roles: ['admin'] }],
    });
    try {
      await call(s.url, 'PUT', '/v1/policy', { token: s.token('pd-a', 'adm'), json: { broad: { maxAreaKm2: 10, maxDays: 2, requireApproval: true } } });
      const t = Date.now();
      const site = (radiusM: number) => ({ near: { lat: 37.7, lon: -122.4, radiusM }, from: new Date(t - day).toISOString(), to: new Date(t).toISOString() });
      const narrow = { sites: [site(500), site(500)], purpose: 'p', case: 'c' };
      const wide = { sites: [site(500), site(50_000)], purpose: 'p', case: 'c' };
      expect((await call(s.url, 'POST', '/v1/analytics/probe', { token: s.token('pd-a', 'inv'), json: narrow })).status).toBe(200);
      const refused = await call(s.url, 'POST', '/v1/analytics/probe', { token: s.token('pd-a', 'inv'), json: wide });
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe('PS_APPROVAL_REQUIRED');
      expect(refused.json.error.message).toMatch(/site 1/);
      const asked = await call(s.url, 'POST', '/v1/approvals', { token: s.token('pd-a', 'inv'), json: { request: wide, route: '/v1/analytics/probe', reason: 'r' } });
      await call(s.url, 'PUT', `/v1/approvals/${asked.json.id}`, { token: s.token('pd-a', 'sup'), json: { decision: 'approved' } });
      const run = await call(s.url, 'POST', '/v1/analytics/probe', { token: s.token('pd-a', 'inv'), json: { ...wide, approval: asked.json.id } });
      expect(run.status).toBe(200);
      expect(seen.at(-1)).toEqual(wide);
      expect((await call(s.url, 'POST', '/v1/analytics/probe', { token: s.token('pd-a', 'inv'), json: { ...wide, approval: asked.json.id } })).status).toBe(403);
    } finally {
      await s.close();
    }
  });

  it('the real analytics routes are governed: a plate-less frequent-visitor request over a wide area and no window is broad', async () => {
    const s = await startTestServer({
      users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'sup', roles: ['supervisor'] }, { tenant: 'pd-a', user: 'adm', roles: ['admin'] }],
    });
    try {
      await call(s.url, 'PUT', '/v1/policy', { token: s.token('pd-a', 'adm'), json: { broad: { maxAreaKm2: 10, maxDays: 2, requireApproval: true } } });
      const wide = { bbox: [-123, 37, -122, 38], minReads: 2, purpose: 'p', case: 'c' };
      const refused = await call(s.url, 'POST', '/v1/analytics/frequent', { token: s.token('pd-a', 'inv'), json: wide });
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe('PS_APPROVAL_REQUIRED');
      // a convoy names a full plate: never broad
      const convoy = await call(s.url, 'POST', '/v1/analytics/convoy', { token: s.token('pd-a', 'inv'), json: { plate: 'ABC123', purpose: 'p', case: 'c' } });
      expect(convoy.status).toBe(200);
      const asked = await call(s.url, 'POST', '/v1/approvals', { token: s.token('pd-a', 'inv'), json: { request: wide, route: '/v1/analytics/frequent', reason: 'r' } });
      await call(s.url, 'PUT', `/v1/approvals/${asked.json.id}`, { token: s.token('pd-a', 'sup'), json: { decision: 'approved' } });
      const run = await call(s.url, 'POST', '/v1/analytics/frequent', { token: s.token('pd-a', 'inv'), json: { ...wide, approval: asked.json.id } });
      expect(run.status).toBe(200);
      expect(run.json.total).toBe(0);
    } finally {
      await s.close();
    }
  });
});
