/**
 * The per-request audit record (API.md "Audit"): exactly one per /v1 request, allowed or refused, in the
 * caller's log (`_system` without a valid token), durable before the answer; one more in every other
 * tenant's log a search touched; plate lists over 100 entries summarised; fail-closed 503 when the record
 * cannot be written. The chain is checked by an independent implementation here.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../src/server/audit/trail.js';
import { nodeAuditFs, type AuditFs } from '../src/server/audit/fs.js';
import { call, makeDataDir, readAudit, readAuditStored, sampleRead, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

/** JCS as API.md states it: JSON.stringify with keys sorted at every level. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function verifyChain(records: Array<Record<string, unknown>>): void {
  let prev = '0'.repeat(64);
  records.forEach((r, i) => {
    expect(r.seq).toBe(i + 1);
    expect(r.prev).toBe(prev);
    const { hash, ...rest } = r;
    const expected = createHash('sha256').update(`${prev}\n${canonical(rest)}`).digest('hex');
    expect(hash).toBe(expected);
    prev = hash as string;
  });
}

const justified = { purpose: 'investigation', case: '2026-001234' };

describe('one audit record per /v1 request', () => {
  it('allowed and refused requests each write exactly one record, before the answer, with the right fields', async () => {
    ts = await startTestServer();
    const inv = ts.token('pd-a', 'investigator');
    const steps: Array<{ send: () => ReturnType<typeof call>; status: number; outcome: string; action: string; tenant: string; user: string }> = [
      { send: () => call(ts!.url, 'POST', '/v1/reads', { token: ts!.token('pd-a', 'ingest'), json: [sampleRead(1), sampleRead(2)] }), status: 200, outcome: 'ok', action: 'ingest', tenant: 'pd-a', user: 'ingest' },
      { send: () => call(ts!.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: sampleRead(1).plate } }), status: 200, outcome: 'ok', action: 'search', tenant: 'pd-a', user: 'investigator' },
      { send: () => call(ts!.url, 'POST', '/v1/search', { token: inv, json: { plate: 'X' } }), status: 400, outcome: 'invalid', action: 'search', tenant: 'pd-a', user: 'investigator' },
      { send: () => call(ts!.url, 'POST', '/v1/search', { token: ts!.token('pd-a', 'auditor'), json: justified }), status: 403, outcome: 'denied', action: 'search', tenant: 'pd-a', user: 'auditor' },
      { send: () => call(ts!.url, 'POST', '/v1/search', { token: inv, body: '{}', contentType: 'text/plain' }), status: 415, outcome: 'invalid', action: 'search', tenant: 'pd-a', user: 'investigator' },
      { send: () => call(ts!.url, 'GET', '/v1/no-such-route', { token: inv }), status: 404, outcome: 'invalid', action: 'route.unknown', tenant: 'pd-a', user: 'investigator' },
      { send: () => call(ts!.url, 'DELETE', '/v1/search', { token: inv }), status: 405, outcome: 'invalid', action: 'route.unknown', tenant: 'pd-a', user: 'investigator' },
      { send: () => call(ts!.url, 'POST', '/v1/search', { json: justified }), status: 401, outcome: 'denied', action: 'search', tenant: '_system', user: '' },
      { send: () => call(ts!.url, 'POST', '/v1/search', { token: 'ps_bogus', json: justified }), status: 401, outcome: 'denied', action: 'search', tenant: '_system', user: '' },
    ];
    const counts: Record<string, number> = {};
    for (const step of steps) {
      const res = await step.send();
      expect(res.status).toBe(step.status);
      // durable before the answer: the record is in the file the moment the answer arrives
      const log = await readAudit(ts.dataDir, step.tenant);
      counts[step.tenant] = (counts[step.tenant] ?? 0) + 1;
      expect(log).toHaveLength(counts[step.tenant]!);
      const r = log.at(-1)!;
      expect(r).toMatchObject({
        requestId: res.headers['x-request-id'], tenant: step.tenant, actorTenant: step.tenant, user: step.user,
        action: step.action, status: step.status, outcome: step.outcome, ip: '127.0.0.1',
      });
      expect(typeof r.durationMs).toBe('number');
      expect(Date.parse(r.ts)).toBeGreaterThan(0);
    }
    const aLog = await readAudit(ts.dataDir, 'pd-a');
    expect(aLog[1]).toMatchObject({ purpose: justified.purpose, case: justified.case, resultCount: 1, tenantsTouched: ['pd-a'], params: { plate: sampleRead(1).plate } });
    expect(aLog[0]).toMatchObject({ resultCount: 0, purpose: null, case: null });
    verifyChain((await readAuditStored(ts.dataDir, 'pd-a')) as unknown as Array<Record<string, unknown>>);
    verifyChain((await readAuditStored(ts.dataDir, '_system')) as unknown as Array<Record<string, unknown>>);
    // /healthz and /metrics are not /v1: not audited
    await call(ts.url, 'GET', '/healthz');
    await call(ts.url, 'GET', '/metrics');
    expect(await readAudit(ts.dataDir, 'pd-a')).toHaveLength(aLog.length);
    expect(await readAudit(ts.dataDir, '_system')).toHaveLength(2);
  });

  it('v1.1: a search is recorded in the log of every tenant in its scope, hits or not; tenants outside the scope never', async () => {
    ts = await startTestServer();
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [sampleRead(1, { plate: 'SHARED1' }), sampleRead(2, { plate: 'OWN1' })] });
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-b', 'ingest'), json: [sampleRead(3, { plate: 'SHARED1' }), sampleRead(4, { plate: 'SHARED1' })] });
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-c', 'ingest'), json: [sampleRead(5, { plate: 'SHARED1' })] });
    await ts.server.services.directory.grant('pd-b', 'pd-a', null);
    const inv = ts.token('pd-a', 'investigator');
    const bBefore = (await readAudit(ts.dataDir, 'pd-b')).length;

    // only the caller's own reads match: pd-b's data was still searched, so pd-b's log has it
    const own = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'OWN1' } });
    expect(own.json.total).toBe(1);
    expect((await readAudit(ts.dataDir, 'pd-b')).at(-1)).toMatchObject({
      tenant: 'pd-b', actorTenant: 'pd-a', action: 'search', requestId: own.headers['x-request-id'], tenantsTouched: ['pd-a', 'pd-b'], resultCount: 1,
    });

    // the partner's zero-hit search is in the owner's log too: "not seen" discloses something
    const none = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'NOPE99' } });
    expect(none.json).toMatchObject({ total: 0, hits: [] });
    expect((await readAudit(ts.dataDir, 'pd-b')).at(-1)).toMatchObject({
      tenant: 'pd-b', actorTenant: 'pd-a', user: 'investigator', requestId: none.headers['x-request-id'], tenantsTouched: ['pd-a', 'pd-b'],
      resultCount: 0, outcome: 'ok', purpose: justified.purpose, case: justified.case,
    });

    const shared = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'SHARED1' } });
    expect(shared.json.total).toBe(3);
    const bLog = await readAudit(ts.dataDir, 'pd-b');
    expect(bLog).toHaveLength(bBefore + 3);
    expect(bLog.at(-1)).toMatchObject({
      tenant: 'pd-b', actorTenant: 'pd-a', user: 'investigator', action: 'search', requestId: shared.headers['x-request-id'],
      tenantsTouched: ['pd-a', 'pd-b'], resultCount: 3, outcome: 'ok', status: 200, purpose: justified.purpose, case: justified.case,
    });
    expect((await readAudit(ts.dataDir, 'pd-a')).at(-1)).toMatchObject({ tenant: 'pd-a', actorTenant: 'pd-a', tenantsTouched: ['pd-a', 'pd-b'] });
    expect(await readAudit(ts.dataDir, 'pd-c')).toHaveLength(1); // only its own ingest: pd-c is in no scope of pd-a

    // a search refused before it runs (400) searched nothing: only the caller's log
    const bad = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'SHARED1', limit: 0 } });
    expect(bad.status).toBe(400);
    expect(await readAudit(ts.dataDir, 'pd-b')).toHaveLength(bBefore + 3);
    expect((await readAudit(ts.dataDir, 'pd-a')).at(-1)).toMatchObject({ requestId: bad.headers['x-request-id'], outcome: 'invalid', tenantsTouched: [] });

    // pd-b's own search: its scope is pd-b alone (pd-a granted nothing), so pd-a's log does not get it
    const aBefore = (await readAudit(ts.dataDir, 'pd-a')).length;
    const bOwn = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-b', 'investigator'), json: { ...justified, plate: 'SHARED1' } });
    expect(bOwn.json.total).toBe(2);
    expect(await readAudit(ts.dataDir, 'pd-a')).toHaveLength(aBefore);
    expect((await readAudit(ts.dataDir, 'pd-b')).at(-1)).toMatchObject({ actorTenant: 'pd-b', tenantsTouched: ['pd-b'] });
    const bBefore2 = (await readAudit(ts.dataDir, 'pd-b')).length;

    // counted but not returned (limit 1, pd-a's read sorts first by ts): still "reached"
    const cut = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'SHARED1', limit: 1 } });
    expect(cut.json.hits.map((h: { tenant: string }) => h.tenant)).toEqual(['pd-b']);
    const bLog2 = await readAudit(ts.dataDir, 'pd-b');
    expect(bLog2).toHaveLength(bBefore2 + 1);
    expect(bLog2.at(-1)!.tenantsTouched).toEqual(['pd-a', 'pd-b']);

    // hot-list search: same rule; resultCount is the sum of entry totals
    const hl = await call(ts.url, 'POST', '/v1/search/hotlist', { token: inv, json: { ...justified, plates: ['SHARED1', 'OWN1', 'NOPE'] } });
    expect(hl.json.matches.map((m: { entry: string; total: number }) => [m.entry, m.total])).toEqual([['SHARED1', 3], ['OWN1', 1]]);
    const bLog3 = await readAudit(ts.dataDir, 'pd-b');
    expect(bLog3.at(-1)).toMatchObject({ action: 'search.hotlist', actorTenant: 'pd-a', resultCount: 4, tenantsTouched: ['pd-a', 'pd-b'] });
    // a hot-list search with no match at all is in the partner's log as well
    const hlNone = await call(ts.url, 'POST', '/v1/search/hotlist', { token: inv, json: { ...justified, plates: ['NOPE', 'NADA1'] } });
    expect(hlNone.json.matches).toEqual([]);
    expect((await readAudit(ts.dataDir, 'pd-b')).at(-1)).toMatchObject({
      action: 'search.hotlist', actorTenant: 'pd-a', requestId: hlNone.headers['x-request-id'], resultCount: 0, tenantsTouched: ['pd-a', 'pd-b'],
    });
    verifyChain((await readAuditStored(ts.dataDir, 'pd-b')) as unknown as Array<Record<string, unknown>>);
    verifyChain((await readAuditStored(ts.dataDir, 'pd-a')) as unknown as Array<Record<string, unknown>>);
  });

  it('plate lists over 100 entries are recorded as count + SHA-256 of the normalised, newline-joined entries', async () => {
    ts = await startTestServer();
    const inv = ts.token('pd-a', 'investigator');
    const small = Array.from({ length: 100 }, (_, i) => `ab-${i}`);
    await call(ts.url, 'POST', '/v1/search/hotlist', { token: inv, json: { ...justified, plates: small } });
    const big = Array.from({ length: 101 }, (_, i) => `ab-${i}`);
    await call(ts.url, 'POST', '/v1/search/hotlist', { token: inv, json: { ...justified, plates: big } });
    const log = await readAudit(ts.dataDir, 'pd-a');
    expect(log[0]!.params.plates).toEqual(small);
    const sha256 = createHash('sha256').update(big.map((p) => p.toUpperCase().replace(/[^A-Z0-9?*]/g, '')).join('\n')).digest('hex');
    expect(log[1]!.params.plates).toEqual({ count: 101, sha256 });
  });
});

/** The real disk, until `failing` is set: then every fsync fails with EIO. */
function flakyFs(): AuditFs & { failing: boolean } {
  const fs = {
    ...nodeAuditFs,
    failing: false,
    async openReadWrite(path: string) {
      const file = await nodeAuditFs.openReadWrite(path);
      return {
        write: file.write.bind(file), read: file.read.bind(file), truncate: file.truncate.bind(file),
        size: file.size.bind(file), close: file.close.bind(file),
        async sync() {
          if (fs.failing) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
          return file.sync();
        },
      };
    },
  };
  return fs;
}

