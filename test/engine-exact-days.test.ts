/**
 * Exact plates read through the tenant's plate → shard masks (src/query/plate-shards.ts) and the postings
 * runs (src/query/postings-run.ts), newest first with older shards counted from their run lengths, hits
 * built by ShardHits: the engine against the reference on random data and queries.
 *
 * The data spans more than 64 shards (shard buckets are shared), has several shards a day (a seal after every batch),
 * heavy plates (hundreds of reads, so a page fills and older shards are only counted), and plates that are
 * absent. It is searched as loaded; with live (unsealed) rows beside the shards, some of them older than
 * the newest shards; after compaction, a retention drop (whole shards and a shard cut mid-day: the masks
 * keep stale bits) and more days sealed in (the masks merged); and after a reopen (masks built at open).
 * Scopes carry retention floors; truncated answers are paged to the end through their cursors. On the
 * calling thread and with the pool.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { PlateMatch, ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { plateRunsCounted } from '../src/query/executor.js';
import { plateShardsPruned } from '../src/query/plate-shards.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { filterArb, kDay, kT0, makeReads, rng, tempDataDir } from './helpers/engine-data.js';
import { expectPagesLikeReference } from './helpers/paged-search.js';

const kDays = 40;
const kHeavy = ['HVY1', 'HVY22', 'BUS7'];

const exact = (pattern: string): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false });

/** Reads of the heavy plates, spread over [start, start + days) (one of them at one camera, as a parked car). */
function heavyReads(seed: number, n: number, start: number, days: number): Read[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const plate = kHeavy[i % kHeavy.length]!;
    const read: Read = { plate, ts: start + Math.floor(r() * days * kDay), lat: 37.7 + (r() - 0.5) * 0.1, lon: -122.4 + (r() - 0.5) * 0.1, camera: plate === 'BUS7' ? 'cam-1' : `cam-${Math.floor(r() * 6)}` };
    if (r() < 0.5) read.region = 'CA';
    if (r() < 0.5) read.confidence = Math.round(r() * 1000) / 1000;
    return read;
  });
}

/** Shuffles `reads` (seeded) so that each batch spans many days. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const r = rng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function append(engine: Engine, tenant: string, reads: Read[], into: StoredRead[], sealEvery: number | undefined): Promise<void> {
  for (let i = 0; i < reads.length; i += 1500) {
    into.push(...(await engine.append(tenant, reads.slice(i, i + 1500))).stored);
    if (sealEvery !== undefined) await engine.seal(tenant);
  }
}

interface World {
  engine: Engine;
  reads: StoredRead[];
  /** The days searched (for the filters' windows). */
  days: number;
}

/** Random exact-plate queries against the reference, truncated ones walked to the end. */
async function check(w: World, runs: number, seed: number): Promise<void> {
  const plates = [...new Set(w.reads.map((r) => r.plate))];
  const plateArb = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...plates) },
    { weight: 2, arbitrary: fc.constantFrom(...kHeavy) },
    { weight: 1, arbitrary: fc.constantFrom('NOSUCH1', 'ZZZZZZZZZZ', plates[0]!.slice(0, -1) || 'Q') },
  );
  const floorArb = fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + w.days * kDay }), fc.integer({ min: 0, max: w.days }).map((d) => kT0 + d * kDay));
  const scopesArb = fc.oneof(
    floorArb.map((minTs): TenantScope[] => [{ tenant: 'pd-a', minTs }]),
    fc.tuple(floorArb, floorArb).map(([a, b]): TenantScope[] => [{ tenant: 'pd-a', minTs: a }, { tenant: 'pd-b', minTs: b }]),
  );
  const filterOrNone = fc.oneof({ weight: 2, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 3, arbitrary: filterArb(kT0, w.days) });
  const limitArb = fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constantFrom(100, 1000));
  await fc.assert(
    fc.asyncProperty(scopesArb, plateArb, filterOrNone, limitArb, async (scopes, plate, filter, limitArg) => {
      const q = { plate: exact(plate), filter };
      const total = referenceSearch(w.reads, scopes, { ...q, limit: 10_000 }).total;
      // at most ~20 pages a walk
      await expectPagesLikeReference(w.engine, w.reads, scopes, q, Math.max(limitArg, Math.ceil(total / 20)), 40);
    }),
    { numRuns: runs, seed },
  );
}

describe('engine vs reference: exact plates by shard masks and postings runs', () => {
  for (const threads of [0, 2]) {
    it(`threads ${threads}`, async () => {
      const { dir, cleanup } = await tempDataDir();
      const open = () => openEngine({ dataDir: dir, threads, poolMinRows: threads === 0 ? undefined : 0, sealAgeMs: 0 });
      let engine = await open();
      try {
        const reads: StoredRead[] = [];
        const a = shuffled([...makeReads({ seed: 31 + threads, reads: 6000, vehicles: 500, days: kDays }), ...heavyReads(7, 1200, kT0, kDays)], 5);
        const b = makeReads({ seed: 77, reads: 1500, vehicles: 200, days: 10, start: kT0 + 20 * kDay });
        await append(engine, 'pd-a', a, reads, 1); // a seal after each batch: several shards a day
        await append(engine, 'pd-b', b, reads, 1);
        expect(engine.stats().shards).toBeGreaterThan(kDays * 2);
        // the dictionary is built off the thread; until it is in place every shard is read (still exact)
        await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
        const pruned = plateShardsPruned.shards, counted = plateRunsCounted.shards;
        let w: World = { engine, reads, days: kDays };
        await check(w, 50, 1001 + threads);
        expect(plateShardsPruned.shards).toBeGreaterThan(pruned);
        expect(plateRunsCounted.shards).toBeGreaterThan(counted);

        // live rows beside the shards, at any time (some older than the newest shards)
        await append(engine, 'pd-a', shuffled([...makeReads({ seed: 90, reads: 800, vehicles: 500, days: kDays }), ...heavyReads(8, 300, kT0, kDays + 1)], 6), reads, undefined);
        expect(engine.stats().liveReads).toBeGreaterThan(0);
        await check(w, 40, 2002 + threads);

        // compaction, then retention: whole days go and a shard is cut mid-day (stale bits stay in the masks)
        await engine.seal();
        expect(await (engine as unknown as { compact(): Promise<number> }).compact()).toBeGreaterThan(0);
        const cutoff = kT0 + 6 * kDay + 5 * 3_600_000;
        await engine.dropBefore('pd-a', cutoff);
        reads.splice(0, reads.length, ...reads.filter((r) => r.tenant !== 'pd-a' || r.ts >= cutoff));
        await check(w, 30, 3003 + threads);

        // more days sealed in, 32+ days after the first (their day bits are the dropped days' bits)
        await append(engine, 'pd-a', shuffled([...makeReads({ seed: 95, reads: 2500, vehicles: 500, days: 30, start: kT0 + kDays * kDay }), ...heavyReads(9, 400, kT0 + kDays * kDay, 30)], 7), reads, 1);
        w = { engine, reads, days: kDays + 30 };
        await check(w, 40, 4004 + threads);

        // reopened: the masks are built at open
        await engine.close();
        engine = await open();
        w = { engine, reads, days: kDays + 30 };
        await check(w, 30, 5005 + threads);
      } finally {
        await engine.close();
        await cleanup();
      }
    }, 600_000);
  }
});
