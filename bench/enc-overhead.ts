/**
 * `node dist/bench/enc-overhead.js`: what encryption at rest costs (issue 13's targets), the same build
 * encrypted (production: AES-256-GCM, the default `file:` key store) against encryption off (the
 * benchmark-only stand-in, bench/plaintext-keys.ts), in one run, alternating which goes first, on the
 * same data:
 *
 *   1. bulk load: `platesearch ingest` of N generated reads (child processes; the plaintext one is
 *      bench/plaintext-cli.js running the same command code), wall and CPU seconds (/usr/bin/time);
 *   2. engine open of the loaded data dir in this process (`openEngine({threads})`: shard reads, checks,
 *      decryption), and server open (a child `serve` until its "listening" line);
 *   3. durable HTTP ingest: a child server per mode on a copy of the loaded dir, closed loop of
 *      `--clients` clients POSTing NDJSON bodies of 5,000 reads (every read fsync'd before the answer);
 *   4. every `bench:peers` query kind (bench/peers/query-set.ts) through the library API on an engine
 *      loaded by append + seal (as bench:peers loads it), the two engines' runs interleaved; answers
 *      must be equal.
 *
 * Ratios are encrypted / plaintext: time ratios above 1 (throughput ratios below 1) are the overhead.
 * The machine is shared: read ratios of interleaved runs, not absolute figures.
 *
 *   node dist/bench/enc-overhead.js [--reads 1000000] [--rounds 3] [--ingest-seconds 10] [--clients 8]
 *     [--query-runs 5] [--threads 2] [--markdown bench/RESULTS.md] [--out bench/results/enc-overhead.json]
 *     [--only load,open,http,queries] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { DataKeys } from '../src/crypto/data-keys.js';
import { aesGcm, type Cipher } from '../src/crypto/cipher.js';
import { openEngine } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { Directory } from '../src/server/tenancy/directory.js';
import { closedLoop, numberField, post } from './http/closed-loop.js';
import { ingestBodies, kContentType } from './http/ingest-bodies.js';
import { describeAnswer, differenceBetween, type Answer } from './peers/answer.js';
import { DataSample } from './peers/data-sample.js';
import { EnginePeer, loadEngine } from './peers/engine-peer.js';
import { buildQuerySet } from './peers/query-set.js';
import { machineDescription } from './peers/report.js';
import { SpillWriter } from './peers/spill.js';
import { median } from './peers/timing.js';
import { openPlaintextKeys } from './plaintext-keys.js';
import { sectionMarkers, writeResultsSection } from './results-section.js';

type Mode = 'encrypted' | 'plaintext';
const kModes: readonly Mode[] = ['encrypted', 'plaintext'];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    reads: { type: 'string' }, rounds: { type: 'string' }, 'ingest-seconds': { type: 'string' }, clients: { type: 'string' },
    'query-runs': { type: 'string' }, threads: { type: 'string' }, markdown: { type: 'string' }, out: { type: 'string' },
    only: { type: 'string' }, keep: { type: 'boolean' }, seed: { type: 'string' },
  },
  strict: true,
});
const o = {
  reads: Number(values.reads ?? 1_000_000),
  rounds: Number(values.rounds ?? 3),
  ingestSeconds: Number(values['ingest-seconds'] ?? 10),
  clients: Number(values.clients ?? 8),
  queryRuns: Number(values['query-runs'] ?? 5),
  threads: Number(values.threads ?? 2),
  seed: Number(values.seed ?? 7),
  markdown: values.markdown === '-' ? undefined : values.markdown ?? 'bench/RESULTS.md',
  out: values.out === '-' ? undefined : values.out ?? 'bench/results/enc-overhead.json',
  only: new Set((values.only ?? 'load,open,http,queries').split(',')),
  keep: values.keep ?? false,
};
if (o.reads > 1_000_000) throw new Error('--reads above 1,000,000: the machine is shared (BRIEF.md)');

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const kCli = join(root, 'dist/src/cli/main.js');
const kPlainCli = join(root, 'dist/bench/plaintext-cli.js');
const aesCalls = { seal: 0, open: 0 };
const countingAes: Cipher = {
  name: 'aes-256-gcm (counted)',
  seal: (...a: Parameters<Cipher['seal']>) => (aesCalls.seal++, aesGcm.seal(...a)),
  open: (...a: Parameters<Cipher['open']>) => (aesCalls.open++, aesGcm.open(...a)),
  openInto: (...a: Parameters<Cipher['openInto']>) => (aesCalls.open++, aesGcm.openInto(...a)),
};
const entryOf = (m: Mode) => (m === 'encrypted' ? kCli : kPlainCli);
const tenant = kDefaultTenants[0]!;
const log = (s: string) => process.stderr.write(`[enc-overhead ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const loadAvg = () => Number(execFileSync('cat', ['/proc/loadavg']).toString().split(' ')[0]);
/** Round r runs the modes in this order: alternating which goes first. */
const order = (r: number): Mode[] => (r % 2 === 0 ? [...kModes] : [...kModes].reverse());

