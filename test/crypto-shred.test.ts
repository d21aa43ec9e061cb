/**
 * Crypto-shredding, end to end with real processes on real files: a copy of the data dir taken before the
 * retention sweep (or before `tenant purge`), opened later with the same key store through
 * `platesearch export`, yields none of the expired (purged) reads; younger reads and other tenants' reads
 * all come back. Each shredding is recorded in audit/_system.jsonl.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, readAudit, spawnServer, type ChildServer } from './helpers/server.js';
import { runCli } from './helpers/crash-loop.js';
import { cliToken, filesUnder } from './helpers/crypto.js';

const kDay = 86_400_000;
let server: ChildServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  server?.kill('SIGKILL');
  server = undefined;
  for (const d of dirs.splice(0)) {
    await rm(d, { recursive: true, force: true });
    await rm(`${d}.keys`, { recursive: true, force: true });
  }
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ps-shred-'));
  dirs.push(d);
  return d;
}

async function exportPlates(dataDir: string, tenant: string, keyStore: string): Promise<string[]> {
  const r = await runCli(['export', '--data-dir', dataDir, '--key-store', keyStore, '--tenant', tenant, '--format', 'ndjson']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { plate: string }).plate).sort();
}

const read = (plate: string, ts: number, camera = 'cam-1') => ({ plate, ts: new Date(ts).toISOString(), lat: 37.7, lon: -122.4, camera });

describe('retention shreds: an older copy of the data dir yields no expired read', () => {
  it('whole days lose their keys; younger days all come back from the copy; sealed and live reads alike', async () => {
    const dataDir = await tempDir();
    const keyStore = `file:${dataDir}.keys`;
    const token = await cliToken(dataDir, 'pd-a', 'boss', ['admin', 'ingest']);
    const other = await cliToken(dataDir, 'pd-b', 'boss', ['admin', 'ingest']);
    const now = Date.now();
    // expired (days wholly before the cutoff's day) and young (days after it); the cutoff is now − 3 days
    const old = [read('OLDA10', now - 10 * kDay), read('OLDA06', now - 6 * kDay), read('OLDA05', now - 5 * kDay + 3_600_000)];
    const young = [read('NEWA02', now - 2 * kDay + 60_000), read('NEWA01', now - kDay), read('NEWA00', now - 3_600_000)];
    server = await spawnServer(dataDir, ['--seal-rows', '4', '--seal-age-ms', '0']);
    // first batch reaches the seal threshold (shards), the second stays in the WAL (live)
    expect((await call(server.url, 'POST', '/v1/reads', { token, json: [old[0], old[1], young[0], young[1]] })).json.accepted).toBe(4);
    // the background seal (a worker thread) may take a while on a loaded machine: wait for its shard
    for (let i = 0; i < 150 && !(await filesUnder(join(dataDir, 'tenants', 'pd-a'))).some((f) => f.endsWith('.shard')); i++) await new Promise((r) => setTimeout(r, 200));
    expect((await call(server.url, 'POST', '/v1/reads', { token, json: [old[2], young[2]] })).json.accepted).toBe(2);
    expect((await call(server.url, 'POST', '/v1/reads', { token: other, json: [read('BEEB10', now - 10 * kDay), read('BEEB00', now - 60_000)] })).json.accepted).toBe(2);
    const files = await filesUnder(join(dataDir, 'tenants', 'pd-a'));
    expect(files.some((f) => f.endsWith('.shard'))).toBe(true);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    const copy = await tempDir();
    await cp(dataDir, copy, { recursive: true });

    server = await spawnServer(dataDir);
    expect((await call(server.url, 'PUT', '/v1/retention', { token, json: { retentionSeconds: 3 * 86_400 } })).status).toBe(200);
    // the sweep runs at once on the change: wait for its record in the system log
    let shred: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && shred.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      shred = (await readAudit(dataDir, '_system')).filter((r) => r.action === 'retention.shred') as never;
    }
    expect(shred).toHaveLength(1);
    expect(shred[0]).toMatchObject({ tenantsTouched: ['pd-a'], resultCount: 3 });
    expect((shred[0]!.params as { keysDestroyed: string[] }).keysDestroyed.length).toBe(3);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    // the live data dir: only the young
    expect(await exportPlates(dataDir, 'pd-a', keyStore)).toEqual(['NEWA00', 'NEWA01', 'NEWA02']);
    // the old copy, same key store: none of the expired, every young one; pd-b untouched
    expect(await exportPlates(copy, 'pd-a', keyStore)).toEqual(['NEWA00', 'NEWA01', 'NEWA02']);
    expect(await exportPlates(copy, 'pd-b', keyStore)).toEqual(['BEEB00', 'BEEB10']);
    // the copy's default key store does not exist: refused, nothing written
    const refused = await runCli(['export', '--data-dir', copy, '--tenant', 'pd-a', '--format', 'ndjson']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('PS_KEY_STORE_MISSING');
  }, 120_000);
});

describe('tenant purge', () => {
  it('destroys every key of the tenant: a copy taken before yields none of its reads; others untouched; recorded', async () => {
    const dataDir = await tempDir();
    const keyStore = `file:${dataDir}.keys`;
    const a = await cliToken(dataDir, 'pd-a', 'boss', ['admin', 'ingest', 'dispatcher']);
    await cliToken(dataDir, 'pd-b', 'boss', ['admin', 'ingest']);
    const nd = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const now = Date.now();
    const fa = join(dataDir + '-a.ndjson');
    const fb = join(dataDir + '-b.ndjson');
    dirs.push(fa, fb);
    await writeFile(fa, nd([read('PURGEA1', now - kDay), read('PURGEA2', now - 60_000)]));
    await writeFile(fb, nd([read('KEEPB1', now - kDay), read('KEEPB2', now - 60_000)]));
    expect((await runCli(['ingest', '--data-dir', dataDir, '--key-store', keyStore, '--tenant', 'pd-a', fa])).stdout).toContain('accepted 2');
    expect((await runCli(['ingest', '--data-dir', dataDir, '--key-store', keyStore, '--tenant', 'pd-b', fb])).stdout).toContain('accepted 2');
    server = await spawnServer(dataDir, ['--key-store', keyStore]);
    expect((await call(server.url, 'PUT', '/v1/hotlists/h', { token: a, json: { entries: [{ plate: 'PURGEA1', note: 'n' }] } })).status).toBe(200);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const copy = await tempDir();
    await cp(dataDir, copy, { recursive: true });

    const wrongConfirm = await runCli(['tenant', 'purge', '--data-dir', dataDir, '--key-store', keyStore, '--tenant', 'pd-a', '--confirm', 'pd-b']);
    expect(wrongConfirm.code).toBe(2);
    const purge = await runCli(['tenant', 'purge', '--data-dir', dataDir, '--key-store', keyStore, '--tenant', 'pd-a', '--confirm', 'pd-a']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.stdout).toMatch(/^purged pd-a: \d+ keys destroyed, 1 tokens revoked/m);
    expect((await filesUnder(dataDir)).filter((f) => f.includes('/tenants/pd-a') || f.includes('/hotlists/pd-a'))).toEqual([]);
    const rec = (await readAudit(dataDir, '_system')).filter((r) => r.action === 'tenant.purge');
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ tenantsTouched: ['pd-a'], outcome: 'ok' });

    expect(await exportPlates(copy, 'pd-a', keyStore)).toEqual([]);
    expect(await exportPlates(copy, 'pd-b', keyStore)).toEqual(['KEEPB1', 'KEEPB2']);
    expect(await exportPlates(dataDir, 'pd-b', keyStore)).toEqual(['KEEPB1', 'KEEPB2']);
    // the copy's hot list of pd-a does not open either
    const copyServer = await spawnServer(copy, ['--key-store', keyStore]);
    try {
      const h = await call(copyServer.url, 'GET', '/v1/hotlists/h', { token: a });
      expect(h.status).toBe(404);
    } finally {
      copyServer.kill('SIGTERM');
      await copyServer.exited;
    }
    // the audit chains still verify without any key
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    expect(verify.code, verify.stdout).toBe(0);
  }, 120_000);
});
