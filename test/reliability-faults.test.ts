/**
 * Fault injection through the file-system seams (src/store/fs.ts for the WAL, shard writer and manifest;
 * src/server/audit/fs.ts for the audit trail), against a real in-process server:
 *   - while the disk fails, nothing is acknowledged: 503 with a coded error, and the rows are not visible;
 *   - when the fault clears the server recovers (at once, or after a restart where the design says so);
 *   - after a restart every acknowledged read is there exactly once, no corrupt file is reported, and the
 *     audit chains verify.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../src/server/audit/trail.js';
import { setStoreFs } from '../src/store/fs.js';
import { FaultPlan, faultyAuditFs, faultyStoreFs, type FaultKind, type FaultOp } from './helpers/fault-fs.js';
import { call, makeDataDir, sampleRead, startTestServer, type TestServer } from './helpers/server.js';
import { oracleVerify } from './helpers/audit-oracle.js';
import { join } from 'node:path';

let restore: (() => void) | undefined;
const open: TestServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  restore?.();
  restore = undefined;
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function server(dataDir: string, extra: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ dataDir, engineOptions: { sealRows: 1_000_000, sealAgeMs: 0 }, ...extra });
  open.push(s);
  return s;
}

const batch = (from: number, n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => sampleRead(from + i, { readId: `${tag}-${from + i}`, camera: `${tag}-${from + i}` }));

async function ingest(s: TestServer, reads: unknown[]) {
  return call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: reads });
}

/** camera → how many times the tenant's export holds it. */
async function exported(s: TestServer): Promise<Map<string, number>> {
  const res = await call(s.url, 'GET', '/v1/export?format=ndjson', { token: s.token('pd-a', 'admin') });
  expect(res.status).toBe(200);
  const count = new Map<string, number>();
  for (const line of res.text.split('\n').filter((l) => l)) {
    const row = JSON.parse(line) as { camera: string };
    count.set(row.camera, (count.get(row.camera) ?? 0) + 1);
  }
  return count;
}

async function visible(s: TestServer, camera: string): Promise<number> {
  const plate = sampleRead(Number(camera.split('-').pop())).plate;
  const res = await call(s.url, 'POST', '/v1/search', {
    token: s.token('pd-a', 'investigator'), json: { plate, cameras: [camera], purpose: 'fault test', case: 'f' },
  });
  expect(res.status).toBe(200);
  return res.json.total as number;
}

