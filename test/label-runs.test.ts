/**
 * The labels lane by runs (issue 11: resident bytes ≤ 24 a read at 20M; src/core/label-lanes.ts, src/core/run-lane.ts,
 * src/store/shard-labels.ts): a loaded shard of more than 256 (region, make, color) triples holds them as u8 entries,
 * its most frequent triples shared by every run and the others in a table per run of 256 rows. Held to the plain
 * reference on an engine with:
 *
 *   pd-runs   labels per vehicle drawn skewed from 40 regions × 10 makes × 8 colors (~950 triples a shard, most rows
 *             in a few): by runs
 *   pd-u16    labels per vehicle uniform over 9 × 7 × 6 (~330 triples, a run sees ~150: the tables would cost more
 *             than they save): the u16 lane stays
 *   pd-u8     the shared generator's few labels: a u8 lane
 *
 * searches with region / make / color filters (alone: the kernel's label scan, which skips runs where no triple
 * passes; with a time window or a box: its row loop; with plates), cursors to the end, hot lists, analytics, export,
 * on the calling thread, then reopened on the pool and the shard-open workers with at most 128 shared triples (runs both sides of the kernel's
 * 64-entry bit test), then after a compaction, a retention rewrite on the calling thread and a reopen. Every row's
 * region, make and color, read every way, checked against its stored read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { ReadFilter, SearchQuery } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { readIdOf } from '../src/store/ids.js';
import { labelLimits } from '../src/store/shard-labels.js';
import { labelReader } from '../src/core/label-lanes.js';
import { kDay, kT0, makeReads, plateMatchArb, rng } from './helpers/engine-data.js';
import { checkFieldForms, dropBeforeOnThisThread, engineFixture, tenantScopesArb, type EngineFixture } from './helpers/reference-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';
import { appendAndSeal, countRunWidths } from './helpers/run-lanes.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

const kDays = 2;
const kTenants = ['pd-runs', 'pd-u16', 'pd-u8'];
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  labelLimits.shared = 256;
});

const kRegions = ['CA', 'NV', 'OR', ...Array.from({ length: 37 }, (_, i) => `R${i}`)];
const kMakes = ['TOYOTA', 'Toyota', 'honda', 'HONDA', 'Ford', 'Tesla', 'Subaru', 'kia', 'BMW', 'Audi'];
const kColors = ['WHITE', 'white', 'Black', 'RED', 'green', 'Grey', 'blue', 'Silver'];

/**
 * Reads whose region, make and color are the plate's (attributes of the vehicle), drawn from the first `regions`,
 * `makes`, `colors` values, skewed toward the first ones by `skew` (1: uniform), some absent.
 */
function withLabels(reads: Read[], seed: number, regions: number, makes: number, colors: number, skew: number): Read[] {
  return reads.map((read) => {
    let h = seed;
    for (let i = 0; i < read.plate.length; i++) h = (Math.imul(h, 31) + read.plate.charCodeAt(i)) | 0;
    const r = rng(h);
    const pick = (n: number) => Math.floor(r() ** skew * n);
    const out: Read = { ...read };
    delete out.region;
    delete out.make;
    delete out.color;
    if (r() < 0.95) out.region = kRegions[pick(regions)]!;
    if (r() < 0.85) out.make = kMakes[pick(makes)]!;
    if (r() < 0.85) out.color = kColors[pick(colors)]!;
    return out;
  });
}

type Form = 'runs' | 2 | 1;

/**
 * Every shard of `tenant` has the labels form `form`, and every row's region, make and color (the shard's accessors
 * a task's labelReader, from the layout, and the triple read once, LoadedShard.labels) equal its stored read's. Returns, for runs, the runs of more than 64
 * table entries and those of at most 64, and the least shared count.
 */
