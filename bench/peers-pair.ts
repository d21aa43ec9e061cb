/**
 * `node dist/bench/peers-pair.js`: is a build slower than another on bench:peers' rows? A before/after that
 * holds still on this shared 2-core VM, whose speed moves up to 2× between windows for every system alike
 * (bench/RESULTS.md), so absolute times from two bench:peers runs cannot say it:
 *
 *   - the same data: a `--keep` dir (bench/peers.ts `--reuse`), opened by each build in turn; the query
 *     set built once from the regenerated sample and kept beside the data (`peers-queries.json`), so every
 *     build answers the very same queries;
 *   - builds alternated, several rounds (A B, B A, A B, …), each run a fresh process, so a window of a
 *     slow VM falls on both builds and the order does not favour one;
 *   - each process waits for its tenant plate dictionaries (plateIndexesSettled) and then `--quiet` ms
 *     before timing: an engine just opened keeps a core busy for ~0.2 s after they are installed, and a
 *     search timed in that window took 2–3× longer (peers-steady, bench/RESULTS.md);
 *   - per row and build: the median of the process medians and their spread (min–max), CPU a run; per
 *     round, the ratio of the pair's medians (each build against the first), and the median of those
 *     ratios, which is the figure to read. Answers must be equal across builds (exit 1 otherwise).
 *
 * Our engine only: the peers' times are not needed to compare two builds of ours. A build is a `dist`
 * directory whose engine can open the data (dist/src/engine/store-engine.js, dist/bench/peers/engine-peer.js).
 *
 *   node dist/bench/peers-pair.js --reuse /tmp/peers-steady --builds base=/work/main/dist,branch=dist \
 *     --only "fuzzy k=2,heavy exact" --rounds 3 --runs 9
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { DataSample } from './peers/data-sample.js';
import { withHeavyPlates, type HeavyCounts } from './peers/heavy-plates.js';
import { selectQueries } from './peers/options.js';
import { buildQuerySet, type BenchQuery } from './peers/query-set.js';
import { checkReusable, kReuseFile, sampleRead } from './peers/reuse.js';
import { median, timeRuns } from './peers/timing.js';

const kQueriesFile = 'peers-queries.json';
// bench/peers.ts's defaults (the kept dir's data and query set)
const kReadsPerVehicle = 10;
const kHotlistExact = 100_000;
const kHotlistFuzzy = 10_000;

export const kPairUsage = `usage: node dist/bench/peers-pair.js --reuse DIR --builds NAME=DIST,NAME=DIST[,...] [options]
  --reuse DIR     a bench:peers --keep dir (engine data, peers-options.json); the query set is kept there
                  as ${kQueriesFile} (built on first use from the regenerated sample)
  --builds LIST   name=dist pairs; the first is the base every other is compared with
  --only A,B,...  rows whose name contains one of these words (as bench:peers --only; default every row)
  --rounds N      rounds; each runs every build once, the order reversed every other round (default 3)
  --runs R        timed runs per row and process after the warm-up (default 9)
  --warmup MS     warm-up per row (default 250, as bench:peers)
  --quiet MS      wait after the plate dictionaries are settled, before any row is timed (default 3000)
  --out FILE      every process's runs as JSON
Prints a markdown table; exits 1 if the builds' answers differ, 2 on bad options.`;

interface PairOptions {
  dir: string;
  builds: Array<{ name: string; dist: string }>;
  only: string[];
  rounds: number;
  runs: number;
  warmupMs: number;
  quietMs: number;
  out: string | undefined;
}

function positive(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got "${v}")`);
  return n;
}

export function parsePairOptions(argv: string[]): PairOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      reuse: { type: 'string' }, builds: { type: 'string' }, only: { type: 'string' }, rounds: { type: 'string' },
      runs: { type: 'string' }, warmup: { type: 'string' }, quiet: { type: 'string' }, out: { type: 'string' },
    },
    strict: true,
  });
  if (!values.reuse) throw new Error('--reuse DIR is required');
  const builds = (values.builds ?? '').split(',').filter((b) => b.length > 0).map((b) => {
    const at = b.indexOf('=');
    if (at <= 0) throw new Error(`--builds: "${b}" is not name=dist`);
    return { name: b.slice(0, at), dist: resolve(b.slice(at + 1)) };
  });
  if (builds.length < 2) throw new Error('--builds needs two or more name=dist pairs');
  if (new Set(builds.map((b) => b.name)).size !== builds.length) throw new Error('--builds: names must differ');
  for (const b of builds) {
    if (!existsSync(join(b.dist, 'src/engine/store-engine.js'))) throw new Error(`--builds: ${b.dist} has no src/engine/store-engine.js`);
  }
  return {
    dir: resolve(values.reuse), builds,
    only: (values.only ?? '').split(',').map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0),
    rounds: positive('rounds', values.rounds, 3), runs: positive('runs', values.runs, 9),
    warmupMs: positive('warmup', values.warmup, 250, 0), quietMs: positive('quiet', values.quiet, 3000, 0), out: values.out,
  };
}

/** Sets and Maps kept through JSON (a parsed query may hold them). */
function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Set) return { $set: [...v] };
  if (v instanceof Map) return { $map: [...v] };
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$set' in v) return new Set((v as { $set: unknown[] }).$set);
  if (v && typeof v === 'object' && '$map' in v) return new Map((v as { $map: Array<[unknown, unknown]> }).$map);
  return v;
}

