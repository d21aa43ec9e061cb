/**
 * The shard format migration, 1 → 2 (issue 11): a data dir written before format 2 (Arrow IPC shards,
 * src/store/shard-format-v1.ts, sealed or still plaintext from before encryption at rest) is converted on
 * its first open, one shard at a time, before any shard is loaded:
 *
 *   for each manifest entry without `format: 2`:
 *     read the object (size and CRC32C against the entry, then decrypt with its data key when it has one)
 *     → its rows → format 2 shard object(s) under fresh data keys of the same day, new generation names
 *     → COMMIT manifest { entry replaced by the new entries, nextShardGen past them }
 *     → delete the old object
 *
 * Crash safety rests on the manifest commit, as for compaction (src/store/sealer.ts): kill -9 before the
 * commit leaves the old entry authoritative and the new objects unnamed (openShards deletes them as orphans
 * before it migrates again); after it, the new entry is authoritative and the old object an orphan. At no
 * point does the manifest name neither. Seqs, and so read ids and cursors, are carried over unchanged.
 *
 * A format 1 shard that cannot be read (damaged, or its day key shredded) is left as it is: loading then
 * reports it exactly as it would have before the migration (corrupt with a coded error naming the file, or
 * shredded), and a later open tries again.
 */
import { isKeyDestroyed, wrappedFromJson } from '../crypto/data-keys.js';
import { dayEpoch } from '../crypto/key-names.js';
import { openSealedFile } from '../crypto/sealed-file.js';
import { CorruptFile } from '../errors.js';
import { crc32c } from './crc32c.js';
import type { ShardEntry, TenantManifest } from './manifest.js';
import { kShardVersion } from './shard-format.js';
import { shardRowsV1 } from './shard-format-v1.js';
import { groupByDay, writeDayShards } from './shard-writer.js';
import type { TenantStore } from './tenant-store.js';
import type { RowRecord } from './wal-record.js';

/** True when a manifest entry names a shard of an older format than this build writes. */
export function needsMigration(e: ShardEntry): boolean {
  return (e.format ?? 1) !== kShardVersion;
}

/** Reads and checks one format 1 shard and returns its rows (in seq order). Throws coded errors naming the file. */
async function readV1Rows(store: TenantStore, entry: ShardEntry): Promise<RowRecord[]> {
  const objects = store.shardObjects;
  const file = objects.locate(entry.file);
  const stored = await objects.get(entry.file).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'ENOENT') throw CorruptFile(`Shard is missing: ${file}`, { file });
    throw err;
  });
  if (stored.length !== entry.bytes) throw CorruptFile(`Shard size ${stored.length} differs from the manifest's ${entry.bytes}: ${file}`, { file });
  if (crc32c(stored) !== entry.crc) throw CorruptFile(`Shard checksum mismatch: ${file}`, { file });
  const bytes = entry.key ? openSealedFile(file, stored, await store.keys.openKey(wrappedFromJson(entry.key)), undefined, 0, store.keys.cipher).plain : stored;
  const rows = shardRowsV1(file, bytes);
  if (rows.length !== entry.rows) throw CorruptFile(`Shard row count differs from the manifest: ${file}`, { file });
  return rows.sort((a, b) => a.seq - b.seq);
}

/**
 * Converts every older-format shard of `store`'s manifest to the current format (see the file comment).
 * Call before the shards are loaded and after unnamed objects were swept. Returns the number converted.
 */
export async function migrateShards(store: TenantStore): Promise<number> {
  let converted = 0;
  for (const old of store.manifest.shards.filter(needsMigration)) {
    let rows: RowRecord[];
    try {
      rows = await readV1Rows(store, old);
    } catch (err) {
      // left for loading to report (damaged, or shredded by design)
      if (isKeyDestroyed(err) || (err as { code?: string }).code?.startsWith('PS_')) continue;
      throw err;
    }
    const firstGen = store.manifest.nextShardGen ?? 1;
    const entries = await writeDayShards(store.shardObjects, store.tenant, store.ordinal, groupByDay(rows), firstGen, (day) =>
      store.keys.newKey(dayEpoch(store.tenant, day)), store.keys.cipher);
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
