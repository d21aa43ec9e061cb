/**
 * The audit writer (src/server/audit/writer.ts, writer-worker.ts): a batch's lines and its head marker are
 * written durably in one hop to a kept thread, on the real disk (the trail's default file system, O_DSYNC
 * descriptors). Order under concurrency (the chain order is the commit order, each append resolves only
 * once a marker covering it is on disk), fault injection on that thread's path (a descriptor swapped for
 * /dev/full: the kernel's own ENOSPC), and kill -9 of a process in the middle of its batches.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AuditFile, type AuditFs, nodeAuditFs } from '../src/server/audit/fs.js';
import { decodeHead } from '../src/server/audit/head.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { oracleVerify } from './helpers/audit-oracle.js';
import { dataDirsRemovedAfterAll } from './helpers/data-dirs.js';
import { call, kRepoRoot, readAuditStored, startTestServer } from './helpers/server.js';

const fields = (i: number) => ({
  requestId: `r${i}`, actorTenant: 'pd-a', user: 'u', action: 'search', params: { i }, purpose: 'p', case: 'c',
  outcome: 'ok' as const, status: 200, resultCount: 0, tenantsTouched: ['pd-a'], ip: '', durationMs: 0,
});

const dataDir = dataDirsRemovedAfterAll();

/** Whether the marker on disk covers `seq` and the log holds what it says (marker read first: the log only grows). */
function durable(d: string, tenant: string, seq: number): boolean {
  const head = decodeHead(readFileSync(join(d, 'audit', `${tenant}.head`)));
  const size = statSync(join(d, 'audit', `${tenant}.jsonl`)).size;
  return head !== undefined && head.seq >= seq && size >= head.len;
}

