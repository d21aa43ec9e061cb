/**
 * The seq lane re-encoded at load (src/store/seq-blocks.ts): u16 offsets from per-block bases in memory,
 * u24 when a block spans 2^16 seqs or more, the file unchanged. Every reader of seq (LoadedShard.seqAt, the
 * tasks' seqReader, ShardView.rowRecords for rewrites) and of the lanes moved behind it (confidence, read
 * ids) must give back exactly what was written; a block spanning 2^24 seqs or more keeps the u32 lane; the
 * region shrinks by what was saved and shards loaded one after another pack without holes (resident bytes
 * and committed memory agree).
 */
import { describe, expect, it } from 'vitest';
import { ArenaSet } from '../src/core/arena.js';
import { kBlockRows, segmentSeqReader } from '../src/core/segment.js';
import { buildShard, readShardHeader } from '../src/store/shard-format.js';
import { loadShard, unloadShard, type LoadedShard } from '../src/store/shard-loader.js';
import { seqTimeLimits } from '../src/store/seq-blocks.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import { toE7 } from '../src/store/tenant-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';
import { putShardFile } from './helpers/shard-files.js';

const kDayNo = 20758;

/** n reads of one day, arriving in ts order (seq follows arrival); seq(i) gives each row's seq (increasing). */
function rowsOf(n: number, seq: (i: number) => number, seed = 9): RowRecord[] {
  const day0 = kDayNo * 86_400_000;
  const reads = makeReads({ seed, reads: n, days: 1 }).map((r) => ({ ...r, ts: day0 + (r.ts % 86_400_000) })).sort((a, b) => a.ts - b.ts);
  return reads.map((r, i) => {
    const row: RowRecord = { seq: seq(i), plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera: r.camera };
    if (r.region) row.region = r.region;
    if (r.confidence !== undefined && i % 3 !== 0) row.confidence = r.confidence;
    if (r.make) row.make = r.make;
    if (i % 5 === 0) row.readId = `rid-${i}-${'x'.repeat(i % 7)}`;
    return row;
  });
}

const put = (dir: string, name: string, rows: RowRecord[]) => putShardFile(dir, name, kDayNo, rows);

/** Every way seq and the moved lanes are read agrees with the rows written. */
function expectRows(s: LoadedShard, rows: RowRecord[], arenas: ArenaSet): void {
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const mem = arenas.arena(s.layout.arena).memory.buffer;
  const task = segmentSeqReader(mem, s.layout, s.seqPtr);
  const viewSeq = s.view.seqReader();
  const seen = new Set<number>();
  const bad: string[] = [];
  for (let i = 0; i < s.rows && bad.length < 5; i++) {
    const q = s.seqAt(i);
    const r = bySeq.get(q);
    const x = s.extras(i);
    if (task(i) !== q || viewSeq(i) !== q) bad.push(`row ${i}: seq ${q} / task ${task(i)} / view ${viewSeq(i)}`);
    else if (!r) bad.push(`row ${i}: seq ${q} was never written`);
    else if (s.tsAt(i) !== r.ts || x.confidence !== r.confidence || x.readId !== r.readId || x.make !== r.make) bad.push(`row ${i}: ${JSON.stringify(x)} vs ${JSON.stringify(r)}`);
    seen.add(q);
  }
  expect(bad).toEqual([]);
  expect(seen.size).toBe(rows.length);
  // rewrites and the migration read rows through the view
  const back = s.view.rowRecords().sort((a, b) => a.seq - b.seq);
  expect(back).toEqual([...rows].sort((a, b) => a.seq - b.seq));
  expect([...s.readIds()].length).toBe(rows.filter((r) => r.readId !== undefined).length);
}

