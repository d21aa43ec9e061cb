/**
 * The order a data dir's shards are read and handed to the shard-open workers (src/store/sealer.ts openOrder):
 * one small shard a worker first, then the rest largest first. Held to its definition on random sizes, and the
 * opened store keeps its shards in manifest order whatever order they were read in (the open's answer depends on
 * nothing but the manifest).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { openEngine } from '../src/engine/index.js';
import type { ShardEntry } from '../src/store/manifest.js';
import { readManifest } from '../src/store/manifest.js';
import { openOrder } from '../src/store/sealer.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import { ShardOpenPool } from '../src/store/shard-open-pool.js';
import type { TenantStore } from '../src/store/tenant-store.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});

const entriesOf = (bytes: readonly number[]) => bytes.map((b, i) => ({ file: `s${i}`, bytes: b }) as ShardEntry);

describe('openOrder', () => {
  it('is the smallest `threads` shards, ascending, then the rest by descending bytes, ties in manifest order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 30 }), fc.integer({ min: 1, max: 4 }), (bytes, threads) => {
      const order = openOrder(entriesOf(bytes), threads);
      expect([...order].sort((a, b) => a - b)).toEqual(bytes.map((_, i) => i)); // every shard once
      // the definition: a stable sort by bytes descending, its last `threads` reversed to the front
      const desc = bytes.map((b, i) => ({ b, i })).sort((x, y) => y.b - x.b || x.i - y.i).map((x) => x.i);
      const k = Math.min(threads, desc.length);
      expect(order).toEqual([...desc.slice(desc.length - k).reverse(), ...desc.slice(0, desc.length - k)]);
    }));
    expect(openOrder(entriesOf([35, 67, 73, 73, 35, 13, 20]), 2)).toEqual([5, 6, 2, 3, 1, 0, 4]);
  });
});

describe('a data dir opened on shard-open workers', () => {
  it('reads its shards in openOrder and keeps them in manifest order', async () => {
    const d = await tempDataDir('ps-open-order-');
    cleanups.push(d.cleanup);
    const e = await openEngine({ dataDir: d.dir, threads: 0, sealAgeMs: 0 });
    // five day shards of different sizes, the largest neither first nor last in the manifest
    const sizes = [400, 3_000, 200, 20_000, 900];
    for (const [k, reads] of sizes.entries()) await e.append('pd-a', makeReads({ seed: k + 1, reads, days: 1, start: kT0 + k * kDay }));
    await e.seal();
    await e.close();
    const manifest = (await readManifest(join(d.dir, 'tenants', 'pd-a')))!;
    expect(manifest.shards.map((s) => s.rows)).toEqual(sizes);
    // a shard's load starts with its size (head), before its first await: the heads come in the order the reads start
    const heads = vi.spyOn(LocalObjectStore.prototype, 'head');
    const opened = vi.spyOn(ShardOpenPool.prototype, 'open');
    const engine = await openEngine({ dataDir: d.dir, threads: 0, openThreads: 2, sealAgeMs: 0 });
    try {
      const started = heads.mock.calls.map(([key]) => key).filter((key) => key.endsWith('.shard'));
      const want = openOrder(manifest.shards, 2).map((i) => manifest.shards[i]!.file);
      expect(started).toEqual(want);
      expect(want).not.toEqual(manifest.shards.map((s) => s.file));
      expect(opened).toHaveBeenCalledTimes(sizes.length); // every shard went through a worker
      const store = (engine as unknown as { stores: Map<string, TenantStore> }).stores.get('pd-a')!;
      expect(store.shards.map((s) => s.entry.file)).toEqual(manifest.shards.map((s) => s.file));
      expect(engine.stats().reads).toBe(sizes.reduce((a, b) => a + b, 0));
    } finally {
      await engine.close();
    }
  });
});
