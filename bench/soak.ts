/**
 * Soak: mixed ingest + search + hot-list alerts against a child `platesearch serve` on loopback, for a
 * bounded time. `node dist/bench/soak.js --duration-s 600 [--ingest-clients 2] [--search-clients 2]
 * [--dispatchers 2] [--batch 200] [--out bench/results/soak.json]` (build first).
 *
 * Data volume is held steady by a 60 s retention on the tenant (reads are stamped now; the sweeper
 * deletes what ages out), so resident memory should plateau: RSS growth after the warm-up is a leak,
 * not data. Reported: throughput (reads/s acknowledged, searches/s), latency p50/p99/max per operation,
 * RSS and open file descriptors of the server every 10 s, RSS drift (mean of the last fifth minus mean
 * of the second fifth) and slope over the second half, status counts (zero 5xx expected), alerts
 * received vs expected, temp files left in the data dir.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { Directory } from '../src/server/tenancy/directory.js';
import { prng, spawnServe } from '../test/helpers/crash-loop.js';
import { rssOf } from '../test/helpers/fuzz-target.js';

const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '600' },
    'ingest-clients': { type: 'string', default: '2' },
    'search-clients': { type: 'string', default: '2' },
    dispatchers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '200' },
    'sample-s': { type: 'string', default: '10' },
    out: { type: 'string' },
  },
});
const durationMs = Number(values['duration-s']) * 1000;
const batchSize = Number(values.batch);
const sampleMs = Number(values['sample-s']) * 1000;
const rnd = prng(4242);

const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-soak-'));
const dir = await Directory.open(dataDir, { watch: false });
const T = {
  ingest: (await dir.createToken('pd-a', 'cam', ['ingest'])).token,
  inv: (await dir.createToken('pd-a', 'inv', ['investigator'])).token,
  disp: (await dir.createToken('pd-a', 'disp', ['dispatcher'])).token,
  admin: (await dir.createToken('pd-a', 'admin', ['admin'])).token,
};
await dir.close();
// sealing by size and age, so seals, compaction and retention sweeps all run during the soak
const child = await spawnServe(dataDir, ['--seal-rows', '20000', '--seal-age-ms', '15000', '--rate-limit', '100000', '--rate-burst', '100000']);
const url = child.url;
const pid = child.proc.pid!;
let serverDied = false;
void child.exited.then(() => (serverDied = true));

async function http(method: 'GET' | 'PUT' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(url + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json };
}

const wanted = Array.from({ length: 200 }, (_, i) => `SK${String(i).padStart(5, '0')}`);
const filler = Array.from({ length: 20_000 }, (_, i) => ({ plate: `F${i.toString(36).toUpperCase()}Z`, note: '' }));
if ((await http('PUT', '/v1/retention', T.admin, { retentionSeconds: 60 })).status !== 200) throw new Error('retention PUT failed');
if ((await http('PUT', '/v1/hotlists/wanted', T.disp, { entries: [...wanted.map((plate) => ({ plate, note: 'soak' })), ...filler] })).status !== 200) {
  throw new Error('hot list PUT failed');
}

class Latency {
  readonly ms: number[] = [];
  add(v: number): void {
    this.ms.push(v);
  }
  summary(): { n: number; p50: number; p99: number; max: number } {
    const s = [...this.ms].sort((a, b) => a - b);
    const q = (p: number): number => Math.round((s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0) * 100) / 100;
    return { n: s.length, p50: q(0.5), p99: q(0.99), max: Math.round((s[s.length - 1] ?? 0) * 100) / 100 };
  }
}
const lat = { ingest: new Latency(), search: new Latency(), alert: new Latency() };
const status: Record<string, number> = {};
let readsAcked = 0, searches = 0, alertsExpected = 0, alertsReceived = 0, clientErrors = 0;
const sentAt = new Map<string, number>(); // camera of a wanted read → when its ingest was answered
let stop = false;
const started = Date.now();
const count = (s: number): void => {
  status[s] = (status[s] ?? 0) + 1;
};

async function ingestClient(c: number): Promise<void> {
  let n = 0;
  while (!stop) {
    const now = Date.now();
    const batch = Array.from({ length: batchSize }, () => {
      const w = rnd() < 0.01;
      const camera = `c${c}-${(n++).toString(36)}`;
      return {
        plate: w ? wanted[Math.floor(rnd() * wanted.length)]! : `R${Math.floor(rnd() * 36 ** 6).toString(36).toUpperCase()}`,
        ts: new Date(now - Math.floor(rnd() * 5000)).toISOString(), lat: 37.6 + rnd() * 0.3, lon: -122.5 + rnd() * 0.3,
        camera, readId: camera,
      };
    });
    const t0 = performance.now();
    try {
      const res = await http('POST', '/v1/reads', T.ingest, batch);
      lat.ingest.add(performance.now() - t0);
      count(res.status);
      if (res.status === 200) {
        const rejected = new Set((res.json.rejected as Array<{ index: number }>).map((r) => r.index));
        readsAcked += batch.length - rejected.size;
        const answered = performance.now();
        batch.forEach((r, i) => {
          if (!rejected.has(i) && r.plate.startsWith('SK')) {
            alertsExpected++;
            sentAt.set(r.camera, answered);
          }
        });
      }
    } catch {
      clientErrors++;
    }
  }
}

async function searchClient(): Promise<void> {
  while (!stop) {
    const kind = rnd();
    const body = kind < 0.4
      ? { plate: wanted[Math.floor(rnd() * wanted.length)], purpose: 'soak', case: 's' }
      : kind < 0.7
        ? { plate: `R${Math.floor(rnd() * 36 ** 2).toString(36).toUpperCase()}*`, limit: 100, purpose: 'soak', case: 's' }
        : kind < 0.9
          ? { plate: `R${Math.floor(rnd() * 36 ** 6).toString(36).toUpperCase()}`, match: 'fuzzy', maxEdits: 1, purpose: 'soak', case: 's' }
          : { near: { lat: 37.75, lon: -122.35, radiusM: 500 }, limit: 100, purpose: 'soak', case: 's' };
    const t0 = performance.now();
    try {
      const res = await http('POST', '/v1/search', T.inv, body);
      lat.search.add(performance.now() - t0);
      count(res.status);
      searches++;
    } catch {
      clientErrors++;
    }
  }
}

async function dispatcher(d: number): Promise<void> {
  const ac = new AbortController();
  const stopper = setInterval(() => stop && ac.abort(), 200);
  try {
    const res = await request(`${url}/v1/alerts`, { method: 'GET', signal: ac.signal, headers: { authorization: `Bearer ${T.disp}`, accept: 'text/event-stream' } });
    count(res.statusCode);
    let buf = '';
    for await (const chunk of res.body) {
      buf += chunk.toString('utf8');
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!data || !/^event: alert$/m.test(block)) continue;
        if (d === 0) {
          alertsReceived++;
          const camera = JSON.parse(data).read.camera as string;
          const at = sentAt.get(camera);
          if (at !== undefined) lat.alert.add(performance.now() - at);
        }
      }
    }
  } catch {
    // aborted at the end
  } finally {
    clearInterval(stopper);
  }
}

const samples: Array<{ s: number; rssMiB: number; fds: number; reads: number; searches: number }> = [];
const fdsOf = (): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};
const sample = (): void => {
  samples.push({ s: Math.round((Date.now() - started) / 1000), rssMiB: Math.round(rssOf(pid) / 2 ** 20), fds: fdsOf(), reads: readsAcked, searches });
  const last = samples[samples.length - 1]!;
  process.stdout.write(`t=${last.s}s rss=${last.rssMiB}MiB fds=${last.fds} reads=${last.reads} searches=${last.searches} 5xx=${Object.entries(status).filter(([k]) => Number(k) >= 500).reduce((a, [, v]) => a + v, 0)}\n`);
};
sample();
const sampler = setInterval(sample, sampleMs);
const workers = [
  ...Array.from({ length: Number(values['ingest-clients']) }, (_, c) => ingestClient(c)),
  ...Array.from({ length: Number(values['search-clients']) }, () => searchClient()),
  ...Array.from({ length: Number(values.dispatchers) }, (_, d) => dispatcher(d)),
];
await new Promise((r) => setTimeout(r, durationMs));
stop = true;
await Promise.all(workers.slice(0, Number(values['ingest-clients']) + Number(values['search-clients'])));
// alerts of the last batches: give the stream a moment
await new Promise((r) => setTimeout(r, 2000));
await Promise.all(workers);
clearInterval(sampler);
sample();
const elapsedS = (Date.now() - started) / 1000;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fifth = Math.max(1, Math.floor(samples.length / 5));
const rssSecond = mean(samples.slice(fifth, 2 * fifth).map((x) => x.rssMiB));
const rssLast = mean(samples.slice(-fifth).map((x) => x.rssMiB));
const half = samples.slice(Math.floor(samples.length / 2));
// least squares slope over the second half, MiB per minute
const xs = half.map((x) => x.s / 60), ys = half.map((x) => x.rssMiB);
const mx = mean(xs), my = mean(ys);
const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / Math.max(1e-9, xs.reduce((a, x) => a + (x - mx) ** 2, 0));
const tmpLeft = (await readdir(dataDir, { recursive: true })).filter((f) => /\.tmp/.test(String(f)));
const metrics = await request(`${url}/metrics`).then((r) => r.body.text()).catch(() => '');
const engineReads = Number(/^platesearch_engine_reads (\d+)/m.exec(metrics)?.[1] ?? NaN);
const diedDuringRun = serverDied;
child.proc.kill('SIGTERM');
const exitCode = await child.exited;

const fiveXx = Object.entries(status).filter(([k]) => Number(k) >= 500).reduce((a, [, v]) => a + v, 0);
const report = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`, date: new Date().toISOString(),
  command: `node dist/bench/soak.js ${process.argv.slice(2).join(' ')}`.trim(),
  durationS: Math.round(elapsedS),
  readsAcknowledged: readsAcked, readsPerSecond: Math.round(readsAcked / elapsedS),
  searches, searchesPerSecond: Math.round((searches / elapsedS) * 10) / 10,
  latencyMs: { ingestBatch: lat.ingest.summary(), search: lat.search.summary(), alertAfterIngestAnswer: lat.alert.summary() },
  status, fiveXx, clientErrors, serverDied: diedDuringRun, exitCodeOnSigterm: exitCode,
  alerts: { expected: alertsExpected, received: alertsReceived },
  engineReadsAtEnd: engineReads,
  rss: { secondFifthMeanMiB: Math.round(rssSecond), lastFifthMeanMiB: Math.round(rssLast), driftMiB: Math.round(rssLast - rssSecond), slopeSecondHalfMiBPerMin: Math.round(slope * 100) / 100 },
  fds: { first: samples[0]?.fds, last: samples[samples.length - 1]?.fds, max: Math.max(...samples.map((x) => x.fds)) },
  tmpFilesLeft: tmpLeft.length,
  samples,
};
process.stdout.write(`${JSON.stringify({ ...report, samples: undefined }, null, 2)}\n`);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
}
await rm(dataDir, { recursive: true, force: true });
process.exit(fiveXx === 0 && !diedDuringRun && clientErrors === 0 ? 0 : 1);
