/**
 * ts, lat and lon narrowed at load to u24 offsets from per-run bases (src/store/shard-u24.ts), the file
 * unchanged. Every reader of those lanes (LoadedShard.tsAt / latE7 / lonE7, the tasks' tsReader / coordReader
 * over the layout, ShardView.rowRecords for rewrites, the scan kernel) and of the lanes moved behind them
 * must give back exactly what was written; a lane with a run spanning 2^24 or more keeps its width, an i64 ts
 * lane is never narrowed; the region shrinks by what was saved and shards loaded in turn pack without holes.
 */
import { describe, expect, it } from 'vitest';
import { ArenaSet } from '../src/core/arena.js';
import { baseRuns, kBaseBytes, kBaseLat, kBaseLon, kBaseMax, kBaseRows, kBaseTs } from '../src/core/base-lanes.js';
import { Kernels } from '../src/core/kernels.js';
import { kernelModule } from '../src/core/module.js';
import { coordReader, segmentSeqReader, tsReader } from '../src/core/segment.js';
import { loadShard, unloadShard, type LoadedShard } from '../src/store/shard-loader.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import { toE7 } from '../src/store/tenant-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import type { ReadFilter } from '../src/model/query.js';
import { matchesFilter } from '../src/query/reference/index.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';
import { putShardFile } from './helpers/shard-files.js';

const kDayNo = 20758;
const kDay0 = kDayNo * 86_400_000;

/** n reads of one day, in ts order (seq follows arrival); `edit` may move some rows. */
function rowsOf(n: number, seed: number, edit?: (r: RowRecord, i: number) => void): RowRecord[] {
  const reads = makeReads({ seed, reads: n, days: 1 }).map((r) => ({ ...r, ts: kDay0 + (r.ts % 86_400_000) })).sort((a, b) => a.ts - b.ts);
  return reads.map((r, i) => {
    const row: RowRecord = { seq: 100 + i, plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera: r.camera };
    if (r.region) row.region = r.region;
    if (r.confidence !== undefined) row.confidence = r.confidence;
    if (r.make) row.make = r.make;
    if (i % 5 === 0) row.readId = `rid-${i}`;
    edit?.(row, i);
    return row;
  });
}

const put = (dir: string, name: string, rows: RowRecord[]) => putShardFile(dir, name, kDayNo, rows);

/** Every reader of ts / lat / lon (and of the lanes moved behind them) agrees with the rows written. */
function expectRows(s: LoadedShard, rows: RowRecord[], arenas: ArenaSet): void {
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const mem = arenas.arena(s.layout.arena).memory.buffer;
  const ts = tsReader(mem, s.layout), lat = coordReader(mem, s.layout, 'lat'), lon = coordReader(mem, s.layout, 'lon');
  const seq = segmentSeqReader(mem, s.layout, s.seqPtr);
  const bad: string[] = [];
  for (let i = 0; i < s.rows && bad.length < 5; i++) {
    const r = bySeq.get(s.seqAt(i));
    const x = s.extras(i);
    if (!r) bad.push(`row ${i}: seq ${s.seqAt(i)} was never written`);
    else if (s.tsAt(i) !== r.ts || ts(i) !== r.ts) bad.push(`row ${i}: ts ${s.tsAt(i)} / ${ts(i)} vs ${r.ts}`);
    else if (s.latE7(i) !== r.latE7 || lat(i) !== r.latE7 || s.lonE7(i) !== r.lonE7 || lon(i) !== r.lonE7) bad.push(`row ${i}: ${s.latE7(i)},${s.lonE7(i)} vs ${r.latE7},${r.lonE7}`);
    else if (seq(i) !== r.seq || x.confidence !== r.confidence || x.readId !== r.readId || x.make !== r.make || s.plateAt(s.plate(i)) !== r.plate) bad.push(`row ${i}: ${JSON.stringify(x)} vs ${JSON.stringify(r)}`);
  }
  expect(bad).toEqual([]);
  expectExtents(s, mem, ts, lat, lon);
  // rewrites read rows through the view
  expect(s.view.rowRecords().sort((a, b) => a.seq - b.seq)).toEqual([...rows].sort((a, b) => a.seq - b.seq));
}

