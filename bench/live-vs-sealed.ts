/**
 * Live vs sealed (issue 11): every `bench:peers` query kind over the same reads twice, first while they are
 * live (acknowledged, not yet sealed: src/store/live-columns.ts), then after sealing them into day shards.
 * The target: live within 2× of sealed for every kind. Answers must be equal (ids are (tenant, seq), which a
 * seal keeps), so the two timings answer the same question.
 *
 *   npm run build && node dist/bench/live-vs-sealed.js [--reads 1000000] [--seed 7] [--runs 7] [--warmup 250] [--days 28]
 *       [--tenants 1] [--threads N] [--hotlist-exact 100000] [--hotlist-fuzzy 10000] [--budget 20] [--only A,B]
 *
 * `--warmup MS`: each query is repeated for MS ms before it is timed (at least once), live and sealed alike, as
 * bench:peers does (bench/peers/timing.ts): one warm-up run left sub-millisecond searches timed in V8's
 * interpreter, which made fixed per-search costs look like the live path's.
 *
 * Engine only, through the library API (as bench:peers' engine peer); the engine never seals on its own
 * during the live phase (no size or age threshold is reached).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openEngine } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import type { Read } from '../src/model/read.js';
import { describeAnswer, differenceBetween, type Answer } from './peers/answer.js';
import { DataSample } from './peers/data-sample.js';
import { EnginePeer } from './peers/engine-peer.js';
import { buildQuerySet } from './peers/query-set.js';
import { machineDescription } from './peers/report.js';
import { median, timeRuns } from './peers/timing.js';

const kCoordScale = 1e7;

/** `--only A,B`: only the query kinds whose name contains A or B (a quicker look at a few kinds). */
function only(): string[] | undefined {
  const i = process.argv.indexOf('--only');
  return i < 0 ? undefined : (process.argv[i + 1] ?? '').split(',');
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}

