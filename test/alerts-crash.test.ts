/**
 * A real server process: alerts of an acknowledged ingest survive `kill -9` (they are durable before the
 * ingest answer), a restarted server replays them once, and SIGTERM closes open alert streams.
 * Needs `npm run build` (spawns dist/src/cli/main.js).
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { call, createToken, makeDataDir, spawnServer, type ChildServer } from './helpers/server.js';
import { SseClient } from './helpers/sse.js';

let dataDir: string | undefined;
let child: ChildServer | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const read = (plate: string, i: number) => ({ plate, ts: new Date(Date.now() - 10_000 + i).toISOString(), lat: 1, lon: 2, camera: 'c' });

describe('alerts and a server process', () => {
  it('survive kill -9 right after the ingest answer and replay once after restart; SIGTERM closes streams', async () => {
    dataDir = await makeDataDir();
    const ing = await createToken(dataDir, 'pd-a', 'cam', ['ingest']);
    const disp = await createToken(dataDir, 'pd-a', 'desk', ['dispatcher']);
    child = await spawnServer(dataDir);
    expect((await call(child.url, 'PUT', '/v1/hotlists/w', { token: disp, json: { entries: [{ plate: 'KILL*', note: 'k' }] } })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const res = await call(child.url, 'POST', '/v1/reads', { token: ing, json: [read(`KILL${i}`, i), read('SAFE1', i)] });
      expect(res.json.accepted).toBe(2);
    }
    child.kill('SIGKILL');
    await child.exited;

    child = await spawnServer(dataDir);
    const s = await SseClient.open(child.url, disp, 0);
    try {
      await s.waitFor(5);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.alerts().map((a) => [a._id, a.read.plate])).toEqual([[1, 'KILL0'], [2, 'KILL1'], [3, 'KILL2'], [4, 'KILL3'], [5, 'KILL4']]);
      child.kill('SIGTERM');
      await s.waitEnd(10_000);
      expect(await child.exited).toBe(0);
    } finally {
      s.close();
    }
  });
});
