/**
 * `/v1/hotlists/{name}` over HTTP: replace/get/delete, the list as stored, name validation, roles,
 * body validation, atomic replace under concurrent ingest, and look-back ("historical hits").
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';
import { SseClient } from './helpers/sse.js';

let ts: TestServer;
beforeEach(async () => {
  ts = await startTestServer();
});
afterEach(async () => {
  await ts.close();
});

const disp = () => ts.token('pd-a', 'dispatcher');
let seq = 0;
function read(plate: string, agoMs = 60_000) {
  seq++;
  return { plate, ts: new Date(Date.now() - agoMs + seq).toISOString(), lat: 37.77, lon: -122.42, camera: 'cam-1' };
}

describe('PUT / GET / DELETE /v1/hotlists/{name}', () => {
  it('stores, returns the list as stored (normalised, merged), replaces, deletes', async () => {
    const body = {
      entries: [
        { plate: '7abc-123', note: 'stolen', priority: 2, expires: '2099-01-01T00:00:00+01:00' },
        { plate: '7AB?12*', note: 'partial' },
        { plate: '7ABC123', note: 'duplicate, merged' },
        { plate: 'x1', note: '' },
      ],
      match: 'fuzzy', maxEdits: 2, ocr: true,
    };
    const put = await call(ts.url, 'PUT', '/v1/hotlists/ncic-daily', { token: disp(), json: body });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ name: 'ncic-daily', entries: 3 });

    const got = await call(ts.url, 'GET', '/v1/hotlists/ncic-daily', { token: disp() });
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ name: 'ncic-daily', match: 'fuzzy', maxEdits: 2, ocr: true, transpositions: false, count: 3 });
    expect(got.json.entries).toEqual([
      { plate: '7ABC123', note: 'stolen', priority: 2, expires: '2098-12-31T23:00:00.000Z' },
      { plate: '7AB?12*', note: 'partial' },
      { plate: 'X1', note: '' },
    ]);

    const admin = ts.token('pd-a', 'admin');
    const replaced = await call(ts.url, 'PUT', '/v1/hotlists/ncic-daily', { token: admin, json: { entries: [{ plate: 'NEW1', note: 'n' }], match: 'exact' } });
    expect(replaced.json).toEqual({ name: 'ncic-daily', entries: 1 });
    const again = await call(ts.url, 'GET', '/v1/hotlists/ncic-daily', { token: admin });
    expect(again.json.entries).toEqual([{ plate: 'NEW1', note: 'n' }]);
    expect(again.json).toMatchObject({ match: 'exact', maxEdits: 0, ocr: false });

    const index = await call(ts.url, 'GET', '/v1/hotlists', { token: disp() });
    expect(index.json.hotlists.map((l: { name: string; count: number }) => [l.name, l.count])).toEqual([['ncic-daily', 1]]);

    // other tenants do not see it
    expect((await call(ts.url, 'GET', '/v1/hotlists/ncic-daily', { token: ts.token('pd-b', 'dispatcher') })).status).toBe(404);

    const del = await call(ts.url, 'DELETE', '/v1/hotlists/ncic-daily', { token: disp() });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await call(ts.url, 'GET', '/v1/hotlists/ncic-daily', { token: disp() })).status).toBe(404);
    expect((await call(ts.url, 'DELETE', '/v1/hotlists/ncic-daily', { token: disp() })).status).toBe(404);
  });

  it('GET streams a large list whole, as stored, in order', async () => {
    const n = 120_000;
    const entries = Array.from({ length: n }, (_, i) => ({ plate: `P${i.toString(36).toUpperCase()}`, note: `n${i}`, ...(i % 1000 === 0 ? { priority: i } : {}) }));
    expect((await call(ts.url, 'PUT', '/v1/hotlists/big', { token: disp(), json: { entries } })).json).toEqual({ name: 'big', entries: n });
    const audit = (await readAudit(ts.dataDir, 'pd-a')).filter((r) => r.action === 'hotlist.put');
    expect(audit.at(-1)!.params).toMatchObject({ name: 'big', entries: { count: n }, storedEntries: n });
    expect((audit.at(-1)!.params as { entries: { sha256: string } }).entries.sha256).toMatch(/^[0-9a-f]{64}$/);
    const got = await call(ts.url, 'GET', '/v1/hotlists/big', { token: disp() });
    expect(got.status).toBe(200);
    expect(got.json.count).toBe(n);
    expect(got.json.entries).toEqual(entries);
  });

  it('validates names strictly (no path tricks)', async () => {
    // a literal `..` segment is resolved away by the URL itself (→ 404 for /v1/); encoded, it reaches the route
    for (const dots of ['..', '%2E%2E']) {
      expect((await call(ts.url, 'PUT', `/v1/hotlists/${dots}`, { token: disp(), json: { entries: [] } })).status).toBe(404);
    }
    for (const bad of ['.hidden', '-x', 'a..b', 'a%2Fb', '..%2F..%2Fetc', 'x'.repeat(65), 'sp%20ace', 'caf%C3%A9']) {
      const res = await call(ts.url, 'PUT', `/v1/hotlists/${bad}`, { token: disp(), json: { entries: [] } });
      expect(res.status, bad).toBe(400);
      expect(res.json.error.code).toBe('PS_BAD_INPUT');
    }
    for (const good of ['a', 'NCIC_2026-11.daily', 'x'.repeat(64)]) {
      expect((await call(ts.url, 'PUT', `/v1/hotlists/${good}`, { token: disp(), json: { entries: [] } })).status, good).toBe(200);
    }
  });

  it('validates bodies, naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ entries: [{ plate: '', note: 'x' }] }, 'entries[0].plate'],
      [{ entries: [{ plate: '!!!', note: 'x' }] }, 'entries[0].plate'],
      [{ entries: [{ plate: 'ABCDEFGHIJK', note: 'x' }] }, 'entries[0].plate'],
      [{ entries: [{ note: 'x' }] }, 'entries[0].plate'],
      [{ entries: [{ plate: 'A1', note: 5 }] }, 'entries[0].note'],
      [{ entries: [{ plate: 'A1', expires: 'tomorrow' }] }, 'entries[0].expires'],
      [{ entries: [{ plate: 'A1', priority: {} }] }, 'entries[0].priority'],
      [{ entries: [{ plate: 'A1', vin: 'x' }] }, 'entries[0].vin'],
      [{ entries: 'A1' }, 'entries'],
      [{ entries: [], match: 'regex' }, 'match'],
      [{ entries: [], match: 'fuzzy', maxEdits: 3 }, 'maxEdits'],
      [{ entries: [], ocr: 'yes' }, 'ocr'],
      [{ entries: [], lookbackDays: -1 }, 'lookbackDays'],
      [{ entries: [], colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of cases) {
      const res = await call(ts.url, 'PUT', '/v1/hotlists/x', { token: disp(), json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.field).toBe(field);
    }
    expect((await call(ts.url, 'PUT', '/v1/hotlists/x', { token: disp(), body: 'nope', contentType: 'text/plain' })).status).toBe(415);
    expect((await call(ts.url, 'PUT', '/v1/hotlists/x', { token: disp(), body: '{', contentType: 'application/json' })).status).toBe(400);
    // nothing was stored by the failures
    expect((await call(ts.url, 'GET', '/v1/hotlists/x', { token: disp() })).status).toBe(404);
  });

  it('is for dispatchers and admins only', async () => {
    for (const role of ['ingest', 'investigator', 'auditor']) {
      const t = ts.token('pd-a', role);
      expect((await call(ts.url, 'PUT', '/v1/hotlists/x', { token: t, json: { entries: [] } })).status).toBe(403);
      expect((await call(ts.url, 'GET', '/v1/hotlists/x', { token: t })).status).toBe(403);
      expect((await call(ts.url, 'DELETE', '/v1/hotlists/x', { token: t })).status).toBe(403);
    }
    expect((await call(ts.url, 'GET', '/v1/hotlists/x')).status).toBe(401);
  });

  it('replaces atomically: every read is checked against the old list or the new one, never half', async () => {
    const n = 20_000;
    const listA = { entries: Array.from({ length: n }, (_, i) => ({ plate: `A${i}`, note: 'A' })) };
    const listB = { entries: Array.from({ length: n }, (_, i) => ({ plate: `B${i}`, note: 'B' })) };
    expect((await call(ts.url, 'PUT', '/v1/hotlists/swap', { token: disp(), json: listA })).status).toBe(200);
    const s = await SseClient.open(ts.url, disp());
    try {
      // each batch holds one read for the first and one for the last entry of both lists
      const batch = () => [read('A0'), read(`A${n - 1}`), read('B0'), read(`B${n - 1}`)];
      const ingests: Array<Promise<unknown>> = [];
      const put = call(ts.url, 'PUT', '/v1/hotlists/swap', { token: disp(), json: listB });
      for (let i = 0; i < 20; i++) ingests.push(call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: batch() }));
      expect((await put).status).toBe(200);
      await Promise.all(ingests);
      await s.waitFor(40, 10_000);
      const alerts = s.alerts();
      expect(alerts).toHaveLength(40);
      // one ingest's alerts get consecutive ids: each pair comes from one batch, so both from list A or both from B
      for (let i = 0; i < alerts.length; i += 2) {
        expect(alerts[i]!.note).toBe(alerts[i + 1]!.note);
        expect(alerts[i]!.read.plate).toBe(`${alerts[i]!.note}0`);
      }
      expect(alerts.at(-1)!.note).toBe('B');
    } finally {
      s.close();
    }
  });

  it('lookbackDays raises historical alerts for reads already stored, and reports them in the answer', async () => {
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [read('HIST01', 2 * 86_400_000), read('HIST01', 20 * 86_400_000), read('OTHER1')] });
    const s = await SseClient.open(ts.url, disp());
    try {
      const put = await call(ts.url, 'PUT', '/v1/hotlists/hist', {
        token: disp(), json: { entries: [{ plate: 'HIST01', note: 'h' }], lookbackDays: 7, purpose: 'stolen vehicle', case: '2026-0042' },
      });
      expect(put.status).toBe(200);
      expect(put.json).toMatchObject({ name: 'hist', entries: 1, lookback: { days: 7, alerts: 1, truncated: false } });
      await s.waitFor(1);
      expect(s.alerts()[0]).toMatchObject({ hotlist: 'hist', entry: 'HIST01', historical: true, distance: 0 });
      const rec = (await readAudit(ts.dataDir, 'pd-a')).filter((r) => r.action === 'hotlist.put').at(-1)!;
      expect(rec).toMatchObject({ purpose: 'stolen vehicle', case: '2026-0042', resultCount: 1, tenantsTouched: ['pd-a'] });
    } finally {
      s.close();
    }
  });
});
