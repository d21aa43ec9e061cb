/**
 * GET /v1/audit/insights equals a plain recomputation from the log (every record read, every local hour
 * asked of Intl, no index), on a generated audit history and after live searches (the incremental path),
 * for random windows and a timezone with a half-hour offset. Through a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalisePattern } from '../src/model/plate.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import type { AuditRecord } from '../src/server/audit/record.js';
import { call, makeDataDir, readAudit, startTestServer, type TestServer } from './helpers/server.js';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The definitions of API.md / docs/governance.md, applied record by record. */
function recompute(records: AuditRecord[], tenant: string, from: number, to: number, tz: string) {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' });
  const isSearch = (a: string) => a === 'search' || a === 'search.hotlist' || a.startsWith('analytics.');
  const pairs = new Map<string, number>();
  const off = new Map<string, number>();
  const cases = new Map<string, Set<string>>();
  const purposes = new Map<string, { users: Set<string>; searches: number }>();
  const foreign = new Map<string, number>();
  for (const r of records) {
    const t = Date.parse(r.ts);
    if (!isSearch(r.action) || r.outcome !== 'ok' || !(t >= from && t < to)) continue;
    if (r.actorTenant !== tenant) {
      foreign.set(r.actorTenant, (foreign.get(r.actorTenant) ?? 0) + 1);
      continue;
    }
    const plates = new Set<string>();
    if (typeof r.params.plate === 'string') plates.add(normalisePattern(r.params.plate));
    if (Array.isArray(r.params.plates)) for (const p of r.params.plates) if (typeof p === 'string') plates.add(normalisePattern(p));
    plates.delete('');
    for (const p of plates) pairs.set(`${r.user}|${p}`, (pairs.get(`${r.user}|${p}`) ?? 0) + 1);
    const hour = Number(fmt.formatToParts(t).find((x) => x.type === 'hour')!.value) % 24;
    if (hour >= 22 || hour < 6) off.set(r.user, (off.get(r.user) ?? 0) + 1);
    if (typeof r.case === 'string') {
      if (!cases.has(r.case)) cases.set(r.case, new Set());
      cases.get(r.case)!.add(r.user);
    }
    if (typeof r.purpose === 'string') {
      if (!purposes.has(r.purpose)) purposes.set(r.purpose, { users: new Set(), searches: 0 });
      const u = purposes.get(r.purpose)!;
      u.users.add(r.user);
      u.searches++;
    }
  }
  const by = <T>(n: (x: T) => number, k: (x: T) => string) => (a: T, b: T) => n(b) - n(a) || (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0);
  return {
    repeatPlates: [...pairs].filter(([, n]) => n >= 3).map(([k, n]) => ({ user: k.split('|')[0]!, plate: k.split('|')[1]!, searches: n }))
      .sort(by((x) => x.searches, (x) => `${x.user}\u0000${x.plate}`)),
    offHours: [...off].map(([user, searches]) => ({ user, searches })).sort(by((x) => x.searches, (x) => x.user)),
    reusedCases: [...cases].filter(([, u]) => u.size >= 3).map(([c, u]) => ({ case: c, users: u.size })).sort(by((x) => x.users, (x) => x.case)),
    boilerplatePurposes: [...purposes].filter(([, u]) => u.users.size >= 3).map(([purpose, u]) => ({ purpose, users: u.users.size, searches: u.searches }))
      .sort(by((x) => x.users, (x) => x.purpose)),
    foreign: [...foreign].map(([actorTenant, searches]) => ({ actorTenant, searches })).sort(by((x) => x.searches, (x) => x.actorTenant)),
  };
}

const t0 = Date.parse('2026-10-01T00:00:00Z');
const day = 86_400_000;

/** Writes `n` random records into pd-a's log, through the trail (group-committed in parallel batches). */
async function generateHistory(dataDir: string, n: number, seed: number): Promise<void> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const users = ['ann', 'bob', 'cyd', 'dee', 'eve', 'fay'];
  const plates = ['7ABC123', 'abc-123', 'XYZ9', 'K1', 'TT88*', 'Q0Q0Q0'];
  const actions = ['search', 'search', 'search', 'search.hotlist', 'analytics.convoy', 'audit.query', 'search.preview', 'hotlist.put'];
  const trail = await AuditTrail.open(dataDir);
  try {
    for (let done = 0; done < n; ) {
      const batch: Array<Promise<unknown>> = [];
      for (let i = 0; i < 500 && done < n; i++, done++) {
        const action = pick(actions);
        const foreignActor = rnd() < 0.15 ? pick(['pd-b', 'pd-c']) : 'pd-a';
        const params: Record<string, unknown> = action === 'search.hotlist'
          ? { plates: [pick(plates), pick(plates)] }
          : rnd() < 0.8 ? { plate: pick(plates) } : { from: '2026-10-01T00:00:00Z' };
        batch.push(trail.append('pd-a', {
          ts: new Date(t0 + Math.floor(rnd() * 10 * day)).toISOString(),
          requestId: `gen-${done}`, actorTenant: foreignActor, user: pick(users), action, params,
          purpose: rnd() < 0.1 ? null : pick(['investigation', 'bolo', 'routine check', `case work ${Math.floor(rnd() * 50)}`]),
          case: rnd() < 0.1 ? null : pick(['C-1', 'C-2', `C-${Math.floor(rnd() * 100)}`]),
          outcome: rnd() < 0.85 ? 'ok' : 'denied', status: 200, resultCount: 0,
          tenantsTouched: ['pd-a'], ip: '127.0.0.1', durationMs: 1,
        }));
      }
      await Promise.all(batch);
    }
  } finally {
    await trail.close();
  }
}

