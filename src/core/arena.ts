/**
 * Arenas: shared `WebAssembly.Memory` objects that hold segments (columns, dictionaries, zone maps)
 * and per-query scratch, with a simple region allocator.
 *
 * wasm32 memories are at most 4 GiB and Node 20 has neither memory64 nor multi-memory (DESIGN.md
 * decision 4), so an `ArenaSet` opens another arena when one is full; every worker instantiates the
 * kernel module once per arena. Only the owning thread (the engine's main thread) allocates; workers
 * receive `{arena, ptr}` pairs and read the memory.
 *
 *   arena memory
 *   ┌────────────┬──────────┬──────┬──────────┬────────┬─────────────── … ───┐
 *   │ reserved   │ region   │ free │ region   │ region │ (not yet grown)      │
 *   │ 64 KiB     │          │      │          │        │                      │
 *   └────────────┴──────────┴──────┴──────────┴────────┴─────────────── … ───┘
 *   0         kArenaReservedBytes                    top                  maxBytes
 *
 * The first 64 KiB are never handed out: the module's static data (if any) and the stub runtime live
 * there, and each instantiation re-initialises them. Allocation is first fit over an address-ordered
 * free list with coalescing, then bump at `top`, growing the memory a chunk at a time. Freed regions are
 * reused (a shard unloaded by retention leaves room for the next one), and a free region touching `top`
 * lowers it. wasm memory never shrinks, so the high-water mark stays resident; reuse keeps it flat, and
 * `releaseFree` gives the free ranges' whole pages back to the OS (src/core/page-release.ts) when the engine
 * is idle (src/core/idle-release.ts): committed stays, resident falls to what is allocated.
 */

import { adviseHugePages, populatePagesAsync } from './page-populate.js';
import { releasePages } from './page-release.js';

/** WebAssembly page size. */
export const kPageBytes = 65536;
/** wasm32 limit: 65536 pages; also the maximum the kernel module declares for its imported memory. */
export const kMaxArenaBytes = 65536 * kPageBytes;
/** Bytes at the start of every arena that are never allocated (module statics; null pointer stays invalid). */
export const kArenaReservedBytes = kPageBytes;
/**
 * A populate call's most (8 MiB: four huge pages): what one call keeps the memory-map lock for is what a
 * grow or an mmap elsewhere waits (`Arena.populate`); 85 calls for a 20M open's 678 MB.
 */
const kPopulateChunkBytes = 8 * 1024 * 1024;
/** Growth step: growing a shared memory is a syscall, so grow by at least this much (64 MiB). */
const kGrowStepBytes = 64 * 1024 * 1024;

export interface ArenaOptions {
  /** Upper bound of this arena, a multiple of 64 KiB, ≤ 4 GiB. Default 4 GiB. */
  maxBytes?: number;
  /** Bytes committed at creation (rounded up to pages). Default 1 MiB. */
  initialBytes?: number;
}

interface FreeRegion {
  ptr: number;
  bytes: number;
}

/** A region of an arena: what the store records for each column and what workers receive. */
export interface Region {
  arena: number;
  ptr: number;
  bytes: number;
}

/** One shared WebAssembly.Memory with a region allocator. */
export class Arena {
  readonly index: number;
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  private top = kArenaReservedBytes;
  private free_: FreeRegion[] = [];
  private readonly sizes = new Map<number, number>();
  private usedBytes = 0;
  /** `[from, to)` already advised to be huge pages by `reserve`: `populate` there does not advise again. */
  private huge = { from: 0, to: 0 };
  /** Regions handed out, and calls that gave bytes back (free, shrink, punch), since creation: activity seen by src/core/idle-release.ts. */
  allocs = 0;
  frees = 0;

  constructor(index: number, options: ArenaOptions = {}) {
    const maxBytes = options.maxBytes ?? kMaxArenaBytes;
    if (maxBytes % kPageBytes !== 0 || maxBytes < 2 * kPageBytes || maxBytes > kMaxArenaBytes) {
      throw new RangeError('maxBytes must be a multiple of 64 KiB in [128 KiB, 4 GiB]');
    }
    this.index = index;
    this.maxBytes = maxBytes;
    const initial = Math.min(maxBytes, Math.max(2 * kPageBytes, options.initialBytes ?? 1024 * 1024));
    this.memory = new WebAssembly.Memory({
      initial: Math.ceil(initial / kPageBytes),
      maximum: maxBytes / kPageBytes,
      shared: true,
    });
  }

