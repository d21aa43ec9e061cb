/**
 * HTTP benchmark (issue 4): durable ingest throughput and search latency of a child `platesearch serve`
 * under 1, 8 and 32 concurrent clients (searches on bare keep-alive sockets, ingest through undici), on a
 * preloaded data set (20M reads by default).
 *
 *   npm run bench:http -- [--reads 20000000] [--clients 1,8,32] [--data-dir /tmp/ps-http] \
 *       [--out bench/results/http.json] [--markdown bench/RESULTS.md]
 *
 * Order: preload (engine library, then closed) → server start → searches per kind × clients on the
 * preloaded data → ingest phases per clients count → the other body formats once → SIGTERM.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Directory } from '../src/server/tenancy/directory.js';
import { rssOf } from '../test/helpers/fuzz-target.js';
import { spawnServe } from '../test/helpers/crash-loop.js';
import { closedLoop, numberField, post, runClosedLoop, type PhaseResult } from './http/closed-loop.js';
import { rawSearchClients } from './http/raw-client.js';
import { settle, withCpu } from './http/cpu.js';
import { ingestBodies, kContentType } from './http/ingest-bodies.js';
import { parseHttpBenchOptions, type BodyFormat } from './http/options.js';
import { preload } from './http/preload.js';
import { buildQueryKinds, type QueryKind } from './http/query-mix.js';
import { renderHttpSection, type HttpReport, type IngestPhase, type SearchPhase } from './http/report.js';
import { machineDescription } from './peers/report.js';
import { sectionMarkers, writeResultsSection } from './results-section.js';

const o = parseHttpBenchOptions(process.argv.slice(2));
const log = (line: string): void => void process.stderr.write(`bench:http ${line}\n`);
const tenant = o.tenants[0]!;
const preloadDir = o.dataDir ?? await mkdtemp(join(tmpdir(), 'platesearch-bench-http-data-'));

log(`preloading ${o.reads.toLocaleString('en-US')} reads into ${preloadDir}`);
const data = await preload(preloadDir, o.reads, o.seed, o.tenants, o.days, log);
// The server runs on a copy: the ingest phases add reads, and a kept data dir must stay as preloaded.
const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-bench-http-serve-'));
await cp(preloadDir, dataDir, { recursive: true });
// with its keys: the default key store is the directory beside the data dir (`D.keys`), never inside it
await cp(`${preloadDir}.keys`, `${dataDir}.keys`, { recursive: true });

const dir = await Directory.open(dataDir, { watch: false });
const ingestToken = (await dir.createToken(tenant, 'bench-camera', ['ingest'])).token;
const searchToken = (await dir.createToken(tenant, 'bench-investigator', ['investigator'])).token;
await dir.close();

const t0 = performance.now();
const server = await spawnServe(dataDir, [
  '--threads', String(o.threads), '--rate-limit', '1000000', '--rate-burst', '10000000',
], 30 * 60_000, {}, [...o.serverNodeArgs, ...(o.serverProf ? ['--cpu-prof', `--cpu-prof-dir=${o.serverProf}`] : [])],
  o.serverBuild ? join(o.serverBuild, 'dist/src/cli/main.js') : undefined);
const serverOpenMs = performance.now() - t0;
const pid = server.proc.pid!;
const rssAfterOpen = Math.round(rssOf(pid) / 2 ** 20);
log(`server up in ${(serverOpenMs / 1000).toFixed(1)} s, RSS ${rssAfterOpen} MiB`);

const search: SearchPhase[] = [];
const kinds = buildQueryKinds(data.sample, tenant, data.maxTs, o.seed).filter((k) => !o.kinds || o.kinds.some((s) => k.name.includes(s)));
// untimed warm-up: the server's first requests compile its hot paths (and V8 optimises them only after
// enough calls), which is not what a user of a running server waits for. Half a second at one client
// (~80 requests on a quiet box, ~20 on a loaded one) left the first phase measuring the tier-up: at 1M reads
// exact plate, all time, one client, cost 7.1–7.5 ms of server CPU a request in the first phase and
// 3.0–4.0 ms when the same phase was run again after the 8-client one, on the same server (bench/RESULTS.md,
// "Issue 12: the server CPU per request"). So each kind is warmed at the largest client count, then at one.
const warmClients = Math.max(...o.clients);
// the search phases' client (--client): bare keep-alive sockets by default, so the load generator takes less
// of the two cores from the server it measures (bench/http/raw-client.ts); undici as before on request
const searchLoop = async (kind: QueryKind, clients: number, seconds: number): Promise<PhaseResult> => {
  if (o.client === 'undici') {
    return closedLoop(server.url, clients, seconds, async (pool) => {
      const r = await post(pool, kind.path, searchToken, 'application/json', JSON.stringify(kind.body()));
      return { status: r.status, tookMs: numberField(r.text, 'tookMs') };
    });
  }
  const raw = rawSearchClients(server.url, clients, searchToken);
  try {
    return await runClosedLoop(clients, seconds, (c) => raw.post(c, kind.path, JSON.stringify(kind.body())));
  } finally {
    raw.close();
  }
};
for (const kind of kinds) {
  for (const [clients, share] of [[warmClients, 0.75], [1, 0.25]] as const) {
    await searchLoop(kind, clients, o.warmupSeconds * share);
  }
}
// … and what the warm-up set off (the first plate search builds the tenants' dictionaries on a worker: ~6 s
// of a core at 20M, in a profile of 2026-12-03) finishes before the first phase instead of being counted in
// its server CPU and competing with it for the two cores
const settledMs = await settle(pid);
log(`server idle after ${settledMs} ms`);
for (const kind of kinds) {
  for (const clients of o.clients) {
    const phase = await withCpu(pid, () => searchLoop(kind, clients, o.searchSeconds));
    search.push({ kind: kind.name, ...phase });
    log(`search ${kind.name} × ${clients}: ${phase.requestsPerSecond} req/s, p50 ${phase.latencyMs.p50} ms, p99 ${phase.latencyMs.p99} ms, engine p50 ${phase.engineMs?.p50} ms, overhead p50 ${phase.overheadMs?.p50} ms, CPU/request server ${phase.serverCpuMsPerRequest} ms (main thread ${phase.serverMainCpuMsPerRequest} ms), minor faults ${phase.serverMinorFaultsPerRequest} a request, client ${phase.clientCpuMsPerRequest} ms ${JSON.stringify(phase.status)}`);
    log(`  by thread, ms a request: server ${JSON.stringify(phase.serverThreadsCpuMsPerRequest)} client ${JSON.stringify(phase.clientThreadsCpuMsPerRequest)}`);
  }
}

const ingest: IngestPhase[] = [];
const runIngest = async (format: BodyFormat, clients: number, seconds: number, bodies: Array<string | Uint8Array>): Promise<void> => {
  let next = 0;
  // the server's CPU (every thread's) a read: what a loaded machine's wall-clock rate cannot show
  const phase = await withCpu(pid, () => closedLoop(server.url, clients, seconds, async (pool) => {
    const body = bodies[next++ % bodies.length]!;
    const r = await post(pool, '/v1/reads', ingestToken, kContentType[format], body);
    return { status: r.status, accepted: r.status === 200 ? numberField(r.text, 'accepted') ?? 0 : 0 };
  }));
  const serverCpuUsPerRead = Math.round((phase.serverCpuMsPerRequest * 1000 * phase.requests) / Math.max(1, phase.readsAccepted) * 100) / 100;
  ingest.push({ format, batch: o.batch, ...phase, serverCpuUsPerRead });
  log(`ingest ${format} × ${clients}: ${phase.readsPerSecond.toLocaleString('en-US')} reads/s, request p50 ${phase.latencyMs.p50} ms, p99 ${phase.latencyMs.p99} ms, server CPU ${serverCpuUsPerRead} µs a read ${JSON.stringify(phase.status)}`);
};
// enough distinct bodies for about a million reads; they are cycled
const bodyCount = Math.max(4, Math.ceil(1_000_000 / o.batch));
if (!o.noIngest) log(`encoding ${bodyCount} ingest bodies of ${o.batch} reads (${o.format})`);
const bodies = o.noIngest ? [] : ingestBodies(bodyCount, o.batch, o.format, o.seed + 1, tenant);
if (!o.noIngest) for (const clients of o.clients) await runIngest(o.format, clients, o.ingestSeconds, bodies);
const middle = o.clients[Math.floor(o.clients.length / 2)]!;
for (const format of (['ndjson', 'json', 'msgpack'] as const).filter((f) => f !== o.format && !o.noIngest)) {
  await runIngest(format, middle, o.ingestSeconds, ingestBodies(Math.max(4, Math.ceil(200_000 / o.batch)), o.batch, format, o.seed + 2, tenant));
}

const rssAtEnd = Math.round(rssOf(pid) / 2 ** 20);
server.proc.kill('SIGTERM');
const exit = await server.exited;
await rm(dataDir, { recursive: true, force: true });
await rm(`${dataDir}.keys`, { recursive: true, force: true });
if (!o.dataDir) {
  await rm(preloadDir, { recursive: true, force: true });
  await rm(`${preloadDir}.keys`, { recursive: true, force: true });
}

const report: HttpReport = {
  machine: machineDescription(),
  node: process.version,
  date: new Date().toISOString(),
  command: `npm run bench:http -- ${process.argv.slice(2).join(' ')}`.trim(),
  data: `${o.reads.toLocaleString('en-US')} reads preloaded (src/gen seed ${o.seed}, tenants ${o.tenants.join(', ')}, ${o.days} days); searches as ${tenant}'s investigator, ingest as ${tenant}'s camera`,
  preloadMs: Math.round(data.loadMs),
  serverOpenMs: Math.round(serverOpenMs),
  settledMs,
  serverRssMiB: { afterOpen: rssAfterOpen, atEnd: rssAtEnd },
  threads: o.threads,
  search,
  ingest,
};
if (o.out) {
  await mkdir(dirname(o.out), { recursive: true });
  await writeFile(o.out, `${JSON.stringify(report, null, 2)}\n`);
}
if (o.markdown) writeResultsSection(o.markdown, sectionMarkers('http'), renderHttpSection(report, sectionMarkers('http')));
const failed = [...search, ...ingest].some((p) => Object.keys(p.status).some((s) => s !== '200'));
log(`server exited ${exit}; ${failed ? 'some answers were not 200' : 'every answer 200'}`);
process.exit(failed || exit !== 0 ? 1 : 0);
