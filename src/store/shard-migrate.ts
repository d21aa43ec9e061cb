/**
 * The shard format migrations, 1 → 3 and 2 → 3 (issue 11): a data dir written before format 3 is converted on its
 * first open, one shard at a time, before any shard is loaded:
 *
 *   for each manifest entry of a format older than this build writes (shard-format-v3.ts writtenShardFormat):
 *     read the object (size and CRC32C against the entry, then decrypt with its data key when it has one)
 *     format 1 (Arrow IPC, src/store/shard-format-v1.ts): → its rows → shard object(s) built as any seal builds them
 *     format 2: → its lanes re-encoded as an open would (src/store/shard-format-v3.ts), no rows decoded: one object
 *     each new object sealed under a fresh data key of the same day, with a new generation name
 *     → COMMIT manifest { entry replaced by the new entries, nextShardGen past them }
 *     → delete the old object
 *
 * Crash safety rests on the manifest commit, as for compaction (src/store/sealer.ts): kill -9 before the
 * commit leaves the old entry authoritative and the new objects unnamed (openShards deletes them as orphans
 * before it migrates again); after it, the new entry is authoritative and the old object an orphan. At no
 * point does the manifest name neither. Seqs, and so read ids and cursors, are carried over unchanged.
 *
 * A shard that cannot be read (damaged, or its day key shredded) is left as it is: loading then reports it
 * exactly as it would have before the migration (corrupt with a coded error naming the file, or shredded; a
 * format 2 shard is still loadable, re-encoded at load), and a later open tries again.
 */
import { isKeyDestroyed, wrappedFromJson } from '../crypto/data-keys.js';
import { dayEpoch } from '../crypto/key-names.js';
import { openSealedFile } from '../crypto/sealed-file.js';
import { CorruptFile } from '../errors.js';
import { crc32c } from './crc32c.js';
import type { ShardEntry, TenantManifest } from './manifest.js';
import { shardFileName, ShardView } from './shard-format.js';
import { storedShardBytes, writtenShardFormat } from './shard-format-v3.js';
import { shardRowsV1 } from './shard-format-v1.js';
import { groupByDay, putSealedShard, writeDayShards } from './shard-writer.js';
import type { TenantStore } from './tenant-store.js';
import type { RowRecord } from './wal-record.js';

/** True when a manifest entry names a shard of an older format than this build writes. */
export function needsMigration(e: ShardEntry): boolean {
  return (e.format ?? 1) < writtenShardFormat();
}

/** Reads and checks one shard object against its entry (size, CRC32C) and opens it: its plaintext. Throws coded errors naming the file. */
async function readPlain(store: TenantStore, entry: ShardEntry): Promise<Uint8Array> {
  const objects = store.shardObjects;
  const file = objects.locate(entry.file);
  const stored = await objects.get(entry.file).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'ENOENT') throw CorruptFile(`Shard is missing: ${file}`, { file });
    throw err;
  });
  if (stored.length !== entry.bytes) throw CorruptFile(`Shard size ${stored.length} differs from the manifest's ${entry.bytes}: ${file}`, { file });
  if (crc32c(stored) !== entry.crc) throw CorruptFile(`Shard checksum mismatch: ${file}`, { file });
  return entry.key ? openSealedFile(file, stored, await store.keys.openKey(wrappedFromJson(entry.key)), undefined, 0, store.keys.cipher).plain : stored;
}

/** Reads and checks one format 1 shard and returns its rows (in seq order). Throws coded errors naming the file. */
async function readV1Rows(store: TenantStore, entry: ShardEntry): Promise<RowRecord[]> {
  const file = store.shardObjects.locate(entry.file);
  const rows = shardRowsV1(file, await readPlain(store, entry));
  if (rows.length !== entry.rows) throw CorruptFile(`Shard row count differs from the manifest: ${file}`, { file });
  return rows.sort((a, b) => a.seq - b.seq);
}

/**
 * Reads and checks one format 2 shard and returns the bytes it is stored as now (format 3), its lanes re-encoded
 * as an open would. Throws coded errors naming the file.
 */
async function readV2Stored(store: TenantStore, entry: ShardEntry): Promise<Uint8Array> {
  const file = store.shardObjects.locate(entry.file);
  const plain = await readPlain(store, entry);
  const head = new ShardView(file, plain).header.meta;
  if (head.rows !== entry.rows || head.dictCount !== entry.dictCount) throw CorruptFile(`Shard row count differs from the manifest: ${file}`, { file });
  return storedShardBytes(plain, file);
}

/** Writes `old` (format 1 or 2) as current-format shard objects from generation `firstGen`; their entries. */
async function convert(store: TenantStore, old: ShardEntry, firstGen: number): Promise<ShardEntry[] | undefined> {
  const newKey = (day: number) => store.keys.newKey(dayEpoch(store.tenant, day));
  try {
    if ((old.format ?? 1) === 1) {
      const rows = await readV1Rows(store, old);
      return await writeDayShards(store.shardObjects, store.tenant, store.ordinal, groupByDay(rows), firstGen, newKey, store.keys.cipher);
    }
    const bytes = await readV2Stored(store, old);
    return [await putSealedShard(store.shardObjects, shardFileName(old.day, firstGen), old.day, bytes, old, await newKey(old.day), store.keys.cipher)];
  } catch (err) {
    // left for loading to report (damaged, or shredded by design)
    if (isKeyDestroyed(err) || (err as { code?: string }).code?.startsWith('PS_')) return undefined;
    throw err;
  }
}

/**
 * Converts every older-format shard of `store`'s manifest to the current format (see the file comment).
 * Call before the shards are loaded and after unnamed objects were swept. Returns the number converted.
 */
export async function migrateShards(store: TenantStore): Promise<number> {
  let converted = 0;
  for (const old of store.manifest.shards.filter(needsMigration)) {
    const firstGen = store.manifest.nextShardGen ?? 1;
    const entries = await convert(store, old, firstGen);
    if (!entries) continue;
    const shards: ShardEntry[] = [];
    for (const e of store.manifest.shards) {
      if (e.file === old.file) shards.push(...entries);
      else shards.push(e);
    }
    const next: TenantManifest = { ...store.manifest, shards, nextShardGen: firstGen + entries.length };
    await store.saveManifest(next);
    await store.shardObjects.delete([old.file]);
    converted++;
  }
  return converted;
}
