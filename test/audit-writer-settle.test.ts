/**
 * The audit writer's settle (writer.ts): a caller with nothing else to run watches, on its own thread and for a
 * bounded time, for the batch on the writer thread to be answered, and takes the answer there, without the
 * event loop running the answer's wake-up. Whatever the bounds and the timing, an append resolves only once
 * its record and a marker covering it are on disk, appends resolve in seq order, and the chain verifies.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { decodeHead } from '../src/server/audit/head.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { oracleVerify } from './helpers/audit-oracle.js';
import { busy, durableOnDisk, expectProbeLog, probeFields, WatchedAppends } from './helpers/audit-writer-probes.js';
import { dataDirsRemovedAfterAll } from './helpers/data-dirs.js';
import { call, startTestServer } from './helpers/server.js';

const dataDir = dataDirsRemovedAfterAll();

/** Lets queued microtasks run, but no event-loop task (the writer's wake-up is one). */
async function microtasks(n = 200): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe('audit writer settle', () => {
  it('answers the batch on the thread here, with no event-loop turn, once its marker is on disk; a bound that passes leaves it to the event loop', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    trail.settle(50); // nothing on the thread: returns at once
    await trail.append('pd-a', probeFields(0)); // opens the log and the sealer: the next appends reach the thread in their call
    for (const callerIdle of [true, false]) {
      const seq = trail.writerStats.commits + 1;
      let got: boolean | undefined;
      const a = trail.appendDurable('pd-a', probeFields(seq), { callerIdle }).then(() => (got = durableOnDisk(d, seq)));
      trail.settle(10_000);
      await microtasks();
      expect(got).toBe(true); // resolved without an event-loop turn, and durable when it did
      await a;
    }
    expect(trail.writerStats.settled).toBe(2);
    expect(trail.writerStats.madeHere).toBe(1);
    // a bound already passed: the done word is looked at once (a fast disk may have answered already); if it
    // is not answered, nothing is taken here and the event loop answers it as before
    let late: boolean | undefined;
    const b = trail.appendDurable('pd-a', probeFields(4), { callerIdle: true }).then(() => (late = durableOnDisk(d, 4)));
    trail.settle(0);
    await microtasks();
    const settledAtOnce = trail.writerStats.settled === 3;
    expect(late).toBe(settledAtOnce ? true : undefined);
    await b;
    expect(late).toBe(true);
    expect(trail.writerStats.settled).toBe(settledAtOnce ? 3 : 2);
    expect(trail.writerStats.threadCommits).toBe(trail.writerStats.commits);
    await trail.close();
    trail.settle(50); // closed: nothing to watch
    expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 4 });
  });

  it('appends and settles of random bounds at random times: each durable when it resolves, resolved in seq order, chain valid', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    const appends = new WatchedAppends(d);
    const n = 400;
    await trail.append('pd-a', probeFields(-1)); // opens the log and the sealer: each append below reaches the thread in its call
    // a seeded generator: the same schedule of appends, bounds, spins and settles on every run
    let seed = 4242;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let checks = 0;
    for (let i = 0; i < n; i++) {
      const appended = trail.append('pd-a', probeFields(i));
      appends.watch(appended);
      if (i % 50 === 48) {
        // once all before it are answered the trail is idle, and an append reaches the thread in its call: a bound
        // no disk passes takes its answer here. (A short bound taking one is the box's timing: a loaded disk passes
        // them all; and amid the schedule a batch may wait in the trail's continuation, leaving none on the thread)
        await appended;
        const s0 = trail.writerStats.settled;
        appends.watch(trail.append('pd-a', probeFields(++i)));
        trail.settle(10_000);
        expect(trail.writerStats.settled).toBe(s0 + 1);
        checks++;
        continue;
      }
      // settled at once with a bound shorter or longer than the two writes, after some work, or not at all
      if (random() < 0.5) trail.settle(random() < 0.3 ? 0 : random() * 2);
      busy(random() * 400);
      if (random() < 0.5) trail.settle(random());
      if (random() < 0.5) {
        // the trail's continuation posts the next batch here; a settle right after it finds that batch on the thread
        await microtasks();
        if (random() < 0.5) trail.settle(random() * 3);
      }
      if (random() < 0.05) await new Promise((r) => setImmediate(r));
    }
    await appends.expectDurableInOrder();
    const stats = trail.writerStats;
    await trail.close();
    expect(stats.threadCommits).toBe(stats.commits);
    expect(checks).toBe(8);
    await expectProbeLog(d, n);
  });

  it('a server: requests one after another are answered through settle once their marker covers them; after concurrent ones, not for a second', async () => {
    // the server asks for a watch of kSettleMs (2 ms); a loaded box's disk often takes longer, and a watch that
    // passes leaves the answer to the event loop (the first test holds that path). So that the answers taken here
    // are certain rather than the box's timing, this trail watches for as long as it takes, and notes the bound asked
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    const bounds: number[] = [];
    const settle = trail.settle.bind(trail);
    trail.settle = (maxMs: number): void => {
      bounds.push(maxMs);
      settle(10_000);
    };
    const ts = await startTestServer({ dataDir: d, auditTrail: trail, users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'aud', roles: ['auditor'] }] });
    try {
      const heldBody = JSON.stringify({ plate: 'HELD1', purpose: 'p', case: 'c' });
      const search = (i: number) => call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'inv'), json: { plate: `S${i}`, purpose: 'p', case: 'c' } });
      const before = trail.writerStats.settled;
      const early: string[] = [];
      for (let i = 0; i < 30; i++) {
        const a = await search(i);
        expect(a.status).toBe(200);
        const id = String(a.headers['x-request-id']);
        const head = decodeHead(readFileSync(join(ts.dataDir, 'audit', 'pd-a.head')))!;
        if (!readFileSync(join(ts.dataDir, 'audit', 'pd-a.jsonl')).subarray(0, head.len).toString('utf8').includes(`"requestId":"${id}"`)) early.push(id);
      }
      expect(early).toEqual([]);
      // the server had served one request at a time from its start: its lone requests watched for their records
      // (each but the first, which opened the tenant's log before its batch reached the thread)
      expect(bounds.length).toBe(30);
      expect(new Set(bounds)).toEqual(new Set([2]));
      expect(trail.writerStats.settled - before).toBeGreaterThanOrEqual(29);
      // requests in flight together: for the next second a lone request leaves its record to the event loop. Made
      // certain rather than hoped for: a search whose body is held back is in flight (the gauge says the server
      // took it) when another one arrives; eight searches fired at once were served one after another on a busy box
      const held = request(`${ts.url}/v1/search`, { method: 'POST', headers: {
        authorization: `Bearer ${ts.token('pd-a', 'inv')}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(heldBody),
      } });
      const heldStatus = new Promise<number>((resolve, reject) => {
        held.on('response', (r) => r.resume().on('end', () => resolve(r.statusCode!)));
        held.on('error', reject);
      });
      held.write(heldBody.slice(0, 8));
      const inFlight = ts.server.services.metrics.getSingleMetric('platesearch_http_requests_in_flight') as Gauge;
      while ((await inFlight.get()).values[0]?.value !== 1) await new Promise((r) => setTimeout(r, 5));
      expect((await search(100)).status).toBe(200);
      held.end(heldBody.slice(8));
      expect(await heldStatus).toBe(200);
      const after = bounds.length;
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) expect((await search(200 + i)).status).toBe(200);
      if (performance.now() - t0 < 900) expect(bounds.length).toBe(after);
      const v = await call(ts.url, 'GET', '/v1/audit/verify', { token: ts.token('pd-a', 'aud') });
      expect(v.json.ok).toBe(true);
    } finally {
      await ts.close();
    }
  });
});
