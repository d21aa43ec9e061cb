/**
 * The seal worker: turns the rows of rotated WAL files into day shard files off the main thread, so
 * sealing never stalls ingest or searches. It re-reads the WAL files itself (the rows are exactly those
 * with fromSeq ≤ seq < toSeq in them), builds and writes the shards, and answers their manifest entries
 * and the row count; the main thread checks the count against its live rows, loads and commits.
 * Plain JS at run time (dist/src/store/seal-worker.js).
 *
 * One worker serves an engine's seals, compactions and retention rewrites for the engine's life
 * (src/store/seal-worker-host.ts): jobs arrive as messages `{id, job}` and are answered `{id, ok, …}`.
 * A job holds everything it needs (files, keys, the object store's spec), so nothing carries over from
 * one job to the next but loaded modules and ciphers; nothing it writes counts until the main thread
 * commits the manifest, so a worker that dies mid-job leaves orphans, as a crash does.
 */
import { parentPort } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { openWalRecords, scanWal } from './wal.js';
import { decodeRecord, type RowRecord } from './wal-record.js';
import { lastBySeq } from './rows-by-seq.js';
import { groupByDay, writeDayShards } from './shard-writer.js';
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
import { collectGarbage } from './worker-gc.js';

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

async function run(job: SealJob) {
  let pending = ciphers.get(job.cipherModule);
  if (!pending) ciphers.set(job.cipherModule, (pending = cipherInWorker(job.cipherModule)));
  const cipher = await pending;
  // rows as read; a seq met twice keeps its last copy (as a Map by seq did, without a hash entry per row)
  const found: RowRecord[] = [];
  for (const file of job.walFiles) {
    const scan = scanWal(file, await readFile(file));
    const opened = await openWalRecords(scan, async (ref) => {
      const k = job.walKeys[ref.wrapped.toString('base64')];
      if (k === undefined) throw KeyDestroyed(`no key for a lane of ${file}`);
      return Buffer.from(k, 'base64');
    }, cipher);
    for (const payload of opened.payloads) {
      let decoded;
      try {
        decoded = decodeRecord(file, payload);
      } catch {
        continue; // the main thread skipped it too when it replayed
      }
      for (const r of decoded.rows) if (r.seq >= job.fromSeq && r.seq < job.toSeq) found.push(r);
    }
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
    for (const r of rows) if (r.ts >= minTs || (isHeld && isHeld(r.plate, r.ts))) found.push(r);
  }
  const rows = lastBySeq(found);
  const entries = await writeDayShards(objects, job.tenant, job.ordinal, groupByDay(rows), job.firstGen, (day, i) => {
    const k = job.outKeys[String(day)]?.[i];
    if (!k) throw new Error(`no key for shard ${i} of day ${day}`);
    return { kek: k.kek, wrapped: Buffer.from(k.wrapped, 'base64'), key: Buffer.from(k.key, 'base64') };
  }, cipher);
  return { rows: rows.length, entries };
}

if (parentPort) {
  const port = parentPort;
  let inFlight = 0;
  port.on('message', (m: { id: number; job: SealJob }) => {
    inFlight++;
    run(m.job).then(
      (res) => port.postMessage({ id: m.id, ok: true, ...res } satisfies SealAnswer),
      (err: Error) => port.postMessage({ id: m.id, ok: false, error: String(err?.stack ?? err) } satisfies SealAnswer),
    ).finally(() => {
      // idle: the job's garbage goes now, not when the next job needs room (src/store/worker-gc.ts)
      if (--inFlight === 0) setImmediate(() => inFlight === 0 && collectGarbage());
    });
  });
}
