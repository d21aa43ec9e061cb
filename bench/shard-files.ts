/**
 * Shard files built in a benchmark, loaded as the engine loads them (loadShard: the in-memory lanes), from memory
 * instead of an object store: bench/shard-lanes.ts and bench/seq-order.ts scan them with the kernels.
 */
import type { ArenaSet } from '../src/core/arena.js';
import { crc32c } from '../src/store/crc32c.js';
import type { ShardEntry } from '../src/store/manifest.js';
import type { ObjectStore } from '../src/store/object-store.js';
import { shardBytesVersion, ShardView } from '../src/store/shard-format.js';
import { loadShard, type LoadedShard } from '../src/store/shard-loader.js';

/** One shard file's bytes (plaintext, format 2 or 3) under a name unique among those loaded together. */
export interface ShardFile {
  name: string;
  day: number;
  rows: number;
  bytes: Uint8Array;
}

/** Loads `files` into `arenas`, in order. */
export async function loadShardFiles(arenas: ArenaSet, files: readonly ShardFile[]): Promise<LoadedShard[]> {
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  // the loader's plaintext path reads through these three calls only
  const objects = {
    locate: (key: string) => key,
    head: async (key: string) => byName.get(key)?.length,
    getRange: async (key: string, offset: number, length: number, out: Uint8Array) => void out.set(byName.get(key)!.subarray(offset, offset + length)),
  } as unknown as ObjectStore;
  const shards: LoadedShard[] = [];
  for (const f of files) {
    const dictCount = new ShardView(f.name, f.bytes).header.meta.dictCount;
    const entry = { file: f.name, day: f.day, rows: f.rows, bytes: f.bytes.length, dictCount, crc: crc32c(f.bytes), format: shardBytesVersion(f.bytes) } as ShardEntry;
    shards.push(await loadShard(arenas, objects, entry));
  }
  return shards;
}