async function keysFor(m: Mode, dataDir: string): Promise<DataKeys> {
  return m === 'encrypted' ? (await openDataDirKeys(dataDir, undefined)).keys : openPlaintextKeys(dataDir);
}

/** Runs a node script under /usr/bin/time; wall, CPU (user+sys) seconds and peak RSS of the child. */
async function timedNode(args: string[]): Promise<{ wallS: number; cpuS: number; rssMiB: number; stdout: string }> {
  const timeFile = join(tmpdir(), `enc-overhead-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  const wallS = (performance.now() - t0) / 1000;
  const [u, s, m] = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  await rm(timeFile, { force: true });
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${stderr}`);
  return { wallS, cpuS: u! + s!, rssMiB: m! / 1024, stdout };
}

interface Pair { encrypted: number[]; plaintext: number[] }
const pair = (): Pair => ({ encrypted: [], plaintext: [] });
const ratioOf = (p: Pair) => median(p.encrypted) / median(p.plaintext);

const work = await mkdtemp(join(tmpdir(), 'platesearch-enc-overhead-'));
const dirOf = (m: Mode, what: string) => join(work, `${what}-${m}`);
async function removeDir(d: string): Promise<void> {
  await rm(d, { recursive: true, force: true });
  await rm(`${d}.keys`, { recursive: true, force: true });
}
const report: Record<string, unknown> = {
  machine: machineDescription(), node: process.version, date: new Date().toISOString(),
  command: `node dist/bench/enc-overhead.js ${process.argv.slice(2).join(' ')}`.trim(), reads: o.reads, rounds: o.rounds,
  loadAverages: [] as number[],
};
const loads = report.loadAverages as number[];
log(`work dir ${work}; ${o.reads.toLocaleString('en-US')} reads, ${o.rounds} rounds; load average ${loadAvg()}`);

