/**
 * Page cost (issue 12, "cost by the hits returned, not the hits matched"): the latency of a search
 * returning 1,000 hits out of ~100,000 matches against the same search returning 1,000 out of ~1,000,
 * in the engine (library API) and over HTTP (a child `platesearch serve`, one undici client).
 *
 *   npm run bench:page-cost -- [--reads 1000000] [--data-dir D] [--runs 30] [--seconds 4] [--no-http]
 *
 * Pairs of one query shape each: the "many" query's time window is widened until it matches ~100,000
 * reads, the "few" query's narrowed until it matches ~1,000 (both found by binary search on `total`
 * with limit 1, before timing). Both ask for limit 1000. Target: many ≤ 3 × few.
 *
 * Besides `contains` and the no-plate window: a leading-character wildcard (`7*`) over all three tenants
 * (at 1M reads no single leading character reaches 100,000 reads in one tenant, and over all three it
 * comes within a few percent of it: its "many" is then the whole 28 days), and a fuzzy search (k = 2) for
 * one of the busiest plates, whose "many" is every read within 2 edits over 28 days (a few hundred: fuzzy
 * matches are few in this data) and "few" a window holding a tenth of them, both with a page of that
 * tenth (limit 35): it shows whether a fuzzy search costs by its page or by the shards and plates it
 * looks at.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openEngine } from '../src/engine/index.js';
import type { Engine } from '../src/engine/engine.js';
import type { PlateMatch, SearchQuery, SearchResult, TenantScope } from '../src/model/query.js';
import { Directory } from '../src/server/tenancy/directory.js';
import { spawnServe } from '../test/helpers/crash-loop.js';
import { closedLoop, numberField, post } from './http/closed-loop.js';
import { preload } from './http/preload.js';
import { machineDescription } from './peers/report.js';

const { values: a } = parseArgs({
  options: {
    reads: { type: 'string', default: '1000000' },
    'data-dir': { type: 'string' },
    runs: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '4' },
    'no-http': { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
  },
});
const reads = Number(a.reads);
const runs = Number(a.runs);
const threads = Number(a.threads);
const tenants = ['pd-metro', 'pd-east', 'so-county'];
const tenant = tenants[0]!;
const log = (line: string): void => void process.stderr.write(`bench:page-cost ${line}\n`);
const kHour = 3_600_000;
const kDay = 24 * kHour;

const preloadDir = a['data-dir'] ?? await mkdtemp(join(tmpdir(), 'platesearch-bench-page-'));
const data = await preload(preloadDir, reads, 1, tenants, 28, log);
const oneTenant: TenantScope[] = [{ tenant, minTs: -Infinity }];
const allTenants: TenantScope[] = tenants.map((t) => ({ tenant: t, minTs: -Infinity }));

interface Shape {
  name: string;
  plate?: PlateMatch;
  /** Where the window ends (it grows backwards from here). */
  end: number;
  /** Whose reads (default: the one tenant). */
  scopes?: TenantScope[];
  /** Matches the "many" and "few" windows aim at (default 100,000 and 1,000), and the page (default 1000). */
  many?: number;
  few?: number;
  limit?: number;
}
const wildcard = (pattern: string): PlateMatch => ({ mode: 'wildcard', pattern, maxEdits: 0, ocr: false, transpositions: false });
const shapes: Shape[] = [
  { name: 'no plate, window ending at the newest read', end: data.maxTs + 1 },
  { name: 'no plate, window ending 14 days back', end: data.maxTs + 1 - 14 * kDay },
  { name: 'contains `*1*`, window ending at the newest read', plate: { mode: 'wildcard', pattern: '*1*', maxEdits: 0, ocr: false, transpositions: false }, end: data.maxTs + 1 },
  { name: 'contains `*1*`, window ending 7 days back', plate: { mode: 'wildcard', pattern: '*1*', maxEdits: 0, ocr: false, transpositions: false }, end: data.maxTs + 1 - 7 * kDay },
  { name: 'wildcard `7*`, all three tenants, window ending at the newest read', plate: wildcard('7*'), end: data.maxTs + 1, scopes: allTenants },
  // one of pd-metro's busiest plates (src/gen seed 1): 351 reads within 2 edits over the 28 days at 1M reads
  { name: 'fuzzy `4UUA153` k=2, window ending at the newest read, limit 35', plate: { mode: 'fuzzy', pattern: '4UUA153', maxEdits: 2, ocr: false, transpositions: false }, end: data.maxTs + 1, many: Infinity, few: 35, limit: 35 },
];
const scopesOf = (s: Shape) => s.scopes ?? oneTenant;

