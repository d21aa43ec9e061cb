/**
 * The alert stream loop without HTTP: heartbeats on a quiet stream, bounded reads for a slow client
 * (alerts stay in the log, never pile up in memory), visibility re-checked at delivery, audit before write,
 * and a stream that ends when its audit record cannot be written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertLog } from '../src/alerts/log.js';
import { AlertHub } from '../src/alerts/hub.js';
import { kBatch, runAlertStream } from '../src/alerts/stream.js';
import type { AlertDraft } from '../src/alerts/alert.js';
import type { TenantScope } from '../src/model/query.js';

let dir: string;
let log: AlertLog;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platesearch-alerts-'));
  log = await AlertLog.open(dir);
});
afterEach(async () => {
  await log.close();
  await rm(dir, { recursive: true, force: true });
});

function draft(i: number, tenant = 'pd-a', ts = 1_000_000 + i): AlertDraft {
  return { hotlist: 'l', entry: `P${i}`, note: 'n', distance: 0, read: { id: `r${i}`, tenant, plate: `P${i}`, ts, lat: 1, lon: 2, camera: 'c' } };
}
const everything = (): TenantScope[] => [{ tenant: 'pd-a', minTs: 0 }, { tenant: 'pd-b', minTs: 0 }];
const ids = (chunks: string[]) => chunks.join('').match(/^id: (\d+)$/gm)?.map((l) => Number(l.slice(4))) ?? [];

describe('runAlertStream', () => {
  it('sends heartbeat comments on a quiet stream', async () => {
    const hub = new AlertHub();
    const ac = new AbortController();
    const chunks: string[] = [];
    const done = runAlertStream({
      tenant: 'pd-a', after: 0, log, hub, scopesFor: everything, audit: async () => {},
      write: async (c) => void chunks.push(c), signal: ac.signal, heartbeatMs: 40,
    });
    // waits for them rather than sleeping a fixed time: timers run late on a loaded machine
    const deadline = performance.now() + 10_000;
    while (chunks.filter((c) => c === ': heartbeat\n\n').length < 2 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await done;
    expect(chunks.filter((c) => c === ': heartbeat\n\n').length).toBeGreaterThanOrEqual(2);
    expect(chunks[0]).toBe(': heartbeat\n\n');
  });

  it('wakes for a new alert at once, not at its next heartbeat', async () => {
    const hub = new AlertHub();
    const ac = new AbortController();
    const chunks: string[] = [];
    const heartbeatMs = 60_000;
    const done = runAlertStream({
      tenant: 'pd-a', after: 0, log, hub, scopesFor: everything, audit: async () => {},
      write: async (c) => void chunks.push(c), signal: ac.signal, heartbeatMs,
    });
    await new Promise((r) => setTimeout(r, 50)); // the loop is waiting
    const t0 = performance.now();
    await log.append('pd-a', [draft(1)], 0);
    hub.notify('pd-a');
    while (ids(chunks).length === 0 && performance.now() - t0 < heartbeatMs / 2) await new Promise((r) => setTimeout(r, 1));
    // a wait for the timer would take a minute; on an idle machine this is a few ms, under load well under a second
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(ids(chunks)).toEqual([1]);
    ac.abort();
    await done;
  });

  it('a slow client holds at most one batch; everything arrives in order exactly once', async () => {
    const hub = new AlertHub();
    const n = 3 * kBatch + 17;
    for (let i = 0; i < n; i += 100) await log.append('pd-a', Array.from({ length: Math.min(100, n - i) }, (_, k) => draft(i + k)), 0);
    const ac = new AbortController();
    const chunks: string[] = [];
    let maxPerWrite = 0;
    const done = runAlertStream({
      tenant: 'pd-a', after: 0, log, hub, scopesFor: everything, audit: async () => {}, signal: ac.signal,
      write: async (c) => {
        maxPerWrite = Math.max(maxPerWrite, ids([c]).length);
        chunks.push(c);
        await new Promise((r) => setTimeout(r, 5)); // a slow socket: the loop waits for drain
      },
    });
    while (ids(chunks).length < n) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await done;
    expect(ids(chunks)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(maxPerWrite).toBe(kBatch);
  });

  it('re-checks visibility at delivery and audits before writing; an audit failure ends the stream', async () => {
    const hub = new AlertHub();
    await log.append('pd-a', [draft(1, 'pd-a'), draft(2, 'pd-b'), draft(3, 'pd-c'), draft(4, 'pd-a', 5)], 0);
    const audited: Array<{ ids: number[]; owners: string[] }> = [];
    const chunks: string[] = [];
    const ac = new AbortController();
    const done = runAlertStream({
      tenant: 'pd-a', after: 0, log, hub, signal: ac.signal,
      // pd-a's retention cuts ts 5; pd-b shares; pd-c does not
      scopesFor: () => [{ tenant: 'pd-a', minTs: 100 }, { tenant: 'pd-b', minTs: 0 }],
      audit: async (alerts, owners) => {
        expect(ids(chunks)).toEqual([]); // nothing written before its record
        audited.push({ ids: alerts.map((a) => a.id), owners });
      },
      write: async (c) => void chunks.push(c),
    });
    while (ids(chunks).length < 2) await new Promise((r) => setTimeout(r, 2));
    ac.abort();
    await done;
    expect(ids(chunks)).toEqual([1, 2]);
    expect(audited).toEqual([{ ids: [1, 2], owners: ['pd-a', 'pd-b'] }]);

    const failing = runAlertStream({
      tenant: 'pd-a', after: 0, log, hub, signal: new AbortController().signal, scopesFor: everything,
      audit: async () => { throw new Error('audit down'); },
      write: async (c) => void chunks.push(c),
    });
    await expect(failing).rejects.toThrow('audit down');
  });
});
