/**
 * Freed arena pages given back to the OS (Arena.releaseFree, src/core/page-release.ts, src/core/idle-release.ts):
 * a release never touches a byte of a live region, the free pages it gives back read as zeros, and an engine
 * that releases at every step while its pool searches, seals, compacts and drops data answers as the reference.
 */
import { describe, expect, it } from 'vitest';
import { Arena, ArenaSet } from '../src/core/arena.js';
import { IdleRelease } from '../src/core/idle-release.js';
import { libc } from '../src/core/libc.js';
import { collectGarbage } from '../src/store/worker-gc.js';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { kDay, kT0, makeReads, rng, sealedDataDir, tempDataDir } from './helpers/engine-data.js';
import { internals } from './helpers/engine-internals.js';

const canRelease = process.platform === 'linux' && libc() !== undefined;

/** Fills a region with its own byte (1–255) so that any zeroed or foreign byte shows. */
function fill(a: Arena, ptr: number, bytes: number, tag: number): void {
  a.bytes(ptr, bytes).fill(tag);
}

function intact(a: Arena, ptr: number, bytes: number, tag: number): boolean {
  const view = a.bytes(ptr, bytes);
  for (let i = 0; i < view.length; i++) if (view[i] !== tag) return false;
  return true;
}

describe('Arena.releaseFree', () => {
  it.runIf(canRelease)('keeps every live byte and zeroes the whole free pages, over random allocs, frees and shrinks', () => {
    const r = rng(11);
    const a = new Arena(0, { maxBytes: 256 * 2 ** 20, initialBytes: 8 * 2 ** 20 });
    const live = new Map<number, { bytes: number; tag: number }>();
    let released = 0;
    let zeroChecked = 0;
    for (let step = 0; step < 2000; step++) {
      const k = r();
      if (k < 0.5 || live.size < 4) {
        // sizes from a few bytes to a few pages, odd ones included, so regions share pages with neighbours
        const bytes = 1 + Math.floor(r() * r() * 300_000);
        const ptr = a.alloc(bytes, r() < 0.2 ? 4096 : 64);
        const tag = 1 + Math.floor(r() * 255);
        fill(a, ptr, bytes, tag);
        live.set(ptr, { bytes, tag });
      } else if (k < 0.9) {
        const ptrs = [...live.keys()];
        const ptr = ptrs[Math.floor(r() * ptrs.length)]!;
        const { bytes } = live.get(ptr)!;
        live.delete(ptr);
        a.free(ptr);
        // a freed region's whole pages read as zeros once released (a free neighbour may widen the range, never narrow it)
        released += a.releaseFree(0);
        const first = Math.ceil(ptr / 4096) * 4096;
        const end = Math.floor((ptr + bytes) / 4096) * 4096;
        if (end > first) {
          expect(a.bytes(first, end - first).every((b) => b === 0)).toBe(true);
          zeroChecked++;
        }
      } else {
        const ptrs = [...live.keys()];
        const ptr = ptrs[Math.floor(r() * ptrs.length)]!;
        const e = live.get(ptr)!;
        const keep = 1 + Math.floor(r() * e.bytes);
        a.shrink(ptr, keep);
        e.bytes = keep;
        released += a.releaseFree(0);
      }
      if (step % 50 === 0) for (const [ptr, e] of live) expect(intact(a, ptr, e.bytes, e.tag)).toBe(true);
    }
    for (const [ptr, e] of live) expect(intact(a, ptr, e.bytes, e.tag)).toBe(true);
    expect(zeroChecked).toBeGreaterThan(100);
    expect(released).toBeGreaterThan(64 * 2 ** 20);
    // the free list and the range above the top are released; with minBytes only the large ranges
    expect(a.releaseFree(a.committedBytes)).toBe(0);
  });

  it.runIf(canRelease)('IdleRelease waits for a quiet tick after activity, then releases once', () => {
    const set = new ArenaSet({ arenaBytes: 64 * 2 ** 20 });
    const idle = new IdleRelease(set, { idleMs: 3_600_000, minBytes: 0, trim: false });
    try {
      const big = set.alloc(4 * 2 ** 20);
      const keep = set.alloc(4096);
      set.arena(0).bytes(big.ptr, big.bytes).fill(7);
      set.free(big);
      idle.tick(); // activity since the start: not yet
      expect(idle.releases).toBe(0);
      expect(set.arena(0).bytes(big.ptr, 4096)[0]).toBe(7);
      idle.tick(); // quiet: release
      expect(idle.releases).toBe(1);
      expect(idle.releasedBytes).toBeGreaterThanOrEqual(4 * 2 ** 20);
      expect(set.arena(0).bytes(big.ptr, big.bytes).every((b) => b === 0)).toBe(true);
      idle.tick(); // still quiet: nothing new to release
      expect(idle.releases).toBe(1);
      set.free(keep);
      idle.tick();
      idle.tick();
      expect(idle.releases).toBe(2);
    } finally {
      idle.close();
    }
  });
});

