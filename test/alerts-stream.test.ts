/**
 * Live alerts end to end: a real server on port 0, hot lists over HTTP, reads ingested over HTTP, the
 * SSE stream read with undici. Alerts arrive for visible matching reads and only those.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AlertLog } from '../src/alerts/log.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';
import { SseClient } from './helpers/sse.js';

let ts: TestServer;
const streams: SseClient[] = [];
beforeEach(async () => {
  ts = await startTestServer();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await ts.close();
});

let seq = 0;
function read(plate: string, over: Record<string, unknown> = {}) {
  seq++;
  return { plate, ts: new Date(Date.now() - 60_000 + seq).toISOString(), lat: 37.77, lon: -122.42, camera: `cam-${seq % 3}`, ...over };
}

async function ingest(tenant: string, reads: unknown[]) {
  const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token(tenant, 'ingest'), json: reads });
  expect(res.status).toBe(200);
  expect(res.json.accepted).toBe(reads.length);
  return res;
}

async function putList(tenant: string, name: string, body: Record<string, unknown>) {
  const res = await call(ts.url, 'PUT', `/v1/hotlists/${name}`, { token: ts.token(tenant, 'dispatcher'), json: body });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

async function open(tenant: string, lastEventId?: number | string): Promise<SseClient> {
  const s = await SseClient.open(ts.url, ts.token(tenant, 'dispatcher'), lastEventId);
  streams.push(s);
  expect(s.status).toBe(200);
  expect(String(s.headers['content-type'])).toMatch(/^text\/event-stream/);
  return s;
}

/** Ingests a marker read that matches the tenant's `marker` list and waits for its alert: everything ingested before it has been delivered. */
async function settle(s: SseClient, tenant: string, expected: number) {
  await ingest(tenant, [read('ZZMARK1')]);
  await s.waitFor(expected + 1);
  const last = s.alerts().at(-1)!;
  expect(last.entry).toBe('ZZMARK1');
}

