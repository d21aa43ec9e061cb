/**
 * Plate and postings lanes at their exact bits (docs/storage-v2.md, "Plate and postings lanes at their exact bits"):
 * a shard file's u32 plate and postings lanes are bit-packed at load (src/store/shard-u24.ts,
 * src/core/packed-lanes.ts) when their largest value fits `packedLimit.bits` bits, u24 otherwise. The scan kernel
 * reads the plate lane (ABI 11) and every JS reader goes through plateCodeReader / rowsReader: hits, export, the
 * analyses, cloned key ranges, rewrites (compaction, retention), the hot-list tasks and joins, exact plates
 * (postings runs and pages), the plate-index build's run tables, on the calling thread and the pool.
 *
 * Knobs, so that small data gets u32 lanes on disk: PLATESEARCH_TEST_PLATE_U16_MAX = 0 and
 * PLATESEARCH_TEST_POSTINGS_U16_MAX = 0 (read by the seal threads, which get this process's environment), and
 * `packedLimit.bits` lowered on reopen so that the wider shards' lanes stay u24 (the fallback) beside packed ones.
 * pd-big is one tenant-day of 100,000 rows and more than 65,536 plates (17 bits each); pd-a three small seals a day
 * (9 bits and fewer); pd-b a first day of exactly 640 rows. Held to the plain reference on random data: every match
 * mode, filters (time windows, boxes, radius), cursors, hot lists (both ways of the covered shards' probe), the
 * analyses, export, exact plates; after reopen on the pool with mixed forms, after a seal that grows the tenant
 * dictionary, compaction and a retention rewrite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Kernels } from '../src/core/kernels.js';
import { kernelModule } from '../src/core/module.js';
import type { ArenaSet } from '../src/core/arena.js';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { StoredRead } from '../src/model/read.js';
import { parseReadId } from '../src/store/ids.js';
import { packedLimit } from '../src/store/shard-u24.js';
import { bitsFor, packedLaneBytes } from '../src/core/packed-lanes.js';
import { u24LaneBytes } from '../src/core/base-lanes.js';
import type { LoadedShard } from '../src/store/shard-loader.js';
import type { ShardLane } from '../src/store/shard-format.js';
import { kDay, kT0, makeReads } from './helpers/engine-data.js';
import { engineFixture, frequentPlates, type EngineFixture } from './helpers/reference-checks.js';
import { checkCoveredShards } from './helpers/covered-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

// every shard file gets u32 plate and postings lanes (set before any engine starts a seal thread)
process.env.PLATESEARCH_TEST_PLATE_U16_MAX = '0';
process.env.PLATESEARCH_TEST_POSTINGS_U16_MAX = '0';
const kDefaultBits = packedLimit.bits;
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  delete process.env.PLATESEARCH_TEST_PLATE_U16_MAX;
  delete process.env.PLATESEARCH_TEST_POSTINGS_U16_MAX;
  packedLimit.bits = kDefaultBits;
});

const kDays = 3;
const kTenants = ['pd-big', 'pd-a', 'pd-b'];

/** The bytes a lane's form takes up to the next lane: packed (bits), else u24. */
const laneRoom = (lane: ShardLane, rows: number) => (lane.width === 0 ? packedLaneBytes(rows, lane.bits!) : u24LaneBytes(rows));

/** The first lane or table of `s` after `lane` (its room must not reach it). */
function nextAt(s: LoadedShard, lane: ShardLane): number {
  const h = s.view.header;
  return Math.min(...[...Object.values(h.lanes), h.bases, h.seqBlocks].filter((l) => l !== undefined && l.at > lane.at).map((l) => l!.at));
}

/**
 * Every shard's plate and postings lanes: packed at bits(dictCount − 1) and bits(rows − 1) when those fit
 * `packedLimit.bits`, else u24 (the file's lanes are u32); each lane's room ends before the next lane starts (the
 * last value's u32 load stays inside it); every row's code reads back as the plate the tenant stored under that seq;
 * the postings are a permutation of the rows sorted by (code, row). Returns how many lanes took each form.
 */
