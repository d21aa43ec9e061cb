/**
 * Migration: a data dir as the version before encryption wrote it (manifest v1 with plaintext shards, a
 * plaintext v1 WAL, a plaintext hot list and alert log) opens with a key store, keeps every read, list
 * and alert, and is encrypted on the way: afterwards no file holds a plate in clear.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { shardFileName } from '../src/store/shard-format.js';
import { buildShardV1 as buildShard } from '../src/store/shard-format-v1.js';
import { frameRecord } from '../src/store/wal.js';
import { encodeReadsRecord, type RowRecord } from '../src/store/wal-record.js';
import { crc32c } from '../src/store/crc32c.js';
import { encodeHotlist } from '../src/hotlist/codec.js';
import { openEngine } from '../src/engine/index.js';
import { HotlistStore } from '../src/hotlist/store.js';
import { AlertLog } from '../src/alerts/log.js';
import { tempDataDir } from './helpers/engine-data.js';
import { scanForStrings } from './helpers/crypto.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const kDay = 86_400_000;
const day = Math.floor(Date.UTC(2026, 10, 3) / kDay);
const row = (seq: number, plate: string, ts: number): RowRecord => ({ seq, plate, ts, latE7: 377_000_000, lonE7: -1_224_000_000, camera: 'cam-legacy-ibex' });

describe('a plaintext data dir of the version before encryption', () => {
  it('opens with a key store, keeps everything, and is encrypted on first open', async () => {
    const { dir, cleanup } = await tempDataDir('ps-migrate-');
    cleanups.push(cleanup);
    const tdir = join(dir, 'tenants', 'pd-a');
    await mkdir(join(tdir, 'shards'), { recursive: true });
    await mkdir(join(tdir, 'wal'), { recursive: true });
    // a sealed (plaintext Arrow) shard of seqs 1-3
    const sealed = [row(1, 'LEGSH1', day * kDay + 1000), row(2, 'LEGSH2', day * kDay + 2000), row(3, 'LEGSH3', day * kDay + 3000)];
    const { bytes, meta } = buildShard('pd-a', 1, day, sealed);
    const name = shardFileName(day, 1).replace(/\.shard$/, '.arrow'); // as the format 1 build named it
    await writeFile(join(tdir, 'shards', name), bytes);
    const body = {
      tenant: 'pd-a', ordinal: 1, nextSeq: 6, sealedSeq: 4, nextShardGen: 2,
      shards: [{ file: name, day, rows: 3, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: 1, maxSeq: 3, bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes) }],
    };
    const bodyText = JSON.stringify(body);
    await writeFile(join(tdir, 'manifest.json'), `{"format":"platesearch-manifest","version":1,"crc":${crc32c(Buffer.from(bodyText))},"body":${bodyText}}\n`);
    // a plaintext WAL (version 1) with seqs 4-5
    const header = Buffer.from([0x50, 0x53, 0x57, 0x41, 0x4c, 0x00, 1, 0x0a]);
    await writeFile(join(tdir, 'wal', '0000000000000001.wal'), Buffer.concat([header, frameRecord(encodeReadsRecord(4, [row(4, 'LEGWL4', day * kDay + 4000), row(5, 'LEGWL5', day * kDay + 5000)]))]));
    // a plaintext hot list and alert log (version 1)
    await mkdir(join(dir, 'hotlists', 'pd-a'), { recursive: true });
    await writeFile(join(dir, 'hotlists', 'pd-a', 'h.hotlist'), encodeHotlist({ name: 'h', updated: 1, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false, plates: ['LEGHOT'], notes: ['legacy-note-tapir'], priorities: null, expires: null }));
    await mkdir(join(dir, 'alerts'), { recursive: true });
    const alert = Buffer.from(JSON.stringify({ id: 1, hotlist: 'h', entry: 'LEGSH1', note: 'legacy-note-tapir', distance: 0, read: { id: 'x1', tenant: 'pd-a', plate: 'LEGSH1', ts: new Date(day * kDay + 1000).toISOString() } }));
    const ah = Buffer.alloc(16);
    ah.writeUInt32LE(0x4c415350, 0);
    ah.writeUInt32LE(1, 4);
    ah.writeDoubleLE(0, 8);
    const rh = Buffer.alloc(8);
    rh.writeUInt32LE(alert.length, 0);
    rh.writeUInt32LE(crc32(alert), 4);
    await writeFile(join(dir, 'alerts', 'pd-a.log'), Buffer.concat([ah, rh, alert]));

    const needles = ['LEGSH1', 'LEGSH2', 'LEGWL4', 'LEGHOT', 'cam-legacy-ibex', 'legacy-note-tapir'];
    expect((await scanForStrings(dir, needles)).length).toBeGreaterThan(0);

    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    const got = await engine.search([{ tenant: 'pd-a', minTs: 0 }], { filter: {}, limit: 100 });
    expect(got.hits.map((h) => h.plate).sort()).toEqual(['LEGSH1', 'LEGSH2', 'LEGSH3', 'LEGWL4', 'LEGWL5']);
    expect(engine.stats().corruptFiles).toEqual([]);
    await engine.close();
    const hl = await HotlistStore.open(dir);
    expect(hl.get('pd-a', 'h')?.list.plates).toEqual(['LEGHOT']);
    const alerts = await AlertLog.open(dir);
    expect((await alerts.readAfter('pd-a', 0, 10)).map((a) => JSON.parse(a.payload).entry)).toEqual(['LEGSH1']);
    expect(await alerts.lastId('pd-a')).toBe(1);
    await alerts.close();

    expect(await scanForStrings(dir, needles)).toEqual([]);
    const manifest = JSON.parse(await readFile(join(tdir, 'manifest.json'), 'utf8'));
    expect(manifest.version).toBe(2);
    expect(manifest.body.shards.every((e: { key?: unknown }) => e.key !== undefined)).toBe(true);
    for (const w of await readdir(join(tdir, 'wal'))) expect((await readFile(join(tdir, 'wal', w)))[6]).toBe(2);
    // and again: nothing left to migrate, everything still there
    const again = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    expect(again.stats().reads).toBe(5);
    await again.close();
  });
});
