/**
 * Prefaulting: maps the pages of a byte range of an ArrayBuffer or SharedArrayBuffer in one system call,
 * `madvise(addr, len, MADV_POPULATE_WRITE)` (Linux ≥ 5.14), before they are first written.
 *
 * Why: the first touch of a fresh anonymous page is a page fault, and on the benchmark machine (a Firecracker
 * VM with shadow paging) one costs ~11 µs: 256 MiB touched a byte a page took 700–760 ms (65,536 minor faults).
 * Populated first, the same range costs ~30 ms for the call and ~5 µs a page at the first touch (30 + 322 ms
 * against 706 ms). A 20M open read 678 MB of shard files into fresh arena memory on the thread pool: ~167k of
 * its 255–290k faults (docs/storage-v2.md, "Fewer page faults at open").
 *
 *   buffer   ┌──────┬───────────────────────────────┬──────┐
 *            │      │ [from, to) as asked           │      │
 *            └──────┴───────────────────────────────┴──────┘
 *   pages    ├────┼────┼────┼────┼────┼────┼────┼────┼────┤   the range widened to whole pages, clamped to
 *                 └── populated ────────────────────────┘    the buffer (a page is populated, never written)
 *
 * Widening is safe: MADV_POPULATE_WRITE only maps pages (zero-filled or as they are), it writes no byte, so a
 * page shared with a neighbour region, or read by another thread at the time, is unchanged. madvise needs a
 * page-aligned address: wasm memories start on a page (mmap), so arena ranges always qualify; an ordinary
 * ArrayBuffer from malloc may not, and then the kernel answers EINVAL and the call is a no-op.
 *
 * Where it cannot work — not Linux, koffi's binary missing, a kernel before 5.14 (EINVAL for the advice
 * itself, told apart from an unaligned buffer by a probe on a one-page wasm memory) — every call is a no-op,
 * said once in the `platesearch` debug log (NODE_DEBUG=platesearch). It never throws: prefaulting is only
 * ever a saving.
 */
import { platform } from 'node:os';
import { debuglog } from 'node:util';
import { libc } from './libc.js';

const log = debuglog('platesearch');

/** Linux's MADV_POPULATE_WRITE (include/uapi/asm-generic/mman-common.h), since 5.14. */
const kMadvPopulateWrite = 23;
/** MADV_HUGEPAGE: the range may be backed by 2 MiB pages (transparent huge pages, when the kernel allows them). */
const kMadvHugepage = 14;

export interface PopulateOptions {
  /**
   * Advise MADV_HUGEPAGE on the range first, so the populated memory is 2 MiB pages where whole ones fit: on the
   * benchmark VM a populated 4 KiB page still costs ~5 µs at its first write, a huge page's 512 pages ~0, and every
   * later pass over the memory takes fewer TLB misses (each one a walk of the VM's shadow tables). For long-lived,
   * densely filled memory only (the arena's shard regions): a huge page is resident whole once touched.
   */
  hugePages?: boolean;
}
/** The OS page, what madvise maps; read from getpagesize() when the library loads. */
let osPageBytes = 4096;

/** `madvise` as bound through koffi: the view's bytes are its address; returns 0 or -1 (errno set). */
export type Madvise = (addr: Uint8Array, length: number, advice: number) => number;

interface Populator {
  madvise: Madvise;
  /** The same call on libuv's thread pool (koffi's `.async`), answering through `done`. */
  madviseAsync?: (addr: Uint8Array, length: number, advice: number, done: (err: unknown, rc: number) => void) => void;
  errno: () => number;
}

let populator: Populator | undefined | null = null; // null: not yet loaded

function unavailable(why: string): undefined {
  log(`page-populate: prefaulting is off (${why}); fresh pages fault one by one`);
  return undefined;
}

/** Binds madvise (src/core/libc.ts, through koffi) and probes the advice once; undefined where it cannot work. */
export function bindPopulator(load: () => Populator & { pageBytes?: number } = loadLibc): Populator | undefined {
  let p: Populator & { pageBytes?: number };
  try {
    p = load();
  } catch (err) {
    return unavailable(`madvise not bound: ${(err as Error).message}`);
  }
  try {
    const probe = new WebAssembly.Memory({ initial: 1, maximum: 1 }); // mmap'd: page-aligned
    if (p.madvise(new Uint8Array(probe.buffer, 0, Math.min(probe.buffer.byteLength, p.pageBytes ?? osPageBytes)), p.pageBytes ?? osPageBytes, kMadvPopulateWrite) !== 0) {
      return unavailable(`madvise(MADV_POPULATE_WRITE) fails with errno ${p.errno()}: Linux before 5.14?`);
    }
  } catch (err) {
    return unavailable(`madvise probe threw: ${(err as Error).message}`);
  }
  if (p.pageBytes) osPageBytes = p.pageBytes;
  return p;
}