describe('seq lane in blocks', () => {
  it('reads back exactly, saves 2 B a row, and packs shards without holes', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      // several blocks; seqs with gaps (other days' reads in between) but < 2^16 within a block
      const sets = [
        rowsOf(3 * kBlockRows + 1234, (i) => 1_000_000 + i * 3 + (i % 7), 1),
        rowsOf(kBlockRows, (i) => 5 + i, 2),
        rowsOf(777, (i) => 2 ** 33 + i * 80, 3),
      ];
      const loaded: LoadedShard[] = [];
      let saved = 0;
      for (const [k, rows] of sets.entries()) {
        const { entry, fileBytes } = await put(dir, `s${k}.shard`, rows);
        const before = arenas.allocatedBytes;
        const s = await loadShard(arenas, store, entry);
        expect(s.layout.seqWidth).toBe(2);
        expect(s.layout.seqBlocks).toBeGreaterThan(0);
        const used = arenas.allocatedBytes - before;
        // the u32 lane was 4 B a row; now 2 B a row plus 4 B a block (and alignment)
        expect(fileBytes - used).toBeGreaterThanOrEqual(2 * rows.length - 4 * Math.ceil(rows.length / kBlockRows) - 192);
        saved += fileBytes - used;
        expectRows(s, rows, arenas);
        loaded.push(s);
      }
      expect(saved).toBeGreaterThan(2 * (3 * kBlockRows) - 1000);
      // loaded one after another, the shrunk tails went back to the bump pointer: no holes
      const a = arenas.arena(0);
      expect(a.topBytes - 65536).toBe(a.allocatedBytes);
      for (const s of loaded) unloadShard(arenas, s);
      expect(arenas.allocatedBytes).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('u16 offsets from a base per bucket of ts when blocks span 2^16 or more and every read lies within 2^16 of its bucket\'s first', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      // the buckets: a minute, ×4 while they would cost more than 1/16 B a row (24,653 rows over a day: 4 minutes)
      const ms = 4 * 60_000;
      /** The plain definition: the largest seq − (least seq of its bucket of ts from the first ts) over the rows. */
      const widest = (rows: RowRecord[]): number => {
        const t0 = Math.min(...rows.map((r) => r.ts));
        const bucket = (r: RowRecord) => Math.floor((r.ts - t0) / ms);
        const least = new Map<number, number>();
        for (const r of rows) least.set(bucket(r), Math.min(least.get(bucket(r)) ?? Infinity, r.seq));
        return Math.max(...rows.map((r) => r.seq - least.get(bucket(r))!));
      };
      // rows in hour and place order: a block spans hours of seqs (30 apart: other tenants' reads in between)
      const inOrder = rowsOf(3 * kBlockRows + 77, (i) => 100 + i * 30, 4);
      // the same with every 500th read arriving 70,003 seqs late: u24 from blocks
      const late = rowsOf(3 * kBlockRows + 77, (i) => 100 + i * 10 + (i % 500 === 7 ? 70_003 : 0), 5);
      const w = widest(inOrder);
      expect(w).toBeGreaterThan(100);
      const cases: Array<[string, RowRecord[], number, number, boolean]> = [
        ['in order', inOrder, 0xffff, 2, true],
        ['at the offset limit', inOrder, w, 2, true],
        ['one past the offset limit', inOrder, w - 1, 3, false],
        ['late reads', late, 0xffff, 3, false],
      ];
      for (const [k, [what, rows, offset, width, byTime]] of cases.entries()) {
        seqTimeLimits.offset = offset;
        const { entry, fileBytes } = await put(dir, `t${k}.shard`, rows);
        const s = await loadShard(arenas, store, entry);
        expect(s.layout.seqWidth, what).toBe(width);
        expect(s.layout.seqTime !== undefined, what).toBe(byTime);
        if (byTime) {
          // the u32 lane was 4 B a row; now 2 B a row plus 4 B a minute of the day's span (and alignment)
          expect(s.layout.seqTime!.ms, what).toBe(ms);
          expect(s.layout.seqTime!.buckets, what).toBe(Math.floor((entry.maxTs - entry.minTs) / ms) + 1);
          expect(fileBytes - arenas.allocatedBytes, what).toBeGreaterThanOrEqual(rows.length - 4 * s.layout.seqTime!.buckets - 256);
        }
        expectRows(s, rows, arenas);
        unloadShard(arenas, s);
        expect(arenas.allocatedBytes).toBe(0);
      }
    } finally {
      seqTimeLimits.offset = 0xffff;
      await cleanup();
    }
  });

  it('u24 offsets when a block spans 2^16 to 2^24 − 1 seqs, the u32 lane from 2^24, tiny shards as they are', async () => {
    const { dir, cleanup } = await tempDataDir();
    // seq by time off: these spans are the block bases' (test/seq-time.test.ts has seq by time)
    seqTimeLimits.blockSpan = Infinity;
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      // one block whose last read arrived far later (a compaction of reads that arrived weeks apart): a span
      // of exactly 2^16 (one past u16), 2^24 − 1 (the widest u24 offset), then 2^24 (one too many)
      const m = kBlockRows - 100;
      const far = (gap: number) => (i: number) => (i < m - 1 ? 10 + i : 10 + gap);
      const cases: Array<[RowRecord[], number]> = [
        [rowsOf(m, far(0x10000)), 3],
        [rowsOf(m, far(0xffffff)), 3],
        [rowsOf(m, far(0x1000000)), 4],
        [rowsOf(m, far(0xffff)), 2],
        [rowsOf(2 * kBlockRows + 9, (i) => 3 + i * 1021 + (i % 3 === 0 ? 0xabcd : 0)), 3],
        [rowsOf(1, () => 42), 4],
        [rowsOf(3, (i) => 7 + i * 0x20000), 4],
      ];
      for (const [k, [rows, width]] of cases.entries()) {
        const { entry, fileBytes } = await put(dir, `w${k}.shard`, rows);
        const s = await loadShard(arenas, store, entry);
        expect(s.layout.seqWidth, `case ${k}`).toBe(width);
        if (width === 3) {
          // the u32 lane was 4 B a row; now 3 B a row plus 4 B a block (and alignment), besides ts / lat / lon
          expect(fileBytes - arenas.allocatedBytes).toBeGreaterThanOrEqual(rows.length - 4 * Math.ceil(rows.length / kBlockRows) - 256);
        }
        if (width === 4 && rows.length > 3) {
          // only ts / lat / lon (u24 lanes, src/store/shard-u24.ts: 3 B a row) and region / make / color (one labels
          // lane, src/store/shard-labels.ts: at most 2 B a row) shrink
          expect(arenas.allocatedBytes).toBeGreaterThanOrEqual(Math.ceil(fileBytes / 64) * 64 - 5 * rows.length);
        }
        expectRows(s, rows, arenas);
        unloadShard(arenas, s);
        expect(arenas.allocatedBytes).toBe(0);
      }
    } finally {
      seqTimeLimits.blockSpan = 0xffff;
      await cleanup();
    }
  });

  it('a file whose header names an in-memory lane (seq blocks, u24 bases, labels: src/store/shard-labels.ts) is corrupt', () => {
    const { bytes } = buildShard('pd-a', 3, kDayNo, rowsOf(10, (i) => i + 1));
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const hb = dv.getUint32(12, true);
    const text = new TextDecoder().decode(bytes.subarray(16, 16 + hb));
    for (const field of ['seqBlocks', 'seqTime', 'bases', 'labels', 'labelTriples', 'cameraRuns', 'cameraTable', 'labelRuns', 'labelTable', 'labelShared']) {
      const header = JSON.parse(text);
      if (field === 'labelShared') header[field] = 200;
      else if (field.startsWith('label') || field.startsWith('camera')) header.lanes[field] = { at: 0, bytes: 4, width: 2 };
      else if (field === 'seqTime') header[field] = { origin: 0, ms: 60_000 };
      else header[field] = { at: 0, bytes: 4, width: 4 };
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(bytes.length + json.length);
      out.set(bytes.subarray(0, 16));
      new DataView(out.buffer).setUint32(12, json.length, true);
      out.set(json, 16);
      expect(() => readShardHeader('f.shard', out), field).toThrow(/in-memory lane/);
    }
  });
});
