/**
 * RSS growth of a server while reads arrive over HTTP (issue 11: "HTTP ingest grows RSS by ≤ 40 B a
 * read"): a child `platesearch serve` on an empty data dir, `clients` concurrent clients POSTing fresh
 * generated reads (`batch` a body, JSON) until `reads` are acknowledged; the server's RSS (/proc) is
 * sampled after a warm-up, during the run and after it.
 *
 *   npm run build && node dist/bench/live-ingest-rss.js [--reads 990000] [--clients 8] [--batch 1000] [--seed 11]
 *     [--seal-rows N] (the server's seal threshold, default its own: 1M) [--env NAME=VALUE]… (the server's environment)
 *     [--drain] (after "3 s later", wait for the seals the run started to finish, for the idle seal of the tail (the
 *     server's live reads below kDefaultSealIdleRows), and for the server's CPU to fall below 5 % of a core for a second
 *     (a compaction after the last seal), then 3 s more: the "drained" RSS)
 *     [--thread-heaps] (each thread's V8 heap at the end, through bench/thread-heaps.cjs preloaded into the server)
 *     [--idle S] (after the figures, S seconds more with nothing sent, then the RSS, its split and the heaps again:
 *     what the server gives back on its own once idle, e.g. the seal worker's end after kSealWorkerIdleMs)
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
import { kDefaultSealIdleMs, kDefaultSealIdleRows } from '../src/engine/store-engine.js';
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
let stopping = false;
// a server that dies under the run says why (its stderr's tail), not only the clients' ECONNRESET
void server.exited.then((code) => {
  if (!stopping) log(`server exited (${code}) during the run; stderr:\n${server.stderr().slice(-4000)}`);
});
const rssOpen = rssOf(pid);
try {
  const pool = new Pool(server.url, { connections: o.clients, headersTimeout: 120_000, bodyTimeout: 120_000 });
  let next = 0;
  let failed = 0;
  let resent = 0;
  const send = async (end: number, onEach?: () => void) => {
    const client = async () => {
      while (next < end) {
        const i = next++;
        let r: { status: number };
        try {
          r = await post(pool, '/v1/reads', token, 'application/json', bodies[i]!);
        } catch (err) {
          // a kept-alive socket the server closed just as the body went out (its 5 s keep-alive limit, with this
          // process stalled under load): sent again once on a new connection, and counted
          if ((err as { code?: string }).code !== 'ECONNRESET') throw err;
          resent++;
          r = await post(pool, '/v1/reads', token, 'application/json', bodies[i]!);
        }
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
  const heaps0 = heapsDir ? await readThreadHeaps(heapsDir) : [];
  const cpu0 = cpuMs(pid);
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
    // and for the idle seal (src/engine/store-engine.ts kDefaultSealIdleMs): this server, run with the engine's
    // defaults, seals a tail of ≥ kDefaultSealIdleRows live reads once none has arrived for 5 s. Waited for through
    // the live-reads metric, not left to the clock: the drained figure is the state the server's design reaches
    // after a pause, not whichever side of that timer the figure happened to fall on (at most 60 s more)
    const idleBy = Date.now() + kDefaultSealIdleMs + 60_000;
    while (((await scrape(server.url)).get('platesearch_engine_live_reads') ?? 0) >= kDefaultSealIdleRows && Date.now() < idleBy) {
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
  const cpu = cpuMs(pid) - cpu0;
  const map = memoryMap(pid);
  const metrics = await scrape(server.url);
  const heaps = heapsDir ? threadHeaps(await readThreadHeaps(heapsDir), heaps0) : [];
  const measured = (bodies.length - warm) * o.batch;
  const per = (b: number) => ((b - rss0) / measured).toFixed(1);
  const idle = arg('idle', 0.001);
  const idleLines: string[] = [];
  if (idle >= 1) {
    await new Promise((r) => setTimeout(r, idle * 1000));
    const rssIdle = rssOf(pid);
    const mapIdle = memoryMap(pid);
    idleLines.push(
      `Idle ${idle} s after the figures: RSS ${(rssIdle / MiB).toFixed(0)} MiB, growth ${per(rssIdle)} B/read`,
      ...breakdown(mapIdle, await scrape(server.url), bodies.length * o.batch).map((l) => `  idle: ${l}`),
      ...(heapsDir ? threadHeaps(await readThreadHeaps(heapsDir), heaps0).map((l) => `  idle: ${l}`) : []),
    );
  }
  // --hold S: the server stays up S seconds after the figures (to attach a debugger: gdb -p <pid>)
  const hold = arg('hold', 0.001);
  if (hold >= 1) {
    log(`holding server pid ${pid} for ${hold} s`);
    await new Promise((r) => setTimeout(r, hold * 1000));
  }
  await pool.close();
  const out = [
    `HTTP ingest RSS, ${new Date().toISOString()}, ${machineDescription()}, node ${process.version}`,
    `Command: \`node dist/bench/live-ingest-rss.js ${process.argv.slice(2).join(' ')}\``,
    `${measured.toLocaleString('en-US')} reads measured after ${(warm * o.batch).toLocaleString('en-US')} warm-up reads; ${o.clients} clients, ${o.batch} reads a body (JSON); ` +
      `${Math.round(measured / seconds).toLocaleString('en-US')} reads/s; ${failed} failed requests, ${resent} sent again after ECONNRESET; ` +
      `server CPU from the warm-up to the figures ${(cpu / 1000).toFixed(1)} s (${((cpu * 1000) / measured).toFixed(2)} µs a read, seals and compactions included)`,
    `RSS: open ${(rssOpen / MiB).toFixed(0)} MiB, after warm-up ${(rss0 / MiB).toFixed(0)} MiB, end ${(rssEnd / MiB).toFixed(0)} MiB, 3 s later ${(rssSettled / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`,
    `Growth per read: end ${per(rssEnd)} B, settled ${per(rssSettled)} B, peak ${per(peak)} B` +
      (rssDrained === undefined ? '' : `, drained ${per(rssDrained)} B (${(rssDrained / MiB).toFixed(0)} MiB)`),
    `RSS at each quarter: ${quarters.map((q) => `${(q / MiB).toFixed(0)} MiB`).join(', ')}; second half ` +
      (quarters.length >= 2 ? `${((rssSettled - quarters[1]!) / (measured / 2)).toFixed(1)} B a read` : '–'),
    ...breakdown(map, metrics, bodies.length * o.batch),
    ...heaps,
    `Growth by kind since the warm-up: ${Object.entries(map).map(([k, v]) => `${k} ${((v - map0[k as keyof MemoryMap]) / MiB).toFixed(1)} MiB`).join(', ')}`,
    ...idleLines,
  ];
  process.stdout.write(out.join('\n') + '\n');
  log('done');
} finally {
  stopping = true;
  server.proc.kill('SIGTERM');
  await server.exited;
  await rm(dataDir, { recursive: true, force: true });
  if (heapsDir) await rm(heapsDir, { recursive: true, force: true });
  await rm(`${dataDir}.keys`, { recursive: true, force: true });
}

/** CPU milliseconds process `pid` used (every thread's) over the next `ms`, waited for synchronously. */
function cpuMsOver(pid: number, ms: number): number {
  const t0 = cpuMs(pid);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return cpuMs(pid) - t0;
}

