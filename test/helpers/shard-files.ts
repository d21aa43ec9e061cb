/** Shard files written straight into a LocalObjectStore's directory, for loader tests (no engine, no encryption). */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c } from '../../src/store/crc32c.js';
import type { ShardEntry } from '../../src/store/manifest.js';
import { buildShard } from '../../src/store/shard-format.js';
import type { RowRecord } from '../../src/store/wal-record.js';

/** Builds tenant pd-a's shard of `day` from `rows` as file `name` in `dir`; returns its manifest entry and size. */
export async function putShardFile(dir: string, name: string, day: number, rows: RowRecord[]): Promise<{ entry: ShardEntry; fileBytes: number }> {
  const { bytes, meta } = buildShard('pd-a', 3, day, rows);
  await writeFile(path.join(dir, name), bytes);
  const entry: ShardEntry = { format: 2, file: name, day, rows: meta.rows, minTs: meta.minTs, maxTs: meta.maxTs, minSeq: meta.minSeq, maxSeq: meta.maxSeq, bytes: bytes.length, dictCount: meta.dictCount, crc: crc32c(bytes) };
  return { entry, fileBytes: bytes.length };
}
