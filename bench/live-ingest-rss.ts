/**
 * RSS growth of a server while reads arrive over HTTP (issue 11: "HTTP ingest grows RSS by ≤ 40 B a
 * read"): a child `platesearch serve` on an empty data dir, `clients` concurrent clients POSTing fresh
 * generated reads (`batch` a body, JSON) until `reads` are acknowledged; the server's RSS (/proc) is
 * sampled after a warm-up, during the run and after it.
 *
 *   npm run build && node dist/bench/live-ingest-rss.js [--reads 990000] [--clients 8] [--batch 1000] [--seed 11]
 *     [--seal-rows N] (the server's seal threshold, default its own: 1M) [--env NAME=VALUE]… (the server's environment)
 *     [--drain] (after "3 s later", wait for the seals the run started to finish and the server's CPU to fall below 5 %
 *     of a core for a second (a compaction after the last seal), then 3 s more: the "drained" RSS)
 *     [--thread-heaps] (each thread's V8 heap at the end, through bench/thread-heaps.cjs preloaded into the server)
 *
 * With the default 990,000 reads the server's size threshold for sealing (1,000,000 live reads) is not
 * reached: the growth measured is what live rows cost (plus the WAL, the readId set and the heap's slack).
 * The issue's figure is for 5M reads (`--reads 5000000 --allow-big`, on a machine with nothing else running:
 * the bodies alone take ~1 GB in this process): the server seals every 1M, so the growth is then the
 * sealed shards' resident bytes plus one live generation at most.
 *
 * After the run, the settled RSS is split (the breakdown lines): by kind of mapping (bench/proc-memory.ts
 * memoryMap: WebAssembly arenas, glibc's malloc arenas, other anonymous memory = V8 heaps of every isolate and
 * big mallocs, files) and, from the server's /metrics, its main thread's JS heap, the engine's arena bytes in
 * use (resident shards + live rows) and its live rows.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { Directory } from '../src/server/tenancy/directory.js';
import { rssOf } from '../test/helpers/fuzz-target.js';
import { repoRoot, spawnServe } from '../test/helpers/crash-loop.js';
import { post } from './http/closed-loop.js';
import { ingestBodies } from './http/ingest-bodies.js';
import { machineDescription } from './peers/report.js';
import { memoryMap, MiB, type MemoryMap } from './proc-memory.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const o = { reads: arg('reads', 990_000), clients: arg('clients', 8), batch: arg('batch', 1000), seed: arg('seed', 11), sealRows: arg('seal-rows', 0) };
const serverEnv: Record<string, string> = {};
process.argv.forEach((a, i) => {
  if (a !== '--env') return;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(process.argv[i + 1] ?? '');
  if (!m) throw new Error('--env needs NAME=VALUE');
  serverEnv[m[1]!] = m[2]!;
});
if (o.reads > 1_000_000 && !process.argv.includes('--allow-big')) throw new Error('over 1M reads only with --allow-big (a quiet machine: the bodies take ~200 B a read here)');
const log = (s: string) => void process.stderr.write(`live-ingest-rss ${s}\n`);
const tenant = 'pd-metro';

const bodies = ingestBodies(Math.ceil(o.reads / o.batch), o.batch, 'json', o.seed, tenant);
const warm = Math.max(1, Math.round(bodies.length / 50)); // 2 %: the server's hot paths compiled, its heap grown
const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-live-rss-'));
const heapsDir = process.argv.includes('--thread-heaps') ? await mkdtemp(join(tmpdir(), 'platesearch-thread-heaps-')) : undefined;
if (heapsDir) {
  serverEnv.PS_THREAD_HEAPS_DIR = heapsDir;
  serverEnv.NODE_OPTIONS = `${serverEnv.NODE_OPTIONS ?? ''} --require=${join(repoRoot(), 'bench/thread-heaps.cjs')}`.trim();
}
const dir = await Directory.open(dataDir, { watch: false });
const token = (await dir.createToken(tenant, 'bench-camera', ['ingest'])).token;
await dir.close();
const serveArgs = ['--threads', '2', '--rate-limit', '1000000', '--rate-burst', '10000000', ...(o.sealRows > 0 ? ['--seal-rows', String(o.sealRows)] : [])];
const server = await spawnServe(dataDir, serveArgs, 10 * 60_000, serverEnv);
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
  const map0 = memoryMap(pid);
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
  let rssDrained: number | undefined;
  if (process.argv.includes('--drain')) {
    // a seal started by the last appends may still run: wait until the live rows are below the threshold
    const threshold = o.sealRows > 0 ? o.sealRows : 1_000_000;
    while (((await scrape(server.url)).get('platesearch_engine_live_reads') ?? 0) >= threshold) {
      peak = Math.max(peak, rssOf(pid));
      await new Promise((r) => setTimeout(r, 250));
    }
    // and until the background work it set off is done: a compaction (4 shards of a day merge into one, the
    // seal worker reading them and the merged shard loaded beside them) runs after the last seal, on no metric;
    // the server's CPU below 5 % of a core for a second says it is over (at most 5 minutes)
    for (let i = 0; i < 300 && cpuMsOver(pid, 1000) >= 50; i++) peak = Math.max(peak, rssOf(pid));
    await new Promise((r) => setTimeout(r, 3000));
    rssDrained = rssOf(pid);
  }
  const map = memoryMap(pid);
  const metrics = await scrape(server.url);
  const heaps = heapsDir ? await threadHeaps(heapsDir) : [];
  // --hold S: the server stays up S seconds after the figures (to attach a debugger: gdb -p <pid>)
  const hold = arg('hold', 0.001);
  if (hold >= 1) {
    log(`holding server pid ${pid} for ${hold} s`);
    await new Promise((r) => setTimeout(r, hold * 1000));
  }
  await pool.close();
  const measured = (bodies.length - warm) * o.batch;
  const per = (b: number) => ((b - rss0) / measured).toFixed(1);
  const out = [
    `HTTP ingest RSS, ${new Date().toISOString()}, ${machineDescription()}, node ${process.version}`,
    `Command: \`node dist/bench/live-ingest-rss.js ${process.argv.slice(2).join(' ')}\``,
    `${measured.toLocaleString('en-US')} reads measured after ${(warm * o.batch).toLocaleString('en-US')} warm-up reads; ${o.clients} clients, ${o.batch} reads a body (JSON); ` +
      `${Math.round(measured / seconds).toLocaleString('en-US')} reads/s; ${failed} failed requests`,
    `RSS: open ${(rssOpen / MiB).toFixed(0)} MiB, after warm-up ${(rss0 / MiB).toFixed(0)} MiB, end ${(rssEnd / MiB).toFixed(0)} MiB, 3 s later ${(rssSettled / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`,
    `Growth per read: end ${per(rssEnd)} B, settled ${per(rssSettled)} B, peak ${per(peak)} B` +
      (rssDrained === undefined ? '' : `, drained ${per(rssDrained)} B (${(rssDrained / MiB).toFixed(0)} MiB)`),
    `RSS at each quarter: ${quarters.map((q) => `${(q / MiB).toFixed(0)} MiB`).join(', ')}; second half ` +
      (quarters.length >= 2 ? `${((rssSettled - quarters[1]!) / (measured / 2)).toFixed(1)} B a read` : '–'),
    ...breakdown(map, metrics, bodies.length * o.batch),
    ...heaps,
    `Growth by kind since the warm-up: ${Object.entries(map).map(([k, v]) => `${k} ${((v - map0[k as keyof MemoryMap]) / MiB).toFixed(1)} MiB`).join(', ')}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  log('done');
} finally {
  server.proc.kill('SIGTERM');
  await server.exited;
  await rm(dataDir, { recursive: true, force: true });
  if (heapsDir) await rm(heapsDir, { recursive: true, force: true });
  await rm(`${dataDir}.keys`, { recursive: true, force: true });
}

/** CPU milliseconds process `pid` used (every thread's) over the next `ms`, waited for synchronously. */
function cpuMsOver(pid: number, ms: number): number {
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15), in clock ticks
  };
  const t0 = ticks();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ((ticks() - t0) * 1000) / 100; // USER_HZ: 100 on Linux
}

