import { describe, expect, it } from 'vitest';
import { cp, readdir, readFile, rm, writeFile, truncate } from 'node:fs/promises';
import * as path from 'node:path';
import { ArenaSet } from '../src/core/arena.js';
import { crc32c } from '../src/store/crc32c.js';
import { buildShard, kShardMagic, readShardHeader, ShardView } from '../src/store/shard-format.js';
import { tsReader } from '../src/core/segment.js';
import { loadShard, unloadShard } from '../src/store/shard-loader.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import { toE7 } from '../src/store/tenant-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import type { ShardEntry } from '../src/store/manifest.js';
import { openEngine } from '../src/engine/index.js';
import { isPlatesearchError } from '../src/errors.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';

function rowsOf(n: number, seed = 5): RowRecord[] {
  return makeReads({ seed, reads: n, days: 1 }).map((r, i) => {
    const row: RowRecord = { seq: 100 + i, plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera: r.camera };
    if (r.region) row.region = r.region;
    if (r.confidence !== undefined) row.confidence = r.confidence;
    if (r.make) row.make = r.make;
    if (r.color) row.color = r.color;
    if (i % 4 === 0) row.readId = `rid-${i}`;
    return row;
  });
}

async function writeShardFile(dir: string, rows: RowRecord[]): Promise<{ file: string; entry: ShardEntry; bytes: Uint8Array }> {
  const { bytes, meta } = buildShard('pd-a', 3, 20758, rows);
  const file = path.join(dir, 'x.shard');
  await writeFile(file, bytes);
  const entry: ShardEntry = { format: 2, file: 'x.shard', day: 20758, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq, bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes) };
  return { file, entry, bytes };
}

