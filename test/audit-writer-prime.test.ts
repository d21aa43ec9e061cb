/**
 * The audit writer primed (writer.ts `prime`): a caller about to make a lone request's record wakes the idle
 * writer thread, which watches for the batch for a bounded time instead of sleeping until its post, and sleeps
 * again if none comes. The batches and their order are the same either way: each append resolves only once its
 * record and a marker covering it are on disk, in seq order, and the chain verifies.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../src/server/audit/trail.js';
import { kPrimedWatchMs } from '../src/server/audit/writer-channel.js';
import { oracleVerify } from './helpers/audit-oracle.js';
import { busy, durableOnDisk, expectProbeLog, probeFields, WatchedAppends } from './helpers/audit-writer-probes.js';
import { dataDirsRemovedAfterAll } from './helpers/data-dirs.js';
import { call, startTestServer } from './helpers/server.js';

const dataDir = dataDirsRemovedAfterAll();

describe('audit writer primed', () => {
  it('a primed thread takes the batch posted while it watches; primed with nothing to take, it sleeps again', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    trail.prime(); // no thread yet: nothing to wake
    await trail.append('pd-a', probeFields(0)); // starts the thread, opens the log and the sealer
    expect(trail.writerStats.primedTakes).toBe(0);

    // primed, then the batch posted while the thread watches (as a lone request's record is made): the watching
    // thread takes it. A post that beats the thread's wake-up is taken as any other, so the batch is posted once
    // the thread says it watches; again if a loaded box took either thread off its core for the whole watch
    let seq = 1;
    for (let tries = 0; tries < 20 && trail.writerStats.primedTakes === 0; tries++) {
      const wakes = trail.writerStats.primedWakes;
      trail.prime();
      const until = performance.now() + 200;
      while (trail.writerStats.primedWakes === wakes && performance.now() < until);
      await trail.appendDurable('pd-a', probeFields(seq++), { callerIdle: true });
      expect(durableOnDisk(d, seq)).toBe(true);
    }
    expect(trail.writerStats.primedTakes).toBe(1);

    // not primed: the post wakes the sleeping thread, as before
    await trail.appendDurable('pd-a', probeFields(seq++), { callerIdle: true });
    expect(trail.writerStats.primedTakes).toBe(1);

    // primed, and no batch within the watch: the thread sleeps again, and the next post wakes it. The post waits
    // until the thread has woken (a loaded box may take a while to run it) and its watch has passed
    const wakes = trail.writerStats.primedWakes;
    trail.prime();
    for (let waited = 0; trail.writerStats.primedWakes === wakes && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50 * kPrimedWatchMs));
    await trail.appendDurable('pd-a', probeFields(seq++));
    expect(durableOnDisk(d, seq)).toBe(true);
    expect(trail.writerStats.primedTakes).toBe(1);
    expect(trail.writerStats.primedWakes).toBe(wakes + 1);

    const stats = trail.writerStats;
    await trail.close();
    trail.prime(); // closed: nothing to wake
    expect(stats.threadCommits).toBe(stats.commits);
    expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: seq });
  });

  it('primes, appends and settles at random times: each durable when it resolves, resolved in seq order, chain valid', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    const appends = new WatchedAppends(d);
    const n = 300;
    await trail.append('pd-a', probeFields(-1));
    let seed = 777;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let primes = 0;
    for (let i = 0; i < n; i++) {
      // primed or not; the batch posted at once, after some work within the watch or past it, or behind another
      if (random() < 0.6) {
        trail.prime();
        primes++;
      }
      busy(random() < 0.7 ? random() * 500 : random() * 2000);
      appends.watch(trail.append('pd-a', probeFields(i)));
      if (random() < 0.3) trail.settle(random() * 2);
      if (random() < 0.5) await new Promise((r) => setImmediate(r));
    }
    await appends.expectDurableInOrder();
    const stats = trail.writerStats;
    await trail.close();
    expect(stats.threadCommits).toBe(stats.commits);
    // how many batches a watching thread took is the box's timing (the first test holds that path); what holds
    // whatever the timing is above and below
    expect(stats.primes).toBeLessThanOrEqual(primes);
    expect(stats.primedTakes).toBeLessThanOrEqual(stats.primedWakes);
    await expectProbeLog(d, n);
  });

  it('a server serving one request at a time primes the writer for each record after the first; the records verify', async () => {
    const ts = await startTestServer({ users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'aud', roles: ['auditor'] }] });
    try {
      const trail = ts.server.services.auditTrail;
      for (let i = 0; i < 20; i++) {
        const a = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'inv'), json: { plate: `S${i}`, purpose: 'p', case: 'c' } });
        expect(a.status).toBe(200);
      }
      // the thread started with the first record; each later one primed it as its handler answered. Whether the
      // thread was watching when the batch came is the box's timing (a small record is often made and posted
      // before a woken thread runs, and is then taken as any other): the unit tests above hold that part
      const s = trail.writerStats;
      expect(s.primes).toBeGreaterThanOrEqual(19);
      expect(s.primedTakes).toBeLessThanOrEqual(s.primes);
      const v = await call(ts.url, 'GET', '/v1/audit/verify', { token: ts.token('pd-a', 'aud') });
      expect(v.json.ok).toBe(true);
    } finally {
      await ts.close();
    }
  });
});
