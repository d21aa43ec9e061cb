/**
 * Audit group commit (issue 12, issue 15): concurrent appends share one durable write of the log and one of
 * its head marker; each append resolves only once its record and a marker covering it are on disk; the
 * chain order is the commit order (appends resolve in seq order). Through the trail's file-system seam
 * (counting writes), and through a real server under concurrent requests. One batch of a log is committed at a
 * time (its lines, then its marker: one hop to the audit writer's thread, writer.ts), never the marker before
 * the lines it covers; the appends that arrive meanwhile become the next batch.
 */
import { statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditFs, nodeAuditFs } from '../src/server/audit/fs.js';
import { decodeHead, type HeadMarker } from '../src/server/audit/head.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { call, makeDataDir, readAudit, startTestServer } from './helpers/server.js';
import { oracleVerify } from './helpers/audit-oracle.js';

/** nodeAuditFs, counting the writes to each file name. */
function countingFs(writes: Map<string, number>): AuditFs {
  return {
    ...nodeAuditFs,
    async openReadWrite(path) {
      const f = await nodeAuditFs.openReadWrite(path);
      const name = path.split('/').pop()!;
      return {
        durableWrites: f.durableWrites,
        write: (buf, off, len, pos) => {
          writes.set(name, (writes.get(name) ?? 0) + 1);
          return f.write(buf, off, len, pos);
        },
        read: (...a) => f.read(...a),
        sync: () => f.sync(),
        truncate: (n) => f.truncate(n),
        size: () => f.size(),
        close: () => f.close(),
      };
    },
  };
}

const fields = (i: number) => ({
  requestId: `r${i}`, actorTenant: 'pd-a', user: 'u', action: 'search', params: { i }, purpose: 'p', case: 'c',
  outcome: 'ok' as const, status: 200, resultCount: 0, tenantsTouched: ['pd-a'], ip: '', durationMs: 0,
});

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('audit group commit', () => {
  it('300 concurrent appends: a few shared writes; each durable (log and marker) when it resolves; resolved in seq order', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const writes = new Map<string, number>();
    const trail = await AuditTrail.open(dataDir, { fs: countingFs(writes) });
    const logPath = join(dataDir, 'audit', 'pd-a.jsonl');
    const headPath = join(dataDir, 'audit', 'pd-a.head');
    const resolvedSeqs: number[] = [];
    const violations: string[] = [];
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => trail.append('pd-a', fields(i)).then(async (r) => {
      resolvedSeqs.push(r.seq);
      // durable before the answer: the log holds the record, the marker covers it. The marker is read
      // first: the log grows before its marker does, so a size read after the marker must cover it even
      // when later group commits land between the two reads
      const head = decodeHead(await readFile(headPath));
      const size = statSync(logPath).size;
      if (!head || head.seq < r.seq || size < head.len) violations.push(`seq ${r.seq}: head ${head?.seq} size ${size}`);
    })));
    await trail.close();
    expect(violations).toEqual([]);
    expect(resolvedSeqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const logWrites = writes.get('pd-a.jsonl') ?? 0;
    const headWrites = writes.get('pd-a.head') ?? 0;
    // the first append is alone in its batch; the rest queue behind it and share writes
    expect(logWrites).toBeGreaterThanOrEqual(1);
    expect(logWrites).toBeLessThanOrEqual(n / 10);
    expect(headWrites).toBeLessThanOrEqual(logWrites + 2);
    const records = await readAudit(dataDir, 'pd-a');
    expect(records.map((r) => r.seq)).toEqual(resolvedSeqs);
    expect(new Set(records.map((r) => r.requestId)).size).toBe(n);
  });

  it('a server under 120 concurrent requests: fewer log writes than requests, every record there once, chain valid', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const writes = new Map<string, number>();
    const trail = await AuditTrail.open(dataDir, { fs: countingFs(writes) });
    const ts = await startTestServer({ dataDir, auditTrail: trail, users: [{ tenant: 'pd-a', user: 'aud', roles: ['auditor'] }] });
    try {
      const before = writes.get('pd-a.jsonl') ?? 0;
      const n = 120;
      const answers = await Promise.all(Array.from({ length: n }, () => call(ts.url, 'GET', '/v1/policy', { token: ts.token('pd-a', 'aud') })));
      for (const a of answers) expect(a.status).toBe(200);
      const used = (writes.get('pd-a.jsonl') ?? 0) - before;
      expect(used).toBeLessThan(n);
      const ids = new Set(answers.map((a) => a.headers['x-request-id']));
      const records = (await readAudit(dataDir, 'pd-a')).filter((r) => ids.has(r.requestId));
      expect(records).toHaveLength(n);
      const v = await call(ts.url, 'GET', '/v1/audit/verify', { token: ts.token('pd-a', 'aud') });
      expect(v.json.ok).toBe(true);
      if (process.env.GROUP_COMMIT_VERBOSE) console.log(`${n} requests, ${used} log writes`);
    } finally {
      await ts.close();
    }
  });
});