const o = {
  reads: arg('reads', 1_000_000), seed: arg('seed', 7), runs: arg('runs', 7), days: arg('days', 28), tenants: arg('tenants', 1),
  threads: arg('threads', availableParallelism()), hotlistExact: arg('hotlist-exact', 100_000), hotlistFuzzy: arg('hotlist-fuzzy', 10_000),
  budgetMs: arg('budget', 20) * 1000, warmupMs: arg('warmup', 250),
};
if (o.reads > 1_000_000) throw new Error('at most 1M reads on the shared machine');
const log = (s: string) => void process.stderr.write(`live-vs-sealed ${s}\n`);
const work = mkdtempSync(join(tmpdir(), 'platesearch-live-vs-sealed-'));
const engine = await openEngine({ dataDir: join(work, 'engine'), threads: o.threads, sealRows: 1e12, sealAgeMs: 0 });
try {
  const vehicles = Math.max(50, Math.round(o.reads / 10));
  const sample = new DataSample(o.seed, vehicles);
  const pending = new Map<string, Read[]>();
  const t0 = performance.now();
  const flush = async (tenant: string, batch: Read[]) => {
    await engine.append(tenant, batch);
  };
  for (const g of generateReads({ reads: o.reads, seed: o.seed, tenants: kDefaultTenants.slice(0, o.tenants), days: o.days, vehicles })) {
    const read = g.read;
    read.lat = Math.round(read.lat * kCoordScale) / kCoordScale;
    read.lon = Math.round(read.lon * kCoordScale) / kCoordScale;
    sample.add(g.tenant, read, g.misread !== undefined, g.vehicle);
    let batch = pending.get(g.tenant);
    if (!batch) pending.set(g.tenant, (batch = []));
    batch.push(read);
    if (batch.length >= 10_000) {
      pending.set(g.tenant, []);
      await flush(g.tenant, batch);
    }
  }
  for (const [tenant, batch] of pending) if (batch.length > 0) await flush(tenant, batch);
  const st = engine.stats();
  log(`loaded ${st.reads.toLocaleString('en-US')} reads in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${st.liveReads.toLocaleString('en-US')} live, ${st.shards} shards`);
  if (st.liveReads !== st.reads) throw new Error('some reads were sealed during the live phase');

  const kinds = only();
  const queries = buildQuerySet(sample, { seed: o.seed, hotlistExact: o.hotlistExact, hotlistFuzzy: o.hotlistFuzzy }).filter((q) => kinds === undefined || kinds.some((k) => q.name.includes(k)));
  const peer = new EnginePeer(engine);
  // process CPU per run (every thread: the pool's workers too), the warm-up's dropped (the timed runs are the
  // last ones): on a loaded machine wall time is mostly waiting for a core, CPU is what the search cost
  const timed = async (q: (typeof queries)[number]) => {
    const cpu: number[] = [];
    const t = await timeRuns(o.runs, o.budgetMs, async () => {
      const c0 = process.cpuUsage();
      const r = await peer.run(q);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      return r;
    }, o.warmupMs);
    return { ...t, cpuMs: median(cpu.slice(cpu.length - t.runsMs.length)) };
  };
  const live: Array<{ ms: number; best: number; cpu: number; answer: Answer }> = [];
  for (const q of queries) {
    const t = await timed(q);
    live.push({ ms: t.medianMs, best: Math.min(...t.runsMs), cpu: t.cpuMs, answer: t.result });
    log(`live   ${q.name.padEnd(40)} ${t.medianMs.toFixed(2).padStart(10)} ms  cpu ${t.cpuMs.toFixed(2)} ms  ${describeAnswer(t.result)}`);
  }
  const s0 = performance.now();
  await engine.seal();
  log(`sealed in ${((performance.now() - s0) / 1000).toFixed(1)} s: ${engine.stats().shards} shards, ${engine.stats().liveReads} live`);
  const lines: string[] = [];
  let worst = 0;
  let worstBest = 0;
  let differ = 0;
  for (const [i, q] of queries.entries()) {
    const t = await timed(q);
    const l = live[i]!;
    const diff = differenceBetween(l.answer, t.result);
    if (diff) differ++;
    const ratio = l.ms / t.medianMs;
    const best = Math.min(...t.runsMs);
    const bestRatio = l.best / best;
    worst = Math.max(worst, ratio);
    worstBest = Math.max(worstBest, bestRatio);
    log(`sealed ${q.name.padEnd(40)} ${t.medianMs.toFixed(2).padStart(10)} ms  cpu ${t.cpuMs.toFixed(2)} ms  ratio ${ratio.toFixed(2)}${diff ? `  DIFFER: ${diff}` : ''}`);
    lines.push(`| ${q.name} | ${l.ms.toFixed(2)} | ${t.medianMs.toFixed(2)} | ${ratio.toFixed(2)} | ${l.best.toFixed(2)} | ${best.toFixed(2)} | ${bestRatio.toFixed(2)} | ${l.cpu.toFixed(2)} | ${t.cpuMs.toFixed(2)} | ${(l.cpu / t.cpuMs).toFixed(2)} | ${diff ? 'DIFFER' : 'equal'} (${describeAnswer(t.result)}) |`);
  }
  const out = [
    `Live vs sealed, ${o.reads.toLocaleString('en-US')} reads, ${o.tenants} tenant(s), ${o.days} days, seed ${o.seed}; median of ≤ ${o.runs} runs after a warm-up of ${o.warmupMs} ms; ` +
      `threads ${o.threads}; ${new Date().toISOString()}; ${machineDescription()}; node ${process.version}`,
    `Command: \`node dist/bench/live-vs-sealed.js ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'),
    '',
    '| query | live ms (median) | sealed ms (median) | ratio | live ms (best) | sealed ms (best) | ratio (best) | live CPU ms | sealed CPU ms | CPU ratio | answers |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    `Worst ratio ${worst.toFixed(2)} of medians, ${worstBest.toFixed(2)} of bests (target ≤ 2); load average ${loadavg()[0]!.toFixed(1)} at the end; ${differ === 0 ? 'every answer equal' : `${differ} answers DIFFER`}.`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  process.exitCode = differ > 0 ? 1 : 0;
} finally {
  await engine.close();
  rmSync(work, { recursive: true, force: true });
}