describe('IdleRelease after the collector', () => {
  it.runIf(canRelease)('a quiet tick trims malloc again once the collector freed 16 MiB of ArrayBuffers, and only then', async () => {
    // the collector's sweeper frees the buffers off the thread: their count falls a moment after the collection
    const settle = () => new Promise((r) => setTimeout(r, 300));
    const set = new ArenaSet({ arenaBytes: 64 * 2 ** 20 });
    const idle = new IdleRelease(set, { idleMs: 3_600_000, minBytes: 0 });
    const MiB = 2 ** 20;
    try {
      idle.tick();
      idle.tick(); // whatever the set did at its making is released: quiet from here
      const releases = idle.releases;
      let held: Uint8Array[] | undefined = Array.from({ length: 12 }, () => new Uint8Array(MiB).fill(1));
      idle.tick(); // grew: noted, nothing to trim
      expect(idle.trimsAfterCollector).toBe(0);
      held = undefined;
      collectGarbage(); // stands in for the full collection V8 makes on its own seconds after the work stops
      await settle();
      idle.tick(); // 12 MiB freed: under the threshold
      expect(idle.trimsAfterCollector).toBe(0);
      held = Array.from({ length: 40 }, () => new Uint8Array(MiB).fill(2));
      idle.tick();
      expect(idle.trimsAfterCollector).toBe(0);
      expect(held.length).toBe(40);
      held = undefined;
      collectGarbage();
      await settle();
      idle.tick(); // 40 MiB freed since the highest: trimmed once
      expect(idle.trimsAfterCollector).toBe(1);
      idle.tick(); // nothing freed since
      expect(idle.trimsAfterCollector).toBe(1);
      expect(idle.releases).toBe(releases); // no arena release was made for it
    } finally {
      idle.close();
    }
  });
});

describe('IdleRelease collecting first', () => {
  it.runIf(canRelease)('a release after activity makes a full collection once the thread holds 32 MiB more than after its last one, and only then', async () => {
    const MiB = 2 ** 20;
    const set = new ArenaSet({ arenaBytes: 64 * MiB });
    const idle = new IdleRelease(set, { idleMs: 3_600_000, minBytes: 0, collect: true });
    const activity = () => set.free(set.alloc(1024));
    try {
      activity();
      idle.tick();
      idle.tick(); // the first release: whatever the test process grew by before it
      const collections = idle.collections;
      // held, so the growth stays whatever collections V8 makes on its own meanwhile
      const held = Array.from({ length: 40 }, () => new Uint8Array(MiB).fill(1));
      let garbage: { bytes: Uint8Array } | undefined = { bytes: new Uint8Array(MiB) };
      const ref = new WeakRef(garbage);
      garbage = undefined;
      await new Promise((r) => setTimeout(r, 0)); // a WeakRef's target is kept until the job that made it ends
      idle.tick(); // quiet, nothing pending: no collection
      expect(idle.collections).toBe(collections);
      activity();
      idle.tick();
      idle.tick(); // 40 MiB more: collected, then released
      expect(idle.collections).toBe(collections + 1);
      expect(ref.deref()).toBeUndefined();
      const more = Array.from({ length: 8 }, () => new Uint8Array(MiB).fill(2));
      activity();
      idle.tick();
      idle.tick(); // 8 MiB more since that collection: released without one
      expect(idle.collections).toBe(collections + 1);
      expect(held.length + more.length).toBe(48);
    } finally {
      idle.close();
    }
  });
});

const kTenants = ['pd-a', 'pd-b'];

/** Plate-exact, fuzzy and filtered queries over `plates`, within the data's days. */
function queries(plates: string[], seed: number, n: number): SearchQuery[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const pattern = plates[Math.floor(r() * plates.length)]!;
    const from = kT0 + Math.floor(r() * 3) * kDay;
    const q: SearchQuery = {
      plate: { pattern, mode: i % 3 === 0 ? 'fuzzy' : 'exact', maxEdits: i % 3 === 0 ? 1 : 0, ocr: false, transpositions: false },
      filter: i % 2 === 0 ? { from, to: from + 2 * kDay } : {},
      limit: 50,
    };
    return i % 5 === 4 ? { filter: { from, to: from + kDay }, limit: 20 } : q;
  });
}