/** The kept dir's query set: read, or built from the regenerated sample (as bench:peers --reuse does) and written. */
function querySetOf(dir: string): BenchQuery[] {
  const file = join(dir, kQueriesFile);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'), reviver) as BenchQuery[];
  const o = JSON.parse(readFileSync(join(dir, kReuseFile), 'utf8')) as { reads: number; seed: number; tenants: number; days: number };
  checkReusable(dir, o);
  const genOptions = {
    reads: o.reads, seed: o.seed, tenants: kDefaultTenants.slice(0, o.tenants), days: o.days,
    vehicles: Math.max(50, Math.round(o.reads / kReadsPerVehicle)),
  };
  const sample = new DataSample(o.seed, genOptions.vehicles);
  const heavy: HeavyCounts = new Map();
  for (const g of withHeavyPlates(generateReads(genOptions), { reads: o.reads, seed: o.seed, tenant: genOptions.tenants[0]!, tenants: o.tenants }, heavy)) sampleRead(g, sample);
  const queries = buildQuerySet(sample, { seed: o.seed, hotlistExact: kHotlistExact, hotlistFuzzy: kHotlistFuzzy, heavy });
  writeFileSync(file, JSON.stringify(queries, replacer));
  return queries;
}

/** One process's figures for one row. */
interface ChildRow {
  name: string;
  runsMs: number[];
  medianMs: number;
  cpuMsPerRun: number;
  answer: string;
}

/** The child: one build, every selected row, one process. */
async function child(dist: string, dir: string, only: string[], runs: number, warmupMs: number, quietMs: number): Promise<void> {
  const queries = selectQueries(querySetOf(dir), only);
  const { StoreEngine } = (await import(pathToFileURL(join(dist, 'src/engine/store-engine.js')).href)) as typeof import('../src/engine/store-engine.js');
  const { EnginePeer } = (await import(pathToFileURL(join(dist, 'bench/peers/engine-peer.js')).href)) as typeof import('./peers/engine-peer.js');
  const engine = await StoreEngine.open({ dataDir: join(dir, 'engine'), threads: 2 });
  await engine.plateIndexesSettled();
  await new Promise((r) => setTimeout(r, quietMs));
  const peer = new EnginePeer(engine as never);
  const rows: ChildRow[] = [];
  for (const q of queries) {
    const t = await timeRuns(runs, 60_000, () => peer.run(q), warmupMs);
    const answer = createHash('sha256').update(JSON.stringify(t.result)).digest('hex').slice(0, 16);
    rows.push({ name: q.name, runsMs: t.runsMs, medianMs: t.medianMs, cpuMsPerRun: t.cpuMsPerRun, answer });
  }
  await peer.close();
  process.stdout.write(JSON.stringify(rows) + '\n');
}

function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(1);
}

