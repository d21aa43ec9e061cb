import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';
import { decryptedFilesContaining } from './helpers/crypto.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

const read = (plate: string, ts: number) => ({ plate, ts, lat: 37.77, lon: -122.41, camera: 'cam-1' });

function filesContaining(root: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        if (statSync(p).isDirectory()) walk(p);
        else if (readFileSync(p).includes(needle)) hits.push(p);
      } catch {
        // a file replaced while we walk
      }
    }
  };
  walk(root);
  return hits;
}

describe('retention over HTTP', () => {
  it('hides older reads from the moment of the answer, deletes them from disk, keeps audit records', async () => {
    const admin = s.token('pd-a', 'admin');
    const now = Date.now();
    const ing = await call(s.url, 'POST', '/v1/reads', {
      token: s.token('pd-a', 'ingest'),
      json: [read('OLDREAD1', now - 3_600_000), read('OLDREAD2', now - 61_000), read('NEWREAD1', now - 30_000)],
    });
    expect(ing.json).toEqual({ accepted: 3, rejected: [] });
    // visible to a granted tenant too, before retention
    await call(s.url, 'PUT', '/v1/sharing/pd-b', { token: admin, json: {} });
    const q = { plate: '*', purpose: 'p', case: 'c' };
    expect((await call(s.url, 'POST', '/v1/search', { token: s.token('pd-b', 'investigator'), json: q })).json.total).toBe(3);
    await s.server.services.engine.seal(); // the reads are in shards too, not only in the log
    // files are encrypted: look inside them with the data dir's keys
    expect(filesContaining(s.dataDir, 'OLDREAD1')).toEqual([]);
    const filesBefore = await decryptedFilesContaining(s.dataDir, 'OLDREAD1');
    expect(filesBefore.length).toBeGreaterThan(0);

    const put = await call(s.url, 'PUT', '/v1/retention', { token: admin, json: { retentionSeconds: 60 } });
    expect(put.status).toBe(200);
    expect(put.json.retentionSeconds).toBe(60);
    for (const tok of [s.token('pd-a', 'investigator'), s.token('pd-b', 'investigator')]) {
      const r = await call(s.url, 'POST', '/v1/search', { token: tok, json: q });
      expect(r.json.hits.filter((h: { tenant: string }) => h.tenant === 'pd-a').map((h: { plate: string }) => h.plate)).toEqual(['NEWREAD1']);
    }
    const exp = await call(s.url, 'GET', '/v1/export?format=ndjson', { token: admin });
    expect(exp.text.trim().split('\n').map((l) => JSON.parse(l).plate)).toEqual(['NEWREAD1']);
    // beyond-retention ingest is refused per item
    const late = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [read('LATE1', Date.now() - 120_000)] });
    expect(late.json.accepted).toBe(0);

    // gone from disk (not from the audit log) within 60 s; the sweeper starts at once
    const deadline = Date.now() + 60_000;
    let left: string[] = [];
    do {
      left = await decryptedFilesContaining(s.dataDir, 'OLDREAD');
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    } while (Date.now() < deadline);
    expect(left).toEqual([]);
    expect((await decryptedFilesContaining(s.dataDir, 'NEWREAD1')).length).toBeGreaterThan(0);
    const audit = await readAudit(s.dataDir, 'pd-a');
    expect(audit.some((r) => r.action === 'retention.set' && r.status === 200)).toBe(true);

    const get = await call(s.url, 'GET', '/v1/retention', { token: admin });
    expect(get.json.retentionSeconds).toBe(60);
  });

  it('validates retentionSeconds (min 60, integer) and is admin only', async () => {
    const admin = s.token('pd-a', 'admin');
    for (const body of [{ retentionSeconds: 59 }, { retentionSeconds: 60.5 }, { retentionSeconds: '3600' }, {}, { retentionSeconds: 3600, x: 1 }, [3600]]) {
      const r = await call(s.url, 'PUT', '/v1/retention', { token: admin, json: body });
      expect([body, r.status, r.json.error.code]).toEqual([body, 400, 'PS_BAD_INPUT']);
    }
    expect((await call(s.url, 'PUT', '/v1/retention', { token: s.token('pd-a', 'investigator'), json: { retentionSeconds: 3600 } })).status).toBe(403);
    expect((await call(s.url, 'PUT', '/v1/retention', { token: admin, json: { retentionSeconds: 60 } })).status).toBe(200);
    expect((await call(s.url, 'GET', '/v1/retention', { token: s.token('pd-b', 'admin') })).json.retentionSeconds).toBeNull();
  });
});
