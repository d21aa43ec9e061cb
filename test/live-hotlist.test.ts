/**
 * Hot lists over live rows as pool tasks (src/query/live-hotlist-task.ts) against the reference
 * (src/query/reference/), on random data: enough live rows of two tenants for several blocks and plate
 * slot chunks, every read live (no shard), random lists (present, misread, absent, duplicated entries;
 * exact, fuzzy k = 0–2 with OCR and transpositions, a wildcard riding along), random filters and limits;
 * on the worker pool (the window's plates cut into several tasks) and on the calling thread (one task).
 * Then reads arriving while a search runs, and a seal between the plan and the tasks' run: the answer is
 * the one of the rows the search planned over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { HotlistQuery, ReadFilter, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { parseHotlistSearchRequest } from '../src/query/parse.js';
import { referenceHotlistSearch } from '../src/query/reference/index.js';
import { kSlotChunk, kLiveBlockRows } from '../src/store/live-columns.js';
import { liveHotlistTaskRuns } from '../src/query/live-hotlist-task.js';
import { filterArb, kDay, kT0, makeReads, mutatePlate, randomPlate, rng, tempDataDir } from './helpers/engine-data.js';
import { fuzzyMatchArb } from './helpers/hotlist-data.js';

const kDays = 8;
const kTenants = ['pd-a', 'pd-b'];

interface Fixture {
  engine: Engine;
  reads: StoredRead[];
  cleanup: () => Promise<void>;
}

/** pd-a: 30,000 reads of ~15,000 plates (4 blocks, 3 slot chunks); pd-b: 3,000 reads; all live. */
async function fixture(threads: number): Promise<Fixture> {
  const { dir, cleanup } = await tempDataDir('ps-live-hotlist-');
  const engine = await openEngine({ dataDir: dir, threads, poolMinRows: 0, sealRows: 1e12, sealAgeMs: 0 });
  const reads: StoredRead[] = [];
  for (const [t, tenant] of kTenants.entries()) {
    const all = makeReads({ seed: 41 + t, reads: t === 0 ? 30_000 : 3_000, vehicles: t === 0 ? 15_000 : 800, days: kDays, start: kT0 });
    for (let i = 0; i < all.length; i += 5_000) reads.push(...(await engine.append(tenant, all.slice(i, i + 5_000))).stored);
  }
  return { engine, reads, cleanup };
}

const scopesArb = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay })) }))))
  .map((xs) => xs as TenantScope[]);

function queryArb(present: readonly string[]): fc.Arbitrary<HotlistQuery> {
  const entry = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...present) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...present), fc.nat()).map(([p, s]) => mutatePlate(rng(s), p)) },
    { weight: 1, arbitrary: fc.nat().map((s) => randomPlate(rng(s))) },
    { weight: 1, arbitrary: fc.constantFrom(...present).map((p) => p.toLowerCase()) },
  );
  return fc
    .record({
      plates: fc.array(entry, { minLength: 1, maxLength: 40 }),
      match: fuzzyMatchArb,
      filter: fc.oneof({ weight: 1, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 3, arbitrary: filterArb(kT0, kDays) }),
      limitPerPlate: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(100)),
      wildcard: fc.boolean(),
    })
    .map(({ plates, match, filter, limitPerPlate, wildcard }) => {
      const list = wildcard && !('match' in match) ? [...plates, `${plates[0]!.slice(0, 2).toUpperCase()}*`] : plates;
      const { query } = parseHotlistSearchRequest({ plates: list, ...match, limitPerPlate, purpose: 'test', case: 'live-hotlist' });
      return { ...query, filter };
    });
}

const present = (f: Fixture) => [...new Set(f.reads.map((r) => r.plate))];
const poolTasks = (e: Engine) => e.stats().poolTasks ?? 0;

describe.each([
  ['the worker pool', 2],
  ['the calling thread', 0],
])('live hot lists on %s vs the reference', (_name, threads) => {
  const f = {} as Fixture;
  beforeAll(async () => {
    Object.assign(f, await fixture(threads));
  }, 120_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });

  it('holds every read live, over several blocks and slot chunks', () => {
    const st = f.engine.stats();
    expect(st.liveReads).toBe(33_000);
    expect(st.shards).toBe(0);
    expect(30_000 / kLiveBlockRows).toBeGreaterThan(3);
    expect(new Set(f.reads.filter((r) => r.tenant === 'pd-a').map((r) => r.plate)).size).toBeGreaterThan(kSlotChunk);
  });

  it('random lists, filters and limits', async () => {
    const before = poolTasks(f.engine);
    const here = liveHotlistTaskRuns.here;
    await fc.assert(
      fc.asyncProperty(scopesArb, queryArb(present(f)), async (scopes, query) => {
        const got = await f.engine.searchHotlist(scopes, query);
        expect(got).toEqual(referenceHotlistSearch(f.reads, scopes, query));
      }),
      { numRuns: Number(process.env.PS_LHL_RUNS ?? 60), seed: 20261203 + threads },
    );
    // on the pool, the live tasks went to the workers (a narrow window reaches too few plates for more than one)
    if (threads > 0) expect(poolTasks(f.engine) - before).toBeGreaterThan(10);
    else expect(liveHotlistTaskRuns.here - here).toBeGreaterThan(10);
  }, 300_000);
});

describe('live hot lists while reads arrive and a seal runs', () => {
  const f = {} as Fixture;
  beforeAll(async () => {
    Object.assign(f, await fixture(2));
  }, 120_000);
  afterAll(async () => {
    await f.engine?.close();
    await f.cleanup?.();
  });

  const scopes: TenantScope[] = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
  const queries = (seed: number): HotlistQuery[] => fc.sample(queryArb(present(f)), { numRuns: 6, seed });

  it('answers over the rows planned, not those appended while its tasks run', async () => {
    let more = makeReads({ seed: 77, reads: 6_000, vehicles: 3_000, days: kDays, start: kT0 });
    for (const query of queries(5)) {
      const want = referenceHotlistSearch(f.reads, scopes, query);
      const pending = f.engine.searchHotlist(scopes, query);
      const appended = await f.engine.append('pd-a', more.slice(0, 1_000));
      more = more.slice(1_000);
      expect(await pending).toEqual(want);
      f.reads.push(...appended.stored);
      expect(await f.engine.searchHotlist(scopes, query)).toEqual(referenceHotlistSearch(f.reads, scopes, query));
    }
  }, 300_000);

  it('answers equal when a seal retires the live rows between the plan and the tasks', async () => {
    for (const [i, query] of queries(6).entries()) {
      const want = referenceHotlistSearch(f.reads, scopes, query);
      // busy the pool first, so the tasks wait in its queue while the seal swaps the generation
      const busy = Array.from({ length: 4 }, () => f.engine.searchHotlist(scopes, queries(7 + i)[0]!));
      const pending = f.engine.searchHotlist(scopes, query);
      await f.engine.seal();
      expect(await pending).toEqual(want);
      await Promise.all(busy);
      expect(f.engine.stats().liveReads).toBe(0);
      // new live rows for the next round, beside the shards
      const batch = makeReads({ seed: 90 + i, reads: 9_000, vehicles: 4_000, days: kDays, start: kT0 });
      f.reads.push(...(await f.engine.append('pd-a', batch)).stored);
      expect(await f.engine.searchHotlist(scopes, query)).toEqual(referenceHotlistSearch(f.reads, scopes, query));
    }
  }, 300_000);
});
