/**
 * Writes rows as day shard files (atomic: temp, fsync, rename, fsync dir) and returns their manifest
 * entries. Pure file work, no arenas: it runs in the seal worker (src/store/seal-worker.ts) or, as a
 * fallback, on the calling thread.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c } from './crc32c.js';
import { writeFileAtomic } from './durable-fs.js';
import type { ShardEntry } from './manifest.js';
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

/** Writes `byDay` as shard files named with generations firstGen, firstGen+1, …; returns the entries. */
export async function writeDayShards(dir: string, tenant: string, ordinal: number, byDay: Map<number, RowRecord[]>, firstGen: number): Promise<ShardEntry[]> {
  await mkdir(dir, { recursive: true });
  const entries: ShardEntry[] = [];
  let gen = firstGen;
  for (const [day, all] of [...byDay.entries()].sort((a, b) => a[0] - b[0])) {
    for (let i = 0; i < all.length; i += kShardRowsCap) {
      const rows = all.slice(i, i + kShardRowsCap);
      const name = shardFileName(day, gen++);
      const { bytes, meta } = buildShard(tenant, ordinal, day, rows);
      await writeFileAtomic(path.join(dir, name), bytes);
      entries.push({
        file: name, day, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq,
        bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes),
      });
    }
  }
  return entries;
}
