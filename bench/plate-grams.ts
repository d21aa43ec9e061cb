/**
 * `node dist/bench/plate-grams.js`: the tenant n-gram index (src/store/plate-grams.ts) against the full
 * dictionary pass it replaces, on the same data in the same run: for many patterns cut from the busiest
 * tenant's own plates (contains of 4 characters, fuzzy k=1, fuzzy k=2 with OCR classes, fuzzy k=1 with
 * transpositions), the engine is opened with `plateGrams: false`, then `true`, then both again, and each
 * query's median is taken over its runs; answers must be equal. Also prints the index's size per plate
 * and its build time (what a seal or compaction adds).
 *
 *   --reads N      reads to generate when the data dir is empty (default 1,000,000; src/gen seed 1, 3 tenants,
 *                  28 days, reads/10 vehicles: the bench:peers data)
 *   --data-dir D   where the engine's data lives (default a temp dir, removed at the end); reused if it has data
 *   --patterns P   patterns per kind (default 20)
 *   --runs R       timed runs per query and engine, after one warm-up (default 5)
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openEngine, type Engine } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { appendBatched } from './peers/append-batched.js';
import type { PlateMatch, SearchQuery } from '../src/model/query.js';
import { kOcrClasses } from '../src/model/plate.js';
import { PlateGrams } from '../src/store/plate-grams.js';
import type { TenantPlates } from '../src/store/tenant-plates.js';
import { BenchPrng } from './peers/prng.js';

function log(message: string): void {
  process.stderr.write(`[bench:plate-grams ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const { values } = parseArgs({
  options: { reads: { type: 'string' }, 'data-dir': { type: 'string' }, patterns: { type: 'string' }, runs: { type: 'string' } },
});
const reads = Number(values.reads ?? 1_000_000);
const patternsPerKind = Number(values.patterns ?? 20);
const runs = Number(values.runs ?? 5);
const tempDir = values['data-dir'] === undefined ? mkdtempSync(join(tmpdir(), 'platesearch-grams-')) : undefined;
const dataDir = values['data-dir'] ?? join(tempDir!, 'engine');

async function load(): Promise<void> {
  const engine = await openEngine({ dataDir, threads: 2 });
  try {
    if (engine.stats().reads > 0) return log(`reusing ${dataDir}: ${engine.stats().reads.toLocaleString('en-US')} reads`);
    log(`generating and loading ${reads.toLocaleString('en-US')} reads into ${dataDir}`);
    await appendBatched(engine, generateReads({ reads, seed: 1, tenants: kDefaultTenants.slice(0, 3), days: 28, vehicles: Math.max(50, Math.round(reads / 10)) }));
    await engine.seal();
  } finally {
    await engine.close();
  }
}

/** The tenant dictionaries the engine starts building at open, on its plate-index thread: waited for. */
async function settled(engine: Engine): Promise<void> {
  await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
}

/** The engine's tenant dictionary (bench-only peek at a private field). */
function tenantPlatesOf(engine: Engine, tenant: string): TenantPlates | undefined {
  return (engine as unknown as { tenantPlates: Map<string, TenantPlates> }).tenantPlates.get(tenant);
}

function otherChar(c: string, rng: BenchPrng): string {
  const cls = kOcrClasses.find((k) => k.includes(c)) ?? c;
  const pool = 'XK7H4MPWRTNEFCAJY3'.split('').filter((d) => !cls.includes(d) && d !== c);
  return pool[rng.below(pool.length)]!;
}

interface Case {
  kind: string;
  match: PlateMatch;
}

