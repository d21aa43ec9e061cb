/**
 * Writes rows as day shard objects (one atomic, durable put each: src/store/object-store.ts) and returns
 * their manifest entries. No arenas: it runs in the seal worker (src/store/seal-worker.ts) or, as a
 * fallback, on the calling thread.
 */
import { crc32c } from './crc32c.js';
import type { ShardEntry } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { buildShard, dayOf, shardFileName } from './shard-format.js';
import type { RowRecord } from './wal-record.js';

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

/** Writes `byDay` as shard objects named with generations firstGen, firstGen+1, …; returns the entries. */
export async function writeDayShards(objects: ObjectStore, tenant: string, ordinal: number, byDay: Map<number, RowRecord[]>, firstGen: number): Promise<ShardEntry[]> {
  const entries: ShardEntry[] = [];
  let gen = firstGen;
  for (const [day, all] of [...byDay.entries()].sort((a, b) => a[0] - b[0])) {
    for (let i = 0; i < all.length; i += kShardRowsCap) {
      const rows = all.slice(i, i + kShardRowsCap);
      const name = shardFileName(day, gen++);
      const { bytes, meta } = buildShard(tenant, ordinal, day, rows);
      await objects.put(name, bytes);
      entries.push(shardEntryOf(name, day, bytes, meta));
    }
  }
  return entries;
}

/** The manifest entry of shard bytes just written as object `name`. */
export function shardEntryOf(name: string, day: number, bytes: Uint8Array, meta: { rows: number; minTs: number; maxTs: number; minSeq: number; maxSeq: number; dictCount: number }): ShardEntry {
  return {
    file: name, day, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq,
    bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes),
  };
}
