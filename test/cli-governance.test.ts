/**
 * The governance commands as users run them: `node dist/src/cli/main.js …` (build first), against real
 * servers, in-process (startTestServer) or child processes (spawnServer).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, kCliMain, makeDataDir, spawnServer, startTestServer, type ChildServer, type TestServer } from './helpers/server.js';

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [kCliMain, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const lastLine = (s: string) => s.trimEnd().split('\n').pop()!;

beforeAll(() => {
  if (!existsSync(kCliMain)) throw new Error(`${kCliMain} is missing: run npm run build first`);
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

describe('platesearch token', () => {
  it('create prints the token last; a running server (child process) accepts it and refuses it within 1 s of revoke', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server: ChildServer = await spawnServer(dataDir);
    cleanups.push(async () => {
      server.kill('SIGTERM');
      await server.exited;
    });
    const created = await cli('token', 'create', '--data-dir', dataDir, '--tenant', 'pd-x', '--user', 'ann', '--role', 'investigator', '--role', 'auditor');
    expect(created.code).toBe(0);
    const token = lastLine(created.stdout);
    expect(token).toMatch(/^ps_/);
    const audit = () => call(server.url, 'GET', '/v1/audit', { token });
    expect(await waitFor(async () => (await audit()).status === 200, 1000)).toBeLessThan(1000);
    expect((await call(server.url, 'PUT', '/v1/retention', { token, json: { retentionSeconds: 600 } })).status).toBe(403);

    // roles replaced for the existing token
    const again = await cli('token', 'create', '--data-dir', dataDir, '--tenant', 'pd-x', '--user', 'ann', '--role', 'admin');
    expect(again.code).toBe(0);
    const token2 = lastLine(again.stdout);
    await waitFor(async () => (await audit()).status === 403, 1000);
    expect((await call(server.url, 'GET', '/v1/sharing', { token })).status).toBe(200);

    const revoked = await cli('token', 'revoke', '--data-dir', dataDir, '--tenant', 'pd-x', '--user', 'ann');
    expect(revoked.code).toBe(0);
    const t0 = Date.now();
    await waitFor(async () => (await call(server.url, 'GET', '/v1/sharing', { token: token2 })).status === 401, 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await call(server.url, 'GET', '/v1/sharing', { token })).status).toBe(401);
    // only hashes on disk
    const dir = readFileSync(join(dataDir, 'control', 'directory.json'), 'utf8');
    expect(dir.includes(token.slice(20))).toBe(false);
    expect(dir.includes(token2.slice(20))).toBe(false);
  });

  it('concurrent token create processes all land (lock file)', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => cli('token', 'create', '--data-dir', dataDir, '--tenant', `pd-${i % 2}`, '--user', `u${i}`, '--role', 'ingest')),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    const file = JSON.parse(readFileSync(join(dataDir, 'control', 'directory.json'), 'utf8'));
    expect(Object.keys(file.users).sort()).toEqual(['pd-0/u0', 'pd-0/u2', 'pd-0/u4', 'pd-1/u1', 'pd-1/u3', 'pd-1/u5']);
    expect(existsSync(join(dataDir, 'control', 'directory.lock'))).toBe(false);
  });

  it('bad usage exits 2 with the usage text', async () => {
    const r = await cli('token', 'create', '--data-dir', '/tmp/nowhere-x', '--tenant', 'pd-a', '--user', 'u');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role/);
    expect((await cli('token', 'create', '--data-dir', '/tmp/nowhere-x', '--tenant', 'PD A', '--user', 'u', '--role', 'admin')).code).not.toBe(0);
    const help = await cli('token', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/token revoke --data-dir D --tenant T --user U/);
  });
});

describe('platesearch ingest / export', () => {
  it('ingests NDJSON and CSV, exports both formats, round-trips through CSV', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const nd = join(dataDir, 'in.ndjson');
    const csv = join(dataDir, 'in.csv');
    writeFileSync(nd, [
      JSON.stringify({ plate: '7abc 123', ts: '2026-11-01T12:00:00.5Z', lat: 37.7749, lon: -122.4194, camera: 'cam-17', region: 'CA', confidence: 0.93, tenant: 'pd-other' }),
      '',
      '{broken',
      JSON.stringify({ plate: 'Q1', ts: 1793534400001, lat: 1, lon: 2, camera: 'c', readId: 'r1' }),
      JSON.stringify({ plate: 'Q1', ts: 1793534400001, lat: 1, lon: 2, camera: 'c', readId: 'r1' }),
      JSON.stringify({ plate: 'X', ts: '2026-11-01T12:00:00', lat: 1, lon: 2, camera: 'c' }),
    ].join('\n') + '\n');
    writeFileSync(csv, 'plate,ts,lat,lon,camera,make,color,extra\r\nXY9,2026-11-02T00:00:00Z,-1.25,3.5,"north, ""gate""",FORD,,x\r\nZZ,nope,1,1,c,,,\r\n');
    const r = await cli('ingest', '--data-dir', dataDir, '--tenant', 'pd-a', nd, csv);
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toBe('accepted 4 rejected 3');
    expect(r.stderr).toMatch(/in\.ndjson:3:/);
    expect(r.stderr).toMatch(/in\.ndjson:6: ts/);
    expect(r.stderr).toMatch(/in\.csv:3: ts/);

    const nj = await cli('export', '--data-dir', dataDir, '--tenant', 'pd-a', '--format', 'ndjson');
    expect(nj.code).toBe(0);
    const rows = nj.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual([
      { tenant: 'pd-a', plate: 'Q1', ts: '2026-11-01T12:00:00.001Z', lat: 1, lon: 2, camera: 'c' },
      { tenant: 'pd-a', plate: '7ABC123', ts: '2026-11-01T12:00:00.500Z', lat: 37.7749, lon: -122.4194, camera: 'cam-17', region: 'CA', confidence: 0.93 },
      { tenant: 'pd-a', plate: 'XY9', ts: '2026-11-02T00:00:00.000Z', lat: -1.25, lon: 3.5, camera: 'north, "gate"', make: 'FORD' },
    ]);
    expect(new Set(rows.map((x) => x.id)).size).toBe(3);

    const out = join(dataDir, 'out.csv');
    const c = await cli('export', '--data-dir', dataDir, '--tenant', 'pd-a', '--format', 'csv', '--out', out);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toBe('id,tenant,plate,ts,lat,lon,camera,region,confidence,make,color');
    // the CSV export loads back (into another tenant) to the same reads
    const back = await cli('ingest', '--data-dir', dataDir, '--tenant', 'pd-b', out);
    expect(lastLine(back.stdout)).toBe('accepted 3 rejected 0');
    const nb = await cli('export', '--data-dir', dataDir, '--tenant', 'pd-b', '--format', 'ndjson');
    const strip = (s: string) => s.trim().split('\n').map((l) => { const { id: _i, tenant: _t, ...rest } = JSON.parse(l); return rest; });
    expect(strip(nb.stdout)).toEqual(strip(nj.stdout));
  });

  it('streams a file of several batches', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const nd = join(dataDir, 'big.jsonl');
    const n = 25_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ plate: `B${i}`, ts: 1793534400000 + i, lat: 1, lon: 2, camera: 'c' }));
    lines.push('{"plate":"!!"}');
    writeFileSync(nd, lines.join('\n'));
    const r = await cli('ingest', '--data-dir', dataDir, '--tenant', 'pd-a', nd);
    expect(lastLine(r.stdout)).toBe(`accepted ${n} rejected 1`);
    const e = await cli('export', '--data-dir', dataDir, '--tenant', 'pd-a', '--format', 'csv');
    const rows = e.stdout.trim().split('\n');
    expect(rows.length).toBe(n + 1);
    expect(rows[1]!.split(',')[2]).toBe('B0');
    expect(rows[n]!.split(',')[2]).toBe(`B${n - 1}`);
  });

  it('refuses to share the engine with a running server; unknown file types and bad usage exit 2', async () => {
    const s: TestServer = await startTestServer();
    cleanups.push(() => s.close());
    const nd = join(s.dataDir, 'x.ndjson');
    writeFileSync(nd, JSON.stringify({ plate: 'A1', ts: 1, lat: 0, lon: 0, camera: 'c' }) + '\n');
    const r = await cli('ingest', '--data-dir', s.dataDir, '--tenant', 'pd-a', nd);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/in use by server/);
    const e = await cli('export', '--data-dir', s.dataDir, '--tenant', 'pd-a', '--format', 'csv');
    expect(e.code).toBe(1);
    expect((await cli('ingest', '--data-dir', s.dataDir, '--tenant', 'pd-a', join(s.dataDir, 'x.txt'))).code).toBe(2);
    expect((await cli('export', '--data-dir', s.dataDir, '--tenant', 'pd-a', '--format', 'xml')).code).toBe(2);
  });
});

describe('engine ownership', () => {
  it('a server does not start while another live process holds the data dir; a dead holder is taken over', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const { mkdirSync } = await import('node:fs');
    const { spawn } = await import('node:child_process');
    mkdirSync(join(dataDir, 'control'), { recursive: true });
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    cleanups.push(() => void holder.kill('SIGKILL'));
    writeFileSync(join(dataDir, 'control', 'engine.lock'), `${holder.pid} ingest\n`);
    await expect(spawnServer(dataDir, [], 20_000)).rejects.toThrow(/in use by ingest/);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const server = await spawnServer(dataDir);
    cleanups.push(async () => {
      server.kill('SIGTERM');
      await server.exited;
    });
    expect(readFileSync(join(dataDir, 'control', 'engine.lock'), 'utf8')).toMatch(/^\d+ server\n$/);
  });
});

describe('platesearch audit verify', () => {
  it('prints one line per tenant; exits 1 when any chain is broken', async () => {
    const s: TestServer = await startTestServer({ keepDataDir: true });
    cleanups.push(() => rmSync(s.dataDir, { recursive: true, force: true }));
    await call(s.url, 'GET', '/v1/audit', { token: s.token('pd-a', 'auditor') });
    await call(s.url, 'GET', '/v1/audit', { token: s.token('pd-b', 'auditor') });
    await call(s.url, 'GET', '/v1/audit', { token: s.token('pd-b', 'investigator') });
    await call(s.url, 'GET', '/v1/audit', { token: 'nope' });
    await s.close();

    const ok = await cli('audit', 'verify', '--data-dir', s.dataDir);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(['_system ok count=1', 'pd-a ok count=1', 'pd-b ok count=2']);

    const file = join(s.dataDir, 'audit', 'pd-b.jsonl');
    const text = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, text[0] + '\n'); // drop the last record
    const bad = await cli('audit', 'verify', '--data-dir', s.dataDir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^pd-b FAILED brokenAt=2 /m);
    expect(bad.stdout).toMatch(/^pd-a ok count=1 /m);
    const one = await cli('audit', 'verify', '--data-dir', s.dataDir, '--tenant', 'pd-a');
    expect(one.code).toBe(0);
    expect(one.stdout.trim().split('\n')).toHaveLength(1);
  });
});
