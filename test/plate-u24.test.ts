/**
 * Step 5e (docs/storage-v2.md): a shard file whose dictionary has more than 65,536 plates has a u32 plate lane,
 * narrowed at load to u24 codes (src/store/shard-u24.ts) when the dictionary has at most `plateU24Limit.codes`
 * entries. The scan kernel reads it (`dist[plate[r]]`, ABI 9) and every JS reader through plateCodeReader:
 * hits, export, the analyses' columns and row scans, cloned key ranges, rewrites (compaction, retention), the
 * hot-list tasks and joins, plate → rows, the plate-index build's run tables, on the calling thread and the pool.
 *
 * Knobs, so that small data gets u24 lanes: PLATESEARCH_TEST_PLATE_U16_MAX = 0 makes every shard file's plate
 * lane u32 (read by the seal threads, which are given this process's environment), and `plateU24Limit` keeps the
 * lanes of shards with more plates than it u32 (the load, on this thread). pd-big is one tenant-day of more than
 * 65,536 plates, so its codes use the third byte. Held to the plain reference on random data: every match mode,
 * filters, cursors walked to the end, hot lists (both ways of the covered shards' probe), the analyses (cloned
 * among them), export, exact plates; after reopen on the pool with some lanes kept u32, after a seal that grows
 * the tenant dictionary (its covered shards' code → id maps remapped, their lanes unchanged), compaction and a
 * retention rewrite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { StoredRead } from '../src/model/read.js';
import { parseReadId } from '../src/store/ids.js';
import { packedLimit, plateU24Limit } from '../src/store/shard-u24.js';
import { u24LaneBytes } from '../src/core/base-lanes.js';
import { kDay, kT0, makeReads } from './helpers/engine-data.js';
import { engineFixture, frequentPlates, type EngineFixture } from './helpers/reference-checks.js';
import { checkCoveredShards } from './helpers/covered-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

// every shard file gets a u32 plate lane (set before any engine starts a seal thread); none is bit-packed at load
// (this file holds the u24 form: test/packed-lanes-engine.test.ts the packed one)
process.env.PLATESEARCH_TEST_PLATE_U16_MAX = '0';
const kDefaultU24Limit = plateU24Limit.codes;
const kDefaultPackedBits = packedLimit.bits;
packedLimit.bits = 0;
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  delete process.env.PLATESEARCH_TEST_PLATE_U16_MAX;
  plateU24Limit.codes = kDefaultU24Limit;
  packedLimit.bits = kDefaultPackedBits;
});

const kDays = 3;
const kTenants = ['pd-big', 'pd-a', 'pd-b'];

/**
 * Every shard's plate lane: u24 when its dictionary has at most `plateU24Limit.codes` plates, else u32 (the
 * file's); a u24 lane is 3 B a row and the next lane starts past its padding (a u32 or v128 load of the last
 * row stays inside it); every row's code reads back as the plate the tenant stored under that seq. Returns the
 * number of shards of each width.
 */
function expectPlateLanes(f: EngineFixture): { u24: number; u32: number } {
  const plateOf = new Map(f.reads.map((r) => [`${r.tenant}/${parseReadId(r.id)!.seq}`, r.plate]));
  let u24 = 0, u32 = 0;
  for (const [tenant, store] of internals(f.engine).stores) {
    for (const s of store.shards) {
      const lane = s.view.header.lanes.plate!;
      const narrow = s.layout.dictCount <= plateU24Limit.codes;
      expect(s.layout.plateWidth, s.file).toBe(narrow ? 3 : 4);
      expect(lane.width, s.file).toBe(narrow ? 3 : 4);
      expect(lane.bytes, s.file).toBe((narrow ? 3 : 4) * s.rows);
      if (narrow) {
        u24++;
        const h = s.view.header;
        const after = [...Object.values(h.lanes), h.bases, h.seqBlocks].filter((l) => l !== undefined && l.at > lane.at).map((l) => l!.at);
        expect(Math.min(...after) - lane.at, s.file).toBeGreaterThanOrEqual(u24LaneBytes(s.rows));
      } else u32++;
      let bad = 0;
      for (let i = 0; i < s.rows; i++) {
        const code = s.plate(i);
        if (code >= s.layout.dictCount || s.plateAt(code) !== plateOf.get(`${tenant}/${s.seqAt(i)}`)) bad++;
      }
      expect(bad, s.file).toBe(0);
    }
  }
  return { u24, u32 };
}

/**
 * pd-big: one UTC day of 100,000 reads over 500,000 vehicles (more than 65,536 distinct plates: codes of three
 * bytes). pd-a: three days sealed in three rounds (three shards a day). pd-b: three days sealed once, the first
 * day exactly 640 rows (3 × 640 is a multiple of 64: without its padding the next lane would start right at
 * the lane's end).
 */
