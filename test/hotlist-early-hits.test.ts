/**
 * A hot list's hits built as the pool's batches come back (src/query/hotlist-join.ts EarlyHits, the running
 * tops of src/query/running-tops.ts) against the reference: entries heavy in some shards and light in
 * others (a plate read hundreds of times on one day and once on the others, one heavy on two days, one read
 * a few times everywhere, reads at one instant in several shards), so an entry's running top fills in one
 * result and turns rows away in the others, or is passed only by the last; limitPerPlate 1, small, 100 and
 * 10,000; exact and fuzzy entries (distance before time), random filters; every shard task on the workers,
 * with live rows beside them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { parseHotlistSearchRequest } from '../src/query/parse.js';
import { referenceHotlistSearch } from '../src/query/reference/index.js';
import { filterArb, kDay, kT0, makeReads, randomPlate, rng, tempDataDir } from './helpers/engine-data.js';

const kTenant = 'pd-a';
const kDays = 4;

/** Reads of `plate`: `perDay[d]` on day d, within its first hours; `at`: all at one instant of that day. */
function plateReads(plate: string, perDay: readonly number[], seed: number, at?: number): Read[] {
  const r = rng(seed);
  return perDay.flatMap((n, d) => Array.from({ length: n }, () => ({
    plate,
    ts: kT0 + d * kDay + (at ?? Math.floor(r() * 6 * 3_600_000)),
    lat: 37.7 + (r() - 0.5) * 0.1,
    lon: -122.4 + (r() - 0.5) * 0.1,
    camera: `cam-${Math.floor(r() * 6)}`,
    ...(r() < 0.5 ? { region: 'CA' } : {}),
    ...(r() < 0.5 ? { confidence: Math.round(r() * 1000) / 1000 } : {}),
  })));
}

const kBursty: ReadonlyArray<[string, number[], number?]> = [
  ['BRST1', [1, 0, 300, 1]], // heavy on day 2 only
  ['BRST22', [140, 3, 0, 140]], // heavy on days 0 and 3
  ['BRST3', [4, 4, 4, 4]], // light everywhere
  ['TIE9', [30, 30, 30, 30], 5_000], // every day's reads at one instant: ties on ts, by shard then id
  ['BRST1X', [0, 0, 2, 0]], // one edit from BRST1
];

async function load(engine: Engine): Promise<StoredRead[]> {
  const reads = [...makeReads({ seed: 7, reads: 1500, vehicles: 120, days: kDays }), ...kBursty.flatMap(([p, perDay, at], i) => plateReads(p, perDay, 100 + i, at))];
  // shuffled, then sealed 400 at a time (a shard per day per step): each heavy day is several shards, each
  // holding tens of the plate's reads, next to shards holding one or none
  const r = rng(11);
  for (let i = reads.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [reads[i], reads[j]] = [reads[j]!, reads[i]!];
  }
  const out: StoredRead[] = [];
  const live = 150;
  for (let i = 0; i < reads.length - live; i += 400) {
    out.push(...(await engine.append(kTenant, reads.slice(i, Math.min(i + 400, reads.length - live)))).stored);
    await engine.seal(kTenant);
  }
  out.push(...(await engine.append(kTenant, reads.slice(reads.length - live))).stored);
  return out;
}

describe('hot-list early hits: entries heavy in some shards, light in others', () => {
  let engine: Engine;
  let reads: StoredRead[];
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const d = await tempDataDir('ps-hotlist-early-');
    cleanup = d.cleanup;
    // poolMinRows 0: every shard task goes to the workers, whose results come back batch by batch
    engine = await openEngine({ dataDir: d.dir, threads: 2, poolMinRows: 0, arenaBytes: 512 * 1024, sealAgeMs: 0 });
    reads = await load(engine);
  }, 60_000);
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  it('has many shards and live rows', () => {
    expect(engine.stats().shards).toBeGreaterThan(12);
    expect(engine.stats().liveReads).toBeGreaterThan(0);
  });

  it('random lists of them equal the reference, limitPerPlate 1 to 10,000', async () => {
    const present = [...new Set(reads.map((r) => r.plate))].slice(0, 40);
    const entry = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...kBursty.map(([p]) => p)) },
      { weight: 3, arbitrary: fc.constantFrom(...present) },
      { weight: 1, arbitrary: fc.nat().map((s) => randomPlate(rng(s))) },
      { weight: 1, arbitrary: fc.constantFrom(...kBursty.map(([p]) => p.toLowerCase())) },
    );
    const scopes: TenantScope[] = [{ tenant: kTenant, minTs: 0 }];
    let truncated = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(entry, { minLength: 1, maxLength: 12 }),
      fc.constantFrom(1, 2, 5, 29, 100, 10_000),
      fc.oneof(fc.constant({}), fc.constant({ match: 'fuzzy', maxEdits: 1 })),
      fc.oneof({ weight: 2, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 1, arbitrary: filterArb(kT0, kDays) }),
      async (plates, limitPerPlate, match, filter) => {
        const { query } = parseHotlistSearchRequest({ plates, limitPerPlate, ...match, purpose: 'test', case: 'early-hits' });
        const q = { ...query, filter };
        const got = await engine.searchHotlist(scopes, q);
        expect(got).toEqual(referenceHotlistSearch(reads, scopes, q));
        truncated += got.matches.filter((m) => m.truncated).length;
      },
    ), { numRuns: Number(process.env.PS_HL_RUNS ?? 50), seed: 20261205 });
    expect(truncated).toBeGreaterThan(10); // the limits cut: running tops were passed
  }, 120_000);

  it('the bursty entries alone, each limit: newest limitPerPlate rows, ties by shard then id', async () => {
    const scopes: TenantScope[] = [{ tenant: kTenant, minTs: 0 }];
    for (const limitPerPlate of [1, 3, 30, 100, 10_000]) {
      const { query } = parseHotlistSearchRequest({ plates: kBursty.map(([p]) => p), limitPerPlate, purpose: 'test', case: 'early-hits' });
      const got = await engine.searchHotlist(scopes, query);
      expect(got).toEqual(referenceHotlistSearch(reads, scopes, query));
      expect(got.matches.map((m) => m.total)).toEqual(kBursty.map(([, perDay]) => perDay.reduce((a, b) => a + b, 0)));
    }
  });
});