describe('releasing while the pool searches', () => {
  it.runIf(canRelease)('answers as the reference when regions pinned by searches in the pool are retired, the rest freed, released and reallocated', async () => {
    const { dir, cleanup } = await tempDataDir('ps-arena-release-');
    const engine: Engine = await openEngine({ dataDir: dir, threads: 2, poolMinRows: 0, sealRows: 1e12, sealAgeMs: 0 });
    const inside = engine as unknown as { idleRelease: IdleRelease; pool: { run: (...args: unknown[]) => Promise<unknown> } | undefined };
    const release = () => inside.idleRelease.release();
    try {
      const stored = new Map<string, StoredRead[]>(kTenants.map((t) => [t, []]));
      const scope = (t: string): TenantScope[] => [{ tenant: t, minTs: 0 }];
      const append = async (tenant: string, reads: Read[]) => void stored.get(tenant)!.push(...(await engine.append(tenant, reads)).stored);
      const readsA = makeReads({ seed: 3, reads: 20_000, vehicles: 300, days: 4 });
      const readsB = makeReads({ seed: 5, reads: 16_000, vehicles: 300, days: 4 });
      // pd-a: several small shards (one a batch) first
      for (let i = 0; i < 12_000; i += 3000) {
        await append('pd-a', readsA.slice(i, i + 3000));
        await engine.seal('pd-a');
      }
      await engine.search(scope('pd-a'), { filter: {}, limit: 1 }); // the pool started
      // every pool round trip waits at a gate: a search holds its shards and live view pinned there, and reads
      // the live rows after it
      let gate: Promise<void> = Promise.resolve();
      let gated = 0;
      const run = inside.pool!.run.bind(inside.pool);
      inside.pool!.run = async (...args: unknown[]) => {
        gated++;
        await gate;
        return run(...args);
      };
      let searched = 0;
      for (let round = 0; round < 4; round++) {
        await append('pd-a', readsA.slice(12_000 + round * 2000, 14_000 + round * 2000));
        let open!: () => void;
        gate = new Promise((res) => (open = res));
        gated = 0;
        const reads = [...stored.get('pd-a')!];
        const qs = queries([...new Set(reads.map((x) => x.plate))], round, 8);
        const answers = qs.map((q) => engine.search(scope('pd-a'), q));
        await new Promise((res) => setTimeout(res, 10));
        expect(gated).toBeGreaterThan(0);
        // meanwhile: pd-a's live rows sealed (its generation retired under the pinned views) and its shards
        // compacted (old shards retired likewise), pd-b grown and sealed into the holes, a release after each step
        const steps = async () => {
          await engine.seal('pd-a');
          release();
          if (round % 2 === 1) await internals(engine).compact('pd-a');
          release();
          await append('pd-b', readsB.slice(round * 4000, round * 4000 + 4000));
          await engine.seal('pd-b');
          release();
        };
        await Promise.race([steps(), new Promise((res) => setTimeout(res, 20_000))]);
        open();
        for (const [i, a] of answers.entries()) {
          const got = await a;
          const want = referenceSearch(reads, scope('pd-a'), qs[i]!);
          expect(got.total).toBe(want.total);
          expect(got.hits).toEqual(want.hits);
          searched++;
        }
      }
      expect(searched).toBe(32);
      // pd-b, after all that, as the reference
      const readsOfB = stored.get('pd-b')!;
      for (const q of queries([...new Set(readsOfB.map((x) => x.plate))], 9, 20)) {
        const got = await engine.search(scope('pd-b'), q);
        expect(got.hits).toEqual(referenceSearch(readsOfB, scope('pd-b'), q).hits);
      }
      expect(inside.idleRelease.releasedBytes).toBeGreaterThan(0);
    } finally {
      await engine.close();
      await cleanup();
    }
  });
});

describe('releasing at open', () => {
  it.runIf(canRelease)("gives the open's free pages back before the tenant dictionaries are built, and answers as the reference", async () => {
    const { dir, cleanup, stored } = await sealedDataDir('ps-arena-release-open-', 'pd-a', { seed: 7, reads: 40_000, vehicles: 500, days: 4 }, 10_000);
    const engine: Engine = await openEngine({ dataDir: dir, threads: 0, sealRows: 1e12, sealAgeMs: 0 });
    try {
      const inside = engine as unknown as { idleRelease: IdleRelease };
      // released by the open itself, not by the idle tick a second later
      expect(inside.idleRelease.releases).toBe(1);
      expect(inside.idleRelease.releasedBytes).toBeGreaterThan(0);
      await internals(engine).plateIndexesSettled();
      const scope: TenantScope[] = [{ tenant: 'pd-a', minTs: 0 }];
      for (const q of queries([...new Set(stored.map((x) => x.plate))], 3, 20)) {
        const got = await engine.search(scope, q);
        expect(got.hits).toEqual(referenceSearch(stored, scope, q).hits);
      }
    } finally {
      await engine.close();
      await cleanup();
    }
  });
});
