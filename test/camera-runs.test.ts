/**
 * The camera lane by runs and seq by time (issue 11: resident bytes ≤ 24 a read at 20M; src/core/camera-lane.ts,
 * src/store/shard-cameras.ts, src/store/seq-blocks.ts): a loaded shard's u16 camera lane packed into u8 entries of a
 * table per run of 256 rows, and its seq lane as u16 offsets from a base per bucket of ts. Held to the plain
 * reference on an engine with:
 *
 *   pd-cams  cameras by place (320 of them: a u16 lane), reads appended in ts order: runs packed (runs of more and
 *            of fewer than 64 cameras: both ways of the kernel's test), seq by time
 *   pd-few   the shared generator's 6 cameras (a u8 lane: as it is), in ts order: seq by time
 *   pd-late  320 cameras at random (a run sees ~190: the tables would not fit, the u16 lane stays), appended in
 *            random ts order: seq by blocks (an offset past seqTimeLimits.offset, lowered here)
 *
 * searches with camera filters (alone: the kernel's label scan, whose runs without a wanted camera are skipped;
 * with a time window or box: its row loop), cursors walked to the end, hot lists, analytics, export, on the calling
 * thread and the pool, after reopen, after a compaction and a retention rewrite on the calling thread (which reads
 * rows back through the run tables and seq by time). Every row's camera and seq, read every way, checked against
 * its stored read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { ReadFilter, SearchQuery } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { readIdOf } from '../src/store/ids.js';
import { seqTimeLimits } from '../src/store/seq-blocks.js';
import { cameraReader } from '../src/core/camera-lane.js';
import { segmentSeqReader } from '../src/core/segment.js';
import { kDay, kT0, makeReads, plateMatchArb, rng } from './helpers/engine-data.js';
import { checkFieldForms, dropBeforeOnThisThread, engineFixture, tenantScopesArb, type EngineFixture } from './helpers/reference-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';
import { appendAndSeal, countRunWidths } from './helpers/run-lanes.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

const kDays = 2;
const kTenants = ['pd-cams', 'pd-few', 'pd-late'];
// every shard tries seq by time (small shards' blocks never span 2^16); pd-late's late reads lie further than this
seqTimeLimits.blockSpan = 0;
seqTimeLimits.offset = 3_000;
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  seqTimeLimits.blockSpan = 0xffff;
  seqTimeLimits.offset = 0xffff;
});

const kCameraCount = 320;
const camera = (k: number) => `cam-${String(k).padStart(3, '0')}`;

/** Each read's camera by its place (a 16 × 20 grid over the generator's 0.2° × 0.2°), or at random. */
function withCameras(reads: Read[], byPlace: boolean, seed: number): Read[] {
  const r = rng(seed);
  return reads.map((read) => {
    const row = Math.min(15, Math.floor(((read.lat - 37.6) / 0.2) * 16)), col = Math.min(19, Math.floor(((read.lon + 122.5) / 0.2) * 20));
    return { ...read, camera: camera(byPlace ? row * 20 + col : Math.floor(r() * kCameraCount)) };
  });
}

/**
 * Every shard of `tenant` has its camera lane in run tables or not (`runs`) and its seq by time or not (`byTime`);
 * every row's camera (the shard's reader and a task's, from the layout) and seq (likewise) equal its stored read's.
 * Returns the runs of more than 64 cameras and those of at most 64.
 */
function expectLanes(f: EngineFixture, tenant: string, runs: boolean, byTime: boolean, shards?: number): { wide: number; narrow: number } {
  const list = shardsOf(f.engine, tenant);
  if (shards !== undefined) expect(list.length, tenant).toBe(shards);
  const byId = new Map(f.reads.filter((r) => r.tenant === tenant).map((r) => [r.id, r]));
  const out = { wide: 0, narrow: 0 };
  for (const s of list) {
    expect(s.layout.cameraRuns !== undefined, s.file).toBe(runs);
    expect(s.layout.seqTime !== undefined, s.file).toBe(byTime);
    expect(s.layout.seqWidth, s.file).toBe(2);
    const buf = s.view.bytes.buffer;
    const taskCamera = cameraReader(buf, s.layout), taskSeq = segmentSeqReader(buf, s.layout);
    let bad = 0;
    for (let i = 0; i < s.rows; i++) {
      const read = byId.get(readIdOf(s.meta.ordinal, s.seqAt(i)));
      if (!read || taskSeq(i) !== s.seqAt(i) || s.cameras[s.camera(i)] !== read.camera || taskCamera(i) !== s.camera(i)) bad++;
    }
    expect(bad, s.file).toBe(0);
    if (runs) {
      countRunWidths(buf, s.layout.cameraRuns!, s.rows, out);
    }
  }
  return out;
}

