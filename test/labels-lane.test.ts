/**
 * The labels lane (src/core/label-lanes.ts, src/store/shard-labels.ts): a loaded shard's region, make and color
 * lanes packed into one u8 / u16 lane of triple ids plus a triple table, unless it has more triples than the
 * limit (lowered here by `labelLimits.max`, so one tenant's shards keep their three lanes). The kernel reads the
 * labels lane in the region lane's slot with one mask over triples; every JS reader goes through regionAt /
 * makeAt / colorAt or labelReader. Held to the plain reference on an engine holding u8-labels, u16-labels and
 * three-lane shards: searches with regions / makes / colors filters (label-only filters take the kernel's label
 * scan, with a time window its row loop), cursors walked to the end, hot lists, analytics, export, on the
 * calling thread and the pool, after reopen, after a compaction (which packs the merged shard again) and a
 * retention rewrite made on the calling thread (which reads rows back through the labels lane).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { ReadFilter, SearchQuery } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { readIdOf } from '../src/store/ids.js';
import { labelLanesPacked, labelLimits } from '../src/store/shard-labels.js';
import { kMaxLabelTriples } from '../src/core/label-lanes.js';
import { kDay, kT0, makeReads, plateMatchArb, rng } from './helpers/engine-data.js';
import { checkFieldForms, dropBeforeOnThisThread, engineFixture, tenantScopesArb, type EngineFixture } from './helpers/reference-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

const kDays = 2;
const kTenants = ['pd-u8', 'pd-u16', 'pd-three'];
// pd-three's shards hold ~2,000–3,000 triples, pd-u16's ≤ 378: this limit keeps pd-three's lanes, packs the others
const kLimit = 500;
labelLimits.max = kLimit;
// the u16 lane (past 256 triples, by runs: test/label-runs.test.ts)
labelLimits.runs = false;
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  labelLimits.max = kMaxLabelTriples;
  labelLimits.runs = true;
});

const kRegions = ['CA', 'NV', 'OR', ...Array.from({ length: 57 }, (_, i) => `R${i}`)];
const kMakes = ['TOYOTA', 'Toyota', 'honda', 'HONDA', 'Ford', 'Tesla', 'Subaru', 'kia', 'BMW', 'Audi'];
const kColors = ['WHITE', 'white', 'Black', 'RED', 'green', 'Grey', 'blue', 'Silver'];

/**
 * Reads whose region, make and color are drawn from the first `regions`, `makes`, `colors` values (some absent),
 * per plate (attributes of the vehicle, as in the field: an analysis filtered by them keeps a vehicle's reads).
 */
function withLabels(reads: Read[], seed: number, regions: number, makes: number, colors: number): Read[] {
  return reads.map((read) => {
    let h = seed;
    for (let i = 0; i < read.plate.length; i++) h = (Math.imul(h, 31) + read.plate.charCodeAt(i)) | 0;
    const r = rng(h);
    const out: Read = { ...read };
    delete out.region;
    delete out.make;
    delete out.color;
    if (r() < 0.85) out.region = kRegions[Math.floor(r() * regions)]!;
    if (r() < 0.8) out.make = kMakes[Math.floor(r() * makes)]!;
    if (r() < 0.8) out.color = kColors[Math.floor(r() * colors)]!;
    return out;
  });
}

/**
 * Every shard of `tenant` has the labels form `form` (a u8 or u16 labels lane, or its three lanes), and every row's
 * region, make and color read through the accessors (and the triple read once, LoadedShard.labels) equal its stored read's.
 */
function expectLabels(f: EngineFixture, tenant: string, form: 1 | 2 | 'three', shards?: number): void {
  const list = shardsOf(f.engine, tenant);
  if (shards !== undefined) expect(list.length, tenant).toBe(shards);
  const byId = new Map(f.reads.filter((r) => r.tenant === tenant).map((r) => [r.id, r]));
  for (const s of list) {
    if (form === 'three') {
      expect(s.layout.labels, s.file).toBeUndefined();
      expect(s.layout.region, s.file).not.toBe(0);
    } else {
      expect(s.layout.labelsWidth, s.file).toBe(form);
      expect([s.layout.region, s.layout.make, s.layout.color], s.file).toEqual([0, 0, 0]);
      expect(s.layout.labelCount!, s.file).toBeLessThanOrEqual(form === 1 ? 256 : kLimit);
      if (form === 2) expect(s.layout.labelCount!, s.file).toBeGreaterThan(256);
    }
    // the labels lane read once for the three codes (LoadedShard.labels): none for three lanes
    const once = s.labels();
    expect(once === undefined, s.file).toBe(form === 'three');
    const { makes, colors } = s.attributes();
    let bad = 0;
    for (let i = 0; i < s.rows; i++) {
      const read = byId.get(readIdOf(s.meta.ordinal, s.seqAt(i)))!;
      if ((s.regions[s.regionAt(i)] || undefined) !== read.region || (makes[s.makeAt(i)] || undefined) !== read.make || (colors[s.colorAt(i)] || undefined) !== read.color) bad++;
      else if (once) {
        const t = once.triple(i);
        if (once.region[t] !== s.regionAt(i) || once.make[t] !== s.makeAt(i) || once.color[t] !== s.colorAt(i)) bad++;
      }
    }
    expect(bad, s.file).toBe(0);
  }
}