describe('audit writer thread: order under concurrency', () => {
  it('600 concurrent appends over 3 logs: one hop per batch, each durable when it resolves, resolved in seq order, chains valid', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    const tenants = ['pd-a', 'pd-b', 'pd-c'];
    const resolved = new Map<string, number[]>(tenants.map((t) => [t, []]));
    const violations: string[] = [];
    const n = 600;
    await Promise.all(Array.from({ length: n }, (_, i) => {
      const t = tenants[i % 3]!;
      return trail.append(t, { ...fields(i), actorTenant: t }).then((r) => {
        resolved.get(t)!.push(r.seq);
        if (!durable(d, t, r.seq)) violations.push(`${t} seq ${r.seq} resolved before a marker covering it was on disk`);
      });
    }));
    const stats = trail.writerStats;
    await trail.close();
    expect(violations).toEqual([]);
    // every batch went to the writer thread, and concurrent appends shared batches
    expect(stats.threadCommits).toBe(stats.commits);
    expect(stats.commits).toBeLessThan(n / 5);
    for (const t of tenants) {
      const seqs = resolved.get(t)!;
      expect(seqs).toEqual(Array.from({ length: n / 3 }, (_, i) => i + 1));
      const records = await readAuditStored(d, t);
      expect(records.map((r) => r.seq)).toEqual(seqs);
      expect(new Set(records.map((r) => r.requestId)).size).toBe(n / 3);
      expect(oracleVerify(join(d, 'audit', `${t}.jsonl`))).toMatchObject({ ok: true, count: n / 3 });
    }
    const again = await AuditTrail.open(d);
    for (const t of tenants) expect(await again.verify(t)).toMatchObject({ ok: true, count: n / 3 });
    await again.close();
  });

  it('batches larger than the shared buffer (1 MiB, grown twice), multi-byte text, small ones between: the log holds exactly the lines', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    // '€' is 3 bytes of UTF-8: 400k of them pass 1 MiB, 1.2M pass 2 MiB; 'é' (2 bytes) fits the 3-bytes bound
    const texts = ['€'.repeat(400_000), 'small', 'é'.repeat(200_000), '€'.repeat(1_200_000), 'x', 'ü€'.repeat(10)];
    const records = await Promise.all(texts.map((t, i) => trail.append('pd-a', { ...fields(i), params: { t } })));
    const more = await trail.append('pd-a', { ...fields(99), params: { t: 'after' } });
    const stats = trail.writerStats;
    await trail.close();
    expect(stats.threadCommits).toBe(stats.commits);
    const stored = await readAuditStored(d, 'pd-a');
    expect(stored.map((r) => r.seq)).toEqual([...records.map((r) => r.seq), more.seq]);
    expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: texts.length + 1 });
    const again = await AuditTrail.open(d);
    expect(await again.verify('pd-a')).toMatchObject({ ok: true, count: texts.length + 1 });
    // params are sealed on disk: read back opened
    const opened = (await again.query('pd-a', { limit: 100 })).records;
    expect(opened.map((r) => (r.params as { t: string }).t)).toEqual([...texts, 'after']);
    await again.close();
  });

  it('the writer thread dies in the middle of batches: its batch fails (not acknowledged), a new thread takes the next, the chain goes on', async () => {
    const d = await dataDir();
    const trail = await AuditTrail.open(d);
    await trail.append('pd-a', fields(0));
    const writer = (trail as unknown as { writer: { thread?: { worker: { terminate(): Promise<number> } } } }).writer;
    const pending = Array.from({ length: 40 }, (_, i) => trail.append('pd-a', fields(i + 1)));
    await writer.thread!.worker.terminate();
    const settled = await Promise.allSettled(pending);
    for (const r of settled) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE', status: 503 });
    }
    const after = await trail.append('pd-a', fields(100));
    await trail.close();
    const acked = [0, ...settled.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : [])), 100].map((i) => `r${i}`);
    expect((await readAuditStored(d, 'pd-a')).map((r) => r.requestId)).toEqual(acked);
    expect(after.seq).toBe(acked.length);
    expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: acked.length });
  });

  it('a server under 150 concurrent searches: every answered search recorded once, chain valid', async () => {
    const ts = await startTestServer({ users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'aud', roles: ['auditor'] }] });
    try {
      // as each answer arrives, its record is in the log within the length the marker on disk covers
      // (the marker read first: the log only grows)
      const early: string[] = [];
      const answers = await Promise.all(Array.from({ length: 150 }, async (_, i) => {
        const a = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'inv'), json: { plate: `W${i}`, purpose: 'p', case: 'c' } });
        const head = decodeHead(readFileSync(join(ts.dataDir, 'audit', 'pd-a.head')))!;
        const covered = readFileSync(join(ts.dataDir, 'audit', 'pd-a.jsonl')).subarray(0, head.len).toString('utf8');
        if (!covered.includes(`"requestId":"${String(a.headers['x-request-id'])}"`)) early.push(String(a.headers['x-request-id']));
        return a;
      }));
      expect(early).toEqual([]);
      for (const a of answers) expect(a.status).toBe(200);
      const ids = answers.map((a) => String(a.headers['x-request-id']));
      const records = (await readAuditStored(ts.dataDir, 'pd-a')).filter((r) => ids.includes(r.requestId));
      expect(records).toHaveLength(150);
      expect(new Set(records.map((r) => r.requestId)).size).toBe(150);
      const v = await call(ts.url, 'GET', '/v1/audit/verify', { token: ts.token('pd-a', 'aud') });
      expect(v.json.ok).toBe(true);
      expect(ts.server.services.auditTrail.writerStats.threadCommits).toBeGreaterThan(0);
    } finally {
      await ts.close();
    }
  });
});