async function parent(o: PairOptions): Promise<number> {
  const log = (m: string) => process.stderr.write(`[peers-pair ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  const names = selectQueries(querySetOf(o.dir), o.only).map((q) => q.name);
  const self = fileURLToPath(import.meta.url);
  // per build, per row: every process's figures
  const got = new Map<string, Map<string, ChildRow[]>>(o.builds.map((b) => [b.name, new Map(names.map((n) => [n, []]))]));
  const rounds: Array<Map<string, ChildRow[]>> = [];
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? o.builds : [...o.builds].reverse();
    const round = new Map<string, ChildRow[]>();
    for (const b of order) {
      const args = [...process.execArgv, self, '--child', b.dist, '--reuse', o.dir, '--runs', String(o.runs), '--warmup', String(o.warmupMs),
        '--quiet', String(o.quietMs), ...(o.only.length > 0 ? ['--only', o.only.join(',')] : [])];
      const res = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
      if (res.status !== 0) throw new Error(`${b.name} (${b.dist}) exited ${res.status}`);
      const rows = JSON.parse(res.stdout.trim().split('\n').pop()!) as ChildRow[];
      round.set(b.name, rows);
      for (const row of rows) got.get(b.name)!.get(row.name)!.push(row);
      log(`round ${r + 1} ${b.name}: ${rows.map((x) => `${x.name} ${fmt(x.medianMs)}`).join('; ')}`);
    }
    rounds.push(round);
  }
  let differ = false;
  const base = o.builds[0]!.name;
  const lines = [
    `| row | ${o.builds.map((b) => `${b.name}: median of ${o.rounds} (ms), min–max, CPU a run`).join(' | ')} | ${o.builds.slice(1).map((b) => `${b.name} / ${base} per round, median`).join(' | ')} | answers |`,
    `| --- | ${o.builds.map(() => '---').join(' | ')} | ${o.builds.slice(1).map(() => '---').join(' | ')} | --- |`,
  ];
  for (const name of names) {
    const cells = o.builds.map((b) => {
      const xs = got.get(b.name)!.get(name)!;
      const meds = xs.map((x) => x.medianMs);
      return `${fmt(median(meds))} (${fmt(Math.min(...meds))}–${fmt(Math.max(...meds))}), ${fmt(median(xs.map((x) => x.cpuMsPerRun)))}`;
    });
    const ratios = o.builds.slice(1).map((b) => {
      const rs = rounds.map((round) => round.get(b.name)!.find((x) => x.name === name)!.medianMs / round.get(base)!.find((x) => x.name === name)!.medianMs);
      return `${rs.map((x) => x.toFixed(2)).join(', ')}; **${median(rs).toFixed(2)}**`;
    });
    const answers = new Set(o.builds.flatMap((b) => got.get(b.name)!.get(name)!.map((x) => x.answer)));
    if (answers.size !== 1) differ = true;
    lines.push(`| ${name} | ${cells.join(' | ')} | ${ratios.join(' | ')} | ${answers.size === 1 ? 'equal' : 'DIFFER'} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (o.out) writeFileSync(o.out, JSON.stringify({ options: o, rounds: rounds.map((r) => Object.fromEntries(r)) }, null, 1));
  if (differ) process.stderr.write('peers-pair: ANSWERS DIFFER between builds\n');
  return differ ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--child');
  if (at >= 0) {
    const dist = argv[at + 1]!;
    const o = parseArgs({ args: argv.filter((_, i) => i !== at && i !== at + 1), options: {
      reuse: { type: 'string' }, only: { type: 'string' }, runs: { type: 'string' }, warmup: { type: 'string' }, quiet: { type: 'string' },
    }, strict: true }).values;
    const only = (o.only ?? '').split(',').filter((w) => w.length > 0);
    await child(dist, o.reuse!, only, Number(o.runs), Number(o.warmup), Number(o.quiet));
    return 0;
  }
  let o: PairOptions;
  try {
    o = parsePairOptions(argv);
  } catch (err) {
    process.stderr.write(`peers-pair: ${err instanceof Error ? err.message : String(err)}\n${kPairUsage}\n`);
    return 2;
  }
  return parent(o);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`peers-pair: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
