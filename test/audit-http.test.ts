import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oracleVerify } from './helpers/audit-oracle.js';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

describe('audit over HTTP', () => {
  it('every request is one record; GET /v1/audit pages own records; verify agrees with an independent verifier', async () => {
    const aud = s.token('pd-a', 'auditor');
    const inv = s.token('pd-a', 'investigator');
    for (let i = 0; i < 5; i++) {
      await call(s.url, 'POST', '/v1/search', { token: inv, json: { plate: `ABC${i}`, purpose: 'p', case: `c${i}` } });
    }
    await call(s.url, 'POST', '/v1/search', { token: inv, json: { plate: 'ABC' } }); // 400: no purpose
    await call(s.url, 'GET', '/v1/audit', { token: inv }); // 403
    await call(s.url, 'GET', '/v1/audit', { token: 'ps_0000000000000000_' + 'A'.repeat(43) }); // 401 → _system
    await call(s.url, 'POST', '/v1/search', { token: s.token('pd-b', 'investigator'), json: { plate: 'X', purpose: 'p', case: 'c' } });

    const p1 = await call(s.url, 'GET', '/v1/audit?limit=3', { token: aud });
    expect(p1.status).toBe(200);
    expect(p1.json.records.map((r: { seq: number }) => r.seq)).toEqual([1, 2, 3]);
    expect(p1.json.next).toBe(3);
    const all = await call(s.url, 'GET', '/v1/audit?limit=1000', { token: aud });
    const recs = all.json.records;
    expect(all.json.next).toBeNull();
    expect(recs.every((r: { tenant: string }) => r.tenant === 'pd-a')).toBe(true);
    expect(recs.map((r: { action: string; status: number }) => `${r.action}:${r.status}`)).toEqual([
      'search:200', 'search:200', 'search:200', 'search:200', 'search:200', 'search:400', 'audit.query:403', 'audit.query:200',
    ]);
    expect(recs[0]).toMatchObject({ purpose: 'p', case: 'c0', outcome: 'ok', actorTenant: 'pd-a', user: 'investigator' });
    expect(recs[5]).toMatchObject({ outcome: 'invalid' });
    expect(recs[6]).toMatchObject({ outcome: 'denied' });

    const searches = await call(s.url, 'GET', '/v1/audit?action=search&user=investigator&after=2&limit=2', { token: aud });
    expect(searches.json.records.map((r: { seq: number }) => r.seq)).toEqual([3, 4]);
    expect(searches.json.next).toBe(4);
    const future = await call(s.url, 'GET', `/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`, { token: aud });
    expect(future.json).toEqual({ records: [], next: null });
    for (const q of ['limit=0', 'limit=1001', 'after=-1', 'from=nope', 'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z']) {
      expect([(await call(s.url, 'GET', `/v1/audit?${q}`, { token: aud })).status, q]).toEqual([400, q]);
    }

    const v = await call(s.url, 'GET', '/v1/audit/verify', { token: aud });
    const oracle = oracleVerify(join(s.dataDir, 'audit', 'pd-a.jsonl'));
    expect(oracle.ok).toBe(true);
    // the verify answer covers the log before its own record
    const onDisk = await readAudit(s.dataDir, 'pd-a');
    expect(v.json).toEqual({ ok: true, count: onDisk.length - 1, head: onDisk[onDisk.length - 2]!.hash });
    expect(oracleVerify(join(s.dataDir, 'audit', '_system.jsonl')).ok).toBe(true);
    expect((await readAudit(s.dataDir, '_system')).map((r) => r.status)).toEqual([401]);
  });

  it('verify reports an edited record', async () => {
    const aud = s.token('pd-a', 'auditor');
    for (let i = 0; i < 4; i++) await call(s.url, 'GET', '/v1/audit', { token: aud });
    const file = join(s.dataDir, 'audit', 'pd-a.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"status":200', '"status":201');
    writeFileSync(file, lines.join('\n'));
    const v = await call(s.url, 'GET', '/v1/audit/verify', { token: aud });
    expect(v.json).toMatchObject({ ok: false, brokenAt: 2 });
  });
});
