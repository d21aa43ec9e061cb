/**
 * `POST /v1/reads`: the three body formats, per-item `rejected` indexes, media types (415), size limits
 * (413), readId idempotency, retention, and that an acknowledged read is searchable at once.
 */
import { pack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, sampleRead, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
let ing: string;
let inv: string;
beforeEach(async () => {
  ts = await startTestServer();
  ing = ts.token('pd-a', 'ingest');
  inv = ts.token('pd-a', 'investigator');
});
afterEach(async () => {
  await ts.close();
});

async function searchAll(token = inv, body: Record<string, unknown> = {}) {
  const res = await call(ts.url, 'POST', '/v1/search', { token, json: { purpose: 'test', case: 'T-1', limit: 10000, ...body } });
  expect(res.status).toBe(200);
  return res.json as { hits: Array<Record<string, unknown>>; total: number };
}

describe('POST /v1/reads body formats', () => {
  it('JSON array: accepted count, rejected indexes with reasons, non-objects rejected per item', async () => {
    const body = [sampleRead(1), 42, sampleRead(2, { plate: '!!' }), null, sampleRead(3, { lat: 91 }), sampleRead(4), 'x', [sampleRead(5)]];
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, json: body });
    expect(res.status).toBe(200);
    expect(res.json.accepted).toBe(2);
    expect(res.json.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2, 3, 4, 6, 7]);
    for (const r of res.json.rejected) expect(typeof r.error).toBe('string');
    expect(res.json.rejected[0].error).toMatch(/object/);
    expect(res.json.rejected[1].error).toMatch(/plate/);
    expect(res.json.rejected[3].error).toMatch(/lat/);
    expect((await searchAll()).total).toBe(2);
  });

  it('NDJSON: blank lines skipped and not counted; an unparsable line is a rejected item', async () => {
    const lines = ['', JSON.stringify(sampleRead(1)), '   ', '{"plate": broken', '', JSON.stringify(sampleRead(2)), '\t', '7', JSON.stringify(sampleRead(3)) + '\r', ''];
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: lines.join('\n'), contentType: 'application/x-ndjson' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      accepted: 3,
      rejected: [{ index: 1, error: 'line is not valid JSON' }, { index: 3, error: 'read must be a JSON object' }],
    });
    expect((await searchAll()).total).toBe(3);
  });

  it('NDJSON without a trailing newline, and an empty NDJSON body (0 items)', async () => {
    const one = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: JSON.stringify(sampleRead(1)), contentType: 'application/x-ndjson' });
    expect(one.json).toEqual({ accepted: 1, rejected: [] });
    const none = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: '', contentType: 'application/x-ndjson' });
    expect(none.json).toEqual({ accepted: 0, rejected: [] });
  });

  it('MessagePack array, with a msgpack timestamp for ts; and a charset parameter is fine', async () => {
    const reads = [sampleRead(1), { ...sampleRead(2), ts: new Date(Date.UTC(2026, 10, 2, 3, 4, 5, 678)) }, 'nope'];
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: pack(reads), contentType: 'application/msgpack' });
    expect(res.status).toBe(200);
    expect(res.json.accepted).toBe(2);
    expect(res.json.rejected).toEqual([{ index: 2, error: 'read must be a JSON object' }]);
    const hits = (await searchAll(inv, { plate: sampleRead(2).plate })).hits;
    expect(hits.map((h) => h.ts)).toEqual(['2026-11-02T03:04:05.678Z']);
    const cs = await call(ts.url, 'POST', '/v1/reads', { token: ing, json: [sampleRead(9)], contentType: 'application/json; charset=utf-8' });
    expect(cs.json.accepted).toBe(1);
  });

  it('a stored read comes back normalised, with its tenant and only the optional fields that were set', async () => {
    const read = { plate: '7abc-123', ts: '2026-11-01T12:00:00.123456+02:00', lat: 37.7749, lon: -122.4194, camera: 'cam-17', region: 'CA', confidence: 0.93 };
    expect((await call(ts.url, 'POST', '/v1/reads', { token: ing, json: [read] })).json.accepted).toBe(1);
    const { hits } = await searchAll(inv, { plate: '7ABC123' });
    expect(hits).toHaveLength(1);
    const { id, ...rest } = hits[0]!;
    expect(typeof id).toBe('string');
    expect(rest).toEqual({
      tenant: 'pd-a', plate: '7ABC123', ts: '2026-11-01T10:00:00.123Z', lat: 37.7749, lon: -122.4194,
      camera: 'cam-17', region: 'CA', confidence: 0.93, distance: 0,
    });
  });

  it('a whole-body parse failure is 400 PS_BAD_JSON; a JSON object instead of an array is 400', async () => {
    const bad = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: '[{"plate":', contentType: 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('PS_BAD_JSON');
    const obj = await call(ts.url, 'POST', '/v1/reads', { token: ing, json: sampleRead(1) });
    expect(obj.status).toBe(400);
    expect(obj.json.error.code).toBe('PS_BAD_JSON');
    const mp = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: Buffer.from([0x93, 0x01]), contentType: 'application/msgpack' });
    expect(mp.status).toBe(400);
    expect(mp.json.error.code).toBe('PS_BAD_JSON');
    expect((await searchAll()).total).toBe(0);
  });
});

