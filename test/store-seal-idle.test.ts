import { describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { StoreEngine } from '../src/engine/store-engine.js';
import type { Read } from '../src/model/read.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';

/** Every read of tenant pd-a, each hit as JSON (every stored field), sorted: what a search answers, live or sealed. */
async function allReads(e: Engine): Promise<string[]> {
  const res = await e.search([{ tenant: 'pd-a', minTs: 0 }], { filter: {}, limit: 10_000 });
  expect(res.truncated).toBe(false);
  return res.hits.map((h) => JSON.stringify(h)).sort();
}

async function appendAll(e: Engine, reads: readonly Read[], batch = 100): Promise<void> {
  for (let i = 0; i < reads.length; i += batch) await e.append('pd-a', reads.slice(i, i + batch));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, at most `ms`. */
async function until(ok: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await sleep(50);
}

describe('the idle seal', () => {
  it('seals a paused tenant\'s live tail: the same reads answered, sealed, and durable after a reopen', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e = await openEngine({ dataDir: dir, threads: 0, sealRows: 1e9, sealIdleMs: 300, sealIdleRows: 500 });
      const reads = makeReads({ seed: 11, reads: 2000, days: 2 });
      await appendAll(e, reads);
      expect(e.stats().liveReads).toBe(2000);
      const live = await allReads(e);
      expect(live.length).toBe(2000);
      await until(() => e.stats().liveReads === 0, 5000);
      expect(e.stats().liveReads).toBe(0);
      expect(e.stats().shards).toBeGreaterThan(0);
      expect(await allReads(e)).toEqual(live);
      // the seal worker ended with the pause, not kSealWorkerIdleMs later (it served the seal: dist/ is built)
      const sealWorker = (e as StoreEngine).sealWorker;
      if (sealWorker.started > 0) await until(() => !sealWorker.running, 2000);
      expect(sealWorker.running).toBe(false);
      // appends go on after it: live again, on top of the sealed tail
      await appendAll(e, makeReads({ seed: 12, reads: 300, days: 2 }));
      expect(e.stats()).toMatchObject({ reads: 2300, liveReads: 300 });
      await e.close();
      const e2 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      expect(e2.stats()).toMatchObject({ reads: 2300, liveReads: 300 });
      expect((await allReads(e2)).filter((r) => live.includes(r))).toEqual(live);
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('leaves a tail below sealIdleRows live, waits while appends go on, and is off with sealAgeMs 0', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e = await openEngine({ dataDir: dir, threads: 0, sealRows: 1e9, sealIdleMs: 400, sealIdleRows: 500 });
      await appendAll(e, makeReads({ seed: 13, reads: 499, days: 1 }));
      // past the idle time, a tick, and a seal's worker start under load: a tail this size would be sealed by now
      await sleep(3000);
      expect(e.stats()).toMatchObject({ liveReads: 499, shards: 0 });
      // one read every 100 ms for 2 s, over the row threshold: never 400 ms without an append, so nothing sealed
      for (const r of makeReads({ seed: 14, reads: 20, days: 1 })) {
        await e.append('pd-a', [r]);
        await sleep(100);
      }
      expect(e.stats()).toMatchObject({ liveReads: 519, shards: 0 });
      await until(() => e.stats().liveReads === 0, 5000);
      expect(e.stats()).toMatchObject({ liveReads: 0, reads: 519 });
      await e.close();

      const off = await openEngine({ dataDir: dir, threads: 0, sealRows: 1e9, sealAgeMs: 0, sealIdleMs: 300, sealIdleRows: 1 });
      await appendAll(off, makeReads({ seed: 15, reads: 200, days: 1 }));
      await sleep(1600);
      expect(off.stats()).toMatchObject({ liveReads: 200, reads: 719 });
      await off.close();
    } finally {
      await cleanup();
    }
  });
});
