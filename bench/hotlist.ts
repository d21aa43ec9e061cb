/**
 * Hot lists and live alerts, end to end (issue 5's benchmarks):
 *
 *   1. list: parse / build / encode+write / load (decode+build) of a 1M-entry exact list and a 100k-entry
 *      fuzzy k = 1 list, in process; then a 1M-entry PUT (replace) over HTTP.
 *   2. ingest: the ingest hook alone, in process (CPU µs per read, caches warm and flushed); then HTTP
 *      ingest throughput (batches of 1000, 4 in flight) with no lists and with the 1M exact and the 100k
 *      fuzzy k = 1 list (OCR-aware with --ocr 1) attached, in alternating rounds; reported as wall reads/s
 *      and as server CPU µs per read (from /proc/<pid>/stat: on a machine shared with other jobs, wall
 *      time measures the scheduler).
 *   3. latency: ingest answer → SSE event, 1 and 50 connected dispatchers, p50/p99 over single-read ingests
 *      of a listed plate (each with a fresh read, paced 20 ms apart).
 *
 * The server is a separate process (`node dist/src/cli/main.js serve`), as in production.
 *
 *   npm run build && node dist/bench/hotlist.js [--reads 200000] [--samples 200] [--rounds 3] [--ocr 0|1]
 *
 * Writes bench/results/hotlist.json.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { HotlistStore } from '../src/hotlist/store.js';
import { parseHotlistBody } from '../src/hotlist/parse.js';
import { encodeHotlist } from '../src/hotlist/codec.js';
import { Directory } from '../src/server/tenancy/directory.js';
import { AlertSystem } from '../src/alerts/system.js';
import type { StoredRead } from '../src/model/read.js';
import { pino } from 'pino';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const kReads = arg('reads', 200_000);
const kSamples = arg('samples', 200);
const kRounds = arg('rounds', 3);
/** `--ocr 1` makes the 100k fuzzy list OCR-aware (a harsher case: ~2% of random reads then alert). */
const kOcr = arg('ocr', 0) === 1;
const kBigList = arg('big', 1_000_000);
const kFuzzyList = arg('fuzzy', 100_000);
const kRepo = resolve(fileURLToPath(import.meta.url), '../../..');

// mulberry32: small, seeded, good enough for plates
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const kAlnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function plates(n: number, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const len = 6 + Math.floor(r() * 3);
    let s = '';
    for (let i = 0; i < len; i++) s += kAlnum[Math.floor(r() * 36)];
    return s;
  });
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function timed<T>(fn: () => T): { value: T; wallMs: number; cpuMs: number } {
  const w = performance.now(), c = cpuMs();
  const value = fn();
  return { value, wallMs: performance.now() - w, cpuMs: cpuMs() - c };
}
async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const w = performance.now(), c = cpuMs();
  const value = await fn();
  return { value, wallMs: performance.now() - w, cpuMs: cpuMs() - c };
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Alerts in the server's alert log of pd-a (walks the record framing of src/alerts/log.ts). */
function alertCount(dataDir: string): number {
  let buf: Buffer;
  try {
    buf = readFileSync(join(dataDir, 'alerts', 'pd-a.log'));
  } catch {
    return 0;
  }
  let n = 0;
  for (let off = 16; off + 8 <= buf.length; off += 8 + buf.readUInt32LE(off)) n++;
  return n;
}

