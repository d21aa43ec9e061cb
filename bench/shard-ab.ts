/**
 * Two builds of the engine side by side on the same generated reads and the bench:peers query set, in one
 * process, queries run alternately (A, B, A, B, …) so both see the same machine load: what a change of the
 * storage or the kernels does to every `bench:peers` row, measured where the box is shared.
 *
 *   node dist/bench/shard-ab.js --before /path/to/other/dist [--reads 1000000] [--runs 7]
 *
 * `--before` is the `dist/` of another build (e.g. `git worktree add /tmp/main main && (cd /tmp/main && npm ci
 * && npm run build)`, then /tmp/main/dist; its node_modules must resolve from there). "after" is this build.
 * Per query: median wall ms and median process CPU ms (all threads: process.cpuUsage) of each build, and
 * whether the answers are equal. Also each build's resident bytes per read (engine.stats().residentBytes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openEngine as openAfter } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { describeAnswer, differenceBetween, type Answer } from './peers/answer.js';
import { DataSample } from './peers/data-sample.js';
import { EnginePeer, loadEngine } from './peers/engine-peer.js';
import { buildQuerySet } from './peers/query-set.js';
import type { BenchSubject } from './peers/reference-subject.js';
import { SpillWriter } from './peers/spill.js';
import { median } from './peers/timing.js';

const { values } = parseArgs({
  options: { before: { type: 'string' }, reads: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' } },
  strict: true,
});
if (!values.before) throw new Error('--before DIST is required (the dist/ of the build to compare with)');
const reads = Number(values.reads ?? 1_000_000);
const runs = Number(values.runs ?? 7);
const seed = Number(values.seed ?? 1);

function log(m: string): void {
  process.stderr.write(`[shard-ab ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
}

const { openEngine: openBefore } = (await import(pathToFileURL(join(values.before, 'src/engine/index.js')).href)) as { openEngine: typeof openAfter };
const work = mkdtempSync(join(tmpdir(), 'platesearch-ab-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const genOptions = { reads, seed, tenants: kDefaultTenants.slice(0, 3), days: 28, vehicles: Math.max(50, Math.round(reads / 10)) };

async function load(name: string, open: typeof openAfter, sample: DataSample): Promise<{ peer: EnginePeer; engine: BenchSubject; bytesPerRead: number }> {
  const dir = join(work, name);
  const engine = (await open({ dataDir: dir, threads: 2 })) as unknown as BenchSubject;
  const spill = new SpillWriter(join(work, `${name}.tsv`));
  const report = await loadEngine(engine, dir, generateReads(genOptions), sample, spill, { batch: 100_000 });
  rmSync(spill.path, { force: true }); // loadEngine closed it
  log(`${name}: loaded ${report.reads} reads in ${(report.loadMs / 1000).toFixed(1)} s, ${report.bytesPerRead.toFixed(1)} B/read resident`);
  return { peer: new EnginePeer(engine), engine, bytesPerRead: report.bytesPerRead };
}

const sample = new DataSample(seed, genOptions.vehicles);
const a = await load('before', openBefore, sample);
const b = await load('after', openAfter, new DataSample(seed, genOptions.vehicles));
const queries = buildQuerySet(sample, { seed, hotlistExact: 10_000, hotlistFuzzy: 1000 });

const lines = [
  `| query | before wall (ms) | after wall (ms) | after / before | before CPU (ms) | after CPU (ms) | after / before | answers |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
];
let differ = false;
for (const q of queries) {
  const wall: [number[], number[]] = [[], []];
  const cpu: [number[], number[]] = [[], []];
  const answers: [Answer | undefined, Answer | undefined] = [undefined, undefined];
  for (const [k, p] of [a.peer, b.peer].entries()) answers[k] = await p.run(q); // warm-up, and the answers
  for (let r = 0; r < runs; r++) {
    for (const [k, p] of (r % 2 === 0 ? [a.peer, b.peer] : [b.peer, a.peer]).entries()) {
      const slot = r % 2 === 0 ? k : 1 - k;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await p.run(q);
      wall[slot].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[slot].push((c.user + c.system) / 1000);
    }
  }
  const diff = differenceBetween(answers[0]!, answers[1]!);
  if (diff) differ = true;
  const [wa, wb, ca, cb] = [median(wall[0]), median(wall[1]), median(cpu[0]), median(cpu[1])];
  const f = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(1));
  lines.push(`| ${q.name} | ${f(wa)} | ${f(wb)} | ${(wb / wa).toFixed(2)} | ${f(ca)} | ${f(cb)} | ${(cb / ca).toFixed(2)} | ${diff ? `DIFFER: ${diff}` : `equal (${describeAnswer(answers[0]!)})`} |`);
  log(lines[lines.length - 1]!);
}
lines.push('', `Resident bytes per read (engine.stats().residentBytes / reads): before ${a.bytesPerRead.toFixed(1)}, after ${b.bytesPerRead.toFixed(1)}.`);
process.stdout.write(lines.join('\n') + '\n');
for (const e of [a.engine, b.engine]) await (e as unknown as { close(): Promise<void> }).close();
process.exit(differ ? 1 : 0);
