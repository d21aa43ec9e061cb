/**
 * Freed arena pages given back to the OS: `madvise(addr, len, MADV_DONTNEED)` on the whole pages of a free
 * range of a WebAssembly memory.
 *
 * Why: a wasm memory never shrinks, so without this the RSS keeps the most the arena ever held (a live
 * generation, the shard a seal loads, the copy of the rows appended meanwhile) after those regions are freed.
 * V8 maps a wasm memory, shared or not, as one private anonymous reservation (smaps: no `sh` flag), so
 * DONTNEED drops the pages at once and a later touch maps a zero page: the memory stays committed (no grow,
 * no new address), only its resident pages go.
 *
 *   free range       ├──────────────────────── [from, to) ──────────────────────┤
 *   pages     ──┼────────┼────────┼────────┼────────┼────────┼────────┼────────┼──
 *                        └──────── released: whole pages inside ───────┘
 *
 * Rounded inward, never outward: a page shared with a live neighbour region keeps every byte. Only a range no
 * reader can still see may be given (the arena's free list: a region is freed when its last pinned reader let
 * go, LoadedShard / LiveColumns), since its bytes read as zeros afterwards. The call is synchronous on the
 * allocating thread, so the range cannot be handed out again while it runs.
 *
 * Where madvise cannot be reached (not Linux, no koffi) nothing is released and the pages stay resident, as
 * before; it never throws.
 */
import { libc } from './libc.js';

/** MADV_DONTNEED (include/uapi/asm-generic/mman-common.h). */
const kMadvDontneed = 4;

/**
 * Drops the resident pages of `buffer[from, to)` rounded inward to whole OS pages; returns the bytes given to
 * the kernel (0: none whole, a base not page-aligned, or madvise unavailable).
 */
export function releasePages(buffer: ArrayBufferLike, from: number, to: number): number {
  const c = libc();
  if (!c) return 0;
  const page = c.pageBytes;
  const start = Math.ceil(from / page) * page;
  const end = Math.min(buffer.byteLength, Math.floor(to / page) * page);
  if (!(end > start)) return 0;
  try {
    return c.madvise(new Uint8Array(buffer, start, end - start), end - start, kMadvDontneed) === 0 ? end - start : 0;
  } catch {
    return 0;
  }
}
