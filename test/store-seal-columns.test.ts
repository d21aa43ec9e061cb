/**
 * The seal job gathers rows as columns (src/store/seal-rows.ts) and writes one day at a time; its shards
 * must be byte for byte those of the plain path it replaced: every WAL row decoded into a row record,
 * `lastBySeq` (the copy read last wins), `groupByDay`, `writeDayShards`. Random WALs with out-of-order
 * records (a batch spanning days is one record per day), rewrite records that repeat and overwrite seqs
 * (some onto another day), rows outside the job's seq range, a record that does not decode, several
 * files and tenants, optional fields present and absent, more rows than one column chunk; and the
 * rewrite input (shard files, a retention cutoff) the same way. Shards are compared decrypted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { frameRecord, kWalPlainVersion, scanWal, openWalRecords } from '../src/store/wal.js';
import { unpack } from 'msgpackr';
import { readRecordRows } from '../src/store/wal-record-rows.js';
import { decodeRecord, decodeRecordInto, encodeReadsRecord, encodeRewriteRecord, type RowRecord } from '../src/store/wal-record.js';
import { lastBySeq } from '../src/store/rows-by-seq.js';
import { groupByDay, writeDayShards } from '../src/store/shard-writer.js';
import { kChunkRows } from '../src/store/seal-rows.js';
import { runSealJob, type JobKey, type SealJob } from '../src/store/seal-job.js';
import { openObjectStore } from '../src/store/local-object-store.js';
import { dayOf, ShardView } from '../src/store/shard-format.js';
import { openSealedFile } from '../src/crypto/sealed-file.js';
import { aesGcm } from '../src/crypto/cipher.js';
import type { ShardEntry } from '../src/store/manifest.js';
import { kDay, kT0, randomPlate, rng, tempDataDir } from './helpers/engine-data.js';
import { columnsOfRows } from './helpers/wal-columns.js';
import { encodeColumnsRecord } from '../src/store/wal-record-columns.js';

const walHeader = Uint8Array.from([0x50, 0x53, 0x57, 0x41, 0x4c, 0x00, kWalPlainVersion, 0x0a]);

function randomRow(r: () => number, seq: number, plates: string[], days: number): RowRecord {
  const row: RowRecord = {
    seq, plate: plates[Math.floor(r() * plates.length)]!, ts: kT0 + Math.floor(r() * days * kDay),
    latE7: Math.round((40 + r()) * 1e7), lonE7: Math.round((-74 + r()) * 1e7), camera: `cam-${Math.floor(r() * 40)}`,
  };
  if (r() < 0.7) row.region = ['NY', 'NJ', 'CT', ''][Math.floor(r() * 4)];
  if (r() < 0.6) row.confidence = Math.floor(r() * 10_001) / 10_000;
  if (r() < 0.05) row.confidence = r();
  if (r() < 0.4) row.make = ['FORD', 'TOYOTA', 'HONDA'][Math.floor(r() * 3)];
  if (r() < 0.4) row.color = ['RED', 'BLUE', 'WHITE', 'BLACK'][Math.floor(r() * 4)];
  if (r() < 0.1) row.readId = `rid-${seq}-${Math.floor(r() * 1e6)}`;
  return row;
}

/**
 * WAL files of one tenant: appended batches (one record per day, days out of order), rewrites, garbage.
 * `columnar`: the appended batches as kind-3 records (src/store/wal-record-columns.ts), written from the
 * batch's columns as appends write them; the same seed gives the same rows either way.
 */
