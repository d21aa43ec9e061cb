/**
 * Memory snapshots of this process for the resident-bytes-per-read figure: collected after a full GC so
 * that the garbage of data generation does not count. `rss` covers everything (JS heap, WebAssembly
 * arenas, worker threads, native allocations of DuckDB if it is open); `heapUsed` the JS objects;
 * `external` / `arrayBuffers` the buffers outside the heap (shared WebAssembly memories count here only
 * when V8 tracks them, so the engine's own `residentBytes` is reported next to these).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

let gc: (() => void) | undefined;

/** Full garbage collection (twice: weak callbacks free more on the second pass). */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}

export function snapshot(): MemorySnapshot {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

export function difference(after: MemorySnapshot, before: MemorySnapshot): MemorySnapshot {
  return {
    rss: after.rss - before.rss,
    heapUsed: after.heapUsed - before.heapUsed,
    external: after.external - before.external,
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
  };
}