describe('audit writer thread: one request at a time, its record sealed before the hand-off', () => {
  it('one client, searches one after another: each sealed on the main thread, each answer only once the marker on disk covers its record, chain valid', async () => {
    const ts = await startTestServer({ users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }, { tenant: 'pd-a', user: 'aud', roles: ['auditor'] }] });
    try {
      const before = ts.server.services.auditTrail.writerStats.madeHere;
      const early: string[] = [];
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const a = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'inv'), json: { plate: `S${i}`, purpose: 'p', case: 'c' } });
        expect(a.status).toBe(200);
        const id = String(a.headers['x-request-id']);
        ids.push(id);
        // read as the answer arrives: the marker first (the log only grows), then the log up to its length
        const head = decodeHead(readFileSync(join(ts.dataDir, 'audit', 'pd-a.head')))!;
        const covered = readFileSync(join(ts.dataDir, 'audit', 'pd-a.jsonl')).subarray(0, head.len).toString('utf8');
        if (!covered.includes(`"requestId":"${id}"`)) early.push(id);
      }
      expect(early).toEqual([]);
      // every one of them was alone in the server, so sealed before the hand-off
      expect(ts.server.services.auditTrail.writerStats.madeHere - before).toBeGreaterThanOrEqual(60);
      const records = (await readAuditStored(ts.dataDir, 'pd-a')).filter((r) => ids.includes(r.requestId));
      expect(records.map((r) => r.requestId)).toEqual(ids);
      const v = await call(ts.url, 'GET', '/v1/audit/verify', { token: ts.token('pd-a', 'aud') });
      expect(v.json.ok).toBe(true);
    } finally {
      await ts.close();
    }
  });
});

/**
 * The real disk, but while `faults.log` / `faults.head` is set the files' descriptors (what the writer thread
 * writes through) are /dev/full's: the thread's O_DSYNC write fails with the kernel's ENOSPC.
 */
function fullDiskFs() {
  const faults = { log: false, head: false };
  const devFull = openSync('/dev/full', 'r+');
  const wrap = (f: AuditFile, isHead: boolean): AuditFile => ({
    durableWrites: f.durableWrites,
    get fd() {
      return (isHead ? faults.head : faults.log) ? devFull : f.fd;
    },
    write: (...a) => f.write(...a),
    read: (...a) => f.read(...a),
    sync: () => f.sync(),
    truncate: (n) => f.truncate(n),
    size: () => f.size(),
    close: () => f.close(),
  });
  const fs: AuditFs = {
    ...nodeAuditFs,
    openReadWrite: async (p) => wrap(await nodeAuditFs.openReadWrite(p), p.endsWith('.head')),
  };
  return { fs, faults, close: () => closeSync(devFull) };
}

describe('audit writer thread: a failing durable write', () => {
  for (const file of ['log', 'head'] as const) {
    it(`ENOSPC on the ${file === 'log' ? "log's lines" : 'head marker'}: the batch rejects, nothing is acknowledged, and appends fail until the disk recovers`, async () => {
      const d = await dataDir();
      const disk = fullDiskFs();
      const trail = await AuditTrail.open(d, { fs: disk.fs });
      const heard: number[] = [];
      trail.onAppend((_t, r) => heard.push(r.seq));
      await trail.append('pd-a', fields(1));
      disk.faults[file] = true;
      const failed = await Promise.allSettled([2, 3, 4].map((i) => trail.append('pd-a', fields(i))));
      for (const r of failed) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE', status: 503 });
      }
      // still full: the next batch recovers the log, then fails again
      await expect(trail.append('pd-a', fields(5))).rejects.toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE' });
      expect(heard).toEqual([1]);
      // the marker on disk never claimed a record that was not acknowledged
      expect(decodeHead(readFileSync(join(d, 'audit', 'pd-a.head')))!.seq).toBe(1);
      disk.faults[file] = false;
      const r6 = await trail.append('pd-a', fields(6));
      expect(r6.seq).toBe(2);
      expect(trail.writerStats.threadCommits).toBe(trail.writerStats.commits);
      await trail.close();
      disk.close();
      expect((await readAuditStored(d, 'pd-a')).map((r) => r.requestId)).toEqual(['r1', 'r6']);
      expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 2 });
      const again = await AuditTrail.open(d);
      expect(await again.verify('pd-a')).toMatchObject({ ok: true, count: 2 });
      await again.close();
    });
  }

  for (const file of ['log', 'head'] as const) {
    it(`sealed before the hand-off (caller idle), ENOSPC on the ${file === 'log' ? "log's lines" : 'head marker'}: rejects, the marker does not move, the chain goes on after`, async () => {
      const d = await dataDir();
      const disk = fullDiskFs();
      const trail = await AuditTrail.open(d, { fs: disk.fs });
      const heard: string[] = [];
      trail.onAppend((_t, r) => heard.push(r.requestId));
      const idle = { callerIdle: true };
      await trail.appendDurable('pd-a', fields(1), idle);
      disk.faults[file] = true;
      for (const i of [2, 3]) await expect(trail.appendDurable('pd-a', fields(i), idle)).rejects.toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE', status: 503 });
      expect(heard).toEqual(['r1']);
      expect(decodeHead(readFileSync(join(d, 'audit', 'pd-a.head')))!.seq).toBe(1);
      disk.faults[file] = false;
      await trail.appendDurable('pd-a', fields(4), idle);
      expect(heard).toEqual(['r1', 'r4']);
      const stats = trail.writerStats;
      expect(stats).toMatchObject({ commits: 4, threadCommits: 4, madeHere: 4 });
      await trail.close();
      disk.close();
      expect((await readAuditStored(d, 'pd-a')).map((r) => [r.seq, r.requestId])).toEqual([[1, 'r1'], [2, 'r4']]);
      const again = await AuditTrail.open(d);
      expect(await again.verify('pd-a')).toMatchObject({ ok: true, count: 2 });
      await again.close();
    });
  }

  it('over HTTP: a search whose record cannot be made durable answers 503, not its hits', async () => {
    const d = await dataDir();
    const disk = fullDiskFs();
    const trail = await AuditTrail.open(d, { fs: disk.fs });
    const ts = await startTestServer({ dataDir: d, auditTrail: trail, users: [{ tenant: 'pd-a', user: 'inv', roles: ['investigator'] }] });
    try {
      const search = () => call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'inv'), json: { plate: 'ABC123', purpose: 'p', case: 'c' } });
      expect((await search()).status).toBe(200);
      disk.faults.head = true;
      const answers = await Promise.all(Array.from({ length: 6 }, search));
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(a.json.hits).toBeUndefined();
      }
      disk.faults.head = false;
      expect((await search()).status).toBe(200);
      const ids = (await readAuditStored(d, 'pd-a')).map((r) => r.requestId);
      for (const a of answers) expect(ids).not.toContain(String(a.headers['x-request-id']));
      expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl')).ok).toBe(true);
    } finally {
      await ts.close();
      disk.close();
    }
  });
});

