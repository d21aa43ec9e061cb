/**
 * An exact plate answered as one page (src/query/plate-page.ts: its rows gathered as lanes and ordered by
 * one native sort) against the reference, on data made to stress that order: plates read hundreds of
 * times at a few dozen timestamps, so many rows share a ts and are ordered by id, across two tenants
 * (the ordinal breaks the tie before the seq), in several shards a day and live rows, with random filters,
 * retention floors and limits on both sides of the plate's row count (above: the TopK way), and truncated
 * answers paged to the end through their cursors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { PlateMatch, ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { platePages } from '../src/query/plate-page.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { filterArb, kDay, kT0, makeReads, rng, tempDataDir } from './helpers/engine-data.js';
import { expectPagesLikeReference } from './helpers/paged-search.js';

const kDays = 6;
const kTied = ['TIE1', 'TIE22', 'TIE333'];

const exact = (pattern: string): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false });

/** `n` reads of the tied plates, their ts drawn from 30 instants over the days (so ~n/30 reads share each). */
function tiedReads(seed: number, n: number): Read[] {
  const r = rng(seed);
  const instants = Array.from({ length: 30 }, () => kT0 + Math.floor(r() * kDays * kDay));
  return Array.from({ length: n }, (_, i) => {
    const read: Read = {
      plate: kTied[i % kTied.length]!, ts: instants[Math.floor(r() * instants.length)]!,
      lat: 37.7 + (r() - 0.5) * 0.1, lon: -122.4 + (r() - 0.5) * 0.1, camera: `cam-${Math.floor(r() * 6)}`,
    };
    if (r() < 0.5) read.region = 'CA';
    if (r() < 0.5) read.confidence = Math.round(r() * 1000) / 1000;
    return read;
  });
}

async function append(engine: Engine, tenant: string, reads: Read[], into: StoredRead[], seal: boolean): Promise<void> {
  for (let i = 0; i < reads.length; i += 700) {
    into.push(...(await engine.append(tenant, reads.slice(i, i + 700))).stored);
    if (seal) await engine.seal(tenant);
  }
}

async function check(engine: Engine, reads: StoredRead[], runs: number, seed: number): Promise<void> {
  const plates = [...new Set(reads.map((r) => r.plate))];
  const plateArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...kTied) }, { weight: 1, arbitrary: fc.constantFrom(...plates) });
  const floorArb = fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay }));
  const scopesArb = fc.oneof(
    floorArb.map((minTs): TenantScope[] => [{ tenant: 'pd-a', minTs }]),
    fc.tuple(floorArb, floorArb).map(([a, b]): TenantScope[] => [{ tenant: 'pd-a', minTs: a }, { tenant: 'pd-b', minTs: b }]),
  );
  const filterOrNone = fc.oneof({ weight: 2, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 2, arbitrary: filterArb(kT0, kDays) });
  const limitArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 800 }), fc.constant(10_000));
  await fc.assert(
    fc.asyncProperty(scopesArb, plateArb, filterOrNone, limitArb, async (scopes, plate, filter, limitArg) => {
      const q = { plate: exact(plate), filter };
      const total = referenceSearch(reads, scopes, { ...q, limit: 10_000 }).total;
      await expectPagesLikeReference(engine, reads, scopes, q, Math.max(limitArg, Math.ceil(total / 15)), 30);
    }),
    { numRuns: runs, seed },
  );
}

describe('engine vs reference: exact plates answered as one page', () => {
  it('tied timestamps across tenants, shards and live rows', async () => {
    const { dir, cleanup } = await tempDataDir();
    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    try {
      const reads: StoredRead[] = [];
      // both tenants read the tied plates at the same instants: equal ts, ordered by (ordinal, seq)
      await append(engine, 'pd-a', [...makeReads({ seed: 3, reads: 2000, vehicles: 300, days: kDays }), ...tiedReads(11, 900)].sort((x, y) => x.lat - y.lat), reads, true);
      await append(engine, 'pd-b', [...makeReads({ seed: 4, reads: 600, vehicles: 100, days: kDays }), ...tiedReads(11, 300)], reads, true);
      expect(engine.stats().shards).toBeGreaterThan(kDays);
      await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
      const before = platePages.count;
      await check(engine, reads, 60, 71);
      expect(platePages.count).toBeGreaterThan(before);

      // live rows of the same plates at the same instants
      await append(engine, 'pd-a', tiedReads(11, 150), reads, false);
      await append(engine, 'pd-b', tiedReads(11, 60), reads, false);
      expect(engine.stats().liveReads).toBeGreaterThan(0);
      await check(engine, reads, 60, 72);
    } finally {
      await engine.close();
      await cleanup();
    }
  }, 300_000);
});
