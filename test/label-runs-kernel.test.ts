/**
 * The labels lane by runs at the kernel (src/core/run-lane.ts, src/store/shard-labels.ts, the kernel's test in
 * assembly/scan.ts): packing with shared codes held to its plain definition on random lanes (every row read back,
 * each run's table its distinct codes of `shared` or more, ascending; the shared count the largest that fits), and
 * the scan kernel over a loaded shard whose runs hold 0 to 106 triples beside ~150 shared ones (the 64 / 65 boundary
 * of its bit test; a run cut short) held to a plain row filter, for region / make / color filters alone (the label
 * scan, which skips runs) and with a time window (the row loop), over whole shards and over row ranges that start and
 * end inside runs, sharing as many triples as fit and at most 100.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArenaSet } from '../src/core/arena.js';
import { labelReader } from '../src/core/label-lanes.js';
import { kRunRows, runLaneReader } from '../src/core/run-lane.js';
import { packRuns, runStarts, sharedCodes } from './helpers/run-lane-reference.js';
import { Kernels } from '../src/core/kernels.js';
import { foldLabel } from '../src/model/label.js';
import { labelLimits } from '../src/store/shard-labels.js';
import { loadShard, unloadShard } from '../src/store/shard-loader.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { rng, tempDataDir } from './helpers/engine-data.js';
import { putShardFile } from './helpers/shard-files.js';

const kDayNo = 20758;

/** sharedCodes' plain definition: the largest k ≤ most with every run's distinct codes ≥ k at most 256 − k. */
function plainShared(codes: ArrayLike<number>, rows: number, most: number): number {
  for (let k = Math.min(most, kRunRows); k > 0; k--) {
    let fits = true;
    for (let from = 0; from < rows && fits; from += kRunRows) {
      const own = new Set<number>();
      for (let i = from; i < Math.min(rows, from + kRunRows); i++) if (codes[i]! >= k) own.add(codes[i]!);
      fits = own.size <= kRunRows - k;
    }
    if (fits) return k;
  }
  return 0;
}

describe('run tables with shared codes', () => {
  it('read back every row\'s code; tables hold each run\'s other codes, ascending; the shared count is the largest that fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 4000 }), fc.double({ min: 1, max: 8, noNaN: true }), fc.integer({ min: 0, max: 256 }), fc.nat(), (rows, count, skew, most, seed) => {
        const r = rng(seed);
        // codes numbered by frequency, as the labels lane numbers its triples: small codes frequent
        const codes = Uint16Array.from({ length: rows }, () => Math.floor(r() ** skew * count));
        const seen = new Int32Array(0x10000);
        const shared = sharedCodes(codes, rows, seen, most);
        expect(shared).toBe(plainShared(codes, rows, most));
        const runs = runStarts(codes, rows, seen, shared);
        const entries = new Uint8Array(rows);
        const table = packRuns(codes, rows, runs, entries, seen, shared);
        expect(runs.length).toBe(Math.ceil(rows / kRunRows) + 1);
        expect(table.length).toBe(runs[runs.length - 1]);
        for (let k = 0; k + 1 < runs.length; k++) {
          const own = [...table.subarray(runs[k]!, runs[k + 1]!)];
          const expected = [...new Set(codes.subarray(k * kRunRows, (k + 1) * kRunRows))].filter((c) => c >= shared).sort((a, b) => a - b);
          expect(own).toEqual(expected);
        }
        const buf = new ArrayBuffer(rows + 4 * runs.length + 2 * table.length + 8);
        new Uint8Array(buf, 0, rows).set(entries);
        const runsAt = Math.ceil(rows / 4) * 4;
        new Uint32Array(buf, runsAt, runs.length).set(runs);
        new Uint16Array(buf, runsAt + runs.byteLength, table.length).set(table);
        const read = runLaneReader(buf, { entries: 0, runs: runsAt, table: runsAt + runs.byteLength, tableEntries: table.length, shared }, rows);
        for (let i = 0; i < rows; i++) if (read(i) !== codes[i]) expect([i, read(i)]).toEqual([i, codes[i]]);
      }),
      { numRuns: 200, seed: 9101 },
    );
  });
});