function loadLibc(): Populator & { pageBytes: number } {
  const c = libc();
  if (!c) throw new Error(platform() === 'linux' ? 'koffi or glibc not loaded' : `not Linux (${platform()})`);
  return c;
}

/** Replaces the bound madvise (tests: an unavailable or failing one); `undefined` unbinds it, null reloads. */
export function setPopulator(p: Populator | undefined | null): void {
  populator = p;
}

/** The whole pages of `[from, to)` inside the buffer, or undefined when there are none or prefaulting is off. */
function pagesOf(buffer: ArrayBufferLike, from: number, to: number, options: PopulateOptions): { p: Populator; view: Uint8Array } | undefined {
  if (populator === null) populator = bindPopulator();
  const p = populator;
  if (!p || !(to > from)) return undefined;
  const start = Math.max(0, Math.floor(from / osPageBytes) * osPageBytes);
  const end = Math.min(buffer.byteLength, Math.ceil(to / osPageBytes) * osPageBytes);
  if (!(end > start)) return undefined;
  const view = new Uint8Array(buffer, start, end - start);
  if (options.hugePages) {
    try {
      p.madvise(view, view.length, kMadvHugepage); // a flag on the mapping, no page touched; refused: small pages
    } catch {
      // as refused
    }
  }
  return { p, view };
}

/**
 * Maps the pages of `buffer[from, to)` (widened to whole pages, clamped to the buffer) before their first
 * write. Returns the bytes asked of the kernel, 0 when nothing was done (an empty range, a buffer whose base
 * is not page-aligned, prefaulting unavailable). Never throws.
 */
export function populatePages(buffer: ArrayBufferLike, from = 0, to = buffer.byteLength, options: PopulateOptions = {}): number {
  const r = pagesOf(buffer, from, to, options);
  if (!r) return 0;
  try {
    return r.p.madvise(r.view, r.view.length, kMadvPopulateWrite) === 0 ? r.view.length : 0;
  } catch {
    return 0;
  }
}

/**
 * Advises MADV_HUGEPAGE on the whole pages of `buffer[from, to)` without mapping any: a flag on the mapping,
 * set once for a range about to be filled region by region, so each region's populate need not set it again
 * (the advice takes the process's memory-map lock for writing, and waits there for every populate or grow in
 * flight: src/core/arena.ts, `reserve`). Returns the bytes advised, 0 when nothing was done. Never throws.
 */
export function adviseHugePages(buffer: ArrayBufferLike, from = 0, to = buffer.byteLength): number {
  const r = pagesOf(buffer, from, to, {});
  if (!r) return 0;
  try {
    return r.p.madvise(r.view, r.view.length, kMadvHugepage) === 0 ? r.view.length : 0;
  } catch {
    return 0;
  }
}

/**
 * populatePages on libuv's thread pool, so the calling thread goes on meanwhile (mapping 678 MB took the
 * opening thread 0.36-0.88 s of a loaded machine's wall time); the same answer, never rejects.
 */
export async function populatePagesAsync(buffer: ArrayBufferLike, from = 0, to = buffer.byteLength, options: PopulateOptions = {}): Promise<number> {
  const r = pagesOf(buffer, from, to, options);
  if (!r) return 0;
  const { p, view } = r;
  if (!p.madviseAsync) return populatePages(buffer, from, to);
  await asyncSlot();
  try {
    return await new Promise<number>((resolve) => {
      try {
        p.madviseAsync!(view, view.length, kMadvPopulateWrite, (err, rc) => resolve(!err && rc === 0 ? view.length : 0));
      } catch {
        resolve(0);
      }
    });
  } finally {
    freeAsyncSlot();
  }
}

/**
 * Async calls in flight at most: koffi keeps two call pools resident (`resident_async_pools`) and allocates
 * one for each further call in flight, an mmap that waits on the memory-map lock behind the populates running
 * (a 20M open's 85 calls, six shards in flight: 0.3–1.0 s of the opening thread blocked in koffi's dispatch).
 */
const kAsyncCalls = 2;
let asyncCalls = 0;
const waitingCalls: Array<() => void> = [];

function asyncSlot(): Promise<void> {
  if (asyncCalls < kAsyncCalls) {
    asyncCalls++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waitingCalls.push(resolve));
}

/** Hands the slot to the next waiting call, if any (so a new caller cannot overtake it), or frees it. */
function freeAsyncSlot(): void {
  const next = waitingCalls.shift();
  if (next) next();
  else asyncCalls--;
}
