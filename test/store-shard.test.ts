import { describe, expect, it } from 'vitest';
import { cp, readdir, readFile, rm, writeFile, truncate, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { RecordBatch, Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { ArenaSet } from '../src/core/arena.js';
import { crc32c } from '../src/store/crc32c.js';
import { buildShard } from '../src/store/shard-format.js';
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
  const file = path.join(dir, 'x.arrow');
  await writeFile(file, bytes);
  const entry: ShardEntry = { file: 'x.arrow', day: 20758, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq, bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes) };
  return { file, entry, bytes };
}

describe('shard files', () => {
  it('apache-arrow reads a shard file as it is and gets the same rows', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const rows = rowsOf(3000);
      const { file } = await writeShardFile(dir, rows);
      const table = tableFromIPC(await readFile(file));
      expect(table.numRows).toBe(rows.length);
      const bySeq = new Map(rows.map((r) => [r.seq, r]));
      const seen = new Set<number>();
      for (const rec of table) {
        const r = bySeq.get(Number(rec.seq))!;
        seen.add(r.seq);
        expect(rec.plate).toBe(r.plate);
        expect(rec.ts).toBe(r.ts);
        expect(rec.lat_e7).toBe(r.latE7);
        expect(rec.lon_e7).toBe(r.lonE7);
        expect(rec.camera).toBe(r.camera);
        expect(rec.region).toBe(r.region ?? null);
        expect(rec.confidence).toBe(r.confidence ?? null);
        expect(rec.make).toBe(r.make ?? null);
        expect(rec.color).toBe(r.color ?? null);
        expect(rec.read_id).toBe(r.readId ?? null);
      }
      expect(seen.size).toBe(rows.length);
      // rows are clustered: ts is sorted by hour bucket
      const ts = table.getChild('ts')!.toArray() as ArrayLike<bigint | number>;
      for (let i = 1; i < table.numRows; i++) expect(Math.floor(Number(ts[i]) / 3.6e6)).toBeGreaterThanOrEqual(Math.floor(Number(ts[i - 1]) / 3.6e6));
      expect(table.schema.metadata.get('platesearch.format')).toBe('platesearch-shard');
    } finally {
      await cleanup();
    }
  });

  it('loads into arena memory with the kernel layout, and unloading reuses the memory', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const rows = rowsOf(3000);
      const { file, entry } = await writeShardFile(dir, rows);
      const arenas = new ArenaSet({ arenaBytes: 4 * 1024 * 1024 });
      const s = await loadShard(arenas, new LocalObjectStore(dir), entry);
      const mem = arenas.arena(s.layout.arena).memory.buffer;
      expect(s.layout.ts % 8).toBe(0);
      const ts = new BigInt64Array(mem, s.layout.ts, s.rows);
      const plate = new Uint32Array(mem, s.layout.plate, s.rows);
      const slots = new Uint8Array(mem, s.layout.dict, s.layout.dictCount * 16);
      const bySeq = new Map(rows.map((r) => [r.seq, r]));
      for (let i = 0; i < s.rows; i++) {
        const r = bySeq.get(s.seqAt(i))!;
        expect(Number(ts[i])).toBe(r.ts);
        const slot = slots.subarray(plate[i]! * 16, plate[i]! * 16 + 16);
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
      // an unknown format version: the same table, re-written with another version in its metadata
      const t = tableFromIPC(bytes);
      const md = new Map(t.schema.metadata);
      md.set('platesearch.version', '9');
      const v2 = tableToIPC(new Table(new Schema(t.schema.fields, md), t.batches.map((rb) => new RecordBatch(new Schema(t.schema.fields, md), rb.data))), 'file');
      await writeFile(file, v2);
      await expectError('PS_UNSUPPORTED_FORMAT', { ...entry, bytes: v2.length, crc: crc32c(v2) }, 'version');
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
      await writeFile(path.join(dir, 'tenants', 'pd-a', 'shards', '20261101-000000ff.arrow'), 'partial');
      const e3 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      expect(e3.stats().reads).toBe(210);
      expect(e3.stats().corruptFiles).toEqual([]);
      const ids = new Set<string>();
      for await (const r of e3.exportReads({ tenant: 'pd-a', minTs: 0 }, {})) ids.add(r.id);
      expect(ids.size).toBe(210);
      expect((await readdir(path.join(dir, 'tenants', 'pd-a', 'shards'))).includes('20261101-000000ff.arrow')).toBe(false);
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
  it('a shard without rows loads, answers nothing, and round-trips through apache-arrow', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const { file, entry, bytes } = await writeShardFile(dir, []);
      expect(tableFromIPC(bytes).numRows).toBe(0);
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
