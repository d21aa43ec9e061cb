/** Command line of bench/http.ts. */
import { parseArgs } from 'node:util';

export type BodyFormat = 'json' | 'ndjson' | 'msgpack';

export interface HttpBenchOptions {
  /** Reads preloaded before the server starts (the data searches run over). */
  reads: number;
  seed: number;
  tenants: string[];
  days: number;
  /** Concurrent clients of each phase. */
  clients: number[];
  /** Reads per ingest request. */
  batch: number;
  /** Body format of the ingest phases; the others are measured once, at the middle client count. */
  format: BodyFormat;
  ingestSeconds: number;
  searchSeconds: number;
  /** Untimed warm-up per search kind before its phases (3/4 at the largest client count, 1/4 at one). */
  warmupSeconds: number;
  /** Engine worker threads of the server. */
  threads: number;
  /** Reuse a preloaded data dir (created and kept if missing) instead of a temporary one. */
  dataDir?: string;
  /** Only the search kinds whose name contains one of these (default all). */
  kinds?: string[];
  /** Skip the ingest phases (search latency only). */
  noIngest: boolean;
  /** Write a CPU profile of the server process into this directory (node --cpu-prof). */
  serverProf?: string;
  /** Serve with another build (a worktree with dist/), driven by this build's client: before/after pairs of the server alone. */
  serverBuild?: string;
  /** Node options for the server process (--server-node-args). */
  serverNodeArgs: string[];
  /** The search phases' client: `raw` (bench/http/raw-client.ts, default) or `undici` (the ingest phases always use undici). */
  client: 'raw' | 'undici';
  out?: string;
  markdown?: string;
}

export const kUsage = `usage: node dist/bench/http.js [options]   (npm run bench:http -- [options])

HTTP throughput and latency of a child \`platesearch serve\` on loopback, driven by closed-loop clients:
durable ingest (reads/s) and search latency p50/p99 per query kind under 1, 8 and 32 clients,
with the engine's own time (tookMs) beside the latency, so HTTP overhead = latency - tookMs.

  --reads N           reads preloaded before the server starts (default 20000000)
  --seed S            generator seed (default 1)
  --tenants A,B,C     tenants (default pd-metro,pd-east,so-county)
  --days D            days the preloaded reads span (default 28)
  --clients 1,8,32    concurrent clients per phase (default 1,8,32)
  --batch N           reads per ingest request (default 5000)
  --format F          ingest body: ndjson | json | msgpack (default ndjson)
  --ingest-seconds S  length of each ingest phase (default 15)
  --search-seconds S  length of each search phase (default 8)
  --warmup-seconds S  untimed warm-up per search kind, 3/4 at the largest client count, 1/4 at one (default 3)
  --threads N         the server's engine threads (default 2)
  --data-dir D        keep the preloaded data in D and reuse it on the next run (default: a temp dir)
  --kinds A,B         only the search kinds whose name contains A or B (default all)
  --no-ingest         skip the ingest phases
  --server-prof DIR   CPU-profile the server (node --cpu-prof) into DIR
  --server-build DIR  serve with the build in DIR (a worktree with dist/), driven by this client
  --server-node-args A  node options for the server process, space-separated (e.g. V8's heap flags)
  --client C          the search phases' HTTP client: raw (bare keep-alive sockets, default) or undici
  --out FILE          write the report as JSON
  --markdown FILE     rewrite the "## HTTP" section of FILE (bench/RESULTS.md)`;

function positive(name: string, v: string, integer = true): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return n;
}

export function parseHttpBenchOptions(argv: string[]): HttpBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      reads: { type: 'string', default: '20000000' },
      seed: { type: 'string', default: '1' },
      tenants: { type: 'string', default: 'pd-metro,pd-east,so-county' },
      days: { type: 'string', default: '28' },
      clients: { type: 'string', default: '1,8,32' },
      batch: { type: 'string', default: '5000' },
      format: { type: 'string', default: 'ndjson' },
      'ingest-seconds': { type: 'string', default: '15' },
      'search-seconds': { type: 'string', default: '8' },
      'warmup-seconds': { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      'data-dir': { type: 'string' },
      kinds: { type: 'string' },
      'no-ingest': { type: 'boolean', default: false },
      'server-prof': { type: 'string' },
      'server-build': { type: 'string' },
      'server-node-args': { type: 'string' },
      client: { type: 'string', default: 'raw' },
      out: { type: 'string' },
      markdown: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${kUsage}\n`);
    process.exit(0);
  }
  const format = values.format;
  if (format !== 'json' && format !== 'ndjson' && format !== 'msgpack') throw new Error(`--format must be json, ndjson or msgpack, got ${format}`);
  return {
    reads: positive('--reads', values.reads),
    seed: Number(values.seed),
    tenants: values.tenants.split(',').filter(Boolean),
    days: positive('--days', values.days, false),
    clients: values.clients.split(',').map((c) => positive('--clients', c)),
    batch: positive('--batch', values.batch),
    format,
    ingestSeconds: positive('--ingest-seconds', values['ingest-seconds'], false),
    searchSeconds: positive('--search-seconds', values['search-seconds'], false),
    warmupSeconds: positive('--warmup-seconds', values['warmup-seconds'], false),
    threads: Number(values.threads),
    dataDir: values['data-dir'],
    kinds: values.kinds?.split(',').filter(Boolean),
    noIngest: values['no-ingest'] ?? false,
    serverProf: values['server-prof'],
    serverBuild: values['server-build'],
    serverNodeArgs: values['server-node-args']?.split(' ').filter(Boolean) ?? [],
    client: values.client === 'undici' ? 'undici' : values.client === 'raw' ? 'raw' : (() => { throw new Error(`--client must be raw or undici, got ${values.client}`); })(),
    out: values.out,
    markdown: values.markdown,
  };
}