function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(parts[11]) + Number(parts[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}

async function listPhase(dir: string) {
  const bigEntries = plates(kBigList, 1).map((plate, i) => ({ plate, note: `NCIC ${i}` }));
  const fuzzyEntries = plates(kFuzzyList, 2).map((plate, i) => ({ plate, note: `BOLO ${i}` }));
  const bigJson = JSON.stringify({ entries: bigEntries, match: 'exact' });
  const parseJson = timed(() => JSON.parse(bigJson) as unknown);
  const parse = timed(() => parseHotlistBody('ncic', parseJson.value, Date.now()));
  const encode = timed(() => encodeHotlist(parse.value));
  const store = await HotlistStore.open(dir);
  const put = await timedAsync(() => store.put('pd-a', parse.value));
  const fuzzyList = parseHotlistBody('bolo', { entries: fuzzyEntries, match: 'fuzzy', maxEdits: 1, ocr: kOcr }, Date.now());
  const putFuzzy = await timedAsync(() => store.put('pd-a', fuzzyList));
  const load = await timedAsync(() => HotlistStore.open(dir));
  return {
    bigJsonBytes: bigJson.length,
    fileBytes: encode.value.length,
    matcherBytes: { exact1M: put.value.matcher.bytes, fuzzy100k: putFuzzy.value.matcher.bytes },
    ms: {
      jsonParse1M: round(parseJson.wallMs), validate1M: round(parse.wallMs), encode1M: round(encode.wallMs),
      storePut1M: round(put.wallMs), storePut1Mcpu: round(put.cpuMs),
      storePutFuzzy100k: round(putFuzzy.wallMs), storePutFuzzy100kCpu: round(putFuzzy.cpuMs),
      loadBoth: round(load.wallMs), loadBothCpu: round(load.cpuMs),
    },
    bigJson, fuzzyJson: JSON.stringify({ entries: fuzzyEntries, match: 'fuzzy', maxEdits: 1, ocr: kOcr }),
  };
}

/**
 * The ingest hook alone, in process: AlertSystem.onIngest (match both lists, write the alerts durably) over
 * batches of 1,000 stored reads, CPU µs per read, with the caches flushed between batches (in the server,
 * request parsing evicts the tables) and without. Robust where HTTP runs on a shared machine are not.
 */
async function hookPhase(dir: string) {
  const system = await AlertSystem.open({
    dataDir: dir, engine: { searchHotlist: async () => ({ matches: [] }) },
    scopesFor: (tenant) => [{ tenant, minTs: 0 }], retentionCutoff: () => 0, log: pino({ level: 'silent' }),
  });
  const junk = new Uint32Array(16 << 20); // 64 MiB
  const batches: StoredRead[][] = [];
  const ps = plates(kReads, 7);
  for (let i = 0; i < ps.length; i += 1000) {
    batches.push(ps.slice(i, i + 1000).map((plate, k) => ({ id: `r${i + k}`, tenant: 'pd-a', plate, ts: Date.now(), lat: 37.77, lon: -122.42, camera: 'cam-1' })));
  }
  const out: Record<string, { cpuUsPerRead: number; alerts: number }> = {};
  // JIT warm-up on reads that are not measured
  for (const batch of batches.slice(0, 20)) await system.onIngest('pd-a', batch.map((r) => ({ ...r, id: `w${r.id}` })));
  for (const cold of [false, true]) {
    let cpu = 0, alerts = 0;
    for (const batch of batches) {
      if (cold) for (let i = 0; i < junk.length; i += 16) junk[i]!++;
      const c = cpuMs();
      alerts += await system.onIngest('pd-a', batch);
      cpu += cpuMs() - c;
    }
    out[cold ? 'cacheCold' : 'cacheWarm'] = { cpuUsPerRead: round((cpu * 1000) / kReads, 2), alerts };
  }
  await system.close();
  return out;
}

interface Server { url: string; pid: number; stop(): Promise<void> }
async function spawnServer(dataDir: string): Promise<Server> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, join(kRepo, 'dist/src/cli/main.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--threads', '1', '--rate-limit', '1000000', '--rate-burst', '1000000'], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const url = await new Promise<string>((res, rej) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (process.env.BENCH_SERVER_STDOUT) appendFileSync(process.env.BENCH_SERVER_STDOUT, `${Math.round(performance.now())} ${l}\n`);
      const m = /^listening on (\S+)$/.exec(l);
      if (m) res(m[1]!);
    });
    proc.once('exit', (c) => rej(new Error(`server exited ${c}`)));
  });
  return {
    url, pid: proc.pid!,
    stop: () => new Promise((res) => {
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
    }),
  };
}