async function writeRandomWal(dir: string, seed: number, rows: number, days: number, columnar = false): Promise<{ files: string[]; nextSeq: number }> {
  const r = rng(seed);
  const plates = Array.from({ length: Math.max(20, rows >> 3) }, () => randomPlate(r));
  const files: string[] = [];
  let seq = 100;
  const written: RowRecord[] = [];
  for (let f = 0; f < 3; f++) {
    const records: Uint8Array[] = [];
    const target = seq + Math.floor(rows / 3);
    while (seq < target) {
      const n = 1 + Math.floor(r() * 3000);
      const batch = Array.from({ length: n }, (_, i) => randomRow(r, seq + i, plates, days));
      // one record per day, as the WAL writer logs a batch spanning days; each record's seqs consecutive
      const byDay = new Map<number, RowRecord[]>();
      for (const row of batch) {
        const d = dayOf(row.ts);
        let list = byDay.get(d);
        if (!list) byDay.set(d, (list = []));
        list.push(row);
      }
      const cols = columnar ? columnsOfRows(batch) : undefined;
      for (const day of [...byDay.keys()].sort(() => r() - 0.5)) {
        const list = byDay.get(day)!;
        if (cols) {
          const idx = list.map((row) => row.seq - batch[0]!.seq);
          records.push(byDay.size === 1 ? encodeColumnsRecord(cols, idx, batch[0]!.seq) : encodeColumnsRecord(cols, idx, 0, list.map((row) => row.seq)));
          continue;
        }
        // consecutive runs of seqs within the day's rows
        let start = 0;
        for (let i = 1; i <= list.length; i++) {
          if (i === list.length || list[i]!.seq !== list[i - 1]!.seq + 1) {
            records.push(encodeReadsRecord(list[start]!.seq, list.slice(start, i)));
            start = i;
          }
        }
      }
      written.push(...batch);
      seq += n;
      if (r() < 0.15) {
        // a rewrite repeating earlier rows: some as they were, some overwritten (other fields, other day)
        const again = Array.from({ length: 1 + Math.floor(r() * 200) }, () => {
          const old = written[Math.floor(r() * written.length)]!;
          return r() < 0.5 ? old : { ...randomRow(r, old.seq, plates, days) };
        });
        records.push(encodeRewriteRecord(again));
      }
      if (r() < 0.02) records.push(randomBytes(40)); // passes its CRC, does not decode: skipped
    }
    const file = path.join(dir, `${String(f + 1).padStart(16, '0')}.wal`);
    await writeFile(file, Buffer.concat([walHeader, ...records.map((p) => frameRecord(p))]));
    files.push(file);
  }
  return { files, nextSeq: seq };
}

function jobKeys(days: number): Record<string, JobKey[]> {
  const out: Record<string, JobKey[]> = {};
  for (let d = dayOf(kT0) - 1; d <= dayOf(kT0) + days + 1; d++) {
    out[String(d)] = [{ kek: 'test-kek', wrapped: randomBytes(40).toString('base64'), key: randomBytes(32).toString('base64') }];
  }
  return out;
}

/** The path the seal worker took before: a row record per row, lastBySeq, groupByDay, writeDayShards. */
async function referenceJob(job: SealJob, root: string): Promise<{ rows: number; entries: ShardEntry[] }> {
  const found: RowRecord[] = [];
  for (const file of job.walFiles) {
    const opened = await openWalRecords(scanWal(file, await readFile(file)), async () => Buffer.alloc(32));
    for (const payload of opened.payloads) {
      let decoded;
      try {
        decoded = decodeRecord(file, payload);
      } catch {
        continue;
      }
      for (const row of decoded.rows) if (row.seq >= job.fromSeq && row.seq < job.toSeq) found.push(row);
    }
  }
  const input = openObjectStore(job.shards);
  for (const { file, key } of job.shardFiles ?? []) {
    const plain = openSealedFile(file, await input.get(file), Buffer.from(key!, 'base64')).plain;
    for (const row of new ShardView(file, plain).rowRecords()) if (row.ts >= (job.minTs ?? -Infinity)) found.push(row);
  }
  const rows = lastBySeq(found);
  const out = openObjectStore({ kind: 'local', root });
  const entries = await writeDayShards(out, job.tenant, job.ordinal, groupByDay(rows), job.firstGen, (day, i) => {
    const k = job.outKeys[String(day)]![i]!;
    return { kek: k.kek, wrapped: Buffer.from(k.wrapped, 'base64'), key: Buffer.from(k.key, 'base64') };
  }, aesGcm);
  return { rows: rows.length, entries };
}

