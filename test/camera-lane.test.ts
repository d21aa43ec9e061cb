/**
 * The camera lane by runs (src/core/camera-lane.ts, src/store/shard-cameras.ts, the kernel's test in
 * assembly/scan.ts): packing held to its plain definition on random lanes (each row's code read back through its
 * run's table, tables ascending and distinct, the entries written over the codes' own bytes), and the scan kernel
 * over a loaded shard whose runs hold 1 to 256 cameras (the 64 / 65 boundary of its bit test) held to a plain row
 * filter, for camera filters alone (the label scan, which skips runs) and with a time window (the row loop), over
 * whole shards and over row ranges that start and end inside runs.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArenaSet } from '../src/core/arena.js';
import { cameraReader, kCameraRunRows } from '../src/core/camera-lane.js';
import { packRuns, runStarts } from './helpers/run-lane-reference.js';
import { Kernels } from '../src/core/kernels.js';
import { loadShard, unloadShard } from '../src/store/shard-loader.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { rng, tempDataDir } from './helpers/engine-data.js';
import { putShardFile } from './helpers/shard-files.js';

const kDayNo = 20758;

describe('camera run tables', () => {
  it('read back every row\'s code, in place over the codes, tables ascending and distinct per run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 65536 }), fc.integer({ min: 1, max: 300 }), fc.nat(), (rows, cameras, spread, seed) => {
        const r = rng(seed);
        // codes drifting through the dictionary (a run sees up to `spread` cameras), some jumping anywhere
        const codes = new Uint16Array(rows + (rows & 1));
        let at = Math.floor(r() * cameras);
        for (let i = 0; i < rows; i++) {
          if (r() < 0.05) at = Math.floor(r() * cameras);
          codes[i] = Math.min(cameras - 1, at + Math.floor(r() * spread));
        }
        const plain = codes.slice(0, rows);
        const seen = new Int32Array(0x10000);
        const runs = runStarts(codes, rows, seen);
        const entries = new Uint8Array(codes.buffer, 0, rows);
        const table = packRuns(codes, rows, runs, entries, seen);
        expect(runs.length).toBe(Math.ceil(rows / kCameraRunRows) + 1);
        expect(table.length).toBe(runs[runs.length - 1]);
        for (let k = 0; k + 1 < runs.length; k++) {
          const own = [...table.subarray(runs[k]!, runs[k + 1]!)];
          const expected = [...new Set(plain.subarray(k * kCameraRunRows, (k + 1) * kCameraRunRows))].sort((a, b) => a - b);
          expect(own).toEqual(expected);
        }
        for (let i = 0; i < rows; i++) expect(table[runs[i >>> 8]! + entries[i]!]).toBe(plain[i]);
      }),
      { numRuns: 200, seed: 8101 },
    );
  });

  it('the scan kernel tests a row\'s camera through its run\'s table as a u16 lane would be tested', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      // one hour, one place: rows stay in seq order, so each run of 256 holds the cameras given to it. Runs of 1, 3,
      // 64, 65 (the bit test's edge), 100, 256 cameras, and one cut short (the last).
      const perRun = [1, 3, 64, 65, 100, 256, 7, 64, 65, 2, 40];
      const cameraCount = 400;
      const r = rng(8102);
      const names = Array.from({ length: cameraCount }, (_, k) => `c${String(k).padStart(3, '0')}`);
      const t0 = kDayNo * 86_400_000 + 10 * 3_600_000;
      const rows: RowRecord[] = [];
      // each run's lowest and highest camera: its table's first and last entries (a filter of one of them alone)
      const ends: string[] = [];
      for (const [run, count] of perRun.entries()) {
        const first = Math.floor(r() * (cameraCount - count));
        ends.push(names[first]!, names[first + count - 1]!);
        const n = run === perRun.length - 1 ? 101 : kCameraRunRows;
        for (let i = 0; i < n; i++) {
          // every camera of the run once, then at random among them
          const k = i < count ? i : Math.floor(r() * count);
          const seq = rows.length + 1;
          rows.push({ seq, plate: `P${seq % 97}`, ts: t0 + seq * 100, latE7: 377_000_000, lonE7: -1_224_000_000, camera: names[first + k]! });
        }
      }
      const { entry } = await putShardFile(dir, 's.shard', kDayNo, rows);
      const s = await loadShard(arenas, store, entry);
      expect(s.layout.cameraRuns).toBeGreaterThan(0);
      const starts = new Uint32Array(s.view.bytes.buffer, s.layout.cameraRuns!, perRun.length + 1);
      expect([...starts.subarray(1)].map((e, k) => e - starts[k]!)).toEqual(perRun);
      const reader = cameraReader(s.view.bytes.buffer, s.layout);
      for (let i = 0; i < s.rows; i++) expect(s.cameras[reader(i)]).toBe(rows[i]!.camera);
      const k = Kernels.forArena(arenas.arena(s.layout.arena), undefined, 1 << 20);
      const nameArb = fc.constantFrom(...names, 'c999', 'none');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.array(nameArb, { minLength: 1, maxLength: 6 }), fc.array(nameArb, { minLength: 50, maxLength: 300 }), fc.constantFrom(...ends).map((c) => [c])),
          fc.option(fc.tuple(fc.nat(rows.length), fc.nat(rows.length)), { nil: undefined }),
          fc.option(fc.tuple(fc.nat(rows.length), fc.nat(rows.length)), { nil: undefined }),
          async (cameras, window, range) => {
            const filter = { cameras, ...(window ? { from: t0 + Math.min(...window) * 100, to: t0 + Math.max(...window) * 100 } : {}) };
            const [lo, hi] = range ? [Math.min(...range), Math.max(...range)] : [0, s.rows];
            const wanted = new Set(cameras);
            const expected: number[] = [];
            for (let i = lo; i < hi; i++) {
              const row = rows[i]!;
              if (wanted.has(row.camera) && (filter.from === undefined || (row.ts >= filter.from && row.ts < filter.to!))) expected.push(i);
            }
            const mark = k.scratch.mark();
            const compiled = k.compileFilter(filter, { cameras: s.cameras, regions: s.regions }, s.layout);
            const out = k.allocOutput(s.rows);
            const n = k.scanSegment(s.layout, compiled, null, out, { start: lo, end: hi });
            expect(n).toBe(expected.length);
            expect([...k.rows(out, n)]).toEqual(expected);
            expect(k.countSegment(s.layout, compiled, null, { start: lo, end: hi })).toBe(expected.length);
            k.scratch.release(mark);
          },
        ),
        { numRuns: 300, seed: 8103 },
      );
      unloadShard(arenas, s);
    } finally {
      await cleanup();
    }
  });
});