/**
 * Each run's extents in the bases (the kernel skips runs on them) are exactly the run's minima and maxima: ts as
 * offsets from tsBase when the lane is u32 or u24, lat and lon always.
 */
function expectExtents(s: LoadedShard, mem: ArrayBufferLike, ts: (i: number) => number, lat: (i: number) => number, lon: (i: number) => number): void {
  if (!s.layout.bases) return;
  const runs = baseRuns(s.rows);
  const b = new Int32Array(mem, s.layout.bases, (kBaseBytes / 4) * runs);
  const tsBase = s.layout.tsBase ?? 0;
  const lanes: Array<[number, (i: number) => number]> = [[kBaseLat, lat], [kBaseLon, lon]];
  if (s.layout.tsWidth === 3 || s.layout.tsWidth === 4) lanes.push([kBaseTs, (i) => ts(i) - tsBase]);
  const bad: string[] = [];
  for (let r = 0; r < runs; r++) {
    for (const [field, read] of lanes) {
      let lo = Infinity, hi = -Infinity;
      for (let i = r * kBaseRows; i < Math.min(s.rows, (r + 1) * kBaseRows); i++) {
        lo = Math.min(lo, read(i));
        hi = Math.max(hi, read(i));
      }
      const o = r * (kBaseBytes / 4);
      if (b[o + field] !== lo || b[o + kBaseMax + field] !== hi) bad.push(`run ${r} field ${field}: [${b[o + field]}, ${b[o + kBaseMax + field]}] vs [${lo}, ${hi}]`);
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
}

/** The scan kernel over the loaded layout counts what the reference counts, for filters on the three lanes. */
function expectScans(s: LoadedShard, rows: RowRecord[], arenas: ArenaSet): void {
  const arena = arenas.arena(s.layout.arena);
  const scratch = arena.alloc(1 << 20, 64);
  const k = new Kernels(kernelModule(), arena.memory, { ptr: scratch, bytes: 1 << 20 });
  const reads = rows.map((r, i) => ({ id: String(i), tenant: 'pd-a', plate: r.plate, ts: r.ts, lat: r.latE7 / 1e7, lon: r.lonE7 / 1e7, camera: r.camera }));
  const at = (q: number) => reads[Math.floor(q * (reads.length - 1))]!;
  const filters: ReadFilter[] = [
    { from: at(0.1).ts, to: at(0.6).ts },
    { from: at(0.3).ts + 1, to: at(0.3).ts + 3_600_000, bbox: [at(0.2).lon, at(0.4).lat, at(0.9).lon, at(0.5).lat].map((v, j, a) => (j < 2 ? Math.min(v, a[j + 2]!) : Math.max(v, a[j - 2]!))) as [number, number, number, number] },
    { near: { lat: at(0.5).lat, lon: at(0.5).lon, radiusM: 3000 } },
    { near: { lat: at(0.7).lat, lon: at(0.7).lon, radiusM: 800 }, from: at(0.6).ts, to: at(0.8).ts },
  ];
  const dicts = { cameras: [...s.cameras], regions: [...s.regions] };
  for (const f of filters) {
    const mark = k.scratch.mark();
    try {
      const got = k.countSegment(s.layout, k.compileFilter(f, dicts), null);
      expect(got, JSON.stringify(f)).toBe(reads.filter((r) => matchesFilter(f, r)).length);
    } finally {
      k.scratch.release(mark);
    }
  }
  arena.free(scratch);
}

describe('ts, lat and lon as u24 lanes', () => {
  it('reads back exactly, saves 3 B a row per lane, and packs shards without holes', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      // (1500 reads in 3 hours: over a whole day 1024 of them would span 16 h, past 2^24 ms)
      const sets = [rowsOf(30_000, 1), rowsOf(8192 + 1024 + 3, 2), rowsOf(1500, 3, (r) => { r.ts = kDay0 + ((r.ts - kDay0) % 10_800_000); })];
      const loaded: LoadedShard[] = [];
      for (const [k, rows] of sets.entries()) {
        const { entry, fileBytes } = await put(dir, `s${k}.shard`, rows);
        const before = arenas.allocatedBytes;
        const s = await loadShard(arenas, store, entry);
        expect([s.layout.tsWidth, s.layout.latWidth, s.layout.lonWidth], `set ${k}`).toEqual([3, 3, 3]);
        expect(s.layout.bases).toBeGreaterThan(0);
        expect(s.layout.seqWidth).toBe(2);
        const used = arenas.allocatedBytes - before;
        // 1 B a row for each of ts, lat, lon and 2 for seq, less 32 B a run and 4 a block of bases and alignment
        expect(fileBytes - used).toBeGreaterThanOrEqual(5 * rows.length - kBaseBytes * Math.ceil(rows.length / 1024) - 4 * Math.ceil(rows.length / 8192) - 1024);
        expectRows(s, rows, arenas);
        loaded.push(s);
      }
      const a = arenas.arena(0);
      expect(a.topBytes - 65536).toBe(a.allocatedBytes);
      for (const [k, s] of loaded.entries()) expectScans(s, sets[k]!, arenas);
      for (const s of loaded) unloadShard(arenas, s);
      expect(arenas.allocatedBytes).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('keeps a lane full width when one run spans 2^24 or more, an i64 ts lane always, and tiny shards as they are', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      const n = 20_000;
      // the two earliest rows (hour 0, so the first run) at lon X − span and X, every other lon in between
      const x = -1_214_000_000;
      const lonSpan = (span: number) => (r: RowRecord, i: number) => {
        if (i === 0) r.lonE7 = x - span;
        if (i === 1) r.lonE7 = x;
      };
      const cases: Array<[RowRecord[], [number | undefined, number | undefined, number | undefined]]> = [
        // one row of the last run 1.7° further north: lat stays i32, ts and lon narrow
        [rowsOf(n, 4, (r, i) => { if (i === n - 1) r.latE7 += 17_000_000; }), [3, 4, 3]],
        // a run exactly at the limit (offsets 0 and 2^24 − 1) narrows; one more (2^24) does not
        [rowsOf(n, 5, lonSpan(2 ** 24 - 1)), [3, 3, 3]],
        [rowsOf(n, 5, lonSpan(2 ** 24)), [3, 3, 4]],
        // a row outside the day: the ts lane is i64 in the file and stays so; lat and lon narrow
        [rowsOf(n, 6, (r, i) => { if (i === 7) r.ts = kDay0 - 5; }), [8, 3, 3]],
        // a night without reads: a run spanning more than 4.66 h keeps ts u32
        [rowsOf(n, 7).map((r, i) => ({ ...r, ts: i < 3000 ? kDay0 + i : kDay0 + 3000 + 20_000_000 + i })), [4, 3, 3]],
      ];
      for (const [k, [rows, widths]] of cases.entries()) {
        const { entry } = await put(dir, `w${k}.shard`, rows);
        const s = await loadShard(arenas, store, entry);
        expect([s.layout.tsWidth, s.layout.latWidth, s.layout.lonWidth], `case ${k}`).toEqual(widths);
        expectRows(s, rows, arenas);
        expectScans(s, rows, arenas);
        unloadShard(arenas, s);
        expect(arenas.allocatedBytes).toBe(0);
      }
      for (const [k, rows] of [rowsOf(1, 8), rowsOf(3, 9), rowsOf(40, 10)].entries()) {
        const { entry } = await put(dir, `t${k}.shard`, rows);
        const s = await loadShard(arenas, store, entry);
        expectRows(s, rows, arenas);
        unloadShard(arenas, s);
      }
    } finally {
      await cleanup();
    }
  });
});