describe('shard files', () => {
  it('a shard file reads back as the same rows, clustered by hour, with narrow lanes', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const rows = rowsOf(3000);
      const { file } = await writeShardFile(dir, rows);
      const bytes = await readFile(file);
      expect(bytes.subarray(0, 8).toString('latin1')).toBe(kShardMagic);
      const view = new ShardView(file, bytes);
      const back = view.rowRecords();
      expect(back.length).toBe(rows.length);
      const bySeq = new Map(rows.map((r) => [r.seq, r]));
      for (const r of back) expect(r).toEqual(bySeq.get(r.seq));
      expect(new Set(back.map((r) => r.seq)).size).toBe(rows.length);
      // rows are clustered: ts is sorted by hour bucket
      for (let i = 1; i < back.length; i++) expect(Math.floor(back[i]!.ts / 3.6e6)).toBeGreaterThanOrEqual(Math.floor(back[i - 1]!.ts / 3.6e6));
      // one day, < 65,536 rows, six cameras, three regions: u32 ts offsets, u16 plates and postings, u8 labels
      const l = view.header.lanes;
      expect([l.ts!.width, l.plate!.width, l.postings!.width, l.camera!.width, l.region!.width, l.seq!.width, l.confidence!.width]).toEqual([4, 2, 2, 1, 1, 4, 2]);
      // every lane is fixed width: the file is the lanes plus a header, no more
      const laneBytes = Object.values(l).reduce((a, x) => a + x!.bytes, 0);
      expect(bytes.length - laneBytes).toBeLessThan(2048 + 64 * Object.keys(l).length);
    } finally {
      await cleanup();
    }
  });

  it('picks wide lanes only where the values need them, and leaves out lanes no row uses', () => {
    const day = 20758, t0 = day * 86_400_000;
    const base = (i: number): RowRecord => ({ seq: 1 + i, plate: `P${i % 300}`, ts: t0 + i * 1000, latE7: 377_000_000 + i, lonE7: -1_224_000_000 - i, camera: `c${i % 300}` });
    // no region, make, color, confidence or read id: no such lanes
    let v = new ShardView('a', buildShard('pd-a', 1, day, Array.from({ length: 1000 }, (_, i) => base(i))).bytes);
    expect(Object.keys(v.header.lanes).sort()).toEqual(['camera', 'lat', 'lon', 'plate', 'postings', 'seq', 'slots', 'ts', 'zones']);
    expect(v.header.lanes.camera!.width).toBe(2); // 300 cameras
    // a seq span of 2^32 and more, a row outside the day, a confidence that is not k / 10,000
    const odd = Array.from({ length: 20 }, (_, i) => base(i));
    odd[19] = { ...odd[19]!, seq: 2 ** 40, confidence: 0.123456 };
    odd[0] = { ...odd[0]!, ts: t0 - 5 };
    const rows = [...odd].sort((a, b) => a.seq - b.seq);
    v = new ShardView('b', buildShard('pd-a', 1, day, rows).bytes);
    expect([v.header.lanes.seq!.width, v.header.lanes.ts!.width, v.header.lanes.confidence!.width]).toEqual([8, 8, 8]);
    const back = new Map(v.rowRecords().map((r) => [r.seq, r]));
    for (const r of rows) expect(back.get(r.seq)).toEqual(r);
  });

  it('loads into arena memory with the kernel layout, and unloading reuses the memory', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const rows = rowsOf(3000);
      const { entry } = await writeShardFile(dir, rows);
      const arenas = new ArenaSet({ arenaBytes: 4 * 1024 * 1024 });
      const s = await loadShard(arenas, new LocalObjectStore(dir), entry);
      const mem = arenas.arena(s.layout.arena).memory.buffer;
      expect(s.layout.ts % 64).toBe(0);
      expect(s.layout.dict % 16).toBe(0);
      const ts = tsReader(mem, s.layout);
      const plate = s.plate;
      const slots = new Uint8Array(mem, s.layout.dict, s.layout.dictCount * 16);
      const bySeq = new Map(rows.map((r) => [r.seq, r]));
      for (let i = 0; i < s.rows; i++) {
        const r = bySeq.get(s.seqAt(i))!;
        expect(ts(i)).toBe(r.ts);
        const slot = slots.subarray(plate(i) * 16, plate(i) * 16 + 16);
        expect(Buffer.from(slot.subarray(0, slot[15])).toString()).toBe(r.plate);
      }
      const used = arenas.allocatedBytes;
      unloadShard(arenas, s);
      expect(arenas.allocatedBytes).toBe(0);
      const again = await loadShard(arenas, new LocalObjectStore(dir), entry);
      expect(arenas.allocatedBytes).toBe(used);
      expect(again.layout.ts).toBe(s.layout.ts);
    } finally {
      await cleanup();
    }
  });

  it("the plate API (findPlate, plateAt, plateChars, plateRange, plates, rowsOfPlate) answers as the rows' plates do", async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const rows = rowsOf(3000, 9);
      const { entry } = await writeShardFile(dir, rows);
      const s = await loadShard(new ArenaSet({ arenaBytes: 4 * 1024 * 1024 }), new LocalObjectStore(dir), entry);
      const sorted = [...new Set(rows.map((r) => r.plate))].sort();
      const bySeq = new Map(rows.map((r) => [r.seq, r.plate]));
      const chars = new Uint8Array(16);
      for (let d = 0; d < sorted.length; d++) {
        const p = sorted[d]!;
        expect(s.plateAt(d)).toBe(p);
        expect(s.findPlate(p)).toBe(d);
        const len = s.plateChars(d, chars);
        expect(String.fromCharCode(...chars.subarray(0, len))).toBe(p);
        const want = rows.filter((r) => r.plate === p).map((r) => r.seq).sort((a, b) => a - b);
        expect([...s.rowsOfPlate(d)].map((i) => s.seqAt(i)).sort((a, b) => a - b)).toEqual(want);
        for (const row of s.rowsOfPlate(d)) expect(bySeq.get(s.seqAt(row))).toBe(p);
      }
      expect(s.plates()).toEqual(sorted);
      for (const p of ['0', 'A', 'ZZZZZZZZZZ', sorted[0]! + 'Z', sorted[sorted.length - 1]! + '0']) expect(s.findPlate(p)).toBe(sorted.indexOf(p));
      // every prefix of every plate, and a few absent ones: [lo, hi) is exactly the plates starting with it
      const prefixes = new Set<string>(['', 'ZZZZZZZZZZZ', '0', 'A', '9Z']);
      for (const p of sorted) for (let j = 1; j <= p.length; j++) prefixes.add(p.slice(0, j));
      for (const prefix of prefixes) {
        const want = sorted.flatMap((p, d) => (p.startsWith(prefix) ? [d] : []));
        const [lo, hi] = s.plateRange(prefix);
        expect(want.length === 0 ? hi - lo : [lo, hi]).toEqual(want.length === 0 ? 0 : [want[0]!, want[want.length - 1]! + 1]);
      }
    } finally {
      await cleanup();
    }
  });

  it('a flipped byte, a truncation, or an unknown version is a coded error naming the file', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const { file, entry, bytes } = await writeShardFile(dir, rowsOf(500));
      const arenas = new ArenaSet({ arenaBytes: 4 * 1024 * 1024 });
      const expectError = async (code: string, e: ShardEntry = entry, label = '') => {
        const err = await loadShard(arenas, new LocalObjectStore(dir), e).then(() => undefined, (x: unknown) => x);
        expect(isPlatesearchError(err), label + String(err)).toBe(true);
        expect((err as { code: string }).code).toBe(code);
        expect((err as Error).message).toContain(file);
        expect(arenas.allocatedBytes).toBe(0);
      };
      for (const at of [0, 100, Math.floor(bytes.length / 2), bytes.length - 3]) {
        const bad = Buffer.from(bytes);
        bad[at] ^= 0x20;
        await writeFile(file, bad);
        await expectError('PS_CORRUPT_FILE', entry, `flip ${at}`);
      }
      await writeFile(file, bytes);
      await truncate(file, bytes.length - 10);
      await expectError('PS_CORRUPT_FILE');
      // structurally broken yet "valid" per its manifest entry: still a coded error, not a crash
      const junk = Buffer.from(bytes.subarray(0, 200));
      await writeFile(file, junk);
      await expectError('PS_CORRUPT_FILE', { ...entry, bytes: junk.length, crc: crc32c(junk) }, 'junk');
      // an unknown format version
      const v9 = Buffer.from(bytes);
      v9.writeUInt32LE(9, 8);
      await writeFile(file, v9);
      await expectError('PS_UNSUPPORTED_FORMAT', { ...entry, bytes: v9.length, crc: crc32c(v9) }, 'version');
      // a header that names a lane outside the file, or of the wrong size, with a matching checksum
      const h = readShardHeader(file, bytes);
      const room = Math.min(...Object.values(h.lanes).map((l) => l!.at)) - 16;
      const broken = [
        { ...h, lanes: { ...h.lanes, lat: { ...h.lanes.lat!, at: bytes.length } } },
        { ...h, lanes: { ...h.lanes, plate: { ...h.lanes.plate!, bytes: 6 } } },
        { ...h, lanes: { ...h.lanes, camera: { ...h.lanes.camera!, width: 3 } } },
        { ...h, lanes: { ...h.lanes, slots: undefined } },
      ];
      for (const [k, header] of broken.entries()) {
        const json = Buffer.from(JSON.stringify(header));
        expect(json.length).toBeLessThanOrEqual(room);
        const bad = Buffer.from(bytes);
        bad.fill(0, 16, 16 + room);
        bad.writeUInt32LE(json.length, 12);
        json.copy(bad, 16);
        await writeFile(file, bad);
        await expectError('PS_CORRUPT_FILE', { ...entry, bytes: bad.length, crc: crc32c(bad) }, `lane ${k}`);
      }

    } finally {
      await cleanup();
    }
  });
});