function queryOf(s: Shape, spanMs: number, limit: number): SearchQuery {
  const q: SearchQuery = { filter: { from: s.end - spanMs, to: s.end }, limit };
  if (s.plate) q.plate = s.plate;
  return q;
}

/** The shortest window (whole minutes) whose total reaches `want`. */
async function spanFor(engine: Engine, s: Shape, want: number): Promise<number> {
  let lo = 60_000, hi = 28 * kDay;
  while (hi - lo > 60_000) {
    const mid = Math.round((lo + hi) / 2 / 60_000) * 60_000;
    const r = await engine.search(scopesOf(s), queryOf(s, mid, 1));
    if (r.total >= want) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Wall-time percentiles, and the p50 of the process's CPU time per search (user + system, all threads). */
type Timing = { p50: number; p90: number; cpu50: number; total: number; hits: number };

/** Times two queries in alternation (many, few, many, …), so both see the same load on a shared machine. */
async function timePair(engine: Engine, scopes: TenantScope[], many: SearchQuery, few: SearchQuery): Promise<[Timing, Timing]> {
  const ms: [number[], number[]] = [[], []];
  // CPU time moves less than wall time on a shared machine (a search waiting for a core costs no CPU)
  const cpu: [number[], number[]] = [[], []];
  const last: [SearchResult | undefined, SearchResult | undefined] = [undefined, undefined];
  for (let i = 0; i < 3; i++) {
    await engine.search(scopes, many); // warm-up
    await engine.search(scopes, few);
  }
  for (let i = 0; i < runs; i++) {
    for (const [j, q] of [many, few].entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      last[j] = await engine.search(scopes, q);
      ms[j]!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[j]!.push((c.user + c.system) / 1000);
    }
  }
  const timing = (j: 0 | 1): Timing => {
    const pct = (ys: number[], p: number) => {
      const xs = [...ys].sort((x, y) => x - y);
      return Math.round(xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! * 1000) / 1000;
    };
    return { p50: pct(ms[j], 50), p90: pct(ms[j], 90), cpu50: pct(cpu[j], 50), total: last[j]!.total, hits: last[j]!.hits.length };
  };
  return [timing(0), timing(1)];
}

interface Row { shape: string; manySpan: number; fewSpan: number; many: Timing; few: Timing; http?: { many: number; few: number; manyTook: number; fewTook: number } }
const rows: Row[] = [];
{
  const engine = await openEngine({ dataDir: preloadDir, threads });
  try {
    for (const s of shapes) {
      const manySpan = await spanFor(engine, s, s.many ?? 100_000);
      const fewSpan = await spanFor(engine, s, s.few ?? 1_000);
      const [many, few] = await timePair(engine, scopesOf(s), queryOf(s, manySpan, s.limit ?? 1000), queryOf(s, fewSpan, s.limit ?? 1000));
      rows.push({ shape: s.name, manySpan, fewSpan, many, few });
      log(`${s.name}: ${many.hits} of ${many.total} p50 ${many.p50} ms (CPU ${many.cpu50}); ${few.hits} of ${few.total} p50 ${few.p50} ms (CPU ${few.cpu50}); ratio ${(many.p50 / few.p50).toFixed(2)} (CPU ${(many.cpu50 / few.cpu50).toFixed(2)})`);
    }
  } finally {
    await engine.close();
  }
}

if (!a['no-http']) {
  const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-bench-page-serve-'));
  await cp(preloadDir, dataDir, { recursive: true });
  await cp(`${preloadDir}.keys`, `${dataDir}.keys`, { recursive: true });
  const dir = await Directory.open(dataDir, { watch: false });
  const token = (await dir.createToken(tenant, 'bench-investigator', ['investigator'])).token;
  await dir.close();
  const server = await spawnServe(dataDir, ['--threads', String(threads), '--rate-limit', '1000000', '--rate-burst', '10000000'], 10 * 60_000);
  try {
    const iso = (ms: number) => new Date(ms).toISOString();
    const bodyOf = (s: Shape, span: number) => JSON.stringify({
      ...(s.plate ? { plate: s.plate.pattern, match: s.plate.mode, ...(s.plate.mode === 'fuzzy' ? { maxEdits: s.plate.maxEdits } : {}) } : {}), from: iso(s.end - span), to: iso(s.end), limit: s.limit ?? 1000, purpose: 'benchmark', case: 'BENCH-PAGE',
    });
    const phase = async (body: string) => {
      await closedLoop(server.url, 1, 0.5, (pool) => post(pool, '/v1/search', token, 'application/json', body).then((r) => ({ status: r.status })));
      const p = await closedLoop(server.url, 1, Number(a.seconds), async (pool) => {
        const r = await post(pool, '/v1/search', token, 'application/json', body);
        return { status: r.status, tookMs: numberField(r.text, 'tookMs') };
      });
      if (Object.keys(p.status).some((k) => k !== '200')) throw new Error(`non-200 answers: ${JSON.stringify(p.status)}`);
      return p;
    };
    for (const [i, s] of shapes.entries()) {
      const row = rows[i]!;
      if (s.scopes) continue; // the token is pd-metro's own: no grants over HTTP here (engine figures only)
      const many = await phase(bodyOf(s, row.manySpan));
      const few = await phase(bodyOf(s, row.fewSpan));
      row.http = { many: many.latencyMs.p50, few: few.latencyMs.p50, manyTook: many.engineMs!.p50, fewTook: few.engineMs!.p50 };
      log(`${s.name} over HTTP: many p50 ${many.latencyMs.p50} ms (engine ${many.engineMs!.p50}); few p50 ${few.latencyMs.p50} ms (engine ${few.engineMs!.p50}); ratio ${(many.latencyMs.p50 / few.latencyMs.p50).toFixed(2)}`);
    }
  } finally {
    server.proc.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}.keys`, { recursive: true, force: true });
  }
}
if (!a['data-dir']) {
  await rm(preloadDir, { recursive: true, force: true });
  await rm(`${preloadDir}.keys`, { recursive: true, force: true });
}

const f = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const out: string[] = [
  `- Machine: ${machineDescription()}; Node ${process.version}; date ${new Date().toISOString()}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  `- Command: \`node dist/bench/page-cost.js ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'),
  `- Data: ${reads.toLocaleString('en-US')} reads (src/gen seed 1, ${tenants.join(', ')}, 28 days), searches in ${tenant}; engine threads ${threads}; engine p50 of ${runs} runs (wall and process CPU time), HTTP p50 of a ${a.seconds} s closed loop (1 client)`,
  '',
  '| query shape (limit 1000 unless said) | many: hits / total | engine p50 (ms) | CPU p50 (ms) | few: hits / total | engine p50 (ms) | CPU p50 (ms) | ratio | CPU ratio | HTTP many / few p50 (ms) | HTTP ratio |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.shape} | ${r.many.hits} / ${r.many.total.toLocaleString('en-US')} | ${f(r.many.p50)} | ${f(r.many.cpu50)} | ${r.few.hits} / ${r.few.total.toLocaleString('en-US')} | ${f(r.few.p50)} | ${f(r.few.cpu50)} | ${(r.many.p50 / r.few.p50).toFixed(2)} | ${(r.many.cpu50 / r.few.cpu50).toFixed(2)} | ${r.http ? `${f(r.http.many)} / ${f(r.http.few)}` : '–'} | ${r.http ? (r.http.many / r.http.few).toFixed(2) : '–'} |`),
];
process.stdout.write(`${out.join('\n')}\n`);