async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = async (tenant: string, reads: ReturnType<typeof makeReads>) => {
    for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
    await engine.seal(tenant);
  };
  await append('pd-big', makeReads({ seed: 501, reads: 100_000, vehicles: 500_000, days: 1 }));
  for (let round = 0; round < 3; round++) await append('pd-a', makeReads({ seed: 510 + round, reads: 900, vehicles: 400, days: kDays }));
  await append('pd-b', [
    ...makeReads({ seed: 520, reads: 640, vehicles: 300, days: 1 }),
    ...makeReads({ seed: 521, reads: 900, vehicles: 300, days: 2, start: kT0 + kDay }),
  ]);
  return out;
}

async function checkAll(f: EngineFixture, runs: number, seed: number): Promise<void> {
  // the plates read most often and pd-big's (one read each, most of them: codes above 2^16)
  const plates = [...frequentPlates(f.reads, 600), ...f.reads.filter((r, i) => r.tenant === 'pd-big' && i % 97 === 0).map((r) => r.plate)];
  await checkCoveredShards(f, kTenants, kDays, plates, runs, seed);
}

describe('plate lanes as u24 in memory', () => {
  const f = {} as EngineFixture;
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-plate24-', () => open(0), load);

  it('narrows every u32 plate lane to u24 (codes above 2^16 included) and answers as the reference', async () => {
    // pd-big 1 shard, pd-a 3 a day, pd-b 1 a day
    expect(expectPlateLanes(f)).toEqual({ u24: 1 + 3 * kDays + kDays, u32: 0 });
    const big = shardsOf(f.engine, 'pd-big');
    expect(big.length).toBe(1);
    expect(big[0]!.layout.dictCount).toBeGreaterThan(0x10000);
    expect(shardsOf(f.engine, 'pd-b').map((s) => s.rows)).toContain(640);
    // the labels lane packed at load before the plate lane narrows (src/store/shard-labels.ts): both in one shard
    expect(shardsOf(f.engine).filter((s) => s.layout.plateWidth === 3 && s.layout.labels !== undefined).length).toBe(1 + 3 * kDays + kDays);
    await checkAll(f, 40, 6101);
  }, 600_000);

  it('after reopening on the pool with the u24 limit lowered: some lanes stay u32', async () => {
    // the limit at pd-b's smallest dictionary: that shard stays u24 through the steps below (pd-b is neither
    // compacted nor cut), its others and pd-big's u32 (kept until the last reopen: a width is chosen at load)
    plateU24Limit.codes = Math.min(...shardsOf(f.engine, 'pd-b').map((s) => s.layout.dictCount));
    await f.engine.close();
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    const widths = expectPlateLanes(f);
    expect(widths.u24).toBeGreaterThan(0);
    expect(widths.u32).toBeGreaterThan(1);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 30, 6201);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 600_000);

  it('after a seal that grows the tenant dictionary, compaction and a retention rewrite (pool, mixed widths), reopened', async () => {
    // new plates sort among the old ones: the covered shards' code → id maps move, their lanes do not
    const more = makeReads({ seed: 530, reads: 700, vehicles: 300, days: kDays }).map((r) => ({ ...r, plate: `${r.plate.slice(0, 3)}Q${r.plate.slice(3)}`.slice(0, 10) }));
    f.reads.push(...(await f.engine.append('pd-a', more.slice(0, 350))).stored);
    await f.engine.seal('pd-a');
    f.reads.push(...(await f.engine.append('pd-a', more.slice(350))).stored);
    await f.engine.seal('pd-a');
    await internals(f.engine).plateIndexesSettled();
    expect(expectPlateLanes(f).u24).toBeGreaterThan(0);
    await checkAll(f, 24, 6301);
    // compaction merges pd-a's five seals a day (rows rewritten through the lanes; the fourth seal of a day
    // starts it in the background)
    await internals(f.engine).compact('pd-a');
    await internals(f.engine).plateIndexesSettled();
    expect(shardsOf(f.engine, 'pd-a').length).toBeLessThan(5 * kDays);
    expect(expectPlateLanes(f).u24).toBeGreaterThan(0);
    await checkAll(f, 24, 6401);
    // a cut inside pd-big's day and pd-a's second: those shards are rewritten from the rows they keep
    for (const [tenant, cutoff] of [['pd-big', kT0 + Math.floor(0.5 * kDay)], ['pd-a', kT0 + Math.floor(1.5 * kDay)]] as const) {
      const res = await f.engine.dropBefore(tenant, cutoff);
      expect(res.readsDeleted).toBe(f.reads.filter((r) => r.tenant === tenant && r.ts < cutoff).length);
      f.reads = f.reads.filter((r) => !(r.tenant === tenant && r.ts < cutoff));
    }
    await internals(f.engine).plateIndexesSettled();
    expect(expectPlateLanes(f).u24).toBeGreaterThan(0);
    await checkAll(f, 24, 6501);
    // reopened with the default limit: every lane u24 again
    await f.engine.close();
    plateU24Limit.codes = kDefaultU24Limit;
    f.engine = await open(0);
    await internals(f.engine).plateIndexesSettled();
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expect(expectPlateLanes(f).u32).toBe(0);
    await checkAll(f, 16, 6601);
  }, 900_000);
});