async function post(url: string, path: string, token: string, body: string, method: 'POST' | 'PUT' = 'POST') {
  const res = await request(url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
  return text;
}

let readSeq = 0;
function readsJson(ps: readonly string[]): string {
  const now = Date.now();
  return JSON.stringify(ps.map((plate) => ({ plate, ts: now - 1000 + (readSeq++ % 1000), lat: 37.77, lon: -122.42, camera: 'cam-1' })));
}

async function ingestRun(url: string, token: string, n: number, seed: number) {
  const all = plates(n, seed);
  const bodies: string[] = [];
  for (let i = 0; i < n; i += 1000) bodies.push(readsJson(all.slice(i, i + 1000)));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < bodies.length) await post(url, '/v1/reads', token, bodies[next++]!);
  }));
  return (performance.now() - t0) / 1000;
}

/** One SSE stream that timestamps each alert's arrival by the plate of its read. */
async function openStream(url: string, token: string, arrivals: Map<string, number[]>) {
  const ac = new AbortController();
  const res = await request(url + '/v1/alerts', { method: 'GET', headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  void (async () => {
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(ev)?.[1];
          if (!data) continue;
          const plate = (JSON.parse(data) as { read: { plate: string } }).read.plate;
          const at = performance.now();
          const list = arrivals.get(plate) ?? [];
          list.push(at);
          arrivals.set(plate, list);
        }
      }
    } catch { /* closed */ }
  })();
  return () => ac.abort();
}

