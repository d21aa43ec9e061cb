/**
 * Known gaps found by the reliability work (docs/RELIABILITY.md, "Findings"), each as the test the fix
 * must make pass. They are `it.fails`: green while the gap exists, red (so someone looks) once it is
 * fixed; the fix then turns `it.fails` into `it`.
 */
import { readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alertSystemFor } from '../src/alerts/for-server.js';
import { call, makeDataDir, sampleRead, startTestServer, type TestServer } from './helpers/server.js';
import { SseClient } from './helpers/sse.js';

const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function start(dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await makeDataDir());
  if (!dataDir) dirs.push(dir);
  const s = await startTestServer({ dataDir: dir, engineOptions: { sealRows: 1_000_000, sealAgeMs: 0 } });
  open.push(s);
  return s;
}

describe('known gaps', () => {
  it.fails('alerts: a read acknowledged after its alert could not be made durable (crash or disk error between the WAL and the alert log) gets its alert on a retry', async () => {
    const s = await start();
    const put = await call(s.url, 'PUT', '/v1/hotlists/wanted', {
      token: s.token('pd-a', 'dispatcher'), json: { entries: [{ plate: 'WNT0001', note: 'stolen' }] },
    });
    expect(put.status).toBe(200);
    const system = await alertSystemFor(s.server.services);
    // the alert log fails once, as a kill -9 right after the WAL fsync would leave it
    const append = system.alerts.append.bind(system.alerts);
    let failures = 1;
    system.alerts.append = async (...args) => {
      if (failures-- > 0) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      return append(...args);
    };
    const read = sampleRead(1, { plate: 'WNT0001', readId: 'cam-retry-1' });
    const first = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [read] });
    // the camera retries (after a crash it would never have seen the first answer)
    const retry = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [read] });
    expect(retry.status).toBe(200);
    const sse = await SseClient.open(s.url, s.token('pd-a', 'dispatcher'), 0);
    try {
      // either the first answer was not an acknowledgement, or some answer raised the alert
      if (first.status === 200) await sse.waitFor(1, 1500);
      expect(sse.alerts().filter((a) => a.read.plate === 'WNT0001')).toHaveLength(1);
    } finally {
      sse.close();
    }
  });

  it.fails('WAL: acknowledged records cut off the end of a log (truncation, not a torn write) are reported, not silently dropped', async () => {
    const s1 = await start();
    const dataDir = s1.dataDir;
    for (let i = 0; i < 3; i++) {
      const batch = Array.from({ length: 10 }, (_, j) => sampleRead(i * 10 + j));
      expect((await call(s1.url, 'POST', '/v1/reads', { token: s1.token('pd-a', 'ingest'), json: batch })).status).toBe(200);
    }
    await s1.close();
    open.splice(0);
    const walDir = join(dataDir, 'tenants', 'pd-a', 'wal');
    let victim = '';
    let size = 0;
    for (const f of await readdir(walDir)) {
      const n = (await readFile(join(walDir, f))).length;
      if (n > size) [victim, size] = [join(walDir, f), n];
    }
    await truncate(victim, Math.floor(size * 0.5)); // loses the third batch and half of the second
    const s2 = await start(dataDir);
    const health = await call(s2.url, 'GET', '/healthz');
    expect(health.json.degraded).toBe(true);
  });
});
