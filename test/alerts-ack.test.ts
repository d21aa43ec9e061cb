/**
 * Alert ids and acknowledgement (API.md v1.1 "Alerts: acknowledgement") through real servers: the id of an
 * alert is its SSE `id:` and its `data.id`; an ack answers 200 with the alert and its ack, a second one 409;
 * another tenant, an unknown id or a read the tenant may no longer see → 404; `GET /v1/alerts/recent` pages
 * newest first with the acks; acks survive kill -9 right after their answer; every ack is audited; acks go
 * with their alerts when retention sweeps them. Needs `npm run build` (spawns dist/src/cli/main.js).
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alertSystemFor } from '../src/alerts/for-server.js';
import { call, createToken, makeDataDir, readAudit, spawnServer, startTestServer, type ChildServer, type TestServer } from './helpers/server.js';
import { SseClient } from './helpers/sse.js';

let dataDir: string | undefined;
let child: ChildServer | undefined;
let ts: TestServer | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  if (child) await child.exited;
  child = undefined;
  await ts?.close();
  ts = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

const read = (plate: string, i: number, agoMs = 10_000) => ({ plate, ts: new Date(Date.now() - agoMs + i).toISOString(), lat: 1, lon: 2, camera: 'c' });

describe('alert acknowledgement over a server process', () => {
  it('ids over SSE, ack once (409 after), recent pages with acks, acks survive kill -9, resume by Last-Event-ID', async () => {
    dataDir = await makeDataDir();
    const ing = await createToken(dataDir, 'pd-a', 'cam', ['ingest']);
    const desk = await createToken(dataDir, 'pd-a', 'desk', ['dispatcher']);
    const inv = await createToken(dataDir, 'pd-a', 'inv', ['investigator']);
    const other = await createToken(dataDir, 'pd-b', 'desk', ['dispatcher']);
    child = await spawnServer(dataDir);
    const url = child.url;
    expect((await call(url, 'PUT', '/v1/hotlists/stolen', { token: desk, json: { entries: [{ plate: 'ACK*', note: 'stolen' }] } })).status).toBe(200);

    const s = await SseClient.open(url, desk);
    let ids: number[];
    try {
      await new Promise((r) => setTimeout(r, 100));
      const ingest = await call(url, 'POST', '/v1/reads', { token: ing, json: [read('ACK1', 1), read('NOPE1', 2), read('ACK2', 3), read('ACK3', 4)] });
      expect(ingest.json.accepted).toBe(4);
      await s.waitFor(3);
      const events = s.events.filter((e) => e.event === 'alert');
      ids = events.map((e) => Number(e.id));
      // the SSE id is the alert's id, in its data too; unique and increasing
      expect(events.map((e) => JSON.parse(e.data).id)).toEqual(ids);
      expect(new Set(ids).size).toBe(3);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(events.map((e) => JSON.parse(e.data).read.plate)).toEqual(['ACK1', 'ACK2', 'ACK3']);
    } finally {
      s.close();
    }
    const [id1, id2, id3] = ids as [number, number, number];

    const ack = await call(url, 'POST', `/v1/alerts/${id1}/ack`, { token: desk, json: { outcome: 'confirmed', note: 'stopped at 5th & Main' } });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ id: id1, hotlist: 'stolen', entry: 'ACK*', note: 'stolen', distance: 0, read: { plate: 'ACK1', tenant: 'pd-a' } });
    expect(ack.json.ack).toMatchObject({ outcome: 'confirmed', note: 'stopped at 5th & Main', user: 'desk' });
    expect(Math.abs(Date.parse(ack.json.ack.ts) - Date.now())).toBeLessThan(60_000);

    const again = await call(url, 'POST', `/v1/alerts/${id1}/ack`, { token: desk, json: { outcome: 'rejected', note: 'second try' } });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('PS_ALERT_ALREADY_ACKNOWLEDGED');
    expect(again.json.error.ack).toMatchObject({ outcome: 'confirmed', user: 'desk' });

    // not the caller's alert, not an alert, bad bodies, wrong role
    expect((await call(url, 'POST', `/v1/alerts/${id2}/ack`, { token: other, json: { outcome: 'confirmed' } })).status).toBe(404);
    for (const bad of ['999999', '0', 'abc', '-1', '1.5']) {
      const res = await call(url, 'POST', `/v1/alerts/${bad}/ack`, { token: desk, json: { outcome: 'confirmed' } });
      expect(res.status, bad).toBe(404);
      expect(res.json.error.code).toBe('PS_NOT_FOUND');
    }
    for (const body of [{ outcome: 'maybe' }, {}, { outcome: 'confirmed', note: 7 }, { outcome: 'confirmed', extra: 1 }, [1]]) {
      const res = await call(url, 'POST', `/v1/alerts/${id2}/ack`, { token: desk, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('PS_BAD_INPUT');
    }
    expect((await call(url, 'POST', `/v1/alerts/${id2}/ack`, { token: inv, json: { outcome: 'confirmed' } })).status).toBe(403);
    expect((await call(url, 'GET', '/v1/alerts/recent', { token: inv })).status).toBe(403);

    // recent: newest first, paged, with the acks
    const p1 = await call(url, 'GET', '/v1/alerts/recent?limit=2', { token: desk });
    expect(p1.status).toBe(200);
    expect(p1.json.alerts.map((a: any) => a.id)).toEqual([id3, id2]);
    expect(p1.json.alerts.map((a: any) => a.ack)).toEqual([null, null]);
    expect(p1.json.next).toBe(id2);
    const p2 = await call(url, 'GET', `/v1/alerts/recent?limit=2&after=${p1.json.next}`, { token: desk });
    expect(p2.json.alerts.map((a: any) => a.id)).toEqual([id1]);
    expect(p2.json.alerts[0]).toMatchObject({ hotlist: 'stolen', entry: 'ACK*', note: 'stolen', distance: 0, read: { plate: 'ACK1' } });
    expect(p2.json.alerts[0].ack).toEqual(ack.json.ack);
    expect(p2.json.next).toBeNull();
    expect((await call(url, 'GET', '/v1/alerts/recent', { token: other })).json).toEqual({ alerts: [], next: null });
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'after=-3', 'after=1&after=2']) {
      expect((await call(url, 'GET', `/v1/alerts/recent?${q}`, { token: desk })).status, q).toBe(400);
    }

    // kill -9 right after an ack's answer: it is there after the restart, and a second ack is still 409
    const ack2 = await call(url, 'POST', `/v1/alerts/${id2}/ack`, { token: desk, json: { outcome: 'not-actioned', note: 'units busy' } });
    expect(ack2.status).toBe(200);
    child.kill('SIGKILL');
    await child.exited;
    child = await spawnServer(dataDir);
    const after = await call(child.url, 'GET', '/v1/alerts/recent', { token: desk });
    expect(after.json.alerts.map((a: any) => [a.id, a.ack?.outcome ?? null])).toEqual([[id3, null], [id2, 'not-actioned'], [id1, 'confirmed']]);
    expect(after.json.alerts[1].ack).toEqual(ack2.json.ack);
    expect((await call(child.url, 'POST', `/v1/alerts/${id2}/ack`, { token: desk, json: { outcome: 'confirmed' } })).status).toBe(409);

    // resume still works with these ids
    const resumed = await SseClient.open(child.url, desk, id1);
    try {
      await resumed.waitFor(2);
      await new Promise((r) => setTimeout(r, 200));
      expect(resumed.alerts().map((a) => a._id)).toEqual([id2, id3]);
    } finally {
      resumed.close();
    }

    // a graceful restart keeps them too
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    child = await spawnServer(dataDir);
    const third = await call(child.url, 'GET', '/v1/alerts/recent', { token: desk });
    expect(third.json.alerts.map((a: any) => a.ack?.outcome ?? null)).toEqual([null, 'not-actioned', 'confirmed']);
    child.kill('SIGTERM');
    await child.exited;
    child = undefined;

    // every ack attempt is in the audit log, with its outcome
    const acks = (await readAudit(dataDir, 'pd-a')).filter((r) => r.action === 'alerts.ack');
    const summary = acks.map((r) => [r.user, r.status, r.outcome]);
    expect(summary.filter(([, st]) => st === 200)).toEqual([['desk', 200, 'ok'], ['desk', 200, 'ok']]);
    expect(summary.filter(([, st]) => st === 409)).toEqual([['desk', 409, 'invalid'], ['desk', 409, 'invalid']]);
    const first = acks.find((r) => r.status === 200)!;
    expect(first.params).toMatchObject({ id: String(id1), outcome: 'confirmed', note: 'stopped at 5th & Main' });
    expect(first.resultCount).toBe(1);
    expect((await readAudit(dataDir, 'pd-b')).filter((r) => r.action === 'alerts.ack').map((r) => r.status)).toEqual([404]);
  }, 120_000);
});

describe('acks, grants and retention', () => {
  it("a granted tenant's read: the ack is recorded in its log; after revocation its alerts are 404 and gone from recent", async () => {
    ts = await startTestServer();
    const desk = ts.token('pd-a', 'dispatcher');
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    expect((await call(ts.url, 'PUT', '/v1/hotlists/l', { token: desk, json: { entries: [{ plate: 'SHR1', note: 'n' }] } })).status).toBe(200);
    expect((await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-b', 'ingest'), json: [read('SHR1', 1), read('SHR1', 2)] })).json.accepted).toBe(2);
    let recent = await call(ts.url, 'GET', '/v1/alerts/recent', { token: desk });
    for (let i = 0; i < 50 && recent.json.alerts.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      recent = await call(ts.url, 'GET', '/v1/alerts/recent', { token: desk });
    }
    const [newer, older] = recent.json.alerts.map((a: any) => a.id);
    expect(recent.json.alerts.map((a: any) => a.read.tenant)).toEqual(['pd-b', 'pd-b']);
    const ack = await call(ts.url, 'POST', `/v1/alerts/${older}/ack`, { token: desk, json: { outcome: 'rejected', note: 'misread' } });
    expect(ack.status).toBe(200);
    const owner = (await readAudit(ts.dataDir, 'pd-b')).filter((r) => r.action === 'alerts.ack');
    expect(owner.map((r) => [r.actorTenant, r.user, r.status])).toEqual([['pd-a', 'dispatcher', 200]]);
    expect(owner[0]!.tenantsTouched).toEqual(['pd-b']);

    // an own alert too, newer than pd-b's
    const own = async (i: number) => {
      expect((await call(ts!.url, 'POST', '/v1/reads', { token: ts!.token('pd-a', 'ingest'), json: [read('SHR1', i)] })).json.accepted).toBe(1);
    };
    await own(3);
    for (let i = 0; i < 50 && (await call(ts.url, 'GET', '/v1/alerts/recent', { token: desk })).json.alerts.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await call(ts.url, 'DELETE', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin') })).status).toBe(204);
    expect((await call(ts.url, 'POST', `/v1/alerts/${newer}/ack`, { token: desk, json: { outcome: 'confirmed' } })).status).toBe(404);
    const left = await call(ts.url, 'GET', '/v1/alerts/recent?limit=1', { token: desk });
    expect(left.json.alerts.map((a: any) => a.read.tenant)).toEqual(['pd-a']);
    expect(left.json.next).toBeNull(); // pd-b's two are skipped, not shown and not counted
    expect((await call(ts.url, 'GET', `/v1/alerts/recent?after=${left.json.alerts[0].id}`, { token: desk })).json).toEqual({ alerts: [], next: null });
  });

  it('alerts past retention leave recent, cannot be acked, and their acks are swept from disk with them', async () => {
    ts = await startTestServer();
    const desk = ts.token('pd-a', 'dispatcher');
    expect((await call(ts.url, 'PUT', '/v1/retention', { token: ts.token('pd-a', 'admin'), json: { retentionSeconds: 60 } })).status).toBe(200);
    expect((await call(ts.url, 'PUT', '/v1/hotlists/l', { token: desk, json: { entries: [{ plate: 'OLD1', note: 'n' }, { plate: 'NEW1', note: 'n' }] } })).status).toBe(200);
    // one read 58.5 s old (past retention in a moment), one fresh
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [read('OLD1', 0, 58_500), read('NEW1', 0, 1000)] });
    expect(res.json.accepted).toBe(2);
    let recent = await call(ts.url, 'GET', '/v1/alerts/recent', { token: desk });
    for (let i = 0; i < 50 && recent.json.alerts.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      recent = await call(ts.url, 'GET', '/v1/alerts/recent', { token: desk });
    }
    const byPlate = new Map<string, number>(recent.json.alerts.map((a: any) => [a.read.plate, a.id]));
    expect((await call(ts.url, 'POST', `/v1/alerts/${byPlate.get('OLD1')}/ack`, { token: desk, json: { outcome: 'confirmed' } })).status).toBe(200);
    expect((await call(ts.url, 'POST', `/v1/alerts/${byPlate.get('NEW1')}/ack`, { token: desk, json: { outcome: 'confirmed' } })).status).toBe(200);
    const ackFile = join(ts.dataDir, 'alerts', 'pd-a.acks');
    expect(existsSync(ackFile)).toBe(true);
    // sealed: no ack is in the file in clear; the store reads both back
    expect((await readFile(ackFile)).toString('latin1')).not.toContain('"outcome"');
    expect(await (await alertSystemFor(ts.server.services)).acks.count('pd-a')).toBe(2);

    await new Promise((r) => setTimeout(r, 2000)); // OLD1 is now past retention
    recent = await call(ts.url, 'GET', '/v1/alerts/recent', { token: desk });
    expect(recent.json.alerts.map((a: any) => a.read.plate)).toEqual(['NEW1']);
    expect((await call(ts.url, 'POST', `/v1/alerts/${byPlate.get('OLD1')}/ack`, { token: desk, json: { outcome: 'confirmed' } })).status).toBe(404);

    const system = await alertSystemFor(ts.server.services);
    expect(await system.sweep()).toBe(1);
    expect(await system.acks.ids('pd-a')).toEqual([byPlate.get('NEW1')]);
    expect((await readFile(ackFile)).toString('latin1')).not.toContain('"outcome"');
  });
});