/** Both results equal: the same rows, the same entries (but for the sealed bytes' nonces), the same plain shard bytes. */
async function expectSameShards(job: SealJob, got: { rows: number; entries: ShardEntry[] }, want: { rows: number; entries: ShardEntry[] }, wantRoot: string): Promise<void> {
  expect(got.rows).toBe(want.rows);
  const strip = (e: ShardEntry) => ({ ...e, crc: 0, bytes: 0 });
  expect(got.entries.map(strip)).toEqual(want.entries.map(strip));
  const gotStore = openObjectStore(job.shards), wantStore = openObjectStore({ kind: 'local', root: wantRoot });
  for (const e of got.entries) {
    const key = Buffer.from(job.outKeys[String(e.day)]![0]!.key, 'base64');
    const a = openSealedFile(e.file, await gotStore.get(e.file), key).plain;
    const b = openSealedFile(e.file, await wantStore.get(e.file), key).plain;
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), `shard ${e.file} differs`).toBe(0);
  }
}

describe('seal job from columns', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('writes the same shards as row records + lastBySeq, for WAL seals and shard rewrites', { timeout: 300_000 }, async () => {
    const { dir, cleanup } = await tempDataDir('ps-sealcols-');
    cleanups.push(cleanup);
    const tenants = [{ tenant: 'pd-a', rows: 3000, days: 2 }, { tenant: 'pd-b', rows: 24_000, days: 9 }, { tenant: 'pd-c', rows: 80_000, days: 4 }];
    let checkedRows = 0;
    for (const [t, { tenant, rows, days }] of tenants.entries()) {
      const walDir = path.join(dir, tenant, 'wal');
      await mkdir(walDir, { recursive: true });
      const { files, nextSeq } = await writeRandomWal(walDir, 11 + t, rows, days);
      const outKeys = jobKeys(days);
      const seal: SealJob = {
        walFiles: files, walKeys: {}, outKeys, fromSeq: 150, toSeq: nextSeq - 37,
        shards: { kind: 'local', root: path.join(dir, tenant, 'shards') }, tenant, ordinal: t + 1, firstGen: 5,
      };
      const got = await runSealJob(seal);
      const want = await referenceJob(seal, path.join(dir, tenant, 'want'));
      await expectSameShards(seal, got, want, path.join(dir, tenant, 'want'));
      expect(got.entries.length).toBeGreaterThan(days - 1);
      checkedRows += got.rows;

      // a rewrite of those shards keeping rows from a cutoff inside a day (retention), into fresh keys
      const rewrite: SealJob = {
        walFiles: [], walKeys: {}, outKeys: jobKeys(days), fromSeq: 0, toSeq: Infinity, minTs: kT0 + Math.floor(0.6 * kDay),
        shardFiles: got.entries.map((e) => ({ file: e.file, crc: e.crc, key: outKeys[String(e.day)]![0]!.key })),
        shards: seal.shards, tenant, ordinal: t + 1, firstGen: 5 + got.entries.length,
      };
      const got2 = await runSealJob(rewrite);
      const want2 = await referenceJob(rewrite, path.join(dir, tenant, 'want2'));
      await expectSameShards(rewrite, got2, want2, path.join(dir, tenant, 'want2'));
      expect(got2.rows).toBeLessThan(got.rows);
    }
    expect(checkedRows).toBeGreaterThan(kChunkRows);
  });

  it('seals kind-3 (columnar) records into the same shards as the same rows written as kinds 1 and 2', { timeout: 300_000 }, async () => {
    const { dir, cleanup } = await tempDataDir('ps-sealcols3-');
    cleanups.push(cleanup);
    for (const [t, { tenant, rows, days }] of [{ tenant: 'pd-a', rows: 3000, days: 2 }, { tenant: 'pd-b', rows: 90_000, days: 6 }].entries()) {
      const job = async (columnar: boolean, root: string) => {
        const walDir = path.join(dir, tenant, root, 'wal');
        await mkdir(walDir, { recursive: true });
        const { files, nextSeq } = await writeRandomWal(walDir, 21 + t, rows, days, columnar);
        const seal: SealJob = {
          walFiles: files, walKeys: {}, outKeys, fromSeq: 150, toSeq: nextSeq - 37,
          shards: { kind: 'local', root: path.join(dir, tenant, root, 'shards') }, tenant, ordinal: t + 1, firstGen: 5,
        };
        return { seal, got: await runSealJob(seal) };
      };
      const outKeys = jobKeys(days);
      const rowsJob = await job(false, 'rows');
      const colsJob = await job(true, 'cols');
      await expectSameShards(colsJob.seal, colsJob.got, rowsJob.got, path.join(dir, tenant, 'rows', 'shards'));
      expect(colsJob.got.rows).toBeGreaterThan(rows / 2);
    }
  });
});

