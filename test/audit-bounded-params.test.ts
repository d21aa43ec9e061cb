/**
 * Audit that cannot be skipped (issue 15): whatever a request's parameters are — nested 100,000 levels
 * deep, megabytes of string, thousands of keys, the hostile inputs of test/helpers/http-fuzz.ts — the
 * request leaves exactly one record in its caller's log, the record is bounded, and the chain verifies.
 *
 * The bounded copy is held to a plain definition: within the bounds it is the value itself.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundParams, boundValue, kMaxDepth, kMaxString, summarisePlateList } from '../src/server/audit/bounded-params.js';
import { canonicalJson } from '../src/server/audit/record.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { kCli } from './helpers/crash-loop.js';
import { prepareTarget, type PreparedTarget } from './helpers/fuzz-target.js';
import { fuzzCase, newStats, sendCase } from './helpers/http-fuzz.js';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

function deepObject(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

describe('boundValue', () => {
  it('is the identity on values within the bounds (fast-check against JSON round trip)', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const { value, cut } = boundValue(v);
      // jsonValue never exceeds the bounds at this size except for long strings / arrays, which it does not draw
      expect(cut).toBe(false);
      expect(canonicalJson(value)).toBe(canonicalJson(JSON.parse(JSON.stringify(v))));
    }), { numRuns: 300 });
  });

  it('cuts a 100,000-deep nesting at kMaxDepth, without recursion into it', () => {
    const deep = JSON.parse(deepObject(100_000));
    const { value, cut } = boundValue(deep);
    expect(cut).toBe(true);
    let node: any = value;
    for (let i = 0; i < kMaxDepth; i++) node = node.a;
    expect(node).toEqual({ $omitted: 'depth', type: 'object' });
    expect(() => JSON.stringify(value)).not.toThrow();
  });

  it('summarises long strings, long lists, many keys, odd numbers and binary', () => {
    const long = 'x'.repeat(kMaxString + 1);
    const keys = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]));
    const { params, cut } = boundParams({ s: long, list: Array.from({ length: 101 }, (_, i) => i), keys, n: Number.NaN, b: new Uint8Array([1, 2, 3]) });
    expect(cut).toBe(true);
    expect(params.s).toMatchObject({ $omitted: 'length', length: kMaxString + 1 });
    expect(params.list).toMatchObject({ count: 101 });
    expect(Object.keys(params.keys as object)).toHaveLength(101);
    expect((params.keys as Record<string, unknown>).$omittedKeys).toBe(50);
    expect(params.n).toBe('NaN');
    expect(params.b).toMatchObject({ $binary: 3 });
  });

  it('plate lists over 100 entries: count and SHA-256 of the normalised, newline-joined entries (API.md)', () => {
    const plates = Array.from({ length: 101 }, (_, i) => `ab-${i}`);
    const { params, cut } = boundParams({ plates });
    expect(cut).toBe(false); // the API's own rule, not a cut
    const want = createHash('sha256').update(plates.map((p) => p.toUpperCase().replace(/[^A-Z0-9]/g, '')).join('\n')).digest('hex');
    expect(params.plates).toEqual({ count: 101, sha256: want });
    expect(summarisePlateList(plates).sha256).toBe(want);
  });

  it('a "__proto__" key stays a key', () => {
    const v = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
    const { value } = boundValue(v);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"x":1},"y":2}');
  });
});

describe('hostile parameters over HTTP: one record each, chain valid', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'disp', roles: ['dispatcher'] }] });
  });
  afterAll(async () => {
    await ts?.close();
  });

  async function recordsOf(tenant: string, requestId: string) {
    return (await readAudit(ts.dataDir, tenant)).filter((r) => r.requestId === requestId);
  }

  async function verified(tenant: string) {
    const trail = await AuditTrail.open(ts.dataDir);
    try {
      return await trail.verify(tenant);
    } finally {
      await trail.close();
    }
  }

  it('a search body nested 100,000 levels deep: 400, one bounded record with the body\'s hash', async () => {
    const body = `{"purpose":"p","case":"c","plate":${deepObject(100_000)}}`;
    const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'inv'), body, contentType: 'application/json' });
    expect(res.status).toBe(400);
    const rid = res.headers['x-request-id'] as string;
    const recs = await recordsOf('pd-a', rid);
    expect(recs).toHaveLength(1);
    const r = recs[0]!;
    expect(r).toMatchObject({ action: 'search', outcome: 'invalid', status: 400, purpose: 'p', case: 'c' });
    expect((r.params.$body as { bytes: number }).bytes).toBe(Buffer.byteLength(body));
    expect(JSON.stringify(r).length).toBeLessThan(10_000);
    expect((await verified('pd-a')).ok).toBe(true);
  });

  it('the same without a token goes to _system; deep arrays, msgpack and a hot-list body too', async () => {
    const cases: Array<{ path: string; token?: string; body: string | Uint8Array; type: string; status: number; log: string }> = [
      { path: '/v1/search', body: deepObject(100_000), type: 'application/json', status: 401, log: '_system' },
      { path: '/v1/search', token: ts.token('pd-a', 'inv'), body: '['.repeat(100_000) + ']'.repeat(100_000), type: 'application/json', status: 400, log: 'pd-a' },
      { path: '/v1/search/hotlist', token: ts.token('pd-a', 'inv'), body: `{"purpose":"p","case":"c","plates":["A"],"x":${deepObject(5000)}}`, type: 'application/json', status: 400, log: 'pd-a' },
      { path: '/v1/search', token: ts.token('pd-a', 'inv'), body: pack({ purpose: 'x'.repeat(500_000), case: 'c', plate: 'A'.repeat(500_000) }), type: 'application/msgpack', status: 400, log: 'pd-a' },
      { path: '/v1/hotlists/deep', token: ts.token('pd-a', 'disp'), body: JSON.stringify({ entries: Array.from({ length: 3000 }, (_, i) => ({ plate: `P${i}`, note: 'n'.repeat(2000) })), extra: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, [i]])) }), type: 'application/json', status: 400, log: 'pd-a' },
    ];
    for (const c of cases) {
      const res = await call(ts.url, 'POST', c.path, { token: c.token, body: c.body, contentType: c.type });
      if (c.path.startsWith('/v1/hotlists')) expect([400, 405]).toContain(res.status);
      else expect(res.status).toBe(c.status);
      const recs = await recordsOf(c.log, res.headers['x-request-id'] as string);
      expect(recs).toHaveLength(1);
      expect(JSON.stringify(recs[0]).length).toBeLessThan(400_000);
      expect((recs[0]!.purpose ?? '').length).toBeLessThan(2000);
    }
    expect((await verified('pd-a')).ok).toBe(true);
    expect((await verified('_system')).ok).toBe(true);
  });
});

describe.skipIf(!existsSync(kCli()))('the fuzzer\'s hostile inputs, through a child server', () => {
  let target: PreparedTarget;
  beforeAll(async () => {
    target = await prepareTarget();
  });
  afterAll(async () => {
    await target?.close();
  });

  it('every answered /v1 request has exactly one record in its caller\'s log, and every chain verifies', async () => {
    const stats = newStats();
    stats.requestIds = [];
    for (const c of fc.sample(fuzzCase, { numRuns: Number(process.env.FUZZ_CASES ?? 400), seed: Number(process.env.FUZZ_SEED ?? 1515) })) {
      const failure = await sendCase(target, c, stats);
      expect(failure).toBeUndefined();
    }
    // deep nesting as the fuzzer sends it, on every body route, with and without a valid token
    for (const path of ['/v1/search', '/v1/search/hotlist', '/v1/reads', '/v1/hotlists/x', '/v1/retention', '/v1/sharing/pd-b']) {
      for (const token of [target.tokens.all, undefined]) {
        const method = path === '/v1/search' || path === '/v1/search/hotlist' || path === '/v1/reads' ? 'POST' : 'PUT';
        const body = `{"purpose":"p","case":"c","x":${deepObject(100_000)}}`;
        const res = await call(target.url, method, path, { token, body, contentType: 'application/json' });
        expect(res.status).toBeLessThan(500);
        stats.requestIds.push({ requestId: res.headers['x-request-id'] as string, status: res.status, method, path });
      }
    }
    expect(stats.fiveXx).toBe(0);
    // the path as the server sees it (the client resolves dot segments such as /v1/%2e%2e/healthz)
    const served = (p: string) => {
      try {
        return new URL(`http://x${p}`).pathname;
      } catch {
        return p;
      }
    };
    const v1 = stats.requestIds.filter((r) => served(r.path).startsWith('/v1/') || served(r.path) === '/v1');
    expect(v1.length).toBeGreaterThan(200);

    const trail = await AuditTrail.open(target.dataDir);
    const ownRecords = new Map<string, number>();
    try {
      for (const tenant of trail.tenants()) {
        expect(await trail.verify(tenant)).toMatchObject({ ok: true });
      }
    } finally {
      await trail.close();
    }
    for (const name of readdirSync(`${target.dataDir}/audit`)) {
      if (!name.endsWith('.jsonl')) continue;
      for (const r of await readAudit(target.dataDir, name.slice(0, -6))) {
        // the request's own record (not the per-alert delivery records of a stream, nor other tenants' copies)
        if (r.tenant !== r.actorTenant || r.action === 'alerts.deliver') continue;
        ownRecords.set(r.requestId, (ownRecords.get(r.requestId) ?? 0) + 1);
      }
    }
    const wrong = v1.filter((r) => ownRecords.get(r.requestId) !== 1).map((r) => `${r.method} ${r.path} ${r.status}: ${ownRecords.get(r.requestId) ?? 0}`);
    expect(wrong).toEqual([]);
  }, 180_000);
});
