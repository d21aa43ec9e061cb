/**
 * One job of the seal worker (src/store/seal-worker.ts): the rows of rotated WAL files (a seal) or of
 * shard objects (a compaction or retention rewrite) become day shard objects; answers their manifest
 * entries and the row count. The rows are exactly those with fromSeq ≤ seq < toSeq in the WAL files, one
 * per seq (the copy read last wins); nothing written counts until the main thread commits the manifest.
 *
 * Memory (issue 11): rows are gathered as columns (src/store/seal-rows.ts), never as one object per WAL
 * row, and the shards are built and written one day at a time, so a job holds its rows' columns plus one
 * shard's build at a time. WAL files are streamed (wal.ts streamWal), not read whole.
 */
import { forEachWalPayload, streamWal } from './wal.js';
import { decodeRecordInto, type RowSink } from './wal-record.js';
import { SealRows } from './seal-rows.js';
import { writeDayShards } from './shard-writer.js';
import { isShardV1, ShardView } from './shard-format.js';
import { shardRowsV1 } from './shard-format-v1.js';
import { crc32c } from './crc32c.js';
import { compileHeld, type HoldReach } from '../model/hold.js';
import { openObjectStore } from './local-object-store.js';
import type { ObjectStoreSpec } from './object-store.js';
import type { ShardEntry } from './manifest.js';
import { openSealedFile } from '../crypto/sealed-file.js';
import { cipherInWorker, type Cipher } from '../crypto/cipher.js';
import { KeyDestroyed } from '../errors.js';

/** A data key as the worker gets it (the main thread holds the key store): base64 fields. */
export interface JobKey {
  kek: string;
  wrapped: string;
  key: string;
}

export interface SealJob {
  /** Rows come from these WAL files (seal) … */
  walFiles: string[];
  /** … or from these shard objects (keys in `shards`), each with its expected CRC32C and its data key (compaction and retention rewrites). */
  shardFiles?: Array<{ file: string; crc: number; key?: string }>;
  /** Data keys of the WAL lanes, wrapped (base64) → key (base64): the main thread opened them at replay or made them. */
  walKeys: Record<string, string>;
  /** Keys for the shards written, per day: enough for every file of the day (shard-writer.ts filesForRows). */
  outKeys: Record<string, JobKey[]>;
  /** With shard files: keep only rows with ts ≥ this (retention); compaction passes -Infinity. */
  minTs?: number;
  /** … and rows older than `minTs` that a legal hold reaches (src/model/hold.ts). */
  held?: HoldReach[];
  fromSeq: number;
  toSeq: number;
  /** The tenant's shard object store: read from and written to. */
  shards: ObjectStoreSpec;
  tenant: string;
  ordinal: number;
  firstGen: number;
  /** The cipher's module when it is not AES-256-GCM (a benchmark's stand-in; src/crypto/cipher.ts). */
  cipherModule?: string;
}

/** The answer to a job: the shards written and the rows they hold, or why not. */
export type SealAnswer = { id: number; ok: true; rows: number; entries: ShardEntry[] } | { id: number; ok: false; error: string };

const ciphers = new Map<string | undefined, Promise<Cipher>>();

/** Runs `job`: gathers its rows, writes its day shards; the rows they hold and their manifest entries. */
export async function runSealJob(job: SealJob): Promise<{ rows: number; entries: ShardEntry[] }> {
  let pending = ciphers.get(job.cipherModule);
  if (!pending) ciphers.set(job.cipherModule, (pending = cipherInWorker(job.cipherModule)));
  const cipher = await pending;
  const gathered = new SealRows();
  const { fromSeq, toSeq } = job;
  const fromWal: RowSink = (seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, readId) => {
    if (seq >= fromSeq && seq < toSeq) gathered.add(seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, readId);
  };
  for (const file of job.walFiles) {
    // read a window at a time and each block decoded into the columns as it is opened: neither the log's
    // bytes nor its plaintext are held whole (a 1M-row log is 70 MiB; reading it whole was 75 MiB of such a job's peak)
    await forEachWalPayload(await streamWal(file), async (ref) => {
      const k = job.walKeys[ref.wrapped.toString('base64')];
      if (k === undefined) throw KeyDestroyed(`no key for a lane of ${file}`);
      return Buffer.from(k, 'base64');
    }, cipher, (payload) => {
      try {
        // a columnar record (kind 3) goes in as its columns: no row-by-row decode, labels coded once a record
        decodeRecordInto(file, payload, fromWal, (w) => gathered.addColumns(w, fromSeq, toSeq));
      } catch (err) {
        // a record that does not decode (thrown before any of its rows) was skipped by replay too; a row
        // the columns cannot hold fails the job (the main thread then seals from its live rows)
        if ((err as { code?: string }).code !== 'PS_CORRUPT_FILE') throw err;
      }
    });
  }
  const objects = openObjectStore(job.shards);
  for (const { file: name, crc, key } of job.shardFiles ?? []) {
    const file = objects.locate(name);
    const stored = await objects.get(name);
    if (crc32c(stored) !== crc) throw new Error(`shard checksum mismatch: ${file}`);
    const bytes = key === undefined ? stored : openSealedFile(file, stored, Buffer.from(key, 'base64'), undefined, 0, cipher).plain;
    const minTs = job.minTs ?? -Infinity;
    const isHeld = job.held ? compileHeld(job.held) : undefined;
    const rows = isShardV1(bytes) ? shardRowsV1(file, bytes) : new ShardView(file, bytes).rowRecords();
    for (const r of rows) {
      if (r.ts >= minTs || (isHeld && isHeld(r.plate, r.ts))) {
        gathered.add(r.seq, r.plate, r.ts, r.latE7, r.lonE7, r.camera, r.region, r.confidence, r.make, r.color, r.readId);
      }
    }
  }
  const { rows, days } = gathered.byDay();
  const entries = await writeDayShards(objects, job.tenant, job.ordinal, days, job.firstGen, (day, i) => {
    const k = job.outKeys[String(day)]?.[i];
    if (!k) throw new Error(`no key for shard ${i} of day ${day}`);
    return { kek: k.kek, wrapped: Buffer.from(k.wrapped, 'base64'), key: Buffer.from(k.key, 'base64') };
  }, cipher);
  return { rows, entries };
}