function expectLabels(f: EngineFixture, tenant: string, form: Form, shards?: number): { wide: number; narrow: number; shared: number } {
  const list = shardsOf(f.engine, tenant);
  if (shards !== undefined) expect(list.length, tenant).toBe(shards);
  const byId = new Map(f.reads.filter((r) => r.tenant === tenant).map((r) => [r.id, r]));
  const out = { wide: 0, narrow: 0, shared: 256 };
  for (const s of list) {
    const l = s.layout;
    expect(l.labelsWidth, s.file).toBe(form === 'runs' ? 1 : form);
    expect(l.labelRuns !== undefined, s.file).toBe(form === 'runs');
    if (form !== 1) expect(l.labelCount!, s.file).toBeGreaterThan(256);
    const buf = s.view.bytes.buffer;
    const task = { region: labelReader(buf, l, 'region'), make: labelReader(buf, l, 'make'), color: labelReader(buf, l, 'color') };
    // the labels lane read once for the three codes (a hit's fields written from the lanes: LoadedShard.labels)
    const once = s.labels()!;
    expect(once, s.file).toBeDefined();
    const { makes, colors } = s.attributes();
    let bad = 0;
    for (let i = 0; i < s.rows; i++) {
      const read = byId.get(readIdOf(s.meta.ordinal, s.seqAt(i)))!;
      const g = s.regionAt(i), m = s.makeAt(i), c = s.colorAt(i);
      const t = once.triple(i);
      if ((s.regions[g] || undefined) !== read.region || (makes[m] || undefined) !== read.make || (colors[c] || undefined) !== read.color) bad++;
      else if (task.region(i) !== g || task.make(i) !== m || task.color(i) !== c) bad++;
      else if (once.region[t] !== g || once.make[t] !== m || once.color[t] !== c) bad++;
    }
    expect(bad, s.file).toBe(0);
    if (form === 'runs') {
      out.shared = Math.min(out.shared, l.labelShared!);
      countRunWidths(buf, l.labelRuns!, s.rows, out);
    }
  }
  return out;
}

/**
 * pd-runs sealed in four rounds (shards of ~6,000 rows), merged into one shard a day by compaction: the fourth seal
 * of a day starts it in the background, and waiting here for it (not for a background pass the checks might
 * overtake on a busy machine) makes the shard count the test expects.
 */
async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = (tenant: string, reads: Read[]) => appendAndSeal(engine, tenant, reads, out);
  for (let round = 0; round < 4; round++) {
    await append('pd-runs', withLabels(makeReads({ seed: 610 + round, reads: 12_000, vehicles: 5_000, days: kDays }), 620, 40, 10, 8, 6));
  }
  await internals(engine).compact('pd-runs');
  await append('pd-u16', withLabels(makeReads({ seed: 630, reads: 12_000, vehicles: 4_000, days: kDays }), 631, 9, 7, 6, 1));
  await append('pd-u8', makeReads({ seed: 640, reads: 6_000, vehicles: 2_000, days: kDays }));
  return out;
}

const scopesArb = tenantScopesArb(kTenants, kDays);

/** Filters on regions / makes / colors (frequent, rare and absent values, any case), alone, with a window or a box. */
const labelFilterArb: fc.Arbitrary<ReadFilter> = fc
  .record({
    regions: fc.subarray(['CA', 'NV', 'R0', 'R20', 'R36', 'WA'], { minLength: 1, maxLength: 3 }),
    makes: fc.subarray(['toyota', 'HONDA', 'bmw', 'AUDI', 'Lada'], { minLength: 1, maxLength: 3 }),
    colors: fc.subarray(['white', 'BLACK', 'blue', 'SILVER', 'Pink'], { minLength: 1, maxLength: 3 }),
    time: fc.tuple(fc.integer({ min: 0, max: kDays * kDay }), fc.integer({ min: 0, max: kDay })),
    box: fc.tuple(fc.double({ min: 37.6, max: 37.8, noNaN: true }), fc.double({ min: -122.5, max: -122.3, noNaN: true })),
  }, { requiredKeys: [] })
  .filter((f) => !!(f.regions || f.makes || f.colors))
  .map(({ time, box, ...f }): ReadFilter => ({
    ...f,
    ...(time ? { from: kT0 + time[0], to: kT0 + time[0] + time[1] } : {}),
    ...(box ? { bbox: [box[1], box[0], box[1] + 0.05, box[0] + 0.05] as [number, number, number, number] } : {}),
  }));