describe('fail-closed audit', () => {
  it('when the record cannot be written durably: 503 PS_AUDIT_UNAVAILABLE, no data; serving resumes when the disk heals', async () => {
    const dataDir = await makeDataDir();
    const fs = flakyFs();
    const trail = await AuditTrail.open(dataDir, { fs });
    ts = await startTestServer({ dataDir, auditTrail: trail });
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [sampleRead(1, { plate: 'SECRET1' })] });
    const inv = ts.token('pd-a', 'investigator');
    fs.failing = true;
    const res = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'SECRET1' } });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error: { code: 'PS_AUDIT_UNAVAILABLE', message: expect.any(String) } });
    expect(res.text).not.toContain('SECRET1');
    const refused = await call(ts.url, 'POST', '/v1/search', { json: justified });
    expect(refused.status).toBe(503);
    fs.failing = false;
    const again = await call(ts.url, 'POST', '/v1/search', { token: inv, json: { ...justified, plate: 'SECRET1' } });
    expect(again.status).toBe(200);
    expect(again.json.total).toBe(1);
    const log = await readAudit(dataDir, 'pd-a');
    expect(log.at(-1)!.requestId).toBe(again.headers['x-request-id']);
    expect(log.map((r) => r.requestId)).not.toContain(res.headers['x-request-id']);
  });
});
