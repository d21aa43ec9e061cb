/**
 * Memory given back to the OS once the engine goes idle: the arenas' free pages (Arena.releaseFree) and
 * glibc's free malloc memory (`malloc_trim`, src/core/libc.ts).
 *
 * Why idle, not at each free: under steady ingest the next live generation is allocated into the holes the
 * sealed one left within seconds, and a released page costs a page fault at its next touch (~11 µs on the
 * benchmark VM, docs/storage-v2.md "Fewer page faults at open"): released at every seal, the 56 MiB of a
 * 1M-row generation would be faulted in again each time. So the release waits for a tick of `idleMs` with no
 * arena allocation or free after one with some: ingest has paused, a seal or retention has finished. The
 * same moment suits malloc_trim: the seal's and the parse's transients are freed by then, and each malloc
 * arena is locked only while it is trimmed.
 *
 *   ticks      │ alloc/free │ alloc/free │   quiet    │   quiet    │ alloc/free │   quiet    │
 *   released   ·            ·            ·  release   ·  (nothing) ·            ·  release   ·
 *
 * And once more when the collector frees what the work left: the main thread's ArrayBuffers (a shard's file
 * bytes and re-encoding scratch at a load, a batch's columns) are freed by a full collection, which under steady
 * work comes often but after the work stops comes only seconds later (V8's memory reducer), after the release
 * above. Their malloc memory then stayed in glibc's main arena: 108 MiB resident after 5M reads over HTTP, of which
 * ~85 MiB freed by the collector after the release (bench/RESULTS.md, "HTTP ingest RSS: the young generations
 * capped, malloc trimmed after the collector"). So a quiet tick also trims when the process's ArrayBuffer bytes
 * fell by kTrimAfterFreedBytes since the last trim (their highest since then, so what grows and is freed between
 * two ticks counts too): one `process.memoryUsage()` a second while quiet, no collection made.
 *
 * With `collect` (the engine's), the release after activity makes that collection itself when the main thread
 * holds kCollectAfterBytes more (JS heap used + ArrayBuffers) than after the last one it made: what the work
 * left (a retired live generation's plate strings, request and WAL buffers, parse results) is then freed before
 * the trim, at the moment the work stops, not whenever V8's memory reducer comes to it (after 5M reads over HTTP,
 * not within 18 s of the drain; bench/RESULTS.md, "Issue 11: HTTP ingest RSS, the live tables in the arena").
 * A full collection stops the thread for tens of milliseconds: made once a pause, not at every quiet tick.
 */
import { getHeapStatistics } from 'node:v8';
import { collectGarbage } from '../store/worker-gc.js';
import type { ArenaSet } from './arena.js';
import { libc } from './libc.js';

/** An engine that saw no arena allocation or free for one tick this long gives its free pages back. */
export const kIdleReleaseMs = 1000;
/** Free ranges smaller than this stay resident: most are scratch and small holes reused at once (256 KiB). */
export const kReleaseMinBytes = 256 * 1024;
/** ArrayBuffer bytes the collector must have freed since the last trim for a quiet tick to trim again (16 MiB: a trim walks every arena). */
export const kTrimAfterFreedBytes = 16 * 2 ** 20;
/** Growth of the main thread's JS heap and ArrayBuffers since the last collection made here that makes a release after activity collect first (32 MiB). */
export const kCollectAfterBytes = 32 * 2 ** 20;

export interface IdleReleaseOptions {
  idleMs?: number;
  minBytes?: number;
  /** Call malloc_trim too (default true). */
  trim?: boolean;
  /** Make a full collection before a release after activity, when the thread grew by kCollectAfterBytes (default false). */
  collect?: boolean;
}

/** Watches an ArenaSet's activity and releases once it goes quiet (see the file comment). */
export class IdleRelease {
  /** Bytes of arena pages given back so far, and the releases made (bench figures, tests). */
  releasedBytes = 0;
  releases = 0;
  /** malloc_trim calls made on quiet ticks after the collector freed ArrayBuffers (not counting releases). */
  trimsAfterCollector = 0;
  /** Full collections made before releases (`collect`). */
  collections = 0;
  /** The thread's heap used + ArrayBuffers after the last collection made here. */
  private heldAfterCollect = 0;
  /** The process's ArrayBuffer bytes at their highest since the last trim. */
  private buffersHigh = 0;
  private lastActivity = 0;
  private pending = false;
  private readonly timer: NodeJS.Timeout;
  private readonly minBytes: number;
  private readonly trim: boolean;
  private readonly collect: boolean;

  constructor(private readonly arenas: ArenaSet, options: IdleReleaseOptions = {}) {
    this.minBytes = options.minBytes ?? kReleaseMinBytes;
    this.trim = options.trim ?? true;
    this.collect = options.collect ?? false;
    if (this.collect) this.heldAfterCollect = heldBytes();
    this.timer = setInterval(() => this.tick(), options.idleMs ?? kIdleReleaseMs);
    this.timer.unref();
  }

  /** One tick: note activity since the last one, or release when quiet after some. */
  tick(): void {
    const activity = this.activity();
    if (activity !== this.lastActivity) {
      this.pending = true;
      this.lastActivity = activity;
      return;
    }
    if (this.pending) {
      if (this.collect) this.collectIfGrown();
      this.release();
    } else if (this.trim) this.trimAfterCollector();
  }

  /** A full collection when the thread holds kCollectAfterBytes more than after the last one made here. */
  private collectIfGrown(): void {
    if (heldBytes() - this.heldAfterCollect < kCollectAfterBytes) return;
    collectGarbage();
    this.collections++;
    this.heldAfterCollect = heldBytes();
  }

  /** On a quiet tick: trims malloc when the collector freed kTrimAfterFreedBytes of ArrayBuffers since the last trim. */
  private trimAfterCollector(): void {
    const buffers = arrayBufferBytes();
    if (this.buffersHigh - buffers >= kTrimAfterFreedBytes) {
      libc()?.mallocTrim(0);
      this.trimsAfterCollector++;
      this.buffersHigh = buffers;
    } else if (buffers > this.buffersHigh) this.buffersHigh = buffers;
  }

  /** Gives every arena's free pages back (ranges ≥ minBytes) and trims malloc now; returns the arena bytes released. */
  release(): number {
    this.pending = false;
    // what it gives back is counted as seen: a release made on request (at open) is not made again at the next tick
    this.lastActivity = this.activity();
    let bytes = 0;
    for (const a of this.arenas.arenas) bytes += a.releaseFree(this.minBytes);
    if (this.trim) {
      libc()?.mallocTrim(0);
      this.buffersHigh = arrayBufferBytes();
    }
    this.releasedBytes += bytes;
    this.releases++;
    return bytes;
  }

  /** Allocations and frees of every arena so far. */
  private activity(): number {
    let n = 0;
    for (const a of this.arenas.arenas) n += a.allocs + a.frees;
    return n;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** This thread's JS heap in use (live and not yet collected) and its ArrayBuffers. */
function heldBytes(): number {
  return getHeapStatistics().used_heap_size + arrayBufferBytes();
}

/** Bytes of every ArrayBuffer of this thread's isolate (Buffers, typed arrays; not the wasm memories). */
function arrayBufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}