function labelQueryArb(plates: readonly string[]): fc.Arbitrary<SearchQuery> {
  return fc
    .record({ plate: fc.option(plateMatchArb(plates), { nil: undefined, freq: 2 }), filter: labelFilterArb, limit: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(10000)) })
    .map((q) => (q.plate === undefined ? { filter: q.filter, limit: q.limit } : q));
}

/** One broad label filter (an analysis keeps the reads of the vehicles it names). */
const analyticsLabelsArb: fc.Arbitrary<ReadFilter> = fc.oneof(
  fc.subarray(['CA', 'NV', 'OR', 'R0', 'R1', 'R30', 'WA'], { minLength: 2, maxLength: 5 }).map((regions) => ({ regions })),
  fc.subarray(['toyota', 'HONDA', 'ford', 'audi', 'Lada'], { minLength: 2, maxLength: 4 }).map((makes) => ({ makes })),
  fc.subarray(['white', 'BLACK', 'red', 'silver', 'Pink'], { minLength: 2, maxLength: 4 }).map((colors) => ({ colors })),
);

function checkAll(f: EngineFixture, runs: number): Promise<void> {
  return checkFieldForms(f, scopesArb, kTenants, kDays, runs, 9300, { query: labelQueryArb, filters: labelFilterArb, only: analyticsLabelsArb });
}

describe('the labels lane by runs', () => {
  const f = {} as EngineFixture;
  // with threads, the shards are also opened and re-encoded on the shard-open workers (which must take the knobs)
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, openThreads: threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-labelruns-', () => open(0), load);

  it('holds a shard of more than 256 triples as runs where they pay, and answers as the reference', async () => {
    const runs = expectLabels(f, 'pd-runs', 'runs', kDays);
    expect(runs.shared).toBeGreaterThan(128);
    expectLabels(f, 'pd-u16', 2, kDays);
    expectLabels(f, 'pd-u8', 1, kDays);
    await checkAll(f, 45);
  }, 300_000);

  it('after reopening on the worker pool, sharing at most 128 triples (runs of more and of fewer than 64 entries)', async () => {
    await f.engine.close();
    labelLimits.shared = 128;
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    const runs = expectLabels(f, 'pd-runs', 'runs', kDays);
    expect(runs.shared).toBeLessThanOrEqual(128);
    expect(runs.wide).toBeGreaterThan(0);
    expect(runs.narrow).toBeGreaterThan(0);
    expectLabels(f, 'pd-u16', 2, kDays);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 36);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
    labelLimits.shared = 256;
  }, 300_000);

  it('after a compaction and a retention rewrite on this thread, and reopened', async () => {
    await internals(f.engine).compact('pd-runs');
    expectLabels(f, 'pd-runs', 'runs', kDays);
    // a cut inside day 2: those shards are rewritten from the rows they keep, on this thread (the seal worker,
    // which reads the files' lanes, declines here), so rows are read back through the run tables
    const cutoff = kT0 + Math.floor(1.5 * kDay);
    await dropBeforeOnThisThread(f, kTenants, cutoff);
    expectLabels(f, 'pd-runs', 'runs', 1);
    await checkAll(f, 30);
    await f.engine.close();
    f.engine = await open(0);
    expect(f.engine.stats().corruptFiles).toEqual([]);
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expectLabels(f, 'pd-runs', 'runs', 1);
    expectLabels(f, 'pd-u16', 2, 1);
    await checkAll(f, 24);
  }, 300_000);
});