/** What the slow-disk tests see of the disk, in the order it happened. */
interface DiskEvent {
  kind: 'log-start' | 'log-end' | 'head-start' | 'head-end';
  /** log: the end of the written range; head: the marker written. */
  end?: number;
  marker?: HeadMarker;
}

/**
 * nodeAuditFs whose log writes take `logDelayMs` and marker writes `headDelayMs` longer (synchronous writes
 * waiting for the device), logging every write of the log and of the marker; `failHead(n)` makes the n-th
 * marker write fail with EIO after its delay.
 */
function slowDiskFs(logDelayMs: number, headDelayMs: number) {
  const events: DiskEvent[] = [];
  let headWrites = 0;
  let failAt = -1;
  const fs: AuditFs = {
    ...nodeAuditFs,
    async openReadWrite(path) {
      const f = await nodeAuditFs.openReadWrite(path);
      const isHead = path.endsWith('.head');
      return {
        durableWrites: f.durableWrites,
        async write(buf, off, len, pos) {
          if (!isHead) {
            events.push({ kind: 'log-start' });
            if (logDelayMs > 0) await new Promise((r) => setTimeout(r, logDelayMs));
            const n = await f.write(buf, off, len, pos);
            events.push({ kind: 'log-end', end: pos + n });
            return n;
          }
          const marker = decodeHead(Buffer.from(buf.subarray(off, off + len)));
          events.push({ kind: 'head-start', marker });
          const nth = ++headWrites;
          if (headDelayMs > 0) await new Promise((r) => setTimeout(r, headDelayMs));
          if (nth === failAt) throw Object.assign(new Error('EIO'), { code: 'EIO' });
          const n = await f.write(buf, off, len, pos);
          events.push({ kind: 'head-end', marker });
          return n;
        },
        read: (...a) => f.read(...a),
        sync: () => f.sync(),
        truncate: (n) => f.truncate(n),
        size: () => f.size(),
        close: () => f.close(),
      };
    },
  };
  return { fs, events, failHead: (n: number) => (failAt = n), headWrites: () => headWrites };
}