  /**
   * Allocates `bytes` (> 0) aligned to `align` (a power of two ≥ 16; default 64, the shard files'
   * buffer alignment). Returns the pointer, or -1 when the arena cannot hold it (the caller, usually
   * ArenaSet, then opens another arena). The region's bytes are not cleared.
   */
  alloc(bytes: number, align = 64): number {
    if (!(bytes > 0) || !Number.isInteger(bytes)) throw new RangeError('bytes must be a positive integer');
    if (align < 16 || (align & (align - 1)) !== 0) throw new RangeError('align must be a power of two >= 16');
    const size = roundUp(bytes, 16);
    for (let i = 0; i < this.free_.length; i++) {
      const r = this.free_[i]!;
      const ptr = roundUp(r.ptr, align);
      if (ptr + size > r.ptr + r.bytes) continue;
      // Split: [r.ptr, ptr) stays free (alignment gap), [ptr+size, end) stays free.
      const tail = r.ptr + r.bytes - (ptr + size);
      const replacement: FreeRegion[] = [];
      if (ptr > r.ptr) replacement.push({ ptr: r.ptr, bytes: ptr - r.ptr });
      if (tail > 0) replacement.push({ ptr: ptr + size, bytes: tail });
      this.free_.splice(i, 1, ...replacement);
      return this.taken(ptr, size);
    }
    const ptr = roundUp(this.top, align);
    if (ptr + size > this.maxBytes) return -1;
    this.ensureCommitted(ptr + size);
    if (ptr > this.top) this.insertFree(this.top, ptr - this.top);
    this.top = ptr + size;
    return this.taken(ptr, size);
  }