/** CPU milliseconds process `pid` used so far (every thread's). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime (fields 14, 15), in clock ticks; USER_HZ: 100 on Linux
}

/** The server's /metrics gauges (name → value; the unlabelled samples). */
async function scrape(url: string): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await (await fetch(`${url}/metrics`)).text();
  } catch (err) {
    // fetch keeps its socket alive between scrapes: one the server closed (its 5 s keep-alive limit, a poll of the
    // drain ~5 s after the last) resets as the request goes out; asked again once on a new connection
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
    text = await (await fetch(`${url}/metrics`)).text();
  }
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

type ThreadHeap = { threadId: number; script: string; heapTotal: number; heapUsed: number; heapPhysical: number; arrayBuffers: number; spaces?: Record<string, [number, number]>; at: number };

/** Each thread's V8 heap as bench/thread-heaps.cjs last wrote it (a thread that ended keeps its last figures: `at`). */
async function readThreadHeaps(dir: string): Promise<ThreadHeap[]> {
  const all: ThreadHeap[] = [];
  for (const f of await readdir(dir)) {
    try {
      all.push(JSON.parse(await readFile(join(dir, f), 'utf8')) as ThreadHeap);
    } catch {
      // written at this moment: skipped
    }
  }
  return all.sort((a, b) => a.threadId - b.threadId);
}

/**
 * Each thread's V8 heap at the end, resident (used), its big spaces (new, old, large objects: resident/used),
 * and its resident growth since the warm-up (`before`; "new" for a thread started since).
 */
function threadHeaps(all: ThreadHeap[], before: ThreadHeap[]): string[] {
  const now = Date.now();
  const mib = (b: number) => (b / MiB).toFixed(1);
  const space = (h: ThreadHeap, name: string, short: string) => {
    const s = h.spaces?.[name];
    return s ? ` ${short} ${mib(s[0])}/${mib(s[1])}` : '';
  };
  const line = (h: ThreadHeap) => {
    const b = before.find((x) => x.threadId === h.threadId);
    const growth = b ? `${h.heapPhysical >= b.heapPhysical ? '+' : ''}${mib(h.heapPhysical - b.heapPhysical)}` : 'new';
    return `${h.script}#${h.threadId} ${mib(h.heapPhysical)} (used ${mib(h.heapUsed)};${space(h, 'new_space', 'new')}${space(h, 'old_space', 'old')}${space(h, 'large_object_space', 'lo')} ab ${mib(h.arrayBuffers)}; ${growth})` +
      (now - h.at > 2500 ? ' ended' : '');
  };
  const total = all.filter((h) => now - h.at <= 2500).reduce((t, h) => t + h.heapPhysical, 0);
  return [`Thread heaps, MiB resident (used; space resident/used; ArrayBuffers; growth since the warm-up), ${mib(total)} in threads alive: ${all.map(line).join(', ')}`];
}
