/**
 * Known gaps found by the reliability work (docs/RELIABILITY.md, "Findings"), each as the test the fix
 * must make pass. They are `it.fails`: green while the gap exists, red (so someone looks) once it is
 * fixed; the fix then turns `it.fails` into `it`.
 */
import { readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { call, makeDataDir, sampleRead, startTestServer, type TestServer } from './helpers/server.js';

const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function start(dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await makeDataDir());
  if (!dataDir) dirs.push(dir);
  const s = await startTestServer({ dataDir: dir, engineOptions: { sealRows: 1_000_000, sealAgeMs: 0 } });
  open.push(s);
  return s;
}

describe('known gaps', () => {
  it.fails('WAL: acknowledged records cut off the end of a log (truncation, not a torn write) are reported, not silently dropped', async () => {
    const s1 = await start();
    const dataDir = s1.dataDir;
    for (let i = 0; i < 3; i++) {
      const batch = Array.from({ length: 10 }, (_, j) => sampleRead(i * 10 + j));
      expect((await call(s1.url, 'POST', '/v1/reads', { token: s1.token('pd-a', 'ingest'), json: batch })).status).toBe(200);
    }
    await s1.close();
    open.splice(0);
    const walDir = join(dataDir, 'tenants', 'pd-a', 'wal');
    let victim = '';
    let size = 0;
    for (const f of await readdir(walDir)) {
      const n = (await readFile(join(walDir, f))).length;
      if (n > size) [victim, size] = [join(walDir, f), n];
    }
    await truncate(victim, Math.floor(size * 0.5)); // loses the third batch and half of the second
    const s2 = await start(dataDir);
    const health = await call(s2.url, 'GET', '/healthz');
    expect(health.json.degraded).toBe(true);
  });
});
