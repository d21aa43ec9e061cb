/**
 * The server as a process (`node dist/src/cli/main.js serve`; run `npm run build` first): exactly one
 * stdout line `listening on http://HOST:PORT`; acknowledged reads survive `kill -9` and a restart, each
 * exactly once; SIGTERM lets in-flight requests finish and exits 0.
 */
import { rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { call, createToken, makeDataDir, sampleRead, spawnServer, type ChildServer } from './helpers/server.js';

const children: ChildServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.kill('SIGKILL');
      await c.exited;
    }
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function fresh(): Promise<{ dataDir: string; ing: string; inv: string }> {
  const dataDir = await makeDataDir();
  dirs.push(dataDir);
  return {
    dataDir,
    ing: await createToken(dataDir, 'pd-a', 'cam', ['ingest']),
    inv: await createToken(dataDir, 'pd-a', 'det', ['investigator']),
  };
}

async function start(dataDir: string, extra: string[] = []): Promise<ChildServer> {
  const c = await spawnServer(dataDir, extra);
  children.push(c);
  return c;
}

describe('platesearch serve (child process)', () => {
  it('prints exactly one stdout line, listening on http://127.0.0.1:PORT, and serves /healthz', async () => {
    const { dataDir } = await fresh();
    const c = await start(dataDir);
    expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(c.url, 'GET', '/healthz')).json).toEqual({ ok: true });
    c.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(c.stdout).toEqual([`listening on ${c.url}`]);
  });

  it('acknowledged reads survive kill -9 mid-ingest and a restart, each exactly once', async () => {
    const { dataDir, ing, inv } = await fresh();
    const c = await start(dataDir);
    const acked = new Set<string>();
    let sent = 0;
    let stop = false;
    // 4 concurrent writers of at most 40 batches of 50 (8,000 reads: one search with limit 10,000 sees all);
    // kill -9 while they are running, once 1,000 reads are acknowledged
    const writer = async (w: number) => {
      for (let b = 0; !stop && b < 40; b++) {
        const batch = Array.from({ length: 50 }, (_, i) => sampleRead(sent++, { plate: `W${w}B${b}I${i}`, readId: `w${w}-b${b}-i${i}` }));
        try {
          const res = await call(c.url, 'POST', '/v1/reads', { token: ing, json: batch });
          if (res.status === 200 && res.json.accepted === batch.length) for (const r of batch) acked.add(r.plate);
        } catch {
          return; // the server died under us: this batch was never acknowledged
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    for (let waited = 0; acked.size < 1000 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    c.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect(await c.exited).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThan(0);

    const again = await start(dataDir);
    const res = await call(again.url, 'POST', '/v1/search', { token: inv, json: { purpose: 'crash test', case: 'CT-1', limit: 10000 } });
    expect(res.status).toBe(200);
    const plates = res.json.hits.map((h: { plate: string }) => h.plate) as string[];
    expect(res.json.truncated).toBe(false);
    const counts = new Map<string, number>();
    for (const p of plates) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (const p of acked) expect(counts.get(p), `acknowledged ${p}`).toBe(1);
    for (const [p, n] of counts) expect(n, `${p} stored once`).toBe(1);
    again.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('SIGTERM: an in-flight request finishes, then the server exits 0 and no longer answers', async () => {
    const { dataDir, ing } = await fresh();
    const c = await start(dataDir);
    const batch = Array.from({ length: 20_000 }, (_, i) => sampleRead(i));
    const inflight = call(c.url, 'POST', '/v1/reads', { token: ing, json: batch });
    await new Promise((r) => setTimeout(r, 30));
    c.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.json.accepted).toBe(20_000);
    expect(await c.exited).toBe(0);
    await expect(call(c.url, 'GET', '/healthz')).rejects.toThrow();
  });

  it('a port already taken: exits 1 within seconds, says why, and leaves the data dir free for the next start', async () => {
    const { dataDir } = await fresh();
    const taken = createNetServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      // before the fix the process stayed up holding the data dir's lock, so the next start was refused
      await expect(spawnServer(dataDir, ['--port', String(port)], 15_000)).rejects.toThrow(/exited \(1\)[^]*EADDRINUSE/);
    } finally {
      await new Promise((r) => taken.close(r));
    }
    const c = await start(dataDir);
    expect((await call(c.url, 'GET', '/healthz')).json).toEqual({ ok: true });
    c.kill('SIGTERM');
    expect(await c.exited).toBe(0);
  });

  it('bad flags exit 2 with usage on stderr and nothing on stdout', async () => {
    const { dataDir } = await fresh();
    await expect(spawnServer(dataDir, ['--port', 'eighty'])).rejects.toThrow(/exited \(2\)/);
  });
});