  /** Returns a region from alloc() to the arena. Freeing an unknown pointer throws (double free). */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`arena ${this.index}: free of unknown pointer ${ptr}`);
    this.sizes.delete(ptr);
    this.usedBytes -= size;
    this.frees++;
    this.insertFree(ptr, size);
    // Give the last free region back to the bump pointer.
    const last = this.free_[this.free_.length - 1];
    if (last && last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      this.free_.pop();
    }
  }

  /**
   * Shrinks a region from alloc() to its first `bytes` (> 0), returning the tail to the arena: a shard
   * re-encoded after loading (src/store/shard-loader.ts) keeps only what it needs. A region at the top
   * gives the tail back to the bump pointer, so shards loaded one after another pack without holes.
   * With `release`, the tail's whole OS pages are given back to the OS at once (src/core/page-release.ts),
   * not at the next idle release: what a data dir's open does (ArenaSet.shrink); returns the bytes released.
   */
  shrink(ptr: number, bytes: number, release = false): number {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`arena ${this.index}: shrink of unknown pointer ${ptr}`);
    const keep = roundUp(bytes, 16);
    if (!(bytes > 0) || keep > size) throw new RangeError(`arena ${this.index}: cannot shrink a region of ${size} bytes to ${bytes}`);
    if (keep === size) return 0;
    this.sizes.set(ptr, keep);
    this.usedBytes -= size - keep;
    this.frees++;
    this.insertFree(ptr + keep, size - keep);
    const last = this.free_[this.free_.length - 1];
    if (last && last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      this.free_.pop();
    }
    return release ? this.releaseAround(ptr + keep, ptr + size) : 0;
  }

  /**
   * Gives back the whole pages of the free range that `[from, to)` (just freed) now lies in: coalesced with its
   * free neighbours, or, above the top, up to `to` rounded up to a wasm page (nothing live is above the top), so
   * the page a tail ends in goes too. Nothing has a reader there, and nothing can be allocated there before this
   * synchronous call returns.
   */
  private releaseAround(from: number, to: number): number {
    const buffer = this.memory.buffer;
    if (from >= this.top) return releasePages(buffer, this.top, Math.min(buffer.byteLength, roundUp(to, kPageBytes)));
    const list = this.free_;
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.ptr <= from) lo = mid + 1;
      else hi = mid;
    }
    const r = list[lo - 1];
    return r && r.ptr + r.bytes >= to ? releasePages(buffer, r.ptr, r.ptr + r.bytes) : releasePages(buffer, from, to);
  }

  /**
   * Frees `[from, to)` from the middle of a region from alloc() (16-aligned bounds inside it), which
   * becomes two regions: `[ptr, from)` and `[to, end)`; returns the second's pointer (-1 when `to` is the
   * region's end: a shrink). A shard whose plate slots are no longer read drops them this way without
   * moving the lanes after them, which pool workers may be reading (src/store/shard-loader.ts). With
   * `release`, the hole's whole OS pages are given back to the OS at once (as `shrink`'s).
   */
  punch(ptr: number, from: number, to: number, release = false): number {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`arena ${this.index}: punch of unknown pointer ${ptr}`);
    if (from % 16 !== 0 || to % 16 !== 0 || !(ptr < from && from < to && to <= ptr + size)) {
      throw new RangeError(`arena ${this.index}: cannot punch [${from}, ${to}) out of a region of ${size} bytes at ${ptr}`);
    }
    if (to === ptr + size) {
      this.shrink(ptr, from - ptr, release);
      return -1;
    }
    this.sizes.set(ptr, from - ptr);
    this.sizes.set(to, ptr + size - to);
    this.usedBytes -= to - from;
    this.frees++;
    this.insertFree(from, to - from);
    if (release) this.releaseAround(from, to);
    return to;
  }

  /** Bytes currently allocated (live regions). */
  get allocatedBytes(): number {
    return this.usedBytes;
  }

  /** The live regions, pointer → bytes (rounded as allocated): what `allocatedBytes` sums (bench/resident-breakdown.ts). */
  regions(): ReadonlyMap<number, number> {
    return this.sizes;
  }

  /** End of the highest region ever live (the memory is committed at least this far). */
  get topBytes(): number {
    return this.top;
  }

  /** Committed memory size in bytes. */
  get committedBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Number of live regions. */
  get regionCount(): number {
    return this.sizes.size;
  }

  /**
   * Maps the pages of `[ptr, ptr + bytes)` before their first write (src/core/page-populate.ts): for a region
   * about to be filled whole, such as a shard file read into it, a few system calls instead of a page fault a
   * page, made on libuv's thread pool, in 2 MiB pages where whole ones fit (advised here unless `reserve` did).
   * In calls of kPopulateChunkBytes, one after another: a populate holds the process's memory-map lock (for
   * reading) while it runs, and every mmap, munmap, mprotect and `memory.grow` of every thread waits behind
   * it; a 64 MiB call held it for up to ~0.5 s on the loaded benchmark VM. Alloc does not do it: scratch
   * regions are carved larger than most queries touch.
   */
  async populate(ptr: number, bytes: number): Promise<void> {
    const end = ptr + bytes;
    if (!(ptr >= this.huge.from && end <= this.huge.to)) adviseHugePages(this.memory.buffer, ptr, end);
    for (let at = ptr; at < end; at += kPopulateChunkBytes) {
      await populatePagesAsync(this.memory.buffer, at, Math.min(end, at + kPopulateChunkBytes));
    }
  }

  /**
   * Makes room for `bytes` of regions about to be allocated and filled (a data dir's shards at open): the
   * memory grown once to hold them past `top`, and that range advised to be huge pages once, so the regions'
   * `populate` calls only map pages. Grown shard by shard, each grow (an mprotect) and each advice took the
   * process's memory-map lock for writing and waited there for the populates in flight on the thread pool:
   * 0.4 s (grow) and 0.3 s (the advice) of a 20M open's opening thread, blocked (docs/storage-v2.md, "Off the
   * memory-map lock"). False, nothing done, when the arena cannot hold them past `top`.
   */
  reserve(bytes: number): boolean {
    const from = roundUp(this.top, kPageBytes), to = from + roundUp(bytes, kPageBytes);
    if (!(bytes > 0) || to > this.maxBytes) return false;
    this.ensureCommitted(to);
    if (adviseHugePages(this.memory.buffer, from, to) > 0) this.huge = { from, to };
    return true;
  }

  /** A fresh byte view of a region (views must be re-made after the memory grows). */
  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  /**
   * Gives the whole OS pages of every free range of at least `minBytes` back to the OS, the range above the
   * top included (src/core/page-release.ts): they read as zeros when handed out again. Returns the bytes
   * released. Safe because a free range has no reader (regions are freed when their last reader let go), and
   * synchronous, so nothing is allocated in a range while it is released.
   */
  releaseFree(minBytes = 0): number {
    const buffer = this.memory.buffer;
    let released = 0;
    for (const r of this.free_) if (r.bytes >= minBytes) released += releasePages(buffer, r.ptr, r.ptr + r.bytes);
    if (buffer.byteLength - this.top >= minBytes) released += releasePages(buffer, this.top, buffer.byteLength);
    return released;
  }

  private taken(ptr: number, size: number): number {
    this.allocs++;
    this.sizes.set(ptr, size);
    this.usedBytes += size;
    return ptr;
  }

  private ensureCommitted(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const want = Math.min(this.maxBytes, Math.max(roundUp(end, kPageBytes), have + kGrowStepBytes));
    this.memory.grow((want - have) / kPageBytes);
  }

  /** Inserts into the address-ordered free list, coalescing with neighbours. */
  private insertFree(ptr: number, bytes: number): void {
    const list = this.free_;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    const prev = list[lo - 1];
    const next = list[lo];
    if (prev && prev.ptr + prev.bytes === ptr) {
      prev.bytes += bytes;
      if (next && prev.ptr + prev.bytes === next.ptr) {
        prev.bytes += next.bytes;
        list.splice(lo, 1);
      }
    } else if (next && ptr + bytes === next.ptr) {
      next.ptr = ptr;
      next.bytes += bytes;
    } else {
      list.splice(lo, 0, { ptr, bytes });
    }
  }
}

