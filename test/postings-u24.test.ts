/**
 * Step 5b (docs/storage-v2.md): a shard of more than 65,536 rows has a u32 plate → rows lane (postings) in its
 * file, narrowed at load to u24 row indexes (src/store/shard-u24.ts); one of up to 65,536 rows keeps its u16
 * lane. Every reader of the lane goes through rowsReader (src/core/segment.ts): exact plates (the executor's
 * runs and pages), the per-shard kernel tasks' postings path, hot lists (the join's tasks and the plain path),
 * plate-prefix row counts, the analyses (row scans by plate, cloned) and export. Held to the plain reference
 * on engines holding both kinds of shard, on the calling thread and on the pool, after seal and after reopen.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { rowsReader } from '../src/core/segment.js';
import { packedLimit } from '../src/store/shard-u24.js';
import type { LoadedShard } from '../src/store/shard-loader.js';
import { kT0, makeReads, searchQueryArb } from './helpers/engine-data.js';
import { checkAnalytics, checkExport, checkHotlist, engineFixture, frequentPlates, type EngineFixture } from './helpers/reference-checks.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

// this file holds the u24 form: no lane is bit-packed at load (test/packed-lanes-engine.test.ts holds that one)
const kDefaultPackedBits = packedLimit.bits;
packedLimit.bits = 0;
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  packedLimit.bits = kDefaultPackedBits;
});

// pd-big: two UTC days of ~75,000 reads each (u24 postings); pd-small: two of ~4,000 (u16)
const kTenants = { 'pd-big': 150_000, 'pd-small': 8_000 } as const;
const kDays = 2;

type Fixture = EngineFixture;

interface Internals {
  stores: Map<string, { shards: readonly LoadedShard[] }>;
  plateIndexesSettled(): Promise<void>;
}
const internals = (e: Engine) => e as unknown as Internals;

function shardsOf(e: Engine, tenant: string): LoadedShard[] {
  return [...(internals(e).stores.get(tenant)?.shards ?? [])];
}

/** pd-big's shards hold u24 postings (more than 65,536 rows each), pd-small's u16; every row is in the lane once. */
function expectWidths(e: Engine): void {
  for (const [tenant, width] of [['pd-big', 3], ['pd-small', 2]] as const) {
    const shards = shardsOf(e, tenant);
    expect(shards.length, tenant).toBe(kDays);
    for (const s of shards) {
      expect(s.rows > 0x10000, s.file).toBe(width === 3);
      expect(s.layout.postingsWidth, s.file).toBe(width);
      expect(s.view.header.lanes.postings!.bytes, s.file).toBe(width * s.rows);
      // the lane is a permutation of the rows, sorted by plate code then row
      const post = rowsReader(s.view.bytes.buffer, s.postingsPtr, s.layout.postingsWidth, s.rows);
      const seen = new Uint8Array(s.rows);
      let bad = 0;
      for (let j = 0; j < s.rows; j++) {
        const i = post(j);
        if (i >= s.rows || seen[i]) bad++;
        else seen[i] = 1;
        if (j > 0) {
          const a = s.plate(post(j - 1)), b = s.plate(i);
          if (a > b || (a === b && post(j - 1) >= i)) bad++;
        }
      }
      expect(bad, s.file).toBe(0);
    }
  }
}

async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  for (const [t, [tenant, n]] of Object.entries(kTenants).entries()) {
    const reads = makeReads({ seed: 300 + t, reads: n, vehicles: Math.floor(n / 3), days: kDays });
    for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
    await engine.seal(tenant);
  }
  return out;
}

const scopesArb = fc
  .subarray(Object.keys(kTenants), { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * 86_400_000 })) }))))
  .map((xs) => xs as TenantScope[]);

async function checkAll(f: Fixture, runs: number): Promise<void> {
  const plates = frequentPlates(f.reads);
  await fc.assert(
    fc.asyncProperty(scopesArb, searchQueryArb(plates, kT0, kDays), async (scopes, query: SearchQuery) => {
      expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
    }),
    { numRuns: runs, seed: 5101 },
  );
  await checkHotlist(f, scopesArb, plates, kDays, Math.ceil(runs / 2), 5102);
  await checkAnalytics(f, scopesArb, Math.ceil(runs / 2), 5103);
  await checkExport(f, Object.keys(kTenants));
  // an exact plate read often, in every tenant and window: the executor's run path and page path
  for (const plate of plates.slice(0, 40)) {
    const scopes = Object.keys(kTenants).map((tenant) => ({ tenant, minTs: 0 }));
    for (const limit of [1, 7, 1000]) {
      const query: SearchQuery = { plate: { pattern: plate, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false }, filter: {}, limit };
      expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
    }
  }
}

describe('postings as u24 in memory (shards of more than 65,536 rows)', () => {
  const f = {} as Fixture;
  engineFixture(f, 'ps-post24-', (dataDir) => openEngine({ dataDir, threads: 0, sealAgeMs: 0, sealRows: 1e9 }), load);

  it('narrows the lane of a big shard only, and answers as the reference (calling thread)', async () => {
    expectWidths(f.engine);
    await checkAll(f, 40);
  }, 300_000);

  it('after reopening, on the worker pool', async () => {
    await f.engine.close();
    f.engine = await openEngine({ dataDir: f.dir, threads: 2, poolMinRows: 0, sealAgeMs: 0, sealRows: 1e9 });
    await internals(f.engine).plateIndexesSettled();
    expectWidths(f.engine);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 40);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 300_000);
});
