/**
 * glibc's malloc arenas, capped for the engine's processes.
 *
 * glibc gives each thread that meets a lock held its own malloc arena, up to 8 a core, and an arena
 * keeps what its thread freed for that thread's next allocations. The engine's threads (parse workers,
 * the seal worker, the query pool, the audit writer) allocate buffers that another thread frees, or free
 * them in bursts, so each arena grows to its thread's peak and stays there: under HTTP ingest the thread
 * arenas held 79–164 MiB of a server's RSS (bench/RESULTS.md "Where the RSS of HTTP ingest goes"). Two
 * arenas, shared by every thread started after the cap, keep that memory reusable by all of them.
 *
 * glibc reads `MALLOC_ARENA_MAX` only at start, which the command line cannot set for itself; `mallopt`
 * sets the same parameter at run time (src/core/libc.ts). Threads that already have an arena keep it,
 * so this runs before the engine starts its threads. An operator's own setting wins: with
 * `MALLOC_ARENA_MAX` or a `glibc.malloc.arena_max` tunable in the environment nothing is changed.
 */
import { libc } from './libc.js';

// malloc.h
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
const M_ARENA_MAX = -8;

/** The arenas every thread started from now on shares (the main thread's and one more). */
export const kMallocArenas = 2;

/** Caps glibc's malloc arenas at `kMallocArenas`; false where it was left alone (set by the operator, not glibc). */
export function capMallocArenas(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.MALLOC_ARENA_MAX !== undefined || env.GLIBC_TUNABLES?.includes('glibc.malloc.arena_max') === true) return false;
  const c = libc();
  // mallopt answers 1 when it took the value
  return c !== undefined && c.mallopt(M_ARENA_MAX, kMallocArenas) === 1;
}

/**
 * glibc's mmap threshold, fixed for a server: chunks of this size and more are mapped, and unmapped when freed
 * (2 MiB: above a request's body, its parsed lanes and a WAL group, 50–500 KB each, which glibc then keeps for
 * reuse; below a seal's or a shard load's row-sized transients, which come every ~1M reads and go back at once).
 */
export const kMmapThresholdBytes = 2 * 2 ** 20;
/** glibc's trim threshold, fixed for a server: free memory at a heap's top above this is given back at the free that makes it (8 MiB). */
export const kTrimThresholdBytes = 8 * 2 ** 20;

/**
 * Fixes glibc's mmap and trim thresholds at kMmapThresholdBytes and kTrimThresholdBytes (src/cli/main.ts, for
 * `serve` and `demo`); false where it was left alone: set by the operator (`MALLOC_MMAP_THRESHOLD_`,
 * `MALLOC_TRIM_THRESHOLD_`, or their `GLIBC_TUNABLES`), or no glibc.
 *
 * Why: by default glibc raises both whenever a mapped chunk of up to 32 MiB is freed (the mmap threshold to that
 * chunk's size, the trim threshold to twice it), so after a server's first seal the trim threshold sits at up
 * to 64 MiB. The free memory at the top of a thread arena's heap (a heap is at most 64 MiB) is then never given
 * back on a free, and `malloc_trim`, which the idle release calls, madvises the free chunks of every arena's bins
 * but not a thread heap's top (glibc's mtrim shrinks only the main arena's): the seal worker's and the parse
 * workers' transients stayed resident for the process's life, 68 MiB of thread arenas after 5M reads over HTTP,
 * the same 15 s later (bench/RESULTS.md, "Stop 31's end"). Fixed, a heap's top above kTrimThresholdBytes is
 * given back as it forms, and a transient of kMmapThresholdBytes or more never enters an arena. The cost is the
 * page faults of mapping those transients afresh (the dynamic thresholds exist to spare them): off the request
 * path, in the seal worker, the shard-open pool and a shard's load. `platesearch ingest` keeps glibc's dynamic
 * thresholds (its throughput is the target there, its process short-lived).
 */
export function fixMallocThresholds(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined) return false;
  if (/glibc\.malloc\.(mmap|trim)_threshold/.test(env.GLIBC_TUNABLES ?? '')) return false;
  const c = libc();
  if (c === undefined) return false;
  // either call ends glibc's dynamic adjustment of both; each answers 1 when it took the value
  return c.mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) === 1 && c.mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes) === 1;
}