describe('audit insights', () => {
  let ts: TestServer;
  const n = Number(process.env.INSIGHTS_RECORDS ?? 4000);

  beforeAll(async () => {
    const dataDir = await makeDataDir();
    await generateHistory(dataDir, n, 15);
    ts = await startTestServer({
      dataDir,
      users: [
        { tenant: 'pd-a', user: 'aud', roles: ['auditor'] }, { tenant: 'pd-a', user: 'adm', roles: ['admin'] },
        { tenant: 'pd-a', user: 'ann', roles: ['investigator'] }, { tenant: 'pd-a', user: 'cam', roles: ['ingest'] },
        { tenant: 'pd-b', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-b', user: 'adm', roles: ['admin'] },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    const dir = ts?.dataDir;
    await ts?.close();
    if (dir) await (await import('node:fs/promises')).rm(dir, { recursive: true, force: true });
  });

  async function check(tz: string, windows: Array<[number | undefined, number | undefined]>) {
    for (const [from, to] of windows) {
      const q = new URLSearchParams();
      if (from !== undefined) q.set('from', new Date(from).toISOString());
      if (to !== undefined) q.set('to', String(to));
      const res = await call(ts.url, 'GET', `/v1/audit/insights?${q}`, { token: ts.token('pd-a', 'aud') });
      expect(res.status).toBe(200);
      const want = recompute(await readAudit(ts.dataDir, 'pd-a'), 'pd-a', from ?? -Infinity, to ?? Infinity, tz);
      const { timezone, ...got } = res.json;
      expect(timezone).toBe(tz);
      expect(got, `${tz} ${from} ${to}`).toEqual(want);
    }
  }

  const windows = (): Array<[number | undefined, number | undefined]> => {
    const rnd = prng(7);
    const out: Array<[number | undefined, number | undefined]> = [[undefined, undefined], [t0 + 2 * day, undefined], [undefined, t0 + 5 * day + 1234]];
    for (let i = 0; i < 6; i++) {
      const a = t0 + Math.floor(rnd() * 10 * day);
      out.push([a, a + Math.floor(rnd() * 4 * day)]);
    }
    return out;
  };

  it('on a generated history: equal to the recomputation, in UTC and in Asia/Kolkata (+05:30)', async () => {
    const sample = await call(ts.url, 'GET', '/v1/audit/insights', { token: ts.token('pd-a', 'aud') });
    expect(sample.json.repeatPlates.length).toBeGreaterThan(3);
    expect(sample.json.offHours.length).toBeGreaterThan(3);
    expect(sample.json.reusedCases.length).toBeGreaterThan(0);
    expect(sample.json.boilerplatePurposes.length).toBeGreaterThan(0);
    expect(sample.json.foreign.map((f: { actorTenant: string }) => f.actorTenant).sort()).toEqual(['pd-b', 'pd-c']);
    await check('UTC', windows());
    expect((await call(ts.url, 'PUT', '/v1/policy', { token: ts.token('pd-a', 'adm'), json: { timezone: 'Asia/Kolkata' } })).status).toBe(200);
    await check('Asia/Kolkata', windows());
  }, 120_000); // ~30 s alone: a whole generated history over HTTP, every search audited durably

  it('after live searches (the incremental path), including a partner\'s search over our data', async () => {
    const now = Date.now();
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'cam'), json: [{ plate: 'LIVE123', ts: now, lat: 1, lon: 1, camera: 'c' }] });
    await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'adm'), json: {} });
    const { json: grant } = await call(ts.url, 'PUT', '/v1/sharing/pd-b', { token: ts.token('pd-a', 'adm'), json: {} });
    expect(grant).toBeDefined();
    for (let i = 0; i < 4; i++) {
      expect((await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'ann'), json: { plate: 'live-123', purpose: 'investigation', case: `L-${i % 2}` } })).status).toBe(200);
    }
    expect((await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-b', 'inv'), json: { plate: 'LIVE123', purpose: 'x', case: 'y' } })).status).toBe(200);
    const res = await call(ts.url, 'GET', `/v1/audit/insights?from=${now - 60_000}`, { token: ts.token('pd-a', 'aud') });
    expect(res.json.repeatPlates).toEqual([{ user: 'ann', plate: 'LIVE123', searches: 4 }]);
    expect(res.json.foreign).toEqual([{ actorTenant: 'pd-b', searches: 1 }]);
    await check('Asia/Kolkata', [[undefined, undefined], [now - 60_000, undefined], ...windows()]);
  }, 60_000);

  it('auditors only; bad windows are 400s', async () => {
    expect((await call(ts.url, 'GET', '/v1/audit/insights', { token: ts.token('pd-a', 'ann') })).status).toBe(403);
    expect((await call(ts.url, 'GET', '/v1/audit/insights?from=yesterday', { token: ts.token('pd-a', 'aud') })).status).toBe(400);
    expect((await call(ts.url, 'GET', '/v1/audit/insights?from=2026-10-05T00:00:00Z&to=2026-10-01T00:00:00Z', { token: ts.token('pd-a', 'aud') })).status).toBe(400);
  });
});
