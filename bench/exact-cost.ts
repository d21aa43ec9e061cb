/**
 * `node dist/bench/exact-cost.js`: the cost of an exact-plate search by itself, for profiling (issue 12's
 * "busy exact plate, limit 1000" row of bench:peers, a vehicle read a few hundred times, all time).
 *
 * Loads bench:peers' data (src/gen seed 1, 3 tenants, 28 days, its heavy plates) into an engine under
 * `--dir` once (later runs reopen it), picks the first tenant's busiest non-heavy plate and a plate read
 * about 5 times, then per plate: a 250 ms warm-up (as bench:peers), the median of `--runs` timed searches,
 * and the process CPU time per search over a `--loop` ms loop (steadier than wall time on a busy machine).
 * Run it with `--cpu-prof` to see where the loop's time goes.
 *
 *   nice -n 10 node dist/bench/exact-cost.js --reads 2000000 --dir /tmp/exact-cost [--loop 3000] [--only busy]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openEngine } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import type { SearchQuery } from '../src/model/query.js';
import { parseSearchRequest } from '../src/query/parse.js';
import { withHeavyPlates, type HeavyCounts } from './peers/heavy-plates.js';
import { appendBatched } from './peers/append-batched.js';
import type { SourceRead } from './peers/engine-peer.js';
import { median } from './peers/timing.js';

const { values: a } = parseArgs({
  options: {
    reads: { type: 'string', default: '2000000' },
    dir: { type: 'string', default: '/tmp/exact-cost' },
    runs: { type: 'string', default: '21' },
    loop: { type: 'string', default: '2000' },
    only: { type: 'string' },
  },
});
const reads = Number(a.reads);
const dir = a.dir!;
const runs = Number(a.runs);
const loopMs = Number(a.loop);

/** A search as bench:peers asks it (src/query/parse.ts: defaults filled in). */
function query(body: Record<string, unknown>): SearchQuery {
  return parseSearchRequest({ ...body, purpose: 'benchmark', case: 'exact-cost' }).query;
}

interface Choice { tenant: string; busy: { plate: string; n: number }; typical: { plate: string; n: number } }

async function load(): Promise<Choice> {
  const tenants = kDefaultTenants.slice(0, 3);
  const engine = await openEngine({ dataDir: join(dir, 'engine'), threads: 2 });
  const heavy: HeavyCounts = new Map();
  const gen = generateReads({ reads, seed: 1, tenants, days: 28, vehicles: Math.max(50, Math.round(reads / 10)) });
  const counts = new Map<string, number>();
  function* counted(): Generator<SourceRead> {
    for (const g of withHeavyPlates(gen, { reads, seed: 1, tenant: tenants[0]!, tenants: 3 }, heavy)) {
      if (g.tenant === tenants[0] && !g.heavy) counts.set(g.read.plate, (counts.get(g.read.plate) ?? 0) + 1);
      yield g;
    }
  }
  await appendBatched(engine, counted());
  await engine.seal();
  await engine.close();
  const byCount = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  const typical = byCount.find(([, n]) => n === 5)!;
  const choice = { tenant: tenants[0]!, busy: { plate: byCount[0]![0], n: byCount[0]![1] }, typical: { plate: typical[0], n: typical[1] } };
  writeFileSync(join(dir, 'choice.json'), JSON.stringify(choice));
  return choice;
}

async function main(): Promise<void> {
  const marker = join(dir, 'choice.json');
  const choice: Choice = existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) : await load();
  const engine = await openEngine({ dataDir: join(dir, 'engine'), threads: 2 });
  const scope = [{ tenant: choice.tenant, minTs: 0 }];
  const cases: Array<[string, SearchQuery]> = [
    [`busy "${choice.busy.plate}" (${choice.busy.n} reads), limit 1000`, query({ plate: choice.busy.plate, limit: 1000 })],
    [`typical "${choice.typical.plate}" (${choice.typical.n} reads)`, query({ plate: choice.typical.plate })],
  ];
  for (const [name, q] of cases) {
    if (a.only && !name.includes(a.only)) continue;
    const run = async () => {
      const r = await engine.search(scope, q);
      return r.hits.map((h) => h.id).length + r.total;
    };
    const w0 = performance.now();
    do await run();
    while (performance.now() - w0 < 250);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run();
      ms.push(performance.now() - t0);
    }
    // the loop's searches one by one: on a shared machine the low percentiles are the ones not preempted
    const c0 = process.cpuUsage();
    const l0 = performance.now();
    const each: number[] = [];
    while (performance.now() - l0 < loopMs) {
      const t0 = performance.now();
      await run();
      each.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(c0);
    const n = each.length;
    each.sort((x, y) => x - y);
    const r = await engine.search(scope, q);
    console.log(`${name}: ${r.hits.length} hits, total ${r.total}; median ${median(ms).toFixed(3)} ms of ${runs}; ` +
      `loop ${n} searches: ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms CPU each (all threads), wall min / p10 / p50 ` +
      `${each[0]!.toFixed(3)} / ${each[Math.floor(n / 10)]!.toFixed(3)} / ${each[n >> 1]!.toFixed(3)} ms`);
  }
  await engine.close();
}

await main();