try {
  // 1. bulk load
  const ndjson = join(work, 'reads.ndjson');
  const needLoaded = o.only.has('load') || o.only.has('open') || o.only.has('http');
  const bulk = { wallS: pair(), cpuS: pair(), rssMiB: pair() };
  if (needLoaded) {
    log('generating reads');
    execFileSync(process.execPath, [kCli, 'gen', '--reads', String(o.reads), '--seed', String(o.seed), '--tenants', tenant, '--out', ndjson], { stdio: 'ignore' });
    const rounds = o.only.has('load') ? o.rounds : 1;
    for (let r = 0; r < rounds; r++) {
      for (const m of order(r)) {
        const d = dirOf(m, 'bulk');
        await removeDir(d);
        loads.push(loadAvg());
        const t = await timedNode([entryOf(m), 'ingest', '--data-dir', d, '--tenant', tenant, ndjson]);
        if (!t.stdout.includes(`accepted ${o.reads}`)) throw new Error(`ingest (${m}): ${t.stdout}`);
        bulk.wallS[m].push(t.wallS);
        bulk.cpuS[m].push(t.cpuS);
        bulk.rssMiB[m].push(t.rssMiB);
        log(`bulk load ${m}: ${t.wallS.toFixed(1)} s wall, ${t.cpuS.toFixed(1)} s CPU, ${t.rssMiB.toFixed(0)} MiB`);
      }
    }
    if (o.only.has('load')) report.bulkLoad = bulk;
  }

  // 2. engine open in this process: shards checked and decrypted on worker threads (openThreads = threads,
  //    the default) and on the opening thread (openThreads 0: how opening worked before), each mode
  if (o.only.has('open')) {
    const variants = kModes.flatMap((m) => [{ m, openThreads: o.threads }, { m, openThreads: 0 }]);
    const open: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    for (let r = 0; r < o.rounds * 2; r++) {
      const turn = [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)];
      for (const v of turn) {
        const name = `${v.m}/${v.openThreads}`;
        const keys = await keysFor(v.m, dirOf(v.m, 'bulk'));
        loads.push(loadAvg());
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const engine = await openEngine({ dataDir: dirOf(v.m, 'bulk'), threads: o.threads, openThreads: v.openThreads, keys, sealAgeMs: 0 });
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const stats = engine.stats();
        await engine.close();
        await keys.store.close();
        if (stats.corruptFiles.length > 0 || stats.reads !== o.reads) throw new Error(`open ${name}: ${JSON.stringify(stats)}`);
        (open[name] ??= []).push(ms);
        (cpu[name] ??= []).push((c.user + c.system) / 1000);
        log(`engine open ${name}: ${ms.toFixed(0)} ms, CPU ${((c.user + c.system) / 1000).toFixed(0)} ms`);
      }
    }
    report.engineOpen = { ms: open, cpuMs: cpu };
  }

  // 3. server open and durable HTTP ingest
  if (o.only.has('http')) {
    const http = { openMs: pair(), readsPerSecond: pair(), p50Ms: pair(), p99Ms: pair(), status: [] as unknown[] };
    log('encoding ingest bodies');
    const bodies = ingestBodies(Math.max(4, Math.ceil(400_000 / 5000)), 5000, 'ndjson', o.seed + 1, tenant);
    for (let r = 0; r < o.rounds; r++) {
      for (const m of order(r)) {
        const d = dirOf(m, 'serve');
        await removeDir(d);
        await cp(dirOf(m, 'bulk'), d, { recursive: true });
        if (m === 'encrypted') await cp(`${dirOf(m, 'bulk')}.keys`, `${d}.keys`, { recursive: true });
        const dir = await Directory.open(d, { watch: false });
        const token = (await dir.createToken(tenant, 'bench-camera', ['ingest'])).token;
        await dir.close();
        loads.push(loadAvg());
        const t0 = performance.now();
        const server = await spawnServer(m, d);
        const openMs = performance.now() - t0;
        let next = 0;
        const send = async (pool: Parameters<Parameters<typeof closedLoop>[3]>[0]) => {
          const res = await post(pool, '/v1/reads', token, kContentType.ndjson, bodies[next++ % bodies.length]!);
          return { status: res.status, accepted: res.status === 200 ? numberField(res.text, 'accepted') ?? 0 : 0 };
        };
        await closedLoop(server.url, 2, 1, send); // warm-up
        const phase = await closedLoop(server.url, o.clients, o.ingestSeconds, send);
        server.kill();
        await server.exited;
        http.openMs[m].push(openMs);
        http.readsPerSecond[m].push(phase.readsPerSecond);
        http.p50Ms[m].push(phase.latencyMs.p50);
        http.p99Ms[m].push(phase.latencyMs.p99);
        http.status.push({ mode: m, status: phase.status });
        log(`server ${m}: open ${openMs.toFixed(0)} ms; ingest ${phase.readsPerSecond.toLocaleString('en-US')} reads/s, p50 ${phase.latencyMs.p50} ms ${JSON.stringify(phase.status)}`);
        await removeDir(d);
      }
    }
    report.http = http;
  }

  // 4. the bench:peers query kinds on engines loaded by append + seal
  if (o.only.has('queries')) {
    const genOptions = { reads: o.reads, seed: o.seed, tenants: kDefaultTenants.slice(0, 3), days: 28, vehicles: Math.max(50, Math.round(o.reads / 10)) };
    const peers = {} as Record<Mode, EnginePeer>;
    const appendLoad = { ms: pair() };
    let sample: DataSample | undefined;
    for (const m of kModes) {
      const d = dirOf(m, 'peers');
      const opened = await keysFor(m, d);
      // the encrypted engine's cipher counts its calls on this thread (still AES-256-GCM): a search must make none
      const keys = m === 'encrypted' ? new DataKeys(opened.store, countingAes) : opened;
      const engine = await openEngine({ dataDir: d, threads: o.threads, keys });
      const s = new DataSample(o.seed, genOptions.vehicles);
      const spill = new SpillWriter(join(work, `spill-${m}.tsv`));
      loads.push(loadAvg());
      const l = await loadEngine(engine, d, generateReads(genOptions), s, spill, { batch: 100_000 });
      await rm(spill.path, { force: true });
      appendLoad.ms[m].push(l.loadMs);
      log(`append + seal ${m}: ${(l.loadMs / 1000).toFixed(1)} s`);
      peers[m] = new EnginePeer(engine);
      sample ??= s;
    }
    report.appendLoad = appendLoad;
    const queries = buildQuerySet(sample!, { seed: o.seed, hotlistExact: 10_000, hotlistFuzzy: 1_000 });
    const rows: unknown[] = [];
    const callsBefore = { ...aesCalls };
    for (const q of queries) {
      const ms = pair(), cpuMs = pair();
      const answers: Partial<Record<Mode, Answer>> = {};
      for (const m of kModes) answers[m] = await peers[m].run(q); // warm-up
      for (let i = 0; i < o.queryRuns; i++) {
        for (const m of order(i)) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await peers[m].run(q);
          ms[m].push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          cpuMs[m].push((c.user + c.system) / 1000);
        }
      }
      const diff = differenceBetween(answers.encrypted!, answers.plaintext!);
      rows.push({ query: q.name, describe: q.describe, ms, cpuMs, ratio: ratioOf(ms), cpuRatio: ratioOf(cpuMs), equal: !diff, answer: describeAnswer(answers.encrypted!), diff });
      log(`${q.name}: encrypted ${median(ms.encrypted).toFixed(2)} ms (CPU ${median(cpuMs.encrypted).toFixed(2)}), plaintext ${median(ms.plaintext).toFixed(2)} ms (CPU ${median(cpuMs.plaintext).toFixed(2)}), ratio ${ratioOf(ms).toFixed(2)} / CPU ${ratioOf(cpuMs).toFixed(2)}${diff ? ` DIFFER: ${diff}` : ''}`);
    }
    report.aesCallsDuringQueries = { seal: aesCalls.seal - callsBefore.seal, open: aesCalls.open - callsBefore.open, queries: queries.length * (o.queryRuns + 1) };
    for (const m of kModes) await peers[m].close();
    report.queries = rows;
  }
} finally {
  if (o.keep) log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}

