/**
 * CLI actions are audited (issue 15): `token create`, `token revoke`, `ingest` and `export` each leave one
 * record in `audit/_system.jsonl` and one in the named tenant's log, chain-valid, with and without a server
 * running on the same data dir (the server appends them from its inbox: src/server/audit/inbox.ts). The
 * token itself is never recorded. Checked with `platesearch audit verify` and GET /v1/audit/verify.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { putInInbox } from '../src/server/audit/inbox.js';
import { call, createToken, kCliMain, makeDataDir, readAudit, spawnServer, startTestServer } from './helpers/server.js';

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [kCliMain, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
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

async function dataDir(): Promise<string> {
  const d = await makeDataDir();
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function cliActions(records: Array<{ action: string }>): string[] {
  return records.map((r) => r.action).filter((a) => a.startsWith('cli.'));
}

describe('CLI actions without a server', () => {
  it('token create / revoke, ingest, export: one record each in _system and the tenant\'s log, chains verify', async () => {
    const d = await dataDir();
    const created = await cli('token', 'create', '--data-dir', d, '--tenant', 'pd-a', '--user', 'alice', '--role', 'investigator');
    expect(created.code).toBe(0);
    const token = lastLine(created.stdout);
    const nd = join(d, 'in.ndjson');
    writeFileSync(nd, [JSON.stringify({ plate: 'ABC123', ts: Date.now(), lat: 1, lon: 2, camera: 'c' }), '{"plate":"!"}'].join('\n') + '\n');
    expect(lastLine((await cli('ingest', '--data-dir', d, '--tenant', 'pd-a', nd)).stdout)).toBe('accepted 1 rejected 1');
    const exp = await cli('export', '--data-dir', d, '--tenant', 'pd-a', '--format', 'ndjson');
    expect(exp.code).toBe(0);
    expect((await cli('token', 'revoke', '--data-dir', d, '--tenant', 'pd-a', '--user', 'alice')).code).toBe(0);
    // a failed action is recorded as failed
    expect((await cli('token', 'revoke', '--data-dir', d, '--tenant', 'pd-a', '--user', 'nobody')).code).toBe(1);

    const want = ['cli.token.create', 'cli.ingest', 'cli.export', 'cli.token.revoke', 'cli.token.revoke'];
    const system = await readAudit(d, '_system');
    const own = await readAudit(d, 'pd-a');
    expect(cliActions(system)).toEqual(want);
    expect(cliActions(own)).toEqual(want);
    expect(system.map((r) => r.requestId)).toEqual(own.map((r) => r.requestId));
    expect(own[1]).toMatchObject({ tenant: 'pd-a', actorTenant: '_system', outcome: 'ok', resultCount: 1, params: { tenant: 'pd-a', accepted: 1, rejected: 1 } });
    expect(own[2]).toMatchObject({ action: 'cli.export', resultCount: 1, params: { format: 'ndjson' } });
    expect(own[4]).toMatchObject({ action: 'cli.token.revoke', outcome: 'invalid', status: 404, params: { user: 'nobody' } });
    expect(own[0]!.user).toMatch(/^cli:/);
    expect(JSON.stringify([...system, ...own])).not.toContain(token);
    expect(JSON.stringify([...system, ...own])).not.toContain(token.slice(20)); // the secret part (ps_<16 hex>_<secret>)

    const v = await cli('audit', 'verify', '--data-dir', d);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/_system/);
    expect(readdirSync(join(d, 'audit', 'inbox'))).toEqual([]);
  }, 60_000);

  it('concurrent CLI commands on one data dir: every action recorded once, chains valid', async () => {
    const d = await dataDir();
    const n = 6;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => cli('token', 'create', '--data-dir', d, '--tenant', i % 2 ? 'pd-a' : 'pd-b', '--user', `u${i}`, '--role', 'auditor')));
    for (const r of results) expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(cliActions(await readAudit(d, '_system'))).toHaveLength(n);
    expect(cliActions(await readAudit(d, 'pd-a'))).toHaveLength(n / 2);
    expect(cliActions(await readAudit(d, 'pd-b'))).toHaveLength(n / 2);
    const verified = await cli('audit', 'verify', '--data-dir', d);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 60_000);
});

describe('CLI actions while a server runs on the data dir', () => {
  it('are appended by the server, interleaved with its own records, chain valid; a refused ingest is recorded too', async () => {
    const d = await dataDir();
    const auditorToken = await createToken(d, 'pd-a', 'aud', ['auditor']);
    const server = await spawnServer(d);
    cleanups.push(async () => {
      server.kill('SIGKILL');
      await server.exited;
    });
    // HTTP traffic on pd-a's log while CLI commands run
    let stop = false;
    const traffic = (async () => {
      let n = 0;
      while (!stop) {
        expect((await call(server.url, 'GET', '/v1/audit?limit=1', { token: auditorToken })).status).toBe(200);
        n++;
      }
      return n;
    })();
    const creates = await Promise.all(Array.from({ length: 4 }, (_, i) => cli('token', 'create', '--data-dir', d, '--tenant', 'pd-a', '--user', `w${i}`, '--role', 'investigator')));
    for (const r of creates) expect(r.code).toBe(0);
    const nd = join(d, 'x.ndjson');
    writeFileSync(nd, JSON.stringify({ plate: 'A1', ts: Date.now(), lat: 0, lon: 0, camera: 'c' }) + '\n');
    const refused = await cli('ingest', '--data-dir', d, '--tenant', 'pd-a', nd);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by server/);
    stop = true;
    expect(await traffic).toBeGreaterThan(0);

    // the command returned only once its records were in the logs
    const own = await readAudit(d, 'pd-a');
    expect(cliActions(own)).toEqual(['cli.token.create', 'cli.token.create', 'cli.token.create', 'cli.token.create', 'cli.ingest']);
    expect(own.filter((r) => r.action === 'audit.query').length).toBeGreaterThan(0);
    expect(own.find((r) => r.action === 'cli.ingest')).toMatchObject({ outcome: 'error', status: 503 });
    expect(cliActions(await readAudit(d, '_system'))).toHaveLength(5);
    const verify = await call(server.url, 'GET', '/v1/audit/verify', { token: auditorToken });
    expect(verify.json).toMatchObject({ ok: true, count: own.length });
    server.kill('SIGTERM');
    await server.exited;
    expect((await cli('audit', 'verify', '--data-dir', d)).code).toBe(0);
  }, 90_000);
});

describe('the audit inbox', () => {
  it('a record left in the inbox (a command killed after handing it over) is appended when a server starts; a foreign file is set aside', async () => {
    const d = await dataDir();
    await putInInbox(d, ['_system', 'pd-a'], {
      requestId: 'left-behind', actorTenant: '_system', user: 'cli:test', action: 'cli.token.create', params: { tenant: 'pd-a' },
      purpose: null, case: null, outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: ['pd-a'], ip: '', durationMs: 0,
    });
    writeFileSync(join(d, 'audit', 'inbox', '000-junk.json'), '{"v":1,"logs":["../../etc"],"fields":{}}\n');
    const s = await startTestServer({ dataDir: d, users: [] });
    try {
      const own = await readAudit(d, 'pd-a');
      expect(own.filter((r) => r.requestId === 'left-behind')).toHaveLength(1);
      expect((await readAudit(d, '_system')).filter((r) => r.requestId === 'left-behind')).toHaveLength(1);
      expect(readdirSync(join(d, 'audit', 'inbox')).sort()).toEqual(['000-junk.json.bad']);
    } finally {
      await s.close();
    }
    const verified = await cli('audit', 'verify', '--data-dir', d);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 60_000);
});
