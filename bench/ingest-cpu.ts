/**
 * Durable HTTP ingest measured by CPU time, for A/B pairs on a shared machine: a child `platesearch serve`
 * (of this build, or of another build's `--cli dist/src/cli/main.js`) on an empty data dir, `clients`
 * concurrent clients POSTing a fixed number of bodies of `batch` fresh reads; the server process's CPU
 * time (user + system, all threads, /proc) per 1,000 reads beside the wall-clock reads/s. On a loaded box
 * the wall clock mostly measures the queue for a core; the CPU a read costs the server moves much less.
 *
 *   npm run build && node dist/bench/ingest-cpu.js [--cli PATH] [--format ndjson|json] [--bodies 60]
 *       [--batch 5000] [--clients 8] [--seed 5]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { Directory } from '../src/server/tenancy/directory.js';
import { kCliMain } from '../test/helpers/server.js';
import { rssOf } from '../test/helpers/fuzz-target.js';
import { post } from './http/closed-loop.js';
import { processCpuMs } from './http/cpu.js';
import { ingestBodies, kContentType } from './http/ingest-bodies.js';
import type { BodyFormat } from './http/options.js';

const { values } = parseArgs({
  options: {
    cli: { type: 'string', default: kCliMain },
    format: { type: 'string', default: 'ndjson' },
    bodies: { type: 'string', default: '60' },
    batch: { type: 'string', default: '5000' },
    clients: { type: 'string', default: '8' },
    seed: { type: 'string', default: '5' },
  },
});
const format = values.format as BodyFormat;
const o = { bodies: Number(values.bodies), batch: Number(values.batch), clients: Number(values.clients), seed: Number(values.seed) };
const tenant = 'pd-metro';

const bodies = ingestBodies(o.bodies, o.batch, format, o.seed, tenant);
const warm = Math.max(2, Math.round(o.bodies / 10));
const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-ingest-cpu-'));
const dir = await Directory.open(dataDir, { watch: false });
const token = (await dir.createToken(tenant, 'bench-camera', ['ingest'])).token;
await dir.close();

const proc = spawn(process.execPath, [values.cli, 'serve', '--data-dir', dataDir, '--port', '0', '--threads', '2', '--rate-limit', '1000000', '--rate-burst', '10000000'], {
  stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' },
});
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const m = /^listening on (http:\/\/\S+)$/.exec(line);
    if (m) resolve(m[1]!);
  });
  proc.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});
const pid = proc.pid!;
try {
  const pool = new Pool(url, { connections: o.clients, headersTimeout: 300_000, bodyTimeout: 300_000 });
  let next = 0;
  let failed = 0;
  const send = async (end: number) => {
    const client = async () => {
      while (next < end) {
        const r = await post(pool, '/v1/reads', token, kContentType[format], bodies[next++]!);
        if (r.status !== 200) failed++;
      }
    };
    await Promise.all(Array.from({ length: o.clients }, client));
  };
  await send(warm); // the server's hot paths compiled, its workers up
  const cpu0 = processCpuMs(pid);
  const rss0 = rssOf(pid);
  const t0 = performance.now();
  await send(bodies.length);
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = processCpuMs(pid) - cpu0;
  const reads = (bodies.length - warm) * o.batch;
  await pool.close();
  process.stdout.write(`${format} × ${o.clients}: ${reads.toLocaleString('en-US')} reads in ${seconds.toFixed(1)} s = ${Math.round(reads / seconds).toLocaleString('en-US')} reads/s; ` +
    `server CPU ${(cpuMs / 1000).toFixed(2)} s = ${((cpuMs * 1000) / reads).toFixed(1)} ms per 1,000 reads (${Math.round(reads / (cpuMs / 1000)).toLocaleString('en-US')} reads per CPU-second); ` +
    `RSS ${(rss0 / 2 ** 20).toFixed(0)} → ${(rssOf(pid) / 2 ** 20).toFixed(0)} MiB; ${failed} failed; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
} finally {
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  await rm(dataDir, { recursive: true, force: true });
  await rm(`${dataDir}.keys`, { recursive: true, force: true });
}