async function auditOk(s: TestServer): Promise<void> {
  const v = await call(s.url, 'GET', '/v1/audit/verify', { token: s.token('pd-a', 'auditor') });
  expect(v.status).toBe(200);
  expect(v.json.ok).toBe(true);
  expect(oracleVerify(join(s.dataDir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true });
}

interface Case {
  op: FaultOp;
  kind: FaultKind;
  mode: 'once' | 'forever';
}

const walCases: Case[] = [
  { op: 'write', kind: 'ENOSPC', mode: 'forever' },
  { op: 'write', kind: 'EIO', mode: 'once' },
  { op: 'write', kind: 'torn', mode: 'once' },
  { op: 'sync', kind: 'EIO', mode: 'once' },
  { op: 'sync', kind: 'ENOSPC', mode: 'forever' },
];

describe('WAL faults', () => {
  for (const c of walCases) {
    it(`${c.op} ${c.kind} (${c.mode}): 503 PS_STORAGE_UNAVAILABLE while failing, appends resume when the disk heals, nothing lost or doubled`, async () => {
      const plan = new FaultPlan();
      restore = setStoreFs(faultyStoreFs(plan));
      const dataDir = await makeDataDir();
      dirs.push(dataDir);
      let s = await server(dataDir);
      const a = batch(0, 20, 'a');
      expect((await ingest(s, a)).status).toBe(200);

      plan.add({ op: c.op, kind: c.kind, mode: c.mode, path: /\.wal$/ });
      const b = batch(100, 20, 'b');
      const failed = await ingest(s, b);
      expect(failed.status).toBe(503);
      expect(failed.json.error.code).toBe('PS_STORAGE_UNAVAILABLE');
      expect(plan.total).toBeGreaterThan(0);
      // not acknowledged, so not visible
      expect(await visible(s, 'b-100')).toBe(0);
      // acknowledged reads are still served
      expect(await visible(s, 'a-0')).toBe(1);
      if (c.mode === 'forever') {
        // still failing: still refused, still coded
        const again = await ingest(s, b);
        expect(again.status).toBe(503);
        expect(again.json.error.code).toBe('PS_STORAGE_UNAVAILABLE');
      }

      // the disk heals: the log cuts the failed group off and takes appends again, without a restart
      plan.clear();
      const later = batch(200, 5, 'c');
      expect((await ingest(s, later)).status).toBe(200);
      expect(await visible(s, 'c-200')).toBe(1);
      // the client retries what was not acknowledged, with the same readIds
      expect((await ingest(s, b)).status).toBe(200);
      expect(await visible(s, 'b-100')).toBe(1);
      await auditOk(s);
      await s.close();

      s = await server(dataDir);
      expect((await ingest(s, b)).status).toBe(200); // and again after the restart: still once
      const count = await exported(s);
      for (const r of [...a, ...b, ...batch(200, 5, 'c')]) expect(count.get(r.camera), r.camera).toBe(1);
      expect(count.size).toBe(45);
      const health = await call(s.url, 'GET', '/healthz');
      expect(health.json).toEqual({ ok: true });
      await auditOk(s);
    });
  }

  it('a short write is completed by the writer: acknowledged, stored once', async () => {
    const plan = new FaultPlan();
    restore = setStoreFs(faultyStoreFs(plan));
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    let s = await server(dataDir);
    plan.add({ op: 'write', kind: 'short', mode: 'forever', path: /\.wal$/ });
    const a = batch(0, 30, 'a');
    expect((await ingest(s, a)).status).toBe(200);
    expect(plan.injected.get('write:short')).toBeGreaterThan(1);
    plan.clear();
    await s.close();
    s = await server(dataDir);
    const count = await exported(s);
    expect([...count.values()]).toEqual(Array(30).fill(1));
  });
});

describe('shard writer and manifest faults', () => {
  const cases: Array<{ name: string; rule: Parameters<FaultPlan['add']>[0] }> = [
    { name: 'ENOSPC writing a shard file, for ever', rule: { op: 'write', kind: 'ENOSPC', mode: 'forever', path: /shards\/.*\.tmp-/ } },
    { name: 'torn shard write', rule: { op: 'write', kind: 'torn', mode: 'once', path: /shards\/.*\.tmp-/ } },
    { name: 'EIO on the shard fsync', rule: { op: 'sync', kind: 'EIO', mode: 'once', path: /shards\/.*\.tmp-/ } },
    { name: 'EIO renaming the manifest (the commit point)', rule: { op: 'rename', kind: 'EIO', mode: 'once', path: /manifest\.json$/ } },
    { name: 'EIO creating the next WAL file (the seal\'s rotation)', rule: { op: 'open', kind: 'EIO', mode: 'once', path: /wal\/[0-9a-f]+\.wal$/ } },
    { name: 'ENOSPC writing the next WAL file\'s header', rule: { op: 'write', kind: 'ENOSPC', mode: 'once', path: /wal\/[0-9a-f]+\.wal$/ } },
  ];
  for (const c of cases) {
    it(`${c.name}: ingest keeps acknowledging, rows stay live and whole, sealing succeeds after the fault`, async () => {
      const plan = new FaultPlan();
      restore = setStoreFs(faultyStoreFs(plan));
      const dataDir = await makeDataDir();
      dirs.push(dataDir);
      let s = await server(dataDir);
      const engine = s.server.services.engine;
      const a = batch(0, 40, 'a');
      expect((await ingest(s, a)).status).toBe(200);
      plan.add(c.rule);
      await expect(engine.seal('pd-a')).rejects.toBeDefined();
      expect(plan.total).toBeGreaterThan(0);
      // ingest still acknowledges (sealing is off the ingest path) and every row is visible once
      const b = batch(100, 40, 'b');
      expect((await ingest(s, b)).status).toBe(200);
      expect(engine.stats().shards).toBe(0);
      let count = await exported(s);
      expect(count.size).toBe(80);
      expect([...count.values()].every((n) => n === 1)).toBe(true);
      plan.clear();
      await engine.seal('pd-a');
      expect(engine.stats().shards).toBeGreaterThan(0);
      expect(engine.stats().liveReads).toBe(0);
      count = await exported(s);
      expect(count.size).toBe(80);
      expect([...count.values()].every((n) => n === 1)).toBe(true);
      await s.close();
      s = await server(dataDir);
      count = await exported(s);
      expect(count.size).toBe(80);
      expect([...count.values()].every((n) => n === 1)).toBe(true);
      expect((await call(s.url, 'GET', '/healthz')).json).toEqual({ ok: true });
      expect(await visible(s, 'b-139')).toBe(1);
      await auditOk(s);
    });
  }
});

describe('audit writer faults over HTTP', () => {
  for (const kind of ['ENOSPC', 'EIO', 'torn'] as const) {
    it(`${kind} on the audit log: every request answers 503 PS_AUDIT_UNAVAILABLE with no data, and serving resumes when the disk heals`, async () => {
      const plan = new FaultPlan();
      const dataDir = await makeDataDir();
      dirs.push(dataDir);
      const trail = await AuditTrail.open(dataDir, { fs: faultyAuditFs(plan) });
      const s = await server(dataDir, { auditTrail: trail });
      const a = batch(0, 10, 'a');
      expect((await ingest(s, a)).status).toBe(200);
      plan.add({ op: 'write', kind, mode: 'forever', path: /pd-a\.jsonl$/ });
      const search = await call(s.url, 'POST', '/v1/search', {
        token: s.token('pd-a', 'investigator'), json: { plate: sampleRead(0).plate, purpose: 'p', case: 'c' },
      });
      expect(search.status).toBe(503);
      expect(search.json.error.code).toBe('PS_AUDIT_UNAVAILABLE');
      expect(search.text).not.toContain('hits');
      const b = batch(100, 10, 'b');
      const ing = await ingest(s, b);
      expect(ing.status).toBe(503);
      expect(ing.json.error.code).toBe('PS_AUDIT_UNAVAILABLE');
      const exp = await call(s.url, 'GET', '/v1/export?format=ndjson', { token: s.token('pd-a', 'admin') });
      expect(exp.status).toBe(503);
      expect(exp.text).not.toContain('"plate"');
      plan.clear();
      // the client retries the unacknowledged batch: stored once (readIds), whether or not the first try was durable
      expect((await ingest(s, b)).status).toBe(200);
      const count = await exported(s);
      expect(count.size).toBe(20);
      expect([...count.values()].every((n) => n === 1)).toBe(true);
      await auditOk(s);
      expect(plan.total).toBeGreaterThanOrEqual(3);
    });
  }
});
