/**
 * The process CPU of the queries that read a covered shard's code → id map and its confidence lane (docs/storage-v2.md,
 * "Confidence by its values, the code → id maps by Elias–Fano"), over a data dir another build can open too, so two
 * builds are compared in alternated runs on the same bytes: exact plates (a map's lower bound a shard, a hit's plate
 * through the map), a page of 1,000 hits without a plate (each hit's plate and confidence), prefix wildcards and
 * fuzzy searches (covered distances: lower bounds and a gather over the map), and a hot list of exact and fuzzy
 * entries (the covered probe through the maps, or the tenant pairs mapped into each shard's codes).
 *
 *   node dist/bench/map-reads-cpu.js --dir D [--dist DIST] [--loop 3000] [--threads 2]
 *
 * `--dist` is the dist/ of the build to measure (default: this one's): `node dist/bench/map-reads-cpu.js --dist
 * base/dist` runs base's engine. CPU is process CPU (every thread) per query over a `--loop` ms loop after a 250 ms
 * warm-up: steadier than wall time on a shared machine, but still raised by cache and memory-bus contention.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { Engine } from '../src/engine/index.js';
import type { HotlistQuery, PlateMatch, SearchQuery } from '../src/model/query.js';

const { values: a } = parseArgs({
  options: { dir: { type: 'string' }, dist: { type: 'string' }, loop: { type: 'string', default: '3000' }, threads: { type: 'string', default: '2' } },
  strict: true,
});
if (!a.dir) throw new Error('--dir is required');
const dist = resolve(a.dist ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const loopMs = Number(a.loop);
const { openEngine } = (await import(`${dist}/src/engine/index.js`)) as typeof import('../src/engine/index.js');

const m = (pattern: string, mode: PlateMatch['mode'], maxEdits = 0): PlateMatch => ({ pattern, mode, maxEdits, ocr: false, transpositions: false });

/** CPU ms per call of `run` over the loop, and the calls made. */
async function cpuPer(run: () => Promise<unknown>): Promise<{ ms: number; n: number }> {
  const w0 = performance.now();
  do await run();
  while (performance.now() - w0 < 250);
  const c0 = process.cpuUsage(), l0 = performance.now();
  let n = 0;
  while (performance.now() - l0 < loopMs) {
    await run();
    n++;
  }
  const c = process.cpuUsage(c0);
  return { ms: (c.user + c.system) / 1000 / n, n };
}

const engine: Engine = await openEngine({ dataDir: a.dir, threads: Number(a.threads) });
await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
const scopes = engine.tenants().map((tenant) => ({ tenant, minTs: 0 }));
// plates of the data: those of a page over all time (deterministic for a data dir)
const page = await engine.search(scopes, { filter: {}, limit: 1000 });
const plates = [...new Set(page.hits.map((h) => h.plate))];
const mid = page.hits[500]!.ts;
const cases: Array<[string, () => Promise<unknown>]> = [
  ['exact plates (20, all time)', async () => {
    for (const p of plates.slice(0, 20)) await engine.search(scopes, { plate: m(p, 'exact'), filter: {}, limit: 100 });
  }],
  ['a page of 1,000 hits, no plate, a day', () => engine.search(scopes, { filter: { from: mid - 43_200_000, to: mid + 43_200_000 }, limit: 1000 } as SearchQuery)],
  ['prefix wildcards (5, "XY*")', async () => {
    for (const p of plates.slice(0, 5)) await engine.search(scopes, { plate: m(`${p.slice(0, 2)}*`, 'wildcard'), filter: {}, limit: 100 });
  }],
  ['fuzzy k = 1 (5)', async () => {
    for (const p of plates.slice(20, 25)) await engine.search(scopes, { plate: m(p, 'fuzzy', 1), filter: {}, limit: 100 });
  }],
  ['hot list: 300 exact + 20 fuzzy k = 1 entries', () => {
    const entries = [...plates.slice(0, 300).map((p) => m(p, 'exact')), ...plates.slice(300, 320).map((p) => m(p, 'fuzzy', 1))];
    return engine.searchHotlist(scopes, { entries, filter: {}, limitPerPlate: 10 } as HotlistQuery);
  }],
];
console.log(`dist ${dist}; dir ${a.dir}; ${engine.stats().reads} reads; loop ${loopMs} ms`);
for (const [name, run] of cases) {
  const { ms, n } = await cpuPer(run);
  console.log(`${name}: ${ms.toFixed(3)} ms CPU each (${n} calls)`);
}
await engine.close();