function expectLanes(f: EngineFixture): { packed: number; u24: number } {
  const plateOf = new Map(f.reads.map((r) => [`${r.tenant}/${parseReadId(r.id)!.seq}`, r.plate]));
  let packed = 0, u24 = 0;
  for (const [tenant, store] of internals(f.engine).stores) {
    for (const s of store.shards) {
      for (const [name, max] of [['plate', s.layout.dictCount - 1], ['postings', s.rows - 1]] as const) {
        const lane = s.view.header.lanes[name]!;
        const bits = bitsFor(max);
        const pack = bits <= packedLimit.bits;
        expect(lane.width, `${s.file} ${name}`).toBe(pack ? 0 : 3);
        expect(name === 'plate' ? s.layout.plateWidth : s.layout.postingsWidth, s.file).toBe(pack ? 0 : 3);
        expect(name === 'plate' ? s.layout.plateBits : s.layout.postingsBits, s.file).toBe(pack ? bits : undefined);
        expect(lane.bytes, s.file).toBe(pack ? Math.ceil((s.rows * bits) / 8) : 3 * s.rows);
        expect(nextAt(s, lane) - lane.at, s.file).toBeGreaterThanOrEqual(laneRoom(lane, s.rows));
        if (pack) packed++;
        else u24++;
      }
      let bad = 0;
      for (let i = 0; i < s.rows; i++) {
        const code = s.plate(i);
        if (code >= s.layout.dictCount || s.plateAt(code) !== plateOf.get(`${tenant}/${s.seqAt(i)}`)) bad++;
      }
      const seen = new Uint8Array(s.rows);
      for (let j = 0; j < s.rows; j++) {
        const i = s.postings(j);
        if (i >= s.rows || seen[i]) bad++;
        else seen[i] = 1;
        if (j > 0) {
          const a = s.plate(s.postings(j - 1)), b = s.plate(i);
          if (a > b || (a === b && s.postings(j - 1) >= i)) bad++;
        }
      }
      expect(bad, s.file).toBe(0);
    }
  }
  return { packed, u24 };
}

/**
 * The scan kernel over every loaded shard's plate lane as loaded (packed, u24), against the codes JS reads: the
 * engine's searches reach a covered shard's kernel row scan with a plate condition only for broad patterns on
 * shards that no tenant-wide match answers, so it is exercised here directly. Per shard, distance tables of a few
 * shapes (one code, every third code, all but every seventh), each scanned whole (rows out and count only: the
 * plate-only loops), over a range starting and ending off a group of 8, with an output cut at half (the tested
 * emit loop), and under a time window and a camera filter (the row and label scans' per-row reads).
 */
function expectKernelScans(f: EngineFixture): number {
  const arenas = (f.engine as unknown as { arenas: ArenaSet }).arenas;
  const module = kernelModule();
  let scans = 0;
  for (const s of shardsOf(f.engine)) {
    const arena = arenas.arenas[s.layout.arena]!;
    const bytes = 16 << 20;
    const ptr = arena.alloc(bytes, 64);
    expect(ptr, 'scratch').toBeGreaterThanOrEqual(0);
    try {
      const k = new Kernels(module, arena.memory, { ptr, bytes });
      const seg = s.layout, n = s.rows, dc = seg.dictCount;
      const dist = k.scratch.alloc(Math.max(16, dc), 16);
      const out = k.allocOutput(n);
      const ts = s.view.tsReader(), camera = s.view.cameraReader();
      const mid = ts(Math.floor(n / 2));
      const cameraCode = camera(Math.floor(n / 3));
      const filters = [
        { filter: { from: mid - 3_600_000, to: mid + 3_600_000 }, keep: (i: number) => ts(i) >= mid - 3_600_000 && ts(i) < mid + 3_600_000 },
        { filter: { cameras: [s.cameras[cameraCode]!] }, keep: (i: number) => camera(i) === cameraCode },
      ];
      for (const shape of [(d: number) => (d === dc - 1 ? 0 : 255), (d: number) => (d % 3 === 0 ? d % 2 : 255), (d: number) => (d % 7 === 0 ? 255 : 1)]) {
        const ds = new Uint8Array(arena.memory.buffer, dist, dc);
        for (let d = 0; d < dc; d++) ds[d] = shape(d);
        const want = (lo: number, hi: number, keep: (i: number) => boolean = () => true) => {
          const rows: number[] = [], dd: number[] = [];
          for (let i = lo; i < hi; i++) if (ds[s.plate(i)] !== 255 && keep(i)) rows.push(i), dd.push(ds[s.plate(i)]!);
          return { rows, dd };
        };
        const got = (filter: ReturnType<Kernels['compileFilter']> | null, lo: number, hi: number, cap = n) => {
          const c = { ...out, capacity: cap };
          const total = k.scanSegment(seg, filter, dist, c, { start: lo, end: hi });
          const m = Math.min(total, cap);
          return { total, rows: [...k.rows(out, m)], dd: [...k.distances(out, m)], count: k.countSegment(seg, filter, dist, { start: lo, end: hi }) };
        };
        for (const [lo, hi] of [[0, n], [Math.min(n, 3), Math.max(Math.min(n, 3), n - 5)]] as const) {
          const w = want(lo, hi), g = got(null, lo, hi);
          expect([g.total, g.count, g.rows, g.dd], `${s.file} [${lo}, ${hi})`).toEqual([w.rows.length, w.rows.length, w.rows, w.dd]);
          const cut = Math.floor(w.rows.length / 2);
          expect(got(null, lo, hi, cut).rows, `${s.file} cut`).toEqual(w.rows.slice(0, cut));
          scans += 3;
        }
        for (const { filter, keep } of filters) {
          const compiled = k.compileFilter(filter, { cameras: s.cameras, regions: s.regions }, seg);
          const w = want(0, n, keep), g = got(compiled, 0, n);
          expect([g.total, g.rows, g.dd], `${s.file} ${JSON.stringify(filter)}`).toEqual([w.rows.length, w.rows, w.dd]);
          scans++;
        }
      }
    } finally {
      arena.free(ptr);
    }
  }
  return scans;
}