async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = (tenant: string, reads: Read[]) => appendAndSeal(engine, tenant, reads, out);
  const inOrder = (reads: Read[]) => [...reads].sort((a, b) => a.ts - b.ts);
  await append('pd-cams', inOrder(withCameras(makeReads({ seed: 701, reads: 40_000, vehicles: 6_000, days: kDays }), true, 702)));
  await append('pd-few', inOrder(makeReads({ seed: 703, reads: 6_000, vehicles: 2_000, days: kDays })));
  await append('pd-late', withCameras(makeReads({ seed: 704, reads: 12_000, vehicles: 3_000, days: kDays }), false, 705));
  return out;
}

const scopesArb = tenantScopesArb(kTenants, kDays);
const cameraNames = [camera(0), camera(17), camera(150), camera(151), camera(319), 'cam-1', 'cam-4', 'cam-x'];

/** Camera filters (present and absent cameras), alone, with a time window, or with a box. */
const cameraFilterArb: fc.Arbitrary<ReadFilter> = fc
  .record({
    cameras: fc.oneof(fc.subarray(cameraNames, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 300 }).map((k) => Array.from({ length: 20 }, (_, i) => camera(k + i)))),
    time: fc.option(fc.tuple(fc.integer({ min: 0, max: kDays * kDay }), fc.integer({ min: 0, max: kDay })), { nil: undefined }),
    box: fc.option(fc.tuple(fc.double({ min: 37.6, max: 37.8, noNaN: true }), fc.double({ min: -122.5, max: -122.3, noNaN: true })), { nil: undefined }),
  })
  .map(({ cameras, time, box }): ReadFilter => ({
    cameras,
    ...(time ? { from: kT0 + time[0], to: kT0 + time[0] + time[1] } : {}),
    ...(box ? { bbox: [box[1], box[0], box[1] + 0.05, box[0] + 0.05] as [number, number, number, number] } : {}),
  }));

function cameraQueryArb(plates: readonly string[]): fc.Arbitrary<SearchQuery> {
  return fc
    .record({ plate: fc.option(plateMatchArb(plates), { nil: undefined, freq: 2 }), filter: cameraFilterArb, limit: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(10000)) })
    .map((q) => (q.plate === undefined ? { filter: q.filter, limit: q.limit } : q));
}

/** Every check, with hot lists and analyses also filtered by the packed fields (the kernels' and row scans' tests). */
function checkAll(f: EngineFixture, runs: number): Promise<void> {
  return checkFieldForms(f, scopesArb, kTenants, kDays, runs, 7300, { query: cameraQueryArb, filters: cameraFilterArb, only: fc.subarray(cameraNames, { minLength: 2, maxLength: 5 }).map((cameras): ReadFilter => ({ cameras })) });
}

describe('the camera lane by runs, seq by time', () => {
  const f = {} as EngineFixture;
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-camruns-', () => open(0), load);

  it('packs a u16 lane into run tables where they fit, seq by time where it fits, and answers as the reference', async () => {
    const cams = expectLanes(f, 'pd-cams', true, true, kDays);
    // both ways of the kernel's per-row test are taken
    expect(cams.wide).toBeGreaterThan(0);
    expect(cams.narrow).toBeGreaterThan(0);
    expectLanes(f, 'pd-few', false, true, kDays);
    expectLanes(f, 'pd-late', false, false, kDays);
    await checkAll(f, 45);
  }, 300_000);

  it('after reopening, on the worker pool', async () => {
    await f.engine.close();
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    expectLanes(f, 'pd-cams', true, true, kDays);
    expectLanes(f, 'pd-late', false, false, kDays);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 36);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 300_000);

  it('after a compaction and a retention rewrite on this thread, and reopened', async () => {
    await internals(f.engine).compact('pd-cams');
    expectLanes(f, 'pd-cams', true, true, kDays);
    // a cut inside day 2: those shards are rewritten from the rows they keep, on this thread (the seal worker,
    // which reads the files' lanes, declines here), so rows are read back through the run tables and seq by time
    const cutoff = kT0 + Math.floor(1.5 * kDay);
    await dropBeforeOnThisThread(f, kTenants, cutoff);
    expectLanes(f, 'pd-cams', true, true, 1);
    expectLanes(f, 'pd-few', false, true, 1);
    await checkAll(f, 30);
    await f.engine.close();
    f.engine = await open(0);
    expect(f.engine.stats().corruptFiles).toEqual([]);
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expectLanes(f, 'pd-cams', true, true, 1);
    await checkAll(f, 24);
  }, 300_000);
});
