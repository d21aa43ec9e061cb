/**
 * Alerts and idempotent retries: a read stored once (its readId already known) still goes to the hot-list
 * matching when a camera retries it, so an alert that a crash or a disk error cut off between the WAL and
 * the alert log is raised by the retry, and an alert that was raised is never raised twice, also after a
 * restart (the alert log's keys are rebuilt from disk).
 */
import { rm } from 'node:fs/promises';
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

async function start(dataDir: string): Promise<TestServer> {
  const s = await startTestServer({ dataDir, engineOptions: { sealRows: 1_000_000, sealAgeMs: 0 } });
  open.push(s);
  return s;
}

async function wanted(s: TestServer, plates: string[]): Promise<void> {
  const put = await call(s.url, 'PUT', '/v1/hotlists/wanted', {
    token: s.token('pd-a', 'dispatcher'), json: { entries: plates.map((plate) => ({ plate, note: 'stolen' })) },
  });
  expect(put.status).toBe(200);
}

async function ingest(s: TestServer, reads: unknown[]): Promise<number> {
  return (await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: reads })).status;
}

/** Every alert of pd-a's log, read from the start of the stream. */
async function alertsOf(s: TestServer, expected: number): Promise<Array<{ read: { plate: string; id: string } }>> {
  const sse = await SseClient.open(s.url, s.token('pd-a', 'dispatcher'), 0);
  try {
    await sse.waitFor(expected, 2000).catch(() => {});
    // a moment more: an extra (duplicate) alert would arrive now
    await new Promise((r) => setTimeout(r, 150));
    return sse.alerts();
  } finally {
    await sse.close();
  }
}

describe('alerts on retried ingests', () => {
  it('a read acknowledged after its alert could not be made durable gets its alert on the retry, once', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const s = await start(dataDir);
    await wanted(s, ['WNT0001']);
    const system = await alertSystemFor(s.server.services);
    // the alert log fails once, as a kill -9 right after the WAL fsync would leave it
    const append = system.alerts.append.bind(system.alerts);
    let failures = 1;
    system.alerts.append = async (...args) => {
      if (failures-- > 0) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      return append(...args);
    };
    const read = sampleRead(1, { plate: 'WNT0001', readId: 'cam-retry-1' });
    expect(await ingest(s, [read])).toBe(200);
    expect(await ingest(s, [read])).toBe(200); // the camera retries: stored once, alerted now
    expect(await ingest(s, [read])).toBe(200); // and again: nothing new
    const alerts = (await alertsOf(s, 1)).filter((a) => a.read.plate === 'WNT0001');
    expect(alerts).toHaveLength(1);
    const search = await call(s.url, 'POST', '/v1/search', { token: s.token('pd-a', 'investigator'), json: { plate: 'WNT0001', purpose: 'p', case: 'c' } });
    expect(search.json.total).toBe(1);
    expect(alerts[0]!.read.id).toBe(search.json.hits[0].id);
  });

  it('a retry of reads whose alerts were raised raises nothing, also after a restart; a batch mixing new and retried reads alerts the new ones', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    let s = await start(dataDir);
    await wanted(s, ['WNT0002', 'WNT0003']);
    const first = sampleRead(2, { plate: 'WNT0002', readId: 'cam-2' });
    expect(await ingest(s, [first, sampleRead(3, { readId: 'cam-3' })])).toBe(200);
    expect((await alertsOf(s, 1)).map((a) => a.read.plate)).toEqual(['WNT0002']);
    await s.close();
    open.splice(open.indexOf(s), 1);

    s = await start(dataDir);
    const second = sampleRead(4, { plate: 'WNT0003', readId: 'cam-4' });
    expect(await ingest(s, [first, second, first])).toBe(200);
    const alerts = await alertsOf(s, 2);
    expect(alerts.map((a) => a.read.plate)).toEqual(['WNT0002', 'WNT0003']);
  });
});
