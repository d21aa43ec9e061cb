/**
 * Writes rows as day shard objects (one atomic, durable put each: src/store/object-store.ts) and returns
 * their manifest entries. No arenas: it runs in the seal worker (src/store/seal-worker.ts) or, as a
 * fallback, on the calling thread.
 *
 * Every file is sealed (src/crypto/sealed-file.ts) under a data key of its own, made by the caller for
 * the file's day (`keyFor`) and wrapped under the tenant's KEK of that day; the wrapped key goes into the
 * manifest entry (the tenant's keyring of shards), never into the file. The entry's CRC32C and size are of
 * the stored (sealed) bytes, `plainBytes` of the shard file inside.
 */
import { crc32c } from './crc32c.js';
import type { ShardEntry } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { buildShard, dayOf, shardBytesVersion, shardFileName, type ShardSource } from './shard-format.js';
import { storedShardBytes } from './shard-format-v3.js';

import type { RowRecord } from './wal-record.js';
import { kSealedKindShard, sealedSize, sealFile } from '../crypto/sealed-file.js';
import type { LanePool } from './lane-pool.js';
import { wrappedToJson, type FileKey } from '../crypto/data-keys.js';
import type { Cipher } from '../crypto/cipher.js';

/** Rows [start, end) of a ShardSource. */
function sliceSource(src: ShardSource, start: number, end: number): ShardSource {
  if (start === 0 && end === src.length) return src;
  return {
    length: end - start,
    seq: (i) => src.seq(start + i), ts: (i) => src.ts(start + i), latE7: (i) => src.latE7(start + i), lonE7: (i) => src.lonE7(start + i),
    plate: (i) => src.plate(start + i), camera: (i) => src.camera(start + i), region: (i) => src.region(start + i),
    confidence: (i) => src.confidence(start + i), make: (i) => src.make(start + i), color: (i) => src.color(start + i), readId: (i) => src.readId(start + i),
  };
}

/** The data key of the `index`-th file of `day` in one write (each file gets its own). */
export type ShardKeySource = (day: number, index: number) => FileKey | Promise<FileKey>;

/** Files a day's rows become: what a caller makes keys for before handing the job to the seal worker. */
export function filesForRows(rows: number): number {
  return Math.max(1, Math.ceil(rows / kShardRowsCap));
}

/** Rows per shard file at most: a busy day becomes several files, each well inside one 4 GiB arena. */
export const kShardRowsCap = 1 << 24;

export function groupByDay(rows: Iterable<RowRecord>): Map<number, RowRecord[]> {
  const byDay = new Map<number, RowRecord[]>();
  for (const r of rows) {
    const d = dayOf(r.ts);
    let list = byDay.get(d);
    if (!list) byDay.set(d, (list = []));
    list.push(r);
  }
  return byDay;
}

/**
 * Writes `byDay` as shard objects sealed with `cipher` (the data keys': AES-256-GCM), named with
 * generations firstGen, firstGen+1, …; returns the entries.
 */
export async function writeDayShards(objects: ObjectStore, tenant: string, ordinal: number, byDay: Map<number, readonly RowRecord[] | ShardSource>, firstGen: number, keyFor: ShardKeySource, cipher: Cipher): Promise<ShardEntry[]> {
  const entries: ShardEntry[] = [];
  let gen = firstGen;
  for (const [day, all] of [...byDay.entries()].sort((a, b) => a[0] - b[0])) {
    for (let i = 0; i < all.length; i += kShardRowsCap) {
      const rows = Array.isArray(all) ? (all as readonly RowRecord[]).slice(i, i + kShardRowsCap) : sliceSource(all as ShardSource, i, Math.min(all.length, i + kShardRowsCap));
      const name = shardFileName(day, gen++);
      const built = buildShard(tenant, ordinal, day, rows);
      // the lanes as an open holds them (format 3: src/store/shard-format-v3.ts), re-encoded here once
      const bytes = storedShardBytes(built.bytes, objects.locate(name));
      const meta = built.meta;
      const key = await keyFor(day, i / kShardRowsCap);
      entries.push(await putSealedShard(objects, name, day, bytes, meta, key, cipher));
    }
  }
  return entries;
}

/** A bulk load's buffers for putSealedShard: where the sealed file is laid out; `sealed` runs once `bytes` are no longer read. */
export interface SealReuse {
  lanes: LanePool;
  sealed(): void;
}

type ShardMetaFields = { rows: number; minTs: number; maxTs: number; minSeq: number; maxSeq: number; dictCount: number };

/**
 * Seals shard bytes under `key` (its own data key) and puts them as object `name`; returns the manifest
 * entry: CRC32C and size of the stored (sealed) bytes, `plainBytes` of the shard file, the wrapped key, its format.
 */
export async function putSealedShard(objects: ObjectStore, name: string, day: number, bytes: Uint8Array, meta: ShardMetaFields, key: FileKey, cipher: Cipher, reuse?: SealReuse): Promise<ShardEntry> {
  // with `reuse` (a bulk load's), the sealed file is laid out in a buffer of its pool, given back once put
  const plainBytes = bytes.length; // `bytes` may be moved away once sealed (reuse.sealed)
  const format = shardBytesVersion(bytes);
  const into = reuse?.lanes.u8(sealedSize(plainBytes));
  const sealed = sealFile(kSealedKindShard, key.key, bytes, undefined, undefined, cipher, into);
  reuse?.sealed();
  await objects.put(name, sealed);
  let crc = 0, size = 0;
  for (const c of sealed) {
    crc = crc32c(c, crc);
    size += c.length;
  }
  if (into) reuse!.lanes.give(into);
  return {
    file: name, day, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq,
    bytes: size, dictCount: meta.dictCount, crc, plainBytes, key: wrappedToJson(key), format,
  };
}