describe('GET /v1/alerts', () => {
  it('delivers one alert per (read, matching entry) for own reads, with the contract fields, within 1 s', async () => {
    await putList('pd-a', 'stolen', { entries: [{ plate: '7abc-123', note: 'stolen Civic', priority: 1 }, { plate: '7AB*', note: 'BOLO partial' }], match: 'exact', maxEdits: 0, ocr: false });
    const s = await open('pd-a');
    const t0 = performance.now();
    await ingest('pd-a', [read('7ABC123', { region: 'CA', confidence: 0.9 }), read('XYZ999'), read('7ABZZZ')]);
    const answered = performance.now();
    await s.waitFor(3, 1000);
    expect(s.events[2]!.at - answered).toBeLessThan(1000);
    expect(t0).toBeLessThan(answered);
    const got = s.alerts();
    expect(got.map((a) => `${a.read.plate}/${a.entry}`).sort()).toEqual(['7ABC123/7AB*', '7ABC123/7ABC123', '7ABZZZ/7AB*']);
    const a = got.find((x) => x.entry === '7ABC123')!;
    expect(a).toMatchObject({ hotlist: 'stolen', note: 'stolen Civic', priority: 1, distance: 0 });
    expect(a.read).toMatchObject({ tenant: 'pd-a', plate: '7ABC123', lat: 37.77, lon: -122.42, region: 'CA', confidence: 0.9 });
    expect(a.read.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof a.read.id).toBe('string');
    // ids strictly increase, event type is alert
    const ids = s.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(3);
    expect(s.events.every((e) => e.event === 'alert')).toBe(true);
  });

  it('fuzzy and OCR lists: distance on mapped strings; non-matches raise nothing', async () => {
    await putList('pd-a', 'marker', { entries: [{ plate: 'ZZMARK1', note: 'm' }] });
    await putList('pd-a', 'fuzzy', { entries: [{ plate: 'ABC1234', note: 'f' }], match: 'fuzzy', maxEdits: 1, ocr: false });
    await putList('pd-a', 'ocr', { entries: [{ plate: '8OD5', note: 'o' }], match: 'exact', ocr: true });
    const s = await open('pd-a');
    await ingest('pd-a', [read('ABC1235'), read('ABC12'), read('BOD5'), read('BQ0S'), read('BOD6')]);
    await settle(s, 'pd-a', 3);
    const got = s.alerts().slice(0, 3).map((a) => `${a.hotlist}:${a.read.plate}:${a.distance}`).sort();
    expect(got).toEqual(['fuzzy:ABC1235:1', 'ocr:BOD5:0', 'ocr:BQ0S:0']);
  });

  it("sees granted tenants' reads, never after revocation, never other tenants'", async () => {
    await putList('pd-a', 'marker', { entries: [{ plate: 'ZZMARK1', note: 'm' }] });
    await putList('pd-a', 'wanted', { entries: [{ plate: 'WANT01', note: 'w' }] });
    const s = await open('pd-a');
    // pd-c never shares: its read must not alert pd-a
    await ingest('pd-c', [read('WANT01')]);
    // pd-b shares with pd-a
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    await ingest('pd-b', [read('WANT01', { camera: 'shared-cam' })]);
    await settle(s, 'pd-a', 1);
    const first = s.alerts()[0]!;
    expect(first.read).toMatchObject({ tenant: 'pd-b', camera: 'shared-cam' });
    // revoked: nothing more from pd-b
    expect((await call(ts.url, 'DELETE', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin') })).status).toBe(204);
    await ingest('pd-b', [read('WANT01')]);
    await settle(s, 'pd-a', 2);
    expect(s.alerts().filter((a) => a.entry === 'WANT01').map((a) => a.read.tenant)).toEqual(['pd-b']);
    // defence in depth: nothing is even raised (stored) for reads the tenant may not see
    // (the log is encrypted: read it through the alert log with the data dir's keys)
    const log = await AlertLog.open(ts.dataDir);
    const logged = (await log.readAfter('pd-a', 0, 10_000)).map((a) => (JSON.parse(a.payload) as { read: { tenant: string } }).read.tenant);
    await log.close();
    expect((await readFile(join(ts.dataDir, 'alerts', 'pd-a.log'))).includes('WANT01')).toBe(false);
    expect(logged).not.toContain('pd-c');
    expect(logged.filter((t) => t === 'pd-b')).toHaveLength(1);
    // and the alert raised while the grant stood is not replayed after the revocation either
    const replay = await open('pd-a', 0);
    await settle(replay, 'pd-a', 2);
    expect(replay.alerts().map((a) => a.read.tenant)).toEqual(['pd-a', 'pd-a', 'pd-a']);
    // pd-b's own dispatcher has no lists: no stream events for it; pd-c's list does not see pd-a's reads
    await putList('pd-c', 'wanted', { entries: [{ plate: 'WANT01', note: 'c' }] });
    const c = await open('pd-c');
    await ingest('pd-a', [read('WANT01')]);
    await putList('pd-c', 'marker', { entries: [{ plate: 'ZZMARK1', note: 'm' }] });
    await settle(c, 'pd-c', 0);
    expect(c.alerts().map((a) => a.entry)).toEqual(['ZZMARK1']);
  });

  it('honours entry expiry', async () => {
    await putList('pd-a', 'marker', { entries: [{ plate: 'ZZMARK1', note: 'm' }] });
    await putList('pd-a', 'exp', {
      entries: [
        { plate: 'OLD001', note: 'expired', expires: new Date(Date.now() - 1000).toISOString() },
        { plate: 'NEW001', note: 'live', expires: new Date(Date.now() + 3_600_000).toISOString() },
      ],
    });
    const s = await open('pd-a');
    await ingest('pd-a', [read('OLD001'), read('NEW001')]);
    await settle(s, 'pd-a', 1);
    expect(s.alerts()[0]).toMatchObject({ entry: 'NEW001', note: 'live' });
  });

  it('Last-Event-ID replays exactly the missed alerts, also across a restart; fresh streams start at the head', async () => {
    await putList('pd-a', 'wanted', { entries: [{ plate: 'WANT01', note: 'w' }, { plate: 'WANT0?', note: 'pattern' }] });
    const s1 = await open('pd-a');
    await ingest('pd-a', [read('WANT01'), read('WANT02')]); // 3 alerts
    await s1.waitFor(3);
    const seen = s1.alerts();
    s1.close();
    await ingest('pd-a', [read('WANT03'), read('WANT01')]); // 3 more, missed
    const s2 = await open('pd-a', seen[1]!._id);
    await s2.waitFor(4);
    const replay = s2.alerts();
    expect(replay.map((a) => a._id)).toEqual([seen[2]!._id, seen[2]!._id + 1, seen[2]!._id + 2, seen[2]!._id + 3]);
    s2.close();

    // restart on the same data dir
    const dataDir = ts.dataDir;
    const tokens = ts.tokens;
    await ts.server.close();
    const again = await startTestServer({ dataDir, users: [] });
    try {
      const s3 = await SseClient.open(again.url, tokens['pd-a/dispatcher']!, replay[1]!._id);
      streams.push(s3);
      await s3.waitFor(2);
      expect(s3.alerts().map((a) => a._id)).toEqual([replay[2]!._id, replay[3]!._id]);
      // hot lists survived; new alerts continue the id sequence, with no duplicates
      await call(again.url, 'POST', '/v1/reads', { token: tokens['pd-a/ingest']!, json: [read('WANT01')] });
      await s3.waitFor(4);
      const ids = s3.alerts().map((a) => a._id);
      expect(ids[2]).toBe(replay[3]!._id + 1);
      expect(new Set(ids).size).toBe(ids.length);
      // a fresh stream sees only new alerts
      const fresh = await SseClient.open(again.url, tokens['pd-a/dispatcher']!);
      streams.push(fresh);
      await call(again.url, 'POST', '/v1/reads', { token: tokens['pd-a/ingest']!, json: [read('WANT09')] });
      await fresh.waitFor(1);
      expect(fresh.alerts().map((a) => a.read.plate)).toEqual(['WANT09']);
    } finally {
      await again.close();
    }
  });

  it('audits the stream request and every delivery, also in the log of the tenant whose read was delivered', async () => {
    await putList('pd-a', 'wanted', { entries: [{ plate: 'WANT01', note: 'w' }] });
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    const s = await open('pd-a');
    await ingest('pd-b', [read('WANT01')]);
    await s.waitFor(1);
    const own = await readAudit(ts.dataDir, 'pd-a');
    expect(own.filter((r) => r.action === 'alerts.stream')).toHaveLength(1);
    const deliveries = own.filter((r) => r.action === 'alerts.deliver');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ resultCount: 1, tenantsTouched: ['pd-b'], user: 'dispatcher', outcome: 'ok' });
    expect((deliveries[0]!.params as { ids: number[] }).ids).toEqual([s.alerts()[0]!._id]);
    const theirs = (await readAudit(ts.dataDir, 'pd-b')).filter((r) => r.action === 'alerts.deliver');
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({ tenant: 'pd-b', actorTenant: 'pd-a' });
  });

  it('refuses non-dispatchers and bad Last-Event-ID; closes streams on shutdown', async () => {
    expect((await call(ts.url, 'GET', '/v1/alerts', { token: ts.token('pd-a', 'investigator') })).status).toBe(403);
    expect((await call(ts.url, 'GET', '/v1/alerts', { token: ts.token('pd-a', 'admin') })).status).toBe(403);
    expect((await call(ts.url, 'GET', '/v1/alerts')).status).toBe(401);
    const bad = await call(ts.url, 'GET', '/v1/alerts', { token: ts.token('pd-a', 'dispatcher'), headers: { 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('PS_BAD_INPUT');
    const s = await open('pd-a');
    await ts.server.close();
    await s.waitEnd(5000);
    expect(s.ended).toBe(true);
  });

  it('raises no alerts for reads not ingested over HTTP after the fact: a list added later does not alert old reads', async () => {
    await ingest('pd-a', [read('LATE01')]);
    await putList('pd-a', 'marker', { entries: [{ plate: 'ZZMARK1', note: 'm' }] });
    await putList('pd-a', 'late', { entries: [{ plate: 'LATE01', note: 'l' }] });
    const s = await open('pd-a', 0);
    await settle(s, 'pd-a', 0);
    expect(s.alerts().map((a) => a.entry)).toEqual(['ZZMARK1']);
  });
});
