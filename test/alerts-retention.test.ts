/**
 * Alerts and retention / look-back across tenants: the sweep drops alerts whose reads are past their
 * owner's retention (the alert log holds copies of reads); a look-back reaches granted tenants' reads and
 * says so in the audit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertSystem } from '../src/alerts/system.js';
import { parseHotlistBody } from '../src/hotlist/parse.js';
import type { StoredRead } from '../src/model/read.js';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';
import { SseClient } from './helpers/sse.js';

let dir: string | undefined;
let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const stored = (id: string, tenant: string, plate: string, tsMs: number): StoredRead => ({ id, tenant, plate, ts: tsMs, lat: 1, lon: 2, camera: 'c' });

describe('alert retention', () => {
  it('the sweep drops alerts whose reads are past their owner retention, per owner', async () => {
    dir = await mkdtemp(join(tmpdir(), 'platesearch-alert-ret-'));
    const cutoffs: Record<string, number> = { 'pd-a': 0, 'pd-b': 0 };
    const system = await AlertSystem.open({
      dataDir: dir, engine: { searchHotlist: async () => ({ matches: [] }) },
      scopesFor: (t) => [{ tenant: t, minTs: 0 }, ...(t === 'pd-a' ? [{ tenant: 'pd-b', minTs: 0 }] : [])],
      retentionCutoff: (t) => cutoffs[t] ?? 0, log: pino({ level: 'silent' }),
    });
    try {
      await system.hotlists.put('pd-a', parseHotlistBody('l', { entries: [{ plate: 'WANT1' }] }, 0));
      expect(await system.onIngest('pd-a', [stored('a1', 'pd-a', 'WANT1', 1000), stored('a2', 'pd-a', 'WANT1', 5000)])).toBe(2);
      expect(await system.onIngest('pd-b', [stored('b1', 'pd-b', 'WANT1', 1000)])).toBe(1);
      cutoffs['pd-a'] = 2000; // pd-a keeps reads from ts 2000; pd-b keeps everything
      expect(await system.sweep()).toBe(1);
      const left = await system.alerts.readAfter('pd-a', 0, 10);
      expect(left.map((a) => JSON.parse(a.payload).read.id)).toEqual(['a2', 'b1']);
      expect(left.map((a) => a.id)).toEqual([2, 3]);
    } finally {
      await system.close();
    }
  });
});

describe('look-back across tenants', () => {
  it("finds a granted tenant's historical reads, alerts them, and records the reach in that tenant's audit log", async () => {
    ts = await startTestServer();
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    for (const [tenant, t] of [['pd-b', ago(1)], ['pd-c', ago(1)], ['pd-a', ago(3)], ['pd-a', ago(30)]] as const) {
      const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token(tenant, 'ingest'), json: [{ plate: 'HIST77', ts: t, lat: 1, lon: 2, camera: 'c' }] });
      expect(res.json.accepted).toBe(1);
    }
    const s = await SseClient.open(ts.url, ts.token('pd-a', 'dispatcher'));
    try {
      const put = await call(ts.url, 'PUT', '/v1/hotlists/hist', {
        token: ts.token('pd-a', 'dispatcher'),
        json: { entries: [{ plate: 'H1ST77', note: 'OCR look-alike' }], match: 'exact', ocr: true, lookbackDays: 7 },
      });
      expect(put.status).toBe(200);
      expect(put.json.lookback).toMatchObject({ days: 7, alerts: 2, truncated: false, tenantsTouched: ['pd-a', 'pd-b'] });
      await s.waitFor(2);
      expect(s.alerts().map((a) => [a.read.tenant, a.historical, a.entry])).toEqual([['pd-a', true, 'H1ST77'], ['pd-b', true, 'H1ST77']]);
    } finally {
      s.close();
    }
    const theirs = (await readAudit(ts.dataDir, 'pd-b')).filter((r) => r.action === 'hotlist.put');
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({ actorTenant: 'pd-a', resultCount: 2 });
    expect((await readAudit(ts.dataDir, 'pd-c')).filter((r) => r.action === 'hotlist.put')).toHaveLength(0);
  });
});
