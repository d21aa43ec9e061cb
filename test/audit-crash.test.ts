/**
 * kill -9 of a server in the middle of a request storm: after a restart every answered request has its
 * record, the chains verify (ours and an independent verifier), and the chain continues.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { oracleVerify } from './helpers/audit-oracle.js';
import { call, createToken, makeDataDir, readAudit, spawnServer, type ChildServer } from './helpers/server.js';

let dataDir: string | undefined;
let server: ChildServer | undefined;
afterEach(async () => {
  if (server) {
    server.kill('SIGKILL');
    await server.exited;
  }
  server = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('audit across a crash', () => {
  it('every answered request is recorded and the chain verifies after kill -9', async () => {
    dataDir = await makeDataDir();
    const aud = await createToken(dataDir, 'pd-a', 'aud', ['auditor']);
    const inv = await createToken(dataDir, 'pd-a', 'inv', ['investigator']);
    server = await spawnServer(dataDir);
    const answered = new Set<string>();
    let stop = false;
    const worker = async () => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await call(server!.url, 'POST', '/v1/search', { token: inv, json: { plate: `A${i}`, purpose: 'p', case: 'c' } });
          if (r.status === 200) answered.add(String(r.headers['x-request-id']));
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 1500));
    server.kill('SIGKILL');
    await server.exited;
    stop = true;
    await Promise.all(workers);
    expect(answered.size).toBeGreaterThan(10);

    const before = await readAudit(dataDir, 'pd-a');
    const ids = new Set(before.map((r) => r.requestId));
    for (const id of answered) expect(ids.has(id)).toBe(true);

    server = await spawnServer(dataDir);
    const v = await call(server.url, 'GET', '/v1/audit/verify', { token: aud });
    expect(v.json.ok).toBe(true);
    expect(v.json.count).toBeGreaterThanOrEqual(answered.size);
    await call(server.url, 'POST', '/v1/search', { token: inv, json: { plate: 'AFTER', purpose: 'p', case: 'c' } });
    const oracle = oracleVerify(join(dataDir, 'audit', 'pd-a.jsonl'));
    expect(oracle.ok).toBe(true);
    expect(oracle.count).toBe(v.json.count + 2);
  });
});