/** The server's /metrics gauges (name → value; the unlabelled samples). */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The settled RSS split by kind of mapping and by what the server says it holds, in MiB and bytes a read. */
function breakdown(map: MemoryMap, metrics: Map<string, number>, reads: number): string[] {
  const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
  const perRead = (b: number) => `${(b / reads).toFixed(1)} B/read`;
  const m = (name: string) => metrics.get(`platesearch_${name}`) ?? NaN;
  const kinds = Object.entries(map).map(([k, v]) => `${k} ${mib(v)} (${perRead(v)})`);
  const resident = m('engine_resident_bytes');
  return [
    `Breakdown (${process.argv.includes('--drain') ? 'drained' : 'settled'}, ${reads.toLocaleString('en-US')} reads stored): ${kinds.join(', ')}`,
    `Server: engine arena bytes in use ${mib(resident)} (${perRead(resident)}), live rows ${m('engine_live_reads').toLocaleString('en-US')}, ` +
      `shards ${m('engine_shards')}; main thread JS heap used ${mib(m('nodejs_heap_size_used_bytes'))} of ${mib(m('nodejs_heap_size_total_bytes'))}, ` +
      `external ${mib(m('nodejs_external_memory_bytes'))}`,
  ];
}

/** Each thread's V8 heap as bench/thread-heaps.cjs last wrote it (a thread that ended keeps its last figures: `at`). */
async function threadHeaps(dir: string): Promise<string[]> {
  type Heap = { threadId: number; script: string; heapTotal: number; heapUsed: number; heapPhysical: number; arrayBuffers: number; at: number };
  const all: Heap[] = [];
  for (const f of await readdir(dir)) all.push(JSON.parse(await readFile(join(dir, f), 'utf8')) as Heap);
  all.sort((a, b) => a.threadId - b.threadId);
  const now = Date.now();
  const line = (h: Heap) => `${h.script}#${h.threadId} ${(h.heapPhysical / MiB).toFixed(1)} (used ${(h.heapUsed / MiB).toFixed(1)})` + (now - h.at > 2500 ? ' ended' : '');
  return [`Thread heaps, MiB resident: ${all.map(line).join(', ')}`];
}