export interface ArenaSetOptions {
  /** Size limit of each arena (default 4 GiB); tests use small arenas to exercise several. */
  arenaBytes?: number;
  /** Initial commit of each new arena. */
  initialBytes?: number;
  /** Called when a new arena opens, so the engine can hand its memory to workers. */
  onArena?: (arena: Arena) => void;
}

/** All arenas of a process: allocates in the first arena with room, opening arenas as needed. */
export class ArenaSet {
  private readonly list: Arena[] = [];
  private readonly options: ArenaSetOptions;

  constructor(options: ArenaSetOptions = {}) {
    this.options = options;
  }

  get arenas(): readonly Arena[] {
    return this.list;
  }

  arena(index: number): Arena {
    const a = this.list[index];
    if (!a) throw new RangeError(`no arena ${index}`);
    return a;
  }

  /**
   * Allocates a region in the first arena that can hold it, opening a new arena when none can.
   * Throws RangeError if `bytes` exceeds what a single arena can hold.
   */
  alloc(bytes: number, align = 64): Region {
    for (const a of this.list) {
      const ptr = a.alloc(bytes, align);
      if (ptr >= 0) return { arena: a.index, ptr, bytes };
    }
    const a = this.open();
    const ptr = a.alloc(bytes, align);
    if (ptr < 0) throw new RangeError(`a region of ${bytes} bytes does not fit in one arena (${a.maxBytes} bytes)`);
    return { arena: a.index, ptr, bytes };
  }

  /** Allocates in one given arena (e.g. scratch next to the segments it serves); -1 if it is full. */
  allocIn(arena: number, bytes: number, align = 64): number {
    return this.arena(arena).alloc(bytes, align);
  }

  /**
   * Arena.reserve in the first arena that can hold `bytes` past its top (where ArenaSet.alloc's first fit puts
   * them), the first one opened if there is none; false, nothing done, when none can.
   */
  reserve(bytes: number): boolean {
    if (!(bytes > 0)) return false;
    return this.list.some((a) => a.reserve(bytes)) || (this.list.length === 0 && this.open().reserve(bytes));
  }

  /** Arena.shrink for a region of this set (with `release`, the tail's pages given back at once); the region as it now is. */
  shrink(region: Region, bytes: number, release = false): Region {
    this.arena(region.arena).shrink(region.ptr, bytes, release);
    return { ...region, bytes: Math.ceil(bytes / 16) * 16 };
  }

  /** Arena.punch for a region of this set (with `release`, the hole's pages given back at once): the region as it now is, and the one after the hole (if any). */
  punch(region: Region, from: number, to: number, release = false): { head: Region; tail: Region | undefined } {
    const tail = this.arena(region.arena).punch(region.ptr, from, to, release);
    return {
      head: { arena: region.arena, ptr: region.ptr, bytes: from - region.ptr },
      tail: tail < 0 ? undefined : { arena: region.arena, ptr: tail, bytes: region.ptr + region.bytes - tail },
    };
  }

  free(region: Pick<Region, 'arena' | 'ptr'>): void {
    this.arena(region.arena).free(region.ptr);
  }

  /** Opens a new, empty arena. */
  open(): Arena {
    const a = new Arena(this.list.length, {
      ...(this.options.arenaBytes !== undefined ? { maxBytes: this.options.arenaBytes } : {}),
      ...(this.options.initialBytes !== undefined ? { initialBytes: this.options.initialBytes } : {}),
    });
    this.list.push(a);
    this.options.onArena?.(a);
    return a;
  }

  /** The memories, in arena order: what workers need to instantiate the kernels. */
  memories(): WebAssembly.Memory[] {
    return this.list.map((a) => a.memory);
  }

  get allocatedBytes(): number {
    return this.list.reduce((s, a) => s + a.allocatedBytes, 0);
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
