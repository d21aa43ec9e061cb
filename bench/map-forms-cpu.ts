/**
 * bench:peers' own queries over its own data with the covered shards' code → id maps in one form or the other
 * (src/store/plate-id-lane.ts: Elias–Fano or blocked), in one process, so the two forms are compared on the same
 * bytes and the same queries in alternated runs: the process CPU of each query a call (every thread) and its wall
 * time, and a digest of its answer (equal between the forms, or the run says so).
 *
 * The first run under `--dir` loads bench:peers' data at `--reads` as bench:peers does (src/gen seed 1, 3 tenants ×
 * 28 days, its heavy plates; appended in batches, sealed, the days' pieces merged) and keeps its query set
 * (bench/peers/query-set.ts) beside it; later runs reopen the dir. The maps are built in the chosen form when the
 * tenant dictionaries are installed at the open (`plateIdSpan.eliasFano` is read then).
 *
 *   node dist/bench/map-forms-cpu.js --dir D [--reads 2000000] --maps ef|blocked [--only "hot list 100k,contains"]
 *     [--loop 3000] [--rounds 3] [--threads 2] [--dist DIST]
 *
 * `--dist` is the dist/ of the build to measure (default: this one's). Each query: a 250 ms warm-up, then
 * `--rounds` loops of `--loop` ms; per round the process CPU a call; printed are every round's and their least.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { StoreEngine } from '../src/engine/store-engine.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { DataSample } from './peers/data-sample.js';
import { loadEngine } from './peers/engine-peer.js';
import { withHeavyPlates, type HeavyCounts } from './peers/heavy-plates.js';
import { buildQuerySet, type BenchQuery } from './peers/query-set.js';
import { selectQueries } from './peers/options.js';
import { SpillWriter } from './peers/spill.js';

const { values: a } = parseArgs({
  options: {
    dir: { type: 'string' }, reads: { type: 'string', default: '2000000' }, maps: { type: 'string' },
    only: { type: 'string', default: 'hot list 100k' }, loop: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, dist: { type: 'string' },
  },
  strict: true,
});
if (!a.dir) throw new Error('--dir is required');
if (a.maps !== 'ef' && a.maps !== 'blocked') throw new Error('--maps must be ef or blocked');
const dist = resolve(a.dist ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const { StoreEngine: Engine } = (await import(`${dist}/src/engine/store-engine.js`)) as typeof import('../src/engine/store-engine.js');
const { plateIdSpan } = (await import(`${dist}/src/store/plate-id-lane.js`)) as typeof import('../src/store/plate-id-lane.js');
const threads = Number(a.threads), loopMs = Number(a.loop), rounds = Number(a.rounds);
const engineDir = join(a.dir, 'engine'), queriesAt = join(a.dir, 'queries.json');

/** bench:peers' load (bench/peers.ts): its generator, heavy plates, batches, seal and settle; its query set kept. */
async function load(): Promise<void> {
  const reads = Number(a.reads), seed = 1;
  const genOptions = { reads, seed, tenants: kDefaultTenants.slice(0, 3), days: 28, vehicles: Math.max(50, Math.round(reads / 10)) };
  const sample = new DataSample(seed, genOptions.vehicles);
  const engine = await Engine.open({ dataDir: engineDir, threads });
  const heavy: HeavyCounts = new Map();
  const source = withHeavyPlates(generateReads(genOptions), { reads, seed, tenant: genOptions.tenants[0]!, tenants: 3 }, heavy);
  const spillAt = join(a.dir!, 'reads.tsv');
  const subject = Object.assign(engine, {
    async settle() {
      await engine.compact();
      await engine.plateIndexesSettled();
    },
  });
  await loadEngine(subject, engineDir, source, sample, new SpillWriter(spillAt), { batch: 100_000 });
  rmSync(spillAt, { force: true });
  await engine.close();
  writeFileSync(queriesAt, JSON.stringify(buildQuerySet(sample, { seed, hotlistExact: 100_000, hotlistFuzzy: 10_000, heavy })));
}

if (!existsSync(queriesAt)) await load();
const queries = selectQueries(JSON.parse(readFileSync(queriesAt, 'utf8')) as BenchQuery[], a.only.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean));

plateIdSpan.eliasFano = a.maps === 'ef';
const engine: StoreEngine = await Engine.open({ dataDir: engineDir, threads });
await engine.plateIndexesSettled();

/** An answer's digest: totals and hit ids in order. */
async function answer(q: BenchQuery): Promise<string> {
  const h = createHash('sha256');
  if (q.kind === 'search') {
    const r = await engine.search([q.scope], q.query);
    h.update(`${r.total}:${r.hits.map((x) => x.id).join(',')}`);
  } else if (q.kind === 'hotlist') {
    const r = await engine.searchHotlist([q.scope], q.query);
    for (const m of r.matches) h.update(`${m.entry}:${m.total}:${m.hits.map((x) => x.id).join(',')};`);
  } else {
    h.update(JSON.stringify(await engine.analytics([q.scope], q.query)));
  }
  return h.digest('hex').slice(0, 12);
}

const stats = engine.stats();
console.log(`dist ${dist}; maps ${a.maps}; resident ${(stats.residentBytes / stats.reads).toFixed(3)} B/read; ${stats.shards} shards`);
for (const q of queries) {
  const digest = await answer(q);
  const w0 = performance.now();
  do await answer(q);
  while (performance.now() - w0 < 250);
  const cpu: number[] = [], wall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage(), l0 = performance.now();
    let n = 0;
    while (performance.now() - l0 < loopMs) {
      await answer(q);
      n++;
    }
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / n);
    wall.push((performance.now() - l0) / n);
  }
  console.log(`${q.name}: answer ${digest}; CPU ms a call ${cpu.map((x) => x.toFixed(3)).join(' / ')} (least ${Math.min(...cpu).toFixed(3)}); ` +
    `wall ms ${wall.map((x) => x.toFixed(3)).join(' / ')}`);
}
await engine.close();