describe('audit group commit, on a slow disk', () => {
  it('one batch at a time: lines, then their marker; no marker ahead of the log; each append resolves after a marker covering it; the queue behind a batch is the next batch', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const disk = slowDiskFs(4, 15);
    const trail = await AuditTrail.open(dataDir, { fs: disk.fs });
    await trail.append('pd-a', fields(0)); // opens the log and its marker outside the measured part
    disk.events.length = 0;
    const violations: string[] = [];
    const covered = (seq: number) => disk.events.some((e) => e.kind === 'head-end' && e.marker!.seq >= seq);
    const resolved: number[] = [];
    // a closed loop of 6 clients, as a server under load sees: each appends again once answered and its next
    // request is parsed and searched (a few ms, different for each: the clients drift apart)
    await Promise.all(Array.from({ length: 6 }, async (_, c) => {
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, (c * 7 + i * 3) % 6));
        const r = await trail.append('pd-a', fields(1000 * c + i));
        resolved.push(r.seq);
        if (!covered(r.seq)) violations.push(`seq ${r.seq} resolved before a marker covering it was written`);
      }
    }));
    await trail.close();
    // the marker never claims more of the log than is durably written when it is written
    let written = 0;
    let overlapped = 0;
    let headInFlight = false;
    let batches = 0;
    for (const e of disk.events) {
      if (e.kind === 'log-end') written = Math.max(written, e.end!);
      if (e.kind === 'head-start') {
        headInFlight = true;
        if (!e.marker || e.marker.len > written) violations.push(`marker ${JSON.stringify(e.marker)} written with the log durable to ${written}`);
      }
      if (e.kind === 'head-end') headInFlight = false;
      if (e.kind === 'log-start' && headInFlight) overlapped++;
      if (e.kind === 'log-start') batches++;
    }
    expect(violations).toEqual([]);
    // one commit in flight: no batch's lines go while a marker is being written
    expect(overlapped).toBe(0);
    // grouped: the 6 clients' appends share batches
    expect(batches).toBeLessThan(48);
    // markers in seq order, one per batch at most
    const marks = disk.events.filter((e) => e.kind === 'head-end').map((e) => e.marker!.seq);
    expect(marks).toEqual([...marks].sort((a, b) => a - b));
    expect(new Set(marks).size).toBe(marks.length);
    expect([...resolved].sort((a, b) => a - b)).toEqual(Array.from({ length: 48 }, (_, i) => i + 2));
    expect(oracleVerify(join(dataDir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 49 });
    const again = await AuditTrail.open(dataDir);
    expect(await again.verify('pd-a')).toMatchObject({ ok: true, count: 49 });
    await again.close();
  });

  it('a marker that fails rejects its batch; the log is cut back and the appends queued behind it go on, chained from the last durable record', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const disk = slowDiskFs(4, 40);
    const trail = await AuditTrail.open(dataDir, { fs: disk.fs });
    await trail.append('pd-a', fields(0));
    disk.failHead(disk.headWrites() + 1);
    disk.events.length = 0;
    const a = trail.append('pd-a', fields(1));
    // B is appended once A's lines are durable, while A's (failing) marker is being written: it waits for A
    while (!disk.events.some((e) => e.kind === 'log-end')) await new Promise((r) => setTimeout(r, 1));
    const b = trail.append('pd-a', fields(2));
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe('rejected');
    expect((ra as PromiseRejectedResult).reason).toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE', status: 503 });
    // A's lines were durable but never covered by a marker: cut back, and B takes seq 2 after them
    expect(rb.status).toBe('fulfilled');
    expect((rb as PromiseFulfilledResult<{ seq: number }>).value.seq).toBe(2);
    const bStarted = disk.events.findIndex((e, i) => e.kind === 'log-start' && i > 0);
    const aMarkerFailed = disk.events.findIndex((e) => e.kind === 'head-start');
    expect(bStarted).toBeGreaterThan(aMarkerFailed);
    const c = await trail.append('pd-a', fields(3));
    expect(c.seq).toBe(3);
    await trail.close();
    const records = await readAudit(dataDir, 'pd-a');
    expect(records.map((r) => r.requestId)).toEqual(['r0', 'r2', 'r3']);
    expect(oracleVerify(join(dataDir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 3 });
    const again = await AuditTrail.open(dataDir);
    expect(await again.verify('pd-a')).toMatchObject({ ok: true, count: 3 });
    await again.close();
  });

  it('on a disk whose writes return at once, a batch waits for its marker: the queue behind it becomes one batch', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const disk = slowDiskFs(0, 0);
    const trail = await AuditTrail.open(dataDir, { fs: disk.fs });
    await trail.append('pd-a', fields(0));
    disk.events.length = 0;
    await Promise.all(Array.from({ length: 200 }, (_, i) => trail.append('pd-a', fields(i + 1))));
    await trail.close();
    // 200 records in a handful of batches (one per marker), not in many small overlapping ones
    expect(disk.events.filter((e) => e.kind === 'log-start').length).toBeLessThanOrEqual(20);
    expect(oracleVerify(join(dataDir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 201 });
  });
});
