/**
 * The engine's seal worker is one thread for the engine's life (src/store/seal-worker-host.ts): seals,
 * compactions and retention rewrites all go to it, and their results equal the reference. A worker that
 * dies between jobs is replaced by the next job; one that dies during a job makes that job fall back to
 * the engine's own thread, with nothing lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import type { SealWorkerHost } from '../src/store/seal-worker-host.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const scopes = [{ tenant: 'pd-a', minTs: 0 }];

function hostOf(engine: Engine): SealWorkerHost {
  return (engine as unknown as { sealWorker: SealWorkerHost }).sealWorker;
}

async function sameAsReference(engine: Engine, reads: StoredRead[]): Promise<void> {
  expect(engine.stats().reads).toBe(reads.length);
  const query = { filter: {}, limit: 100_000 };
  const got = await engine.search(scopes, query);
  const want = referenceSearch(reads, scopes, query);
  expect(got.total).toBe(want.total);
  expect(got.hits).toEqual(want.hits);
}

describe('one seal worker for the engine\'s life', () => {
  const cleanups: Array<() => Promise<void>> = [];

  /** Every read sealed and equal to the reference, and again after closing and reopening the data dir. */
  async function sealedNothingLost(engine: Engine, dir: string, reads: StoredRead[]): Promise<void> {
    expect(engine.stats().liveReads).toBe(0);
    await sameAsReference(engine, reads);
    await engine.close();
    const again = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    cleanups.unshift(() => again.close());
    await sameAsReference(again, reads);
  }
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('serves every seal, compaction and retention rewrite of an engine from one thread', async () => {
    const { dir, cleanup } = await tempDataDir('ps-sealw-');
    cleanups.push(cleanup);
    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    cleanups.unshift(() => engine.close());
    const host = hostOf(engine);
    const reads: StoredRead[] = [];
    const all = makeReads({ seed: 5, reads: 6000, days: 3 });
    for (let i = 0; i < all.length; i += 500) {
      reads.push(...(await engine.append('pd-a', all.slice(i, i + 500))).stored);
      await engine.seal('pd-a');
    }
    expect(engine.stats().shards).toBeGreaterThan(8);
    await sameAsReference(engine, reads);
    const merged = await (engine as unknown as { compact(): Promise<number> }).compact();
    expect(merged).toBeGreaterThan(0);
    await sameAsReference(engine, reads);
    // a cutoff inside a day: straddling shards are rewritten by the worker
    const cutoff = kT0 + Math.floor(1.5 * kDay);
    await engine.dropBefore('pd-a', cutoff);
    const kept = reads.filter((r) => r.ts >= cutoff);
    await sameAsReference(engine, kept);
    expect(host.started).toBe(1);
  });

  it('replaces a worker that died, and a job whose worker dies falls back with nothing lost', async () => {
    const { dir, cleanup } = await tempDataDir('ps-sealw-');
    cleanups.push(cleanup);
    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    cleanups.unshift(() => engine.close());
    const host = hostOf(engine);
    const worker = () => (host as unknown as { worker: { worker: Worker | undefined } }).worker.worker; // the KeptWorker's thread
    const reads: StoredRead[] = [];
    const all = makeReads({ seed: 6, reads: 3000, days: 2 });
    reads.push(...(await engine.append('pd-a', all.slice(0, 1000))).stored);
    await engine.seal('pd-a');
    expect(host.started).toBe(1);
    // dies between jobs: the next seal starts another
    await worker()!.terminate();
    reads.push(...(await engine.append('pd-a', all.slice(1000, 2000))).stored);
    await engine.seal('pd-a');
    expect(host.started).toBe(2);
    await sameAsReference(engine, reads);
    // dies during a job: the seal is built on the engine's thread instead
    reads.push(...(await engine.append('pd-a', all.slice(2000))).stored);
    const sealing = engine.seal('pd-a');
    await new Promise((r) => setImmediate(r));
    await worker()?.terminate();
    await sealing;
    await sealedNothingLost(engine, dir, reads);
  });

  it('a log damaged after its rows were acknowledged: the worker refuses it (it streams whole logs only) and the seal is built from the live rows, nothing lost', async () => {
    const { dir, cleanup } = await tempDataDir('ps-sealw-');
    cleanups.push(cleanup);
    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    cleanups.unshift(() => engine.close());
    const reads: StoredRead[] = [];
    const all = makeReads({ seed: 8, reads: 3000, days: 2 });
    for (let i = 0; i < all.length; i += 1000) reads.push(...(await engine.append('pd-a', all.slice(i, i + 1000))).stored);
    const walDir = path.join(dir, 'tenants', 'pd-a', 'wal');
    const [name] = (await readdir(walDir)).sort();
    const file = path.join(walDir, name!);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x24;
    await writeFile(file, bytes);
    await engine.seal('pd-a');
    expect(hostOf(engine).started).toBe(1);
    await sealedNothingLost(engine, dir, reads);
  });
});