describe('the scan kernel over a labels lane by runs', () => {
  afterEach(() => {
    labelLimits.shared = 256;
  });

  // triple t: region R(t % 40), make M(⌊t / 40⌋), color C(t % 7): distinct for t < 1,600 (u8 codes)
  const region = (t: number) => `R${t % 40}`, make = (t: number) => `M${Math.floor(t / 40)}`, color = (t: number) => `C${t % 7}`;
  const kShared = 150;
  // each run's triples beyond the 150 frequent ones (once each): 0, 3, 64, 65 (the bit test's edge), 100, 106 (the most
  // that fits beside 150), …, and a last run cut short
  const perRun = [0, 3, 64, 65, 100, 106, 7, 64, 65, 2, 40, 1];

  for (const most of [256, 100]) {
    it(`tests a row's triple through its run's table or its own entry, as the plain lanes would be tested (at most ${most} shared)`, async () => {
      labelLimits.shared = most;
      const { dir, cleanup } = await tempDataDir();
      try {
        const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
        const store = new LocalObjectStore(dir);
        const r = rng(9102);
        const t0 = kDayNo * 86_400_000 + 10 * 3_600_000;
        const rows: RowRecord[] = [];
        const tripleOf: number[] = [];
        let rare = kShared;
        for (const [run, count] of perRun.entries()) {
          const n = run === perRun.length - 1 ? 101 : kRunRows;
          const triples: number[] = [];
          // every frequent triple once (but in the short run), the run's own once, the rest frequent at random
          if (n === kRunRows) for (let t = 0; t < kShared; t++) triples.push(t);
          for (let k = 0; k < count; k++) triples.push(rare++);
          while (triples.length < n) triples.push(Math.floor(r() * kShared));
          for (let i = triples.length - 1; i > 0; i--) {
            const j = Math.floor(r() * (i + 1));
            [triples[i], triples[j]] = [triples[j]!, triples[i]!];
          }
          for (const t of triples) {
            const seq = rows.length + 1;
            tripleOf.push(t);
            rows.push({ seq, plate: `P${seq % 97}`, ts: t0 + seq * 100, latE7: 377_000_000, lonE7: -1_224_000_000, camera: 'c1', region: region(t), make: make(t), color: color(t) });
          }
        }
        const { entry } = await putShardFile(dir, 's.shard', kDayNo, rows);
        const s = await loadShard(arenas, store, entry);
        const l = s.layout;
        expect(l.labelRuns).toBeGreaterThan(0);
        // the frequent triples are numbered first and shared (with a few rare ones past them that the fullest run does
        // not hold), or `most` of them: the most that fit, over the lane's own triple ids
        const ids = runLaneReader(s.view.bytes.buffer, { entries: l.labels!, runs: l.labelRuns!, table: l.labelTable!, tableEntries: l.labelEntries!, shared: l.labelShared! }, s.rows);
        expect(l.labelShared).toBe(plainShared(Array.from({ length: s.rows }, (_, i) => ids(i)), s.rows, most));
        expect(l.labelShared).toBeGreaterThanOrEqual(Math.min(kShared, most));
        const starts = new Uint32Array(s.view.bytes.buffer, l.labelRuns!, perRun.length + 1);
        const own = [...starts.subarray(1)].map((e, k) => e - starts[k]!);
        // runs of more than 64 entries of their own and of at most 64: both ways of the kernel's test
        expect(own.some((c) => c > 64) && own.some((c) => c <= 64)).toBe(true);
        const { makes, colors } = s.attributes();
        const read = { region: labelReader(s.view.bytes.buffer, l, 'region'), make: labelReader(s.view.bytes.buffer, l, 'make'), color: labelReader(s.view.bytes.buffer, l, 'color') };
        for (let i = 0; i < s.rows; i++) {
          expect([s.regions[read.region(i)], makes[read.make(i)], colors[read.color(i)]]).toEqual([rows[i]!.region, rows[i]!.make, rows[i]!.color]);
        }
        const k = Kernels.forArena(arenas.arena(l.arena), undefined, 1 << 20);
        // values of frequent triples, of rare ones only, of both, and absent ones
        const regionArb = fc.constantFrom<string>('R0', 'R5', 'R39', 'R17', 'R99');
        const makeArb = fc.constantFrom('M0', 'M3', 'm4', 'M5', 'M8', 'M12', 'M39');
        const colorArb = fc.constantFrom('C0', 'c3', 'C6', 'C9');
        await fc.assert(
          fc.asyncProperty(
            fc.record({
              regions: fc.array(regionArb, { minLength: 1, maxLength: 3 }),
              makes: fc.array(makeArb, { minLength: 1, maxLength: 3 }),
              colors: fc.array(colorArb, { minLength: 1, maxLength: 2 }),
            }, { requiredKeys: [] }).filter((f) => !!(f.regions || f.makes || f.colors)),
            fc.option(fc.tuple(fc.nat(rows.length), fc.nat(rows.length)), { nil: undefined }),
            fc.option(fc.tuple(fc.nat(rows.length), fc.nat(rows.length)), { nil: undefined }),
            async (labels, window, range) => {
              const filter = { ...labels, ...(window ? { from: t0 + Math.min(...window) * 100, to: t0 + Math.max(...window) * 100 } : {}) };
              const [lo, hi] = range ? [Math.min(...range), Math.max(...range)] : [0, s.rows];
              const has = (list: string[] | undefined, v: string) => !list || list.some((x) => foldLabel(x) === foldLabel(v));
              const expected: number[] = [];
              for (let i = lo; i < hi; i++) {
                const t = tripleOf[i]!, row = rows[i]!;
                // regions match exactly, makes and colors folded (src/core/filter.ts)
                if (filter.regions && !filter.regions.includes(region(t))) continue;
                if (!has(filter.makes, make(t)) || !has(filter.colors, color(t))) continue;
                if (filter.from !== undefined && !(row.ts >= filter.from && row.ts < filter.to!)) continue;
                expected.push(i);
              }
              const mark = k.scratch.mark();
              const compiled = k.compileFilter(filter, { cameras: s.cameras, regions: s.regions, makes, colors }, l);
              const out = k.allocOutput(s.rows);
              const n = k.scanSegment(l, compiled, null, out, { start: lo, end: hi });
              expect(n).toBe(expected.length);
              expect([...k.rows(out, n)]).toEqual(expected);
              expect(k.countSegment(l, compiled, null, { start: lo, end: hi })).toBe(expected.length);
              k.scratch.release(mark);
            },
          ),
          { numRuns: 300, seed: 9103 + most },
        );
        unloadShard(arenas, s);
      } finally {
        await cleanup();
      }
    });
  }
});
