/**
 * The data the HTTP benchmark searches: generated reads bulk-loaded through the engine library (as
 * `platesearch ingest` does, without HTTP), sealed, and closed before the server opens the data dir.
 * A reservoir sample of the loaded reads is kept beside the data (`bench-http-sample.json`) so that a
 * kept data dir (`--data-dir`) is reused by the next run with the same parameters instead of reloaded.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openEngine } from '../../src/engine/index.js';
import { generateReads } from '../../src/gen/index.js';
import type { Read } from '../../src/model/read.js';
import type { SampledRead as PeersSampledRead } from '../peers/data-sample.js';
import { BenchPrng } from '../peers/prng.js';

/** A sampled read: where and when a plate was seen (the peers benchmark's sample, without its truth). */
export type SampledRead = Omit<PeersSampledRead, 'misread'>;

export interface Preloaded {
  /** What was loaded; a kept data dir is reused only when this matches. */
  params: { reads: number; seed: number; tenants: string[]; days: number; start: string };
  sample: SampledRead[];
  minTs: number;
  maxTs: number;
  /** Wall time of the load (0 when reused). */
  loadMs: number;
  reused: boolean;
}

const kSampleFile = 'bench-http-sample.json';
const kSampleSize = 4000;
const kBatch = 100_000;
const kMsPerDay = 86_400_000;

/** The preloaded reads end at the start of today (UTC), so "last 7 days" queries look at real days. */
function startFor(days: number): string {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  return new Date(today.getTime() - days * kMsPerDay).toISOString();
}

export async function preload(
  dataDir: string, reads: number, seed: number, tenants: string[], days: number, log: (line: string) => void,
): Promise<Preloaded> {
  const samplePath = join(dataDir, kSampleFile);
  if (existsSync(samplePath)) {
    const kept = JSON.parse(await readFile(samplePath, 'utf8')) as Preloaded;
    const p = kept.params;
    if (p.reads === reads && p.seed === seed && p.days === days && p.tenants.join() === tenants.join()) {
      log(`reusing ${reads.toLocaleString('en-US')} preloaded reads in ${dataDir} (generated from ${p.start})`);
      return { ...kept, loadMs: 0, reused: true };
    }
    log(`${dataDir} holds other data (${JSON.stringify(p)}); reloading`);
    await rm(dataDir, { recursive: true, force: true });
  }
  await mkdir(dataDir, { recursive: true });

  const start = startFor(days);
  const engine = await openEngine({ dataDir, threads: 0, sealAgeMs: 0 });
  const rng = new BenchPrng(seed ^ 0x4177);
  const sample: SampledRead[] = [];
  const pending = new Map<string, Read[]>();
  let seen = 0;
  let minTs = Infinity, maxTs = -Infinity;
  const t0 = performance.now();
  const flush = async (tenant: string, batch: Read[]): Promise<void> => {
    const { stored } = await engine.append(tenant, batch);
    if (stored.length !== batch.length) throw new Error(`engine stored ${stored.length} of ${batch.length} reads of ${tenant}`);
  };
  for (const g of generateReads({ reads, seed, tenants, days, start: Date.parse(start) })) {
    const r = g.read;
    minTs = Math.min(minTs, r.ts);
    maxTs = Math.max(maxTs, r.ts);
    // reservoir sampling: every read equally likely to be among the sampled
    const slot = seen < kSampleSize ? seen : rng.below(seen + 1);
    if (slot < kSampleSize) sample[slot] = { tenant: g.tenant, plate: r.plate, ts: r.ts, lat: r.lat, lon: r.lon };
    seen++;
    let batch = pending.get(g.tenant);
    if (!batch) pending.set(g.tenant, (batch = []));
    batch.push(r);
    if (batch.length >= kBatch) {
      pending.set(g.tenant, []);
      await flush(g.tenant, batch);
    }
    if (seen % 1_000_000 === 0) log(`preloaded ${seen.toLocaleString('en-US')} reads (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  for (const [tenant, batch] of pending) if (batch.length > 0) await flush(tenant, batch);
  await engine.seal();
  await engine.close();
  const loadMs = performance.now() - t0;
  const result: Preloaded = { params: { reads, seed, tenants, days, start }, sample, minTs, maxTs, loadMs, reused: false };
  await writeFile(samplePath, JSON.stringify(result));
  return result;
}
