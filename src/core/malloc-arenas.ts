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