describe('media types and sizes', () => {
  it('missing or unknown Content-Type → 415 PS_UNSUPPORTED_MEDIA_TYPE, nothing stored', async () => {
    const body = JSON.stringify([sampleRead(1)]);
    for (const contentType of [null, 'text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, body, contentType });
      expect(res.status, String(contentType)).toBe(415);
      expect(res.json.error.code).toBe('PS_UNSUPPORTED_MEDIA_TYPE');
    }
    // NDJSON is a batch format: a search body must be one JSON (or MessagePack) value
    const s = await call(ts.url, 'POST', '/v1/search', { token: inv, body: '{"purpose":"p","case":"c"}', contentType: 'application/x-ndjson' });
    expect(s.status).toBe(415);
    const none = await call(ts.url, 'POST', '/v1/search', { token: inv, body: '{"purpose":"p","case":"c"}', contentType: null });
    expect(none.status).toBe(415);
    expect((await searchAll()).total).toBe(0);
  });

  it('a search body over 1 MiB → 413; exactly 1 MiB is read', async () => {
    const pad = (n: number) => {
      const base = JSON.stringify({ purpose: 'p', case: 'c', plate: 'ABC1' });
      return base.slice(0, -1) + ' '.repeat(n - base.length) + '}';
    };
    const ok = await call(ts.url, 'POST', '/v1/search', { token: inv, body: pad(1 << 20), contentType: 'application/json' });
    expect(ok.status).toBe(200);
    const big = await call(ts.url, 'POST', '/v1/search', { token: inv, body: pad((1 << 20) + 1), contentType: 'application/json' });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('PS_BODY_TOO_LARGE');
    // the connection stays usable
    expect((await call(ts.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('an ingest body of 64 MiB + 1 byte → 413, nothing stored; the server keeps serving', async () => {
    const one = JSON.stringify(sampleRead(1));
    const target = (64 << 20) + 1;
    const n = Math.ceil(target / (one.length + 1));
    let text = Array.from({ length: n }, () => one).join('\n');
    text = text.slice(0, target);
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, body: text, contentType: 'application/x-ndjson' });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('PS_BODY_TOO_LARGE');
    expect((await searchAll()).total).toBe(0);
  });
});

describe('ingest semantics', () => {
  it('readId: a retried batch is accepted and stored once', async () => {
    const batch = [sampleRead(1, { readId: 'r-1' }), sampleRead(2, { readId: 'r-2' }), sampleRead(3)];
    expect((await call(ts.url, 'POST', '/v1/reads', { token: ing, json: batch })).json).toEqual({ accepted: 3, rejected: [] });
    expect((await call(ts.url, 'POST', '/v1/reads', { token: ing, json: batch })).json).toEqual({ accepted: 3, rejected: [] });
    expect((await searchAll()).total).toBe(4); // r-1, r-2 once; the read without readId twice
  });

  it('reads older than the tenant retention cutoff are rejected "beyond retention"', async () => {
    await ts.server.services.directory.setRetention('pd-a', 3600);
    const now = Date.now();
    const batch = [sampleRead(1, { ts: now - 2 * 3600_000 }), sampleRead(2, { ts: now - 60_000 })];
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, json: batch });
    expect(res.json).toEqual({ accepted: 1, rejected: [{ index: 0, error: 'beyond retention' }] });
  });

  it('the tenant comes from the token, never from the body', async () => {
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, json: [{ ...sampleRead(1), tenant: 'pd-b' }] });
    expect(res.json.accepted).toBe(1);
    expect((await searchAll()).hits[0]!.tenant).toBe('pd-a');
    expect((await searchAll(ts.token('pd-b', 'investigator'))).total).toBe(0);
  });

  it('ingest hooks get the stored reads after the durable append, before the answer', async () => {
    const seen: Array<{ tenant: string; plates: string[] }> = [];
    ts.server.services.onIngest(({ tenant, reads }) => {
      seen.push({ tenant, plates: reads.map((r) => r.plate) });
    });
    ts.server.services.onIngest(() => {
      throw new Error('a failing hook must not fail the ingest');
    });
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ing, json: [sampleRead(1), 5, sampleRead(2)] });
    expect(res.json.accepted).toBe(2);
    expect(seen).toEqual([{ tenant: 'pd-a', plates: [sampleRead(1).plate, sampleRead(2).plate] }]);
  });
});