describe('WAL record rows read from the bytes', () => {
  /** The rows as msgpackr decodes the payload (the reference), or 'corrupt'. */
  function viaMsgpackr(payload: Uint8Array): unknown[][] | 'corrupt' {
    let v: unknown;
    try {
      v = unpack(payload);
    } catch {
      return 'corrupt';
    }
    if (!Array.isArray(v) || (v[0] !== 1 && v[0] !== 2) || typeof v[1] !== 'number' || !Array.isArray(v[2])) return 'corrupt';
    return (v[2] as unknown[][]).map((t, i) => [v[0] === 2 ? t[10] : v[1] + i, t[0], t[1], t[2], t[3], t[4], t[5] ?? undefined, t[6] ?? undefined, t[7] ?? undefined, t[8] ?? undefined, t[9] ?? undefined]);
  }
  function viaReader(payload: Uint8Array): unknown[][] | 'corrupt' {
    const out: unknown[][] = [];
    try {
      decodeRecordInto('x.wal', payload, (...row) => out.push(row));
    } catch {
      return 'corrupt';
    }
    return out;
  }

  it('decodes every payload as msgpackr does: written records, odd values, damaged bytes', () => {
    const r = rng(7);
    const texts = ['', 'A', 'ÄÖ', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(300), 'ok'];
    const nums = [0, 1, -1, 127, 128, -32, -33, 255, 256, -129, 65535, 65536, -32769, 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 2 ** 40, 0.5, -1.25, kT0 + 0.5, NaN];
    const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
    let fast = 0;
    for (let n = 0; n < 1500; n++) {
      const rows: RowRecord[] = Array.from({ length: Math.floor(r() * 20) }, (_, i) => {
        const row = randomRow(r, 1000 + i, ['AB123', 'XYZ9'], 3);
        if (r() < 0.2) row.plate = pick(texts);
        if (r() < 0.2) row.ts = pick(nums);
        if (r() < 0.2) row.latE7 = pick(nums);
        if (r() < 0.2) row.camera = pick(texts);
        if (r() < 0.2) row.region = pick(texts);
        if (r() < 0.2) row.confidence = pick(nums);
        if (r() < 0.1) row.readId = pick(texts);
        if (r() < 0.05) row.seq = pick(nums);
        return row;
      });
      let payload: Uint8Array = r() < 0.5 ? encodeReadsRecord(pick(nums), rows) : encodeRewriteRecord(rows);
      if (r() < 0.3) {
        payload = Buffer.from(payload);
        for (let k = 0; k < 1 + Math.floor(r() * 3); k++) payload[Math.floor(r() * payload.length)] = Math.floor(r() * 256);
      }
      if (r() < 0.05) payload = payload.subarray(0, Math.floor(r() * payload.length));
      if (r() < 0.05) payload = Buffer.concat([payload, Buffer.from([0xc0])]);
      const want = viaMsgpackr(payload);
      const got = viaReader(payload);
      expect(got).toEqual(want);
      if (readRecordRows(payload, () => {}) !== undefined) fast++;
    }
    expect(fast).toBeGreaterThan(300);
  });
});