async function latencyRun(url: string, ingestToken: string, dispatcherToken: string, streams: number, listed: readonly string[]) {
  const arrivals = new Map<string, number[]>();
  const closers = await Promise.all(Array.from({ length: streams }, () => openStream(url, dispatcherToken, arrivals)));
  await new Promise((r) => setTimeout(r, 300));
  const lat: number[] = [];
  const fromSend: number[] = [];
  for (let i = 0; i < kSamples; i++) {
    const plate = listed[i % listed.length]!;
    const sent = performance.now();
    await post(url, '/v1/reads', ingestToken, readsJson([plate]));
    const answered = performance.now();
    const deadline = answered + 2000;
    for (;;) {
      const got = arrivals.get(plate);
      if (got && got.length >= streams) break;
      if (performance.now() > deadline) break;
      await new Promise((r) => setImmediate(r));
    }
    // the alert is raised and durable before the ingest answer is sent, so it may arrive first: 0 then
    for (const at of arrivals.get(plate) ?? []) {
      lat.push(Math.max(0, at - answered));
      fromSend.push(at - sent);
    }
    arrivals.delete(plate);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const c of closers) c();
  return {
    streams, samples: lat.length, expected: kSamples * streams,
    answerToEvent: { p50Ms: round(pct(lat, 50), 2), p99Ms: round(pct(lat, 99), 2), maxMs: round(Math.max(...lat), 2) },
    requestToEvent: { p50Ms: round(pct(fromSend, 50), 2), p99Ms: round(pct(fromSend, 99), 2), maxMs: round(Math.max(...fromSend), 2) },
  };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(os.tmpdir(), 'platesearch-bench-hotlist-'));
  try {
    console.log('list phase (in process)…');
    const list = await listPhase(join(root, 'store'));
    console.log(JSON.stringify({ ...list, bigJson: undefined, fuzzyJson: undefined }, null, 1));
    console.log('ingest hook in process…');
    const hook = await hookPhase(join(root, 'store'));
    console.log(JSON.stringify(hook));

    const dataDir = join(root, 'server');
    const dir = await Directory.open(dataDir, { watch: false });
    const ing = (await dir.createToken('pd-a', 'ingest', ['ingest'])).token;
    const disp = (await dir.createToken('pd-a', 'dispatcher', ['dispatcher'])).token;
    await dir.close();
    const server = await spawnServer(dataDir);
    try {
      const measure = async (seed: number) => {
        // a long warm-up: the garbage of a 40 MB PUT body is collected here, not in the measurement
        await ingestRun(server.url, ing, 60_000, seed + 1000);
        const c0 = procCpuMs(server.pid);
        const a0 = alertCount(dataDir);
        const seconds = await ingestRun(server.url, ing, kReads, seed);
        return { seconds, cpuMs: procCpuMs(server.pid) - c0, alerts: alertCount(dataDir) - a0 };
      };
      const putLists = async () => ({
        big: await timedAsync(() => post(server.url, '/v1/hotlists/ncic', disp, list.bigJson, 'PUT')),
        fuzzy: await timedAsync(() => post(server.url, '/v1/hotlists/bolo', disp, list.fuzzyJson, 'PUT')),
      });
      const deleteLists = async () => {
        for (const name of ['ncic', 'bolo']) {
          await request(`${server.url}/v1/hotlists/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${disp}` } }).then((r) => r.body.text());
        }
      };

      // A/B rounds (none, lists, none, lists, …): the store grows and the machine is shared, so a single
      // pair mostly measures drift; each "with" run is compared with the mean of the runs around it
      const none: Array<{ seconds: number; cpuMs: number; alerts: number }> = [];
      const withLists: Array<{ seconds: number; cpuMs: number; alerts: number }> = [];
      const puts: Array<Awaited<ReturnType<typeof putLists>>> = [];
      for (let r = 0; r < kRounds; r++) {
        console.log(`${Math.round(performance.now())} round ${r + 1}/${kRounds}: ingest without lists…`);
        none.push(await measure(10 + r));
        console.log(`  PUT 1M exact + 100k fuzzy k=1${kOcr ? ' OCR' : ''} lists over HTTP…`);
        puts.push(await putLists());
        if (r === 0) puts.push(await putLists()); // a replace of existing lists
        console.log(`${Math.round(performance.now())}  ingest with lists…`);
        withLists.push(await measure(20 + r));
        if (r < kRounds - 1) await deleteLists();
      }
      console.log(`${Math.round(performance.now())} alert latency…`);
      const listed = plates(kBigList, 1).slice(0, kSamples);
      const lat1 = await latencyRun(server.url, ing, disp, 1, listed);
      const lat50 = await latencyRun(server.url, ing, disp, 50, listed);
      await deleteLists();
      none.push(await measure(30));

      const perRead = (m: { cpuMs: number }) => round((m.cpuMs * 1000) / kReads, 2);
      const rounds = withLists.map((w, r) => {
        const base = { seconds: (none[r]!.seconds + none[r + 1]!.seconds) / 2, cpuMs: (none[r]!.cpuMs + none[r + 1]!.cpuMs) / 2 };
        return {
          noneReadsPerS: Math.round(kReads / base.seconds), withReadsPerS: Math.round(kReads / w.seconds),
          noneCpuUsPerRead: perRead(base), withCpuUsPerRead: perRead(w),
          wallSlowdownPct: round((1 - base.seconds / w.seconds) * 100), cpuOverheadPct: round((w.cpuMs / base.cpuMs - 1) * 100),
          // with --ocr 1 the confusion classes shrink the alphabet and ~2% of random reads alert
          alertsRaised: w.alerts,
        };
      });
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

      const result = {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30), node: process.version, loadavg: os.loadavg().map((x) => round(x, 2)) },
        date: new Date().toISOString(),
        command: `node dist/bench/hotlist.js --reads ${kReads} --samples ${kSamples} --rounds ${kRounds} --ocr ${kOcr ? 1 : 0}`,
        fuzzyListOcr: kOcr,
        list: { ...list, bigJson: undefined, fuzzyJson: undefined },
        httpPut: {
          exact1M_firstMs: round(puts[0]!.big.wallMs), exact1M_replaceMs: round(puts[1]!.big.wallMs),
          exact1M_allMs: puts.map((p) => round(p.big.wallMs)), fuzzy100kMs: puts.map((p) => round(p.fuzzy.wallMs)),
        },
        ingest: {
          reads: kReads,
          runsNone: none.map((m) => ({ readsPerS: Math.round(kReads / m.seconds), cpuUsPerRead: perRead(m) })),
          rounds,
          medianWallSlowdownPct: median(rounds.map((r) => r.wallSlowdownPct)),
          medianCpuOverheadPct: median(rounds.map((r) => r.cpuOverheadPct)),
        },
        ingestHook: hook,
        latency: [lat1, lat50],
      };
      console.log(JSON.stringify(result, null, 1));
      mkdirSync(join(kRepo, 'bench/results'), { recursive: true });
      writeFileSync(join(kRepo, 'bench/results/hotlist.json'), JSON.stringify(result, null, 2) + '\n');
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