if (o.out) {
  await mkdir(dirname(o.out), { recursive: true });
  await writeFile(o.out, JSON.stringify(report, null, 2) + '\n');
}
const section = render(report);
process.stdout.write(section + '\n');
if (o.markdown) writeResultsSection(o.markdown, sectionMarkers('enc-overhead'), section);
const differ = ((report.queries ?? []) as Array<{ equal: boolean }>).some((r) => !r.equal);
process.exit(differ ? 1 : 0);

function spawnServer(m: Mode, dataDir: string): Promise<{ url: string; kill(): void; exited: Promise<unknown> }> {
  const proc = spawn(process.execPath, [entryOf(m), 'serve', '--data-dir', dataDir, '--port', '0', '--threads', String(o.threads),
    '--rate-limit', '1000000', '--rate-burst', '10000000', '--seal-age-ms', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((res) => proc.once('exit', res));
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match) resolve({ url: match[1]!, kill: () => proc.kill('SIGTERM'), exited });
    });
    void exited.then((code) => reject(new Error(`${m} server exited ${String(code)}: ${stderr}`)));
  });
}

function render(r: Record<string, unknown>): string {
  const m = sectionMarkers('enc-overhead');
  const f = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const row = (what: string, p: Pair, unit: string, d = 1, higherIsBetter = false) => {
    const ratio = ratioOf(p);
    const over = higherIsBetter ? 1 / ratio - 1 : ratio - 1;
    const best = higherIsBetter ? Math.max(...p.encrypted) / Math.max(...p.plaintext) : Math.min(...p.encrypted) / Math.min(...p.plaintext);
    const runs = p.encrypted.length <= 6 ? `${p.encrypted.map((x) => f(x, d)).join(', ')} / ${p.plaintext.map((x) => f(x, d)).join(', ')}` : `${p.encrypted.length} each`;
    return `| ${what} | ${f(median(p.encrypted), d)} ${unit} | ${f(median(p.plaintext), d)} ${unit} | ${ratio.toFixed(3)} | ${best.toFixed(3)} | ${over <= 0.1 ? 'yes' : '**no**'} | ${runs} |`;
  };
  const lines = [m.begin, '## Encryption overhead (issue 13)', '',
    `- Machine: ${String(r.machine)}; Node ${String(r.node)}; date ${String(r.date)}`,
    `- Command: \`${String(r.command)}\``,
    `- Encrypted = production (AES-256-GCM, default \`file:\` key store); plaintext = the same build with the benchmark-only stand-in (bench/plaintext-keys.ts: same framing, no AES, no key wrapping). ${(r.reads as number).toLocaleString("en-US")} generated reads; medians of ${String(r.rounds)} rounds (engine open: ${String((r.rounds as number) * 2)}), modes alternating which goes first. Load average at the phases' starts: ${(r.loadAverages as number[]).map((x) => x.toFixed(1)).join(', ')} (the machine is shared: read the ratios).`,
    '', '| what | encrypted (median) | plaintext (median) | ratio of medians | ratio of bests | median within 10% | runs (enc / plain) |', '| --- | ---: | ---: | ---: | ---: | :---: | --- |'];
  const bulk = r.bulkLoad as { wallS: Pair; cpuS: Pair; rssMiB: Pair } | undefined;
  if (bulk) {
    lines.push(row('bulk load `platesearch ingest`, wall', bulk.wallS, 's'));
    lines.push(row('bulk load `platesearch ingest`, CPU (user+sys)', bulk.cpuS, 's'));
  }
  const open = r.engineOpen as { ms: Record<string, number[]>; cpuMs: Record<string, number[]> } | undefined;
  if (open) {
    const t = o.threads;
    lines.push(row(`engine open, shards decrypted on ${t} worker threads (wall)`, { encrypted: open.ms[`encrypted/${t}`]!, plaintext: open.ms[`plaintext/${t}`]! }, 'ms', 0));
    lines.push(row('engine open, on the opening thread (before; wall)', { encrypted: open.ms['encrypted/0']!, plaintext: open.ms['plaintext/0']! }, 'ms', 0));
  }
  const http = r.http as { openMs: Pair; readsPerSecond: Pair; p50Ms: Pair } | undefined;
  if (http) {
    lines.push(row('server open (`serve` start to "listening")', http.openMs, 'ms', 0));
    lines.push(row(`durable HTTP ingest, ${o.clients} clients, NDJSON × 5,000 (reads/s)`, http.readsPerSecond, '', 0, true));
    lines.push(row('  … request latency p50', http.p50Ms, 'ms', 1));
  }
  const append = r.appendLoad as { ms: Pair } | undefined;
  if (append) lines.push(row('library load (append + seal, as bench:peers loads)', append.ms, 'ms', 0));
  for (const q of (r.queries ?? []) as Array<{ query: string; ms: Pair; cpuMs: Pair; equal: boolean }>) {
    lines.push(row(`query: ${q.query}${q.equal ? '' : ' (ANSWERS DIFFER)'}, wall`, q.ms, 'ms', 3));
    lines.push(row('  … CPU of this process (all threads)', q.cpuMs, 'ms', 3));
  }
  if (open) {
    const t = o.threads;
    lines.push('', `Engine open before/after (decryption on the opening thread → on ${t} workers), medians of ${open.ms['encrypted/0']!.length}: encrypted ` +
      `${f(median(open.ms['encrypted/0']!), 0)} → ${f(median(open.ms[`encrypted/${t}`]!), 0)} ms wall (best ${f(Math.min(...open.ms['encrypted/0']!), 0)} → ${f(Math.min(...open.ms[`encrypted/${t}`]!), 0)}), ` +
      `CPU of this process ${f(median(open.cpuMs['encrypted/0']!), 0)} → ${f(median(open.cpuMs[`encrypted/${t}`]!), 0)} ms; plaintext ${f(median(open.ms['plaintext/0']!), 0)} → ${f(median(open.ms[`plaintext/${t}`]!), 0)} ms wall.`);
  }
  const calls = r.aesCallsDuringQueries as { seal: number; open: number; queries: number } | undefined;
  if (calls) lines.push('', `AES-GCM calls on the engine's thread during the ${calls.queries} query runs of the encrypted engine: ${calls.seal} seal, ${calls.open} open (data is decrypted once, at load).`);
  lines.push('', 'Ratios are encrypted / plaintext (for reads/s the overhead is plaintext / encrypted − 1); "bests" = fastest run of each, the figure least moved by other processes on the shared cores. Query answers of the two engines compared: ' +
    `${((r.queries ?? []) as Array<{ equal: boolean }>).every((q) => q.equal) ? 'all equal' : 'SOME DIFFER'}.`, m.end);
  return lines.join('\n');
}