function cases(plates: readonly string[], rng: BenchPrng): Case[] {
  const out: Case[] = [];
  const pick = () => {
    for (;;) {
      const p = plates[rng.below(plates.length)]!;
      if (p.length >= 6) return p;
    }
  };
  const sub = (p: string, at: number) => p.slice(0, at) + otherChar(p[at]!, rng) + p.slice(at + 1);
  for (let i = 0; i < patternsPerKind; i++) {
    const c = pick();
    const at = rng.below(c.length - 3);
    out.push({ kind: 'contains (4 characters)', match: { pattern: `*${c.slice(at, at + 4)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false } });
    const f1 = pick();
    out.push({ kind: 'fuzzy k=1', match: { pattern: sub(f1, rng.below(f1.length)), mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: false } });
    const f2 = pick();
    out.push({ kind: 'fuzzy k=2, OCR classes', match: { pattern: sub(sub(f2, 0), f2.length - 1), mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: false } });
    const f3 = pick();
    out.push({ kind: 'fuzzy k=2', match: { pattern: sub(sub(f3, 1), f3.length - 2), mode: 'fuzzy', maxEdits: 2, ocr: false, transpositions: false } });
    const f4 = pick();
    const s = rng.below(f4.length - 1);
    out.push({ kind: 'fuzzy k=1, transpositions', match: { pattern: f4.slice(0, s) + f4[s + 1] + f4[s] + f4.slice(s + 2), mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: true } });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timeAll(grams: boolean, tenant: string, cs: readonly Case[]): Promise<{ ms: number[]; answers: string[] }> {
  const engine = await openEngine({ dataDir, threads: 2, plateGrams: grams });
  try {
    await settled(engine);
    const ms: number[] = [], answers: string[] = [];
    for (const c of cs) {
      const q: SearchQuery = { plate: c.match, filter: {}, limit: 1000 };
      const scopes = [{ tenant, minTs: 0 }];
      const first = await engine.search(scopes, q);
      answers.push(JSON.stringify([first.total, first.hits.map((h) => h.id)]));
      const t: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await engine.search(scopes, q);
        t.push(performance.now() - t0);
      }
      ms.push(median(t));
    }
    return { ms, answers };
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  await load();
  const engine = await openEngine({ dataDir, threads: 2 });
  let tenant = '', plates: string[] = [], indexBytes = 0, count = 0;
  try {
    await settled(engine);
    for (const t of engine.tenants()) {
      const tp = tenantPlatesOf(engine, t);
      if (tp && tp.count > count) {
        tenant = t;
        count = tp.count;
        plates = Array.from({ length: tp.count }, (_, i) => tp.plateAt(i));
        indexBytes = tp.grams?.bytes ?? 0;
      }
    }
    const tp = tenantPlatesOf(engine, tenant)!;
    const builds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      PlateGrams.build(tp.bytes(), tp.count);
      builds.push(performance.now() - t0);
    }
    log(`tenant ${tenant}: ${count.toLocaleString('en-US')} distinct plates, ${engine.stats().reads.toLocaleString('en-US')} reads in all; ` +
      `index ${(indexBytes / 1e6).toFixed(1)} MB = ${(indexBytes / count).toFixed(1)} B/plate ` +
      `(postings ${((tp.grams!.postings.length) / count).toFixed(2)} ids/plate); build ${median(builds).toFixed(1)} ms (median of 5)`);
  } finally {
    await engine.close();
  }
  const cs = cases(plates, new BenchPrng(7));
  const off: number[][] = [], on: number[][] = [];
  let differ = 0;
  for (let round = 0; round < 2; round++) {
    const a = await timeAll(false, tenant, cs);
    const b = await timeAll(true, tenant, cs);
    a.answers.forEach((x, i) => {
      if (x !== b.answers[i]) {
        differ++;
        log(`ANSWERS DIFFER: ${JSON.stringify(cs[i]!.match)}`);
      }
    });
    off.push(a.ms);
    on.push(b.ms);
  }
  const kinds = [...new Set(cs.map((c) => c.kind))];
  process.stdout.write(`\n| patterns (${patternsPerKind} each, ${tenant}, ${count.toLocaleString('en-US')} plates) | full pass p50 (ms) | n-gram index p50 (ms) | speed-up | full pass max | index max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n`);
  for (const kind of kinds) {
    const idx = cs.flatMap((c, i) => (c.kind === kind ? [i] : []));
    const a = idx.map((i) => Math.min(off[0]![i]!, off[1]![i]!));
    const b = idx.map((i) => Math.min(on[0]![i]!, on[1]![i]!));
    process.stdout.write(`| ${kind} | ${median(a).toFixed(3)} | ${median(b).toFixed(3)} | ${(median(a) / median(b)).toFixed(1)}× | ${Math.max(...a).toFixed(2)} | ${Math.max(...b).toFixed(2)} |\n`);
  }
  process.stdout.write(`\nEach query: the better of two rounds of the median of ${runs} runs; answers ${differ === 0 ? 'equal in every case' : `DIFFER in ${differ} cases`}.\n`);
  if (differ > 0) process.exitCode = 1;
}

main().then(
  () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  },
  (err: unknown) => {
    process.stderr.write(`bench:plate-grams: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    if (tempDir && existsSync(tempDir)) rmSync(tempDir, { recursive: true, force: true });
    process.exitCode = 1;
  },
);