/**
 * pd-u8: the shared generator's few labels (≤ 120 triples: a u8 labels lane). pd-u16: 9 regions × 7 makes × 6
 * colors (none included), sealed in four rounds (shards of 2,500 rows and ~330 triples: u16), which compaction
 * merges into one shard of 10,000 rows a day. pd-three: 60 × 11 × 9, 2,000–3,000 triples a shard: more than kLimit,
 * so its three lanes stay.
 */
async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = async (tenant: string, reads: Read[]) => {
    for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
    await engine.seal(tenant);
  };
  await append('pd-u8', makeReads({ seed: 501, reads: 6_000, vehicles: 2_000, days: kDays }));
  for (let round = 0; round < 4; round++) {
    await append('pd-u16', withLabels(makeReads({ seed: 510 + round, reads: 5_000, vehicles: 2_000, days: kDays }), 520 + round, 8, 6, 5));
  }
  await append('pd-three', withLabels(makeReads({ seed: 530, reads: 10_000, vehicles: 3_000, days: kDays }), 531, 59, 10, 8));
  return out;
}

const scopesArb = tenantScopesArb(kTenants, kDays);

/** Filters on regions / makes / colors (values present and absent, any case), alone or with a time window. */
const labelFilterArb: fc.Arbitrary<ReadFilter> = fc
  .record({
    regions: fc.subarray([...kRegions.slice(0, 6), 'R58', 'WA'], { minLength: 1, maxLength: 4 }),
    makes: fc.subarray(['toyota', 'HONDA', 'ford', 'tesla', 'Kia', 'Lada'], { minLength: 1, maxLength: 3 }),
    colors: fc.subarray(['white', 'BLACK', 'red', 'GREEN', 'silver', 'Pink'], { minLength: 1, maxLength: 3 }),
    time: fc.tuple(fc.integer({ min: 0, max: kDays * kDay }), fc.integer({ min: 0, max: kDay })),
  }, { requiredKeys: [] })
  .filter((f) => !!(f.regions || f.makes || f.colors))
  .map(({ time, ...f }): ReadFilter => (time ? { ...f, from: kT0 + time[0], to: kT0 + time[0] + time[1] } : f));

function labelQueryArb(plates: readonly string[]): fc.Arbitrary<SearchQuery> {
  return fc
    .record({ plate: fc.option(plateMatchArb(plates), { nil: undefined, freq: 2 }), filter: labelFilterArb, limit: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(10000)) })
    .map((q) => (q.plate === undefined ? { filter: q.filter, limit: q.limit } : q));
}

/** One broad label filter (an analysis keeps the reads of the vehicles it names). */
const analyticsLabelsArb: fc.Arbitrary<ReadFilter> = fc.oneof(
  fc.subarray(['CA', 'NV', 'OR', 'R0', 'R1', 'R2', 'R3', 'WA'], { minLength: 2, maxLength: 6 }).map((regions) => ({ regions })),
  fc.subarray(['toyota', 'HONDA', 'ford', 'tesla', 'Lada'], { minLength: 2, maxLength: 4 }).map((makes) => ({ makes })),
  fc.subarray(['white', 'BLACK', 'red', 'GREEN', 'Pink'], { minLength: 2, maxLength: 4 }).map((colors) => ({ colors })),
);

/** Every check, with hot lists and analyses also filtered by the packed fields (the kernels' and row scans' tests). */
function checkAll(f: EngineFixture, runs: number): Promise<void> {
  return checkFieldForms(f, scopesArb, kTenants, kDays, runs, 5300, { query: labelQueryArb, filters: labelFilterArb, only: analyticsLabelsArb });
}

describe('region, make and color as one labels lane in memory', () => {
  const f = {} as EngineFixture;
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-labels-', () => open(0), load);

  it('packs shards up to the limit (u8 / u16), keeps the three lanes past it, and answers as the reference', async () => {
    expectLabels(f, 'pd-u8', 1, kDays);
    expectLabels(f, 'pd-u16', 2);
    expectLabels(f, 'pd-three', 'three', kDays);
    expect(labelLanesPacked.kept).toBeGreaterThan(0);
    await checkAll(f, 45);
  }, 300_000);

  it('after reopening, on the worker pool', async () => {
    await f.engine.close();
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    expectLabels(f, 'pd-u16', 2);
    expectLabels(f, 'pd-three', 'three', kDays);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 36);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 300_000);

  it('after a compaction (the merged shards packed again) and a retention rewrite, and reopened', async () => {
    await internals(f.engine).compact('pd-u16');
    expectLabels(f, 'pd-u16', 2, kDays);
    // a cut inside day 2: those shards are rewritten from the rows they keep, on this thread (the seal worker,
    // which reads the files' lanes, declines here), so the rows are read back through regionAt / makeAt / colorAt
    const cutoff = kT0 + Math.floor(1.5 * kDay);
    await dropBeforeOnThisThread(f, ['pd-u16', 'pd-three', 'pd-u8'], cutoff);
    expectLabels(f, 'pd-u16', 2, 1);
    expectLabels(f, 'pd-three', 'three', 1);
    expectLabels(f, 'pd-u8', 1, 1);
    await checkAll(f, 30);
    await f.engine.close();
    f.engine = await open(0);
    expect(f.engine.stats().corruptFiles).toEqual([]);
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expectLabels(f, 'pd-u16', 2, 1);
    expectLabels(f, 'pd-three', 'three', 1);
    await checkAll(f, 24);
  }, 300_000);
});
