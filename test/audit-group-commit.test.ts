/**
 * Audit group commit (issue 12, issue 15): concurrent appends share one durable write of the log and one of
 * its head marker; each append resolves only once its record and a marker covering it are on disk; the
 * chain order is the commit order (appends resolve in seq order). Through the trail's file-system seam
 * (counting writes), and through a real server under concurrent requests.
 */
import { statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditFs, nodeAuditFs } from '../src/server/audit/fs.js';
import { decodeHead } from '../src/server/audit/head.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { call, makeDataDir, readAudit, startTestServer } from './helpers/server.js';

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