describe('sealing and crashes', () => {
  it('a damaged shard is reported at open; the other data stays searchable', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      const reads = makeReads({ seed: 3, reads: 300, days: 3 });
      await e1.append('pd-a', reads);
      await e1.seal();
      await e1.close();
      const sdir = path.join(dir, 'tenants', 'pd-a', 'shards');
      const files = (await readdir(sdir)).sort();
      expect(files.length).toBe(3);
      const victim = path.join(sdir, files[1]!);
      const b = await readFile(victim);
      b[b.length >> 1] ^= 1;
      await writeFile(victim, b);
      const e2 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      expect(e2.stats().corruptFiles).toEqual([victim]);
      expect(e2.stats().shards).toBe(2);
      const res = await e2.search([{ tenant: 'pd-a', minTs: 0 }], { filter: {}, limit: 10 });
      expect(res.total).toBeGreaterThan(0);
      expect(res.total).toBeLessThan(300);
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('a crash after the manifest commit but before the WAL is deleted duplicates nothing', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      await e1.append('pd-a', makeReads({ seed: 4, reads: 200 }));
      await e1.close();
      const wal = path.join(dir, 'tenants', 'pd-a', 'wal');
      await cp(wal, wal + '.saved', { recursive: true });
      const e2 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      await e2.seal();
      await e2.append('pd-a', makeReads({ seed: 5, reads: 10 }));
      await e2.close();
      // put the sealed WAL files back, as if the process died before deleting them
      for (const f of await readdir(wal + '.saved')) await cp(path.join(wal + '.saved', f), path.join(wal, f));
      await rm(wal + '.saved', { recursive: true });
      // and an orphan shard, as if it died before committing a seal
      await writeFile(path.join(dir, 'tenants', 'pd-a', 'shards', '20261101-000000ff.shard'), 'partial');
      const e3 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      expect(e3.stats().reads).toBe(210);
      expect(e3.stats().corruptFiles).toEqual([]);
      const ids = new Set<string>();
      for await (const r of e3.exportReads({ tenant: 'pd-a', minTs: 0 }, {})) ids.add(r.id);
      expect(ids.size).toBe(210);
      expect((await readdir(path.join(dir, 'tenants', 'pd-a', 'shards'))).includes('20261101-000000ff.shard')).toBe(false);
      await e3.close();
    } finally {
      await cleanup();
    }
  });

  it('seals in the background by size while appends and searches go on', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e = await openEngine({ dataDir: dir, threads: 0, sealRows: 100, sealAgeMs: 0 });
      const reads = makeReads({ seed: 6, reads: 1000 });
      let stored = 0;
      for (let i = 0; i < reads.length; i += 50) {
        stored += (await e.append('pd-a', reads.slice(i, i + 50))).stored.length;
        const res = await e.search([{ tenant: 'pd-a', minTs: 0 }], { filter: {}, limit: 1 });
        expect(res.total).toBe(stored);
      }
      for (let i = 0; i < 50 && e.stats().shards === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(e.stats().shards).toBeGreaterThan(0);
      expect(e.stats().reads).toBe(1000);
      await e.close();
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      expect(e2.stats().reads).toBe(1000);
      await e2.close();
    } finally {
      await cleanup();
    }
  });
});

describe('empty shards', () => {
  it('a shard without rows loads, answers nothing, and reads back empty', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const { file, entry, bytes } = await writeShardFile(dir, []);
      expect(new ShardView(file, bytes).rowRecords()).toEqual([]);
      const arenas = new ArenaSet({ arenaBytes: 1024 * 1024 });
      const s = await loadShard(arenas, new LocalObjectStore(dir), entry);
      expect(s.rows).toBe(0);
      expect(s.findPlate('ABC123')).toBe(-1);
      expect([...s.readIds()]).toEqual([]);
      unloadShard(arenas, s);
      expect(arenas.allocatedBytes).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
