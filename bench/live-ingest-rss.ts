/**
 * RSS growth of a server while reads arrive over HTTP (issue 11: "HTTP ingest grows RSS by ≤ 40 B a
 * read"): a child `platesearch serve` on an empty data dir, `clients` concurrent clients POSTing fresh
 * generated reads (`batch` a body, JSON) until `reads` are acknowledged; the server's RSS (/proc) is
 * sampled after a warm-up, during the run and after it.
 *
 *   npm run build && node dist/bench/live-ingest-rss.js [--reads 990000] [--clients 8] [--batch 1000] [--seed 11]
 *
 * With the default 990,000 reads the server's size threshold for sealing (1,000,000 live reads) is not
 * reached: the growth measured is what live rows cost (plus the WAL, the readId set and the heap's slack).
 * The issue's figure is for 5M reads (`--reads 5000000 --allow-big`, on a machine with nothing else running:
 * the bodies alone take ~1 GB in this process): the server seals every 1M, so the growth is then the
 * sealed shards' resident bytes plus one live generation at most.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { Directory } from '../src/server/tenancy/directory.js';
import { rssOf } from '../test/helpers/fuzz-target.js';
import { spawnServe } from '../test/helpers/crash-loop.js';
import { post } from './http/closed-loop.js';
import { ingestBodies } from './http/ingest-bodies.js';
import { machineDescription } from './peers/report.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const o = { reads: arg('reads', 990_000), clients: arg('clients', 8), batch: arg('batch', 1000), seed: arg('seed', 11) };
if (o.reads > 1_000_000 && !process.argv.includes('--allow-big')) throw new Error('over 1M reads only with --allow-big (a quiet machine: the bodies take ~200 B a read here)');
const log = (s: string) => void process.stderr.write(`live-ingest-rss ${s}\n`);
const tenant = 'pd-metro';
const MiB = 2 ** 20;

const bodies = ingestBodies(Math.ceil(o.reads / o.batch), o.batch, 'json', o.seed, tenant);
const warm = Math.max(1, Math.round(bodies.length / 50)); // 2 %: the server's hot paths compiled, its heap grown
const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-live-rss-'));
const dir = await Directory.open(dataDir, { watch: false });
const token = (await dir.createToken(tenant, 'bench-camera', ['ingest'])).token;
await dir.close();
const server = await spawnServe(dataDir, ['--threads', '2', '--rate-limit', '1000000', '--rate-burst', '10000000'], 10 * 60_000);
const pid = server.proc.pid!;
const rssOpen = rssOf(pid);
try {
  const pool = new Pool(server.url, { connections: o.clients, headersTimeout: 120_000, bodyTimeout: 120_000 });
  let next = 0;
  let failed = 0;
  const send = async (end: number, onEach?: () => void) => {
    const client = async () => {
      while (next < end) {
        const i = next++;
        const r = await post(pool, '/v1/reads', token, 'application/json', bodies[i]!);
        if (r.status !== 200 && r.status !== 201) failed++;
        onEach?.();
      }
    };
    await Promise.all(Array.from({ length: o.clients }, client));
  };
  await send(warm);
  await new Promise((r) => setTimeout(r, 1000));
  const rss0 = rssOf(pid);
  let peak = rss0;
  let done = 0;
  const t0 = performance.now();
  // RSS at each quarter of the measured bodies: the later quarters show the marginal cost of a live read
  // once the heap and the allocator have grown to their working size
  const quarter = Math.ceil((bodies.length - warm) / 4);
  const quarters: number[] = [];
  await send(bodies.length, () => {
    if (++done % 25 === 0) peak = Math.max(peak, rssOf(pid));
    if (done % quarter === 0) quarters.push(rssOf(pid));
  });
  const seconds = (performance.now() - t0) / 1000;
  const rssEnd = rssOf(pid);
  await new Promise((r) => setTimeout(r, 3000));
  const rssSettled = rssOf(pid);
  peak = Math.max(peak, rssEnd, rssSettled);
  await pool.close();
  const measured = (bodies.length - warm) * o.batch;
  const per = (b: number) => ((b - rss0) / measured).toFixed(1);
  const out = [
    `HTTP ingest RSS, ${new Date().toISOString()}, ${machineDescription()}, node ${process.version}`,
    `Command: \`node dist/bench/live-ingest-rss.js ${process.argv.slice(2).join(' ')}\``,
    `${measured.toLocaleString('en-US')} reads measured after ${(warm * o.batch).toLocaleString('en-US')} warm-up reads; ${o.clients} clients, ${o.batch} reads a body (JSON); ` +
      `${Math.round(measured / seconds).toLocaleString('en-US')} reads/s; ${failed} failed requests`,
    `RSS: open ${(rssOpen / MiB).toFixed(0)} MiB, after warm-up ${(rss0 / MiB).toFixed(0)} MiB, end ${(rssEnd / MiB).toFixed(0)} MiB, 3 s later ${(rssSettled / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`,
    `Growth per read: end ${per(rssEnd)} B, settled ${per(rssSettled)} B, peak ${per(peak)} B`,
    `RSS at each quarter: ${quarters.map((q) => `${(q / MiB).toFixed(0)} MiB`).join(', ')}; second half ` +
      (quarters.length >= 2 ? `${((rssSettled - quarters[1]!) / (measured / 2)).toFixed(1)} B a read` : '–'),
  ];
  process.stdout.write(out.join('\n') + '\n');
  log('done');
} finally {
  server.proc.kill('SIGTERM');
  await server.exited;
  await rm(dataDir, { recursive: true, force: true });
  await rm(`${dataDir}.keys`, { recursive: true, force: true });
}