async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = async (tenant: string, reads: ReturnType<typeof makeReads>) => {
    for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
    await engine.seal(tenant);
  };
  await append('pd-big', makeReads({ seed: 701, reads: 100_000, vehicles: 500_000, days: 1 }));
  for (let round = 0; round < 3; round++) await append('pd-a', makeReads({ seed: 710 + round, reads: 900, vehicles: 400, days: kDays }));
  await append('pd-b', [
    ...makeReads({ seed: 720, reads: 640, vehicles: 300, days: 1 }),
    ...makeReads({ seed: 721, reads: 900, vehicles: 300, days: 2, start: kT0 + kDay }),
  ]);
  return out;
}

async function checkAll(f: EngineFixture, runs: number, seed: number): Promise<void> {
  // the plates read most often and pd-big's (one read each, most of them: codes above 2^16)
  const plates = [...frequentPlates(f.reads, 600), ...f.reads.filter((r, i) => r.tenant === 'pd-big' && i % 97 === 0).map((r) => r.plate)];
  await checkCoveredShards(f, kTenants, kDays, plates, runs, seed);
}

describe('plate and postings lanes at their exact bits', () => {
  const f = {} as EngineFixture;
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-packed-', () => open(0), load);

  it('packs every u32 plate and postings lane (17 bits in pd-big) and answers as the reference', async () => {
    // two lanes a shard: pd-big 1 shard, pd-a 3 a day, pd-b 1 a day
    expect(expectLanes(f)).toEqual({ packed: 2 * (1 + 3 * kDays + kDays), u24: 0 });
    const big = shardsOf(f.engine, 'pd-big')[0]!;
    expect([big.layout.plateBits, big.layout.postingsBits]).toEqual([17, 17]);
    expect(shardsOf(f.engine, 'pd-b').map((s) => s.rows)).toContain(640);
    expect(expectKernelScans(f)).toBeGreaterThan(0);
    await checkAll(f, 40, 7101);
  }, 600_000);

  it('after reopening on the pool with the limit at 12 bits: pd-big\'s lanes stay u24, the small shards\' are packed', async () => {
    packedLimit.bits = 12;
    await f.engine.close();
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    const forms = expectLanes(f);
    expect(forms.u24).toBe(2);
    expect(forms.packed).toBeGreaterThan(0);
    expect(expectKernelScans(f)).toBeGreaterThan(0);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 30, 7201);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 600_000);

  it('after a seal that grows the tenant dictionary, compaction and a retention rewrite (pool, mixed forms), reopened', async () => {
    const more = makeReads({ seed: 730, reads: 700, vehicles: 300, days: kDays }).map((r) => ({ ...r, plate: `${r.plate.slice(0, 3)}Q${r.plate.slice(3)}`.slice(0, 10) }));
    f.reads.push(...(await f.engine.append('pd-a', more.slice(0, 350))).stored);
    await f.engine.seal('pd-a');
    f.reads.push(...(await f.engine.append('pd-a', more.slice(350))).stored);
    await f.engine.seal('pd-a');
    await internals(f.engine).plateIndexesSettled();
    expect(expectLanes(f).u24).toBe(2);
    await checkAll(f, 24, 7301);
    await internals(f.engine).compact('pd-a');
    await internals(f.engine).plateIndexesSettled();
    expect(shardsOf(f.engine, 'pd-a').length).toBeLessThan(5 * kDays);
    expect(expectLanes(f).packed).toBeGreaterThan(0);
    await checkAll(f, 24, 7401);
    // a cut inside pd-big's day and pd-a's second: those shards are rewritten from the rows they keep (pd-big's
    // through its u24 lanes)
    for (const [tenant, cutoff] of [['pd-big', kT0 + Math.floor(0.5 * kDay)], ['pd-a', kT0 + Math.floor(1.5 * kDay)]] as const) {
      const res = await f.engine.dropBefore(tenant, cutoff);
      expect(res.readsDeleted).toBe(f.reads.filter((r) => r.tenant === tenant && r.ts < cutoff).length);
      f.reads = f.reads.filter((r) => !(r.tenant === tenant && r.ts < cutoff));
    }
    await internals(f.engine).plateIndexesSettled();
    expectLanes(f);
    await checkAll(f, 24, 7501);
    // reopened with the default limit: every lane packed again
    await f.engine.close();
    packedLimit.bits = kDefaultBits;
    f.engine = await open(0);
    await internals(f.engine).plateIndexesSettled();
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expect(expectLanes(f).u24).toBe(0);
    expect(expectKernelScans(f)).toBeGreaterThan(0);
    await checkAll(f, 16, 7601);
  }, 900_000);
});
