import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ArenaSet } from '../src/core/arena.js';
import { crc32c } from '../src/store/crc32c.js';
import { buildShard } from '../src/store/shard-format.js';
import { loadShard, unloadShard, type LoadedShard } from '../src/store/shard-loader.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import { TenantPlates } from '../src/store/tenant-plates.js';
import { toE7 } from '../src/store/tenant-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import type { ShardEntry } from '../src/store/manifest.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';
import { plateIdLayout } from '../src/store/plate-id-lane.js';

async function shardOf(dir: string, arenas: ArenaSet, name: string, seed: number, seq0: number): Promise<{ shard: LoadedShard; plates: string[] }> {
  const rows: RowRecord[] = makeReads({ seed, reads: 2000, days: 1 }).map((r, i) => ({
    seq: seq0 + i, plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera: r.camera,
  }));
  const { bytes, meta } = buildShard('pd-a', 3, 20758, rows);
  await writeFile(path.join(dir, name), bytes);
  const entry: ShardEntry = { format: 2, file: name, day: 20758, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq, bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes) };
  return { shard: await loadShard(arenas, new LocalObjectStore(dir), entry), plates: [...new Set(rows.map((r) => r.plate))].sort() };
}

describe('tenant plate epochs', () => {
  it('a pinned epoch keeps its plates readable across an install and is freed at its last unpin; an unpinned one at the install', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 8 * 1024 * 1024 });
      const a = await shardOf(dir, arenas, 'a.shard', 3, 100);
      const b = await shardOf(dir, arenas, 'b.shard', 4, 10_000);
      const c = await shardOf(dir, arenas, 'c.shard', 5, 20_000);
      const shardBytes = arenas.allocatedBytes;
      const tp = new TenantPlates(arenas, { grams: true });
      tp.update([a.shard]);
      const first = Array.from({ length: tp.count }, (_, d) => tp.plateAt(d));
      expect(first).toEqual(a.plates);
      const firstBytes = arenas.allocatedBytes - shardBytes;
      expect(firstBytes).toBeGreaterThan(0);

      // pinned across an install: the old epoch reads as before, both regions are held
      const e1 = tp.pin();
      tp.update([a.shard, b.shard]);
      const union = [...new Set([...a.plates, ...b.plates])].sort();
      expect(Array.from({ length: tp.count }, (_, d) => tp.plateAt(d))).toEqual(union);
      expect(e1.isFreed).toBe(false);
      expect(e1.count).toBe(a.plates.length);
      expect(Array.from({ length: e1.count }, (_, d) => e1.plateAt(d))).toEqual(a.plates);
      expect(e1.indexOf(b.plates.find((p) => !a.plates.includes(p))!)).toBe(-1);
      expect(e1.buckets().has(b.shard)).toBe(false);
      expect(tp.buckets().has(b.shard)).toBe(true);
      const bothBytes = arenas.allocatedBytes - shardBytes;
      expect(bothBytes).toBeGreaterThan(firstBytes);
      // pinned twice: freed at the last unpin only (shard a moved on to the new epoch at the install)
      e1.pin();
      e1.unpin();
      expect(e1.isFreed).toBe(false);
      const beforeUnpin = arenas.allocatedBytes;
      e1.unpin();
      expect(e1.isFreed).toBe(true);
      expect(beforeUnpin - arenas.allocatedBytes).toBe(e1.count * 16);

      // not pinned: the install frees the old region at once
      const held = arenas.allocatedBytes;
      // a's and b's maps are stored again through the growth map: an Elias–Fano map's size follows its largest id
      const mapBytes = (sh: typeof a.shard) => Math.ceil((sh.arenaRegions().find((r) => r.part === 'plate ids')?.region.bytes ?? 0) / 16) * 16;
      const heldMaps = mapBytes(a.shard) + mapBytes(b.shard);
      const e2 = tp.pin();
      e2.unpin();
      tp.update([a.shard, b.shard, c.shard]);
      expect(e2.isFreed).toBe(true);
      const all = [...new Set([...union, ...c.plates])].sort();
      // the dictionary's new plates; shard c's slots out of its region, its code → id map in
      const cMap = Math.ceil(plateIdLayout([...new Set(c.plates)].sort().map((p) => all.indexOf(p))).bytes / 16) * 16;
      const grownMaps = mapBytes(a.shard) + mapBytes(b.shard) - heldMaps;
      expect(arenas.allocatedBytes - held).toBe((all.length - union.length) * 16 - c.plates.length * 16 + cMap + grownMaps);

      // free() while pinned: the dictionary is dropped for new readers, the pinned epoch stays readable
      const e3 = tp.pin();
      tp.free();
      expect(tp.count).toBe(0);
      expect(e3.plateAt(all.length - 1)).toBe(all[all.length - 1]);
      e3.unpin();
      // the covered shards still read their plates through it: freed with the last of them
      expect(e3.isFreed).toBe(false);
      expect(a.shard.plateAt(0)).toBe(a.plates[0]);
      for (const s of [a, b, c]) unloadShard(arenas, s.shard);
      expect(e3.isFreed).toBe(true);
      expect(arenas.allocatedBytes).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