describe('audit writer thread: kill -9 in the middle of batches', () => {
  it('three crashes under 16 concurrent appenders: every acknowledged record is there, the chain verifies and goes on', async () => {
    const d = await dataDir();
    // the appender: acknowledges each record on stdout once its append resolved (the thread path: built dist)
    const script = join(d, 'appender.mjs');
    writeFileSync(script, `
      import { AuditTrail } from ${JSON.stringify(join(kRepoRoot, 'dist/src/server/audit/trail.js'))};
      const trail = await AuditTrail.open(process.argv[2]);
      const run = process.argv[3];
      await Promise.all(Array.from({ length: 16 }, async (_, c) => {
        for (let i = 0; ; i++) {
          const r = await trail.append('pd-a', { requestId: run + '-' + c + '-' + i, actorTenant: 'pd-a', user: 'u', action: 'search', params: { i }, outcome: 'ok', status: 200 });
          process.stdout.write(r.seq + ' ' + r.requestId + '\\n');
        }
      }));
    `);
    const acked = new Map<string, number>();
    for (let run = 0; run < 3; run++) {
      const child = spawn(process.execPath, [script, d, `k${run}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const enough = new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.split('\n').length > 150) resolve();
      }));
      const exited = new Promise((r) => child.on('exit', r));
      await Promise.race([enough, exited]);
      child.kill('SIGKILL');
      await exited;
      for (const line of out.split('\n')) {
        const [seq, id] = line.split(' ');
        if (id) acked.set(id, Number(seq));
      }
    }
    expect(acked.size).toBeGreaterThan(300);
    const trail = await AuditTrail.open(d);
    const r = await trail.append('pd-a', fields(0));
    const v = await trail.verify('pd-a');
    await trail.close();
    expect(v).toMatchObject({ ok: true, count: r.seq });
    const bySeq = new Map((await readAuditStored(d, 'pd-a')).map((x) => [x.requestId, x.seq]));
    for (const [id, seq] of acked) expect(bySeq.get(id)).toBe(seq);
    expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: r.seq });
  });
});
