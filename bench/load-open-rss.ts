/**
 * Peak RSS while loading N reads into the engine and while opening them again (issue 11: "peak RSS while
 * loading 20M and after opening them ≤ 1.25 × resident + 300 MiB"). Load as bench:peers loads (generated
 * reads of 3 tenants appended per tenant in batches of 100,000; the engine's own background seals every
 * 1M live reads; a final `seal()`), then the data dir is opened `--opens` times, each in a fresh child
 * process (`--open-child`), timed (`openEngine` wall and process CPU) with its RSS after the open and its
 * peak (VmHWM, which counts every thread: the shard-open and builder workers too).
 *
 *   npm run build && node dist/bench/load-open-rss.js [--reads 2000000] [--opens 5] [--dir D (reuse a loaded dir)] [--keep]
 *
 * RSS is sampled every 20 ms during the load, labelled by what the engine was doing (append or seal); at
 * each phase's peak the main thread's JS heap, its external buffers and the arenas' committed memory are
 * noted (the rest is worker threads' heaps — the seal worker's — and the allocator's).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openEngine } from '../src/engine/index.js';
import { generateReads } from '../src/gen/index.js';
import type { Read } from '../src/model/read.js';
import { kCoordScale } from '../src/core/segment.js';
import { arg, memoryMap, MiB, status, type MemoryMap } from './proc-memory.js';

const log = (s: string) => void process.stderr.write(`load-open-rss ${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function openChild(dir: string): Promise<void> {
  const before = status('VmRSS');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const engine = await openEngine({ dataDir: dir, threads: 2, sealAgeMs: 0 });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const s = engine.stats();
  const rssAfter = status('VmRSS'), peak = status('VmHWM');
  // the open returns before the tenant dictionaries are installed: until then every shard keeps its own plate
  // slots (bench/resident-breakdown.ts); `residentSettled` is the figure once they are, and how long that took
  await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
  const settledMs = performance.now() - t0;
  const out = { ms, cpuMs: (c.user + c.system) / 1000, reads: s.reads, resident: s.residentBytes, residentSettled: engine.stats().residentBytes, settledMs, rssBefore: before, rssAfter, peak, peakSettled: status('VmHWM'), corrupt: s.corruptFiles.length };
  await engine.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

const mapText = (m: MemoryMap) => `wasm ${(m.wasm / MiB).toFixed(0)}, main malloc arena ${(m.mainArena / MiB).toFixed(0)}, thread arenas ${(m.threadArenas / MiB).toFixed(0)}, ` +
  `other anonymous ${(m.otherAnon / MiB).toFixed(0)}, files ${(m.file / MiB).toFixed(0)}`;

async function load(dir: string, reads: number): Promise<void> {
  const engine = await openEngine({ dataDir: dir, threads: 2 });
  let phase = 'append';
  // per phase, the RSS peak and what was in it then: the main thread's JS heap, buffers outside it, arena memory
  // and the process's mappings by kind (bench/proc-memory.ts memoryMap), read again when the peak has grown by 4 MiB
  const peaks = new Map<string, { rss: number; heap: number; external: number; arena: number; map?: MemoryMap; mapAt: number }>();
  const arenas = (engine as unknown as { arenas: { arenas: ReadonlyArray<{ committedBytes: number }> } }).arenas;
  const timer = setInterval(() => {
    const r = status('VmRSS');
    const was = peaks.get(phase);
    if (r <= (was?.rss ?? 0)) return;
    const m = process.memoryUsage();
    const fresh = !was || r >= was.mapAt + 4 * MiB;
    peaks.set(phase, { rss: r, heap: m.heapTotal, external: m.external, arena: arenas.arenas.reduce((n, a) => n + a.committedBytes, 0), map: fresh ? memoryMap() : was.map, mapAt: fresh ? r : was.mapAt });
  }, 20);
  const base = status('VmRSS');
  const cpu0 = process.cpuUsage();
  const pending = new Map<string, Read[]>();
  const t0 = performance.now();
  for (const g of generateReads({ reads, seed: 1, tenants: ['pd-metro', 'pd-east', 'pd-south'], days: 28, vehicles: Math.max(50, Math.round(reads / 8)) })) {
    const read = g.read;
    read.lat = Math.round(read.lat * kCoordScale) / kCoordScale;
    read.lon = Math.round(read.lon * kCoordScale) / kCoordScale;
    let batch = pending.get(g.tenant);
    if (!batch) pending.set(g.tenant, (batch = []));
    batch.push(read);
    if (batch.length >= 100_000) {
      pending.set(g.tenant, []);
      await engine.append(g.tenant, batch);
    }
  }
  for (const [tenant, batch] of pending) if (batch.length > 0) await engine.append(tenant, batch);
  phase = 'seal';
  await engine.seal();
  clearInterval(timer);
  const loadS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 2000)); // the seal worker's idle collection
  const settled = status('VmRSS');
  const s = engine.stats();
  log(`loaded ${s.reads} reads in ${loadS.toFixed(1)} s (process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s: every thread, generating the reads included); resident ${(s.residentBytes / MiB).toFixed(0)} MiB; ` +
    `RSS at start ${(base / MiB).toFixed(0)} MiB; ${[...peaks].map(([p, v]) => `peak while ${p === 'append' ? 'appending' : 'sealing'} ${(v.rss / MiB).toFixed(0)} MiB ` +
      `(main JS heap ${(v.heap / MiB).toFixed(0)}, external ${(v.external / MiB).toFixed(0)}, arena ${(v.arena / MiB).toFixed(0)}, rest ${((v.rss - v.heap - v.external - v.arena) / MiB).toFixed(0)}; ` +
      `mappings at ${(v.mapAt / MiB).toFixed(0)} MiB: ${mapText(v.map!)})`).join(', ')}; ` +
    `VmHWM ${(status('VmHWM') / MiB).toFixed(0)} MiB; RSS 2 s after the load ${(settled / MiB).toFixed(0)} MiB; ` +
    `bound 1.25 × resident + 300 MiB = ${((1.25 * s.residentBytes) / MiB + 300).toFixed(0)} MiB`);
  await engine.close();
}

async function main(): Promise<void> {
  if (process.argv.includes('--open-child')) return openChild(arg('dir')!);
  const reads = Number(arg('reads') ?? 2_000_000);
  const opens = Number(arg('opens') ?? 5);
  const given = arg('dir');
  const work = given ? undefined : mkdtempSync(join(tmpdir(), 'platesearch-load-rss-'));
  const dir = given ?? join(work!, 'engine');
  try {
    if (!given) {
      log(`loading ${reads} reads (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
      await load(dir, reads);
    }
    const runs: Array<Record<string, number>> = [];
    for (let i = 0; i < opens; i++) {
      const la = loadavg()[0]!;
      const line = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--open-child', '--dir', dir], { encoding: 'utf8' });
      const r = JSON.parse(line.trim().split('\n').pop()!) as Record<string, number>;
      runs.push({ ...r, load: la });
      log(`open ${i + 1}: ${r.ms!.toFixed(0)} ms wall, ${r.cpuMs!.toFixed(0)} ms CPU; ${r.reads} reads, resident ${(r.resident! / MiB).toFixed(0)} MiB (${(r.residentSettled! / MiB).toFixed(0)} once the tenant dictionaries are installed, ${(r.settledMs! / 1000).toFixed(1)} s after the open began); ` +
        `RSS before ${(r.rssBefore! / MiB).toFixed(0)}, after ${(r.rssAfter! / MiB).toFixed(0)}, peak ${(r.peak! / MiB).toFixed(0)} MiB; load average ${la.toFixed(1)}`);
    }
    const med = (k: string) => [...runs.map((r) => r[k]!)].sort((a, b) => a - b)[runs.length >> 1]!;
    const best = (k: string) => Math.min(...runs.map((r) => r[k]!));
    if (runs.length > 0) {
      log(`open median ${med('ms').toFixed(0)} ms (best ${best('ms').toFixed(0)}), CPU median ${med('cpuMs').toFixed(0)} ms (best ${best('cpuMs').toFixed(0)}); ` +
        `peak RSS median ${(med('peak') / MiB).toFixed(0)} MiB, after ${(med('rssAfter') / MiB).toFixed(0)} MiB; resident ${(runs[0]!.resident! / MiB).toFixed(0)} MiB`);
    }
  } finally {
    if (work && !process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
    else if (work) log(`kept ${work}`);
  }
}

await main();
