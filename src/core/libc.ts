/**
 * The C library calls the engine makes itself, through koffi (an FFI with prebuilt binaries: nothing to
 * compile at install). Node has no binding for them, and they are tunings of this process's memory, never
 * needed for a correct answer: where there is no glibc (macOS, musl), or koffi does not load, `libc()` is
 * undefined and every caller goes on without.
 *
 *   mallopt   glibc's malloc parameters, settable after start: the arena cap, the mmap and trim thresholds
 *             (src/core/malloc-arenas.ts)
 *   madvise   advice on a range of this process's memory (page prefaulting: src/core/page-populate.ts; freed
 *             arena pages given back: src/core/page-release.ts)
 *   malloc_trim  glibc's free memory given back to the OS: every arena's free chunks, the main arena's top (not a
 *             thread heap's: src/core/malloc-arenas.ts), src/core/idle-release.ts
 */
import { createRequire } from 'node:module';

export interface Libc {
  mallopt(param: number, value: number): number;
  /** Returns the free memory of every malloc arena to the OS (whole free pages, `pad` kept at the top); 1 if any was. */
  mallocTrim(pad: number): number;
  /** `addr`: a view whose first byte is page-aligned (its data pointer is passed). */
  madvise(addr: Uint8Array, length: number, advice: number): number;
  /** madvise on libuv's thread pool (koffi's `.async`), answering through `done`. */
  madviseAsync(addr: Uint8Array, length: number, advice: number, done: (err: unknown, rc: number) => void): void;
  /** The calling thread's errno after the last call. */
  errno(): number;
  /** The OS page (getpagesize()). */
  pageBytes: number;
}

let loaded: Libc | null | undefined;

/** glibc's calls, or undefined where they cannot be reached (loaded once, on first use). */
export function libc(): Libc | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

function load(): Libc | null {
  if (process.platform !== 'linux') return null;
  try {
    // koffi is CommonJS with a native part: required, not imported, so a machine without it still loads this module
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    const madvise = lib.func('int madvise(void *addr, size_t len, int advice)');
    return {
      mallopt: lib.func('int mallopt(int param, int value)') as Libc['mallopt'],
      mallocTrim: lib.func('int malloc_trim(size_t pad)') as Libc['mallocTrim'],
      madvise: madvise as Libc['madvise'],
      madviseAsync: (addr, length, advice, done) => madvise.async(addr, length, advice, done),
      errno: () => koffi.errno(),
      pageBytes: (lib.func('int getpagesize(void)') as () => number)(),
    };
  } catch {
    return null;
  }
}
