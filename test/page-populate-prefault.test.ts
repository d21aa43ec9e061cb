/**
 * Prefaulting (src/core/page-populate.ts): a populated range is mapped (touching it afterwards costs no page
 * faults, the pages after it still fault), reads back as it was (zero when fresh), is writable, and a call
 * that cannot work is a no-op that never throws.
 */
import { existsSync, readFileSync } from 'node:fs';
import { platform } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Arena } from '../src/core/arena.js';
import { bindPopulator, populatePages, populatePagesAsync, setPopulator, type Madvise } from '../src/core/page-populate.js';

const kPage = 4096;
const faults = () => process.resourceUsage().minorPageFault;

/** Minor faults of writing one byte in every page of `bytes[from, to)`. */
function touchFaults(bytes: Uint8Array, from: number, to: number): number {
  const f0 = faults();
  for (let i = from; i < to; i += kPage) bytes[i] = 1;
  return faults() - f0;
}

const linux = platform() === 'linux';
const thpFile = '/sys/kernel/mm/transparent_hugepage/enabled';
// transparent huge pages on request only ("[madvise]"): then only an advised range gets them
const thpOnAdvice = linux && existsSync(thpFile) && readFileSync(thpFile, 'utf8').includes('[madvise]');
const anonHugeBytes = () => 1024 * Number(/AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0);

describe('populatePages', () => {
  afterEach(() => setPopulator(null)); // rebind the real one after a test swapped it

  it.runIf(linux)('maps exactly the pages of the range: no faults to write them after, the next pages still fault', () => {
    for (const shared of [false, true]) {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 512, shared });
      memory.grow(256); // 16 MiB of fresh pages above the first 64 KiB
      const bytes = new Uint8Array(memory.buffer);
      const from = 65536 + 64 * kPage;
      const pages = 1024;
      const to = from + pages * kPage;
      expect(populatePages(memory.buffer, from, to)).toBe(pages * kPage);
      // fresh and populated: zero, and no byte was written by populating
      let nonzero = 0;
      for (let i = from - 8 * kPage; i < to + 8 * kPage; i += 512) nonzero += bytes[i]!;
      expect(nonzero).toBe(0);
      expect(touchFaults(bytes, from, to)).toBeLessThan(pages / 8);
      // the pages before and after the range were not populated
      expect(touchFaults(bytes, to + 8 * kPage, to + pages * kPage)).toBeGreaterThan(((pages - 8) * 7) / 8);
      // (the 8 pages just before the range were read above, which maps them)
      expect(touchFaults(bytes, 65536, from - 8 * kPage)).toBeGreaterThan((56 * 7) / 8);
      // writable, and what was written stays
      bytes.fill(7, from, to);
      expect(bytes[from]).toBe(7);
      expect(bytes[to - 1]).toBe(7);
      expect(bytes[to]).toBe(0);
    }
  });

  it.runIf(linux)('widens an unaligned range to its whole pages inside the buffer and changes no byte', () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 });
    const bytes = new Uint8Array(memory.buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const before = bytes.slice();
    expect(populatePages(memory.buffer, 100, kPage + 1)).toBe(2 * kPage);
    expect(populatePages(memory.buffer, 3 * 65536 + 5, 10 * 65536)).toBe(65536); // clamped to the buffer's end
    expect(populatePages(memory.buffer, -5 * kPage, 10)).toBe(kPage); // clamped to its start
    expect(Buffer.compare(bytes, before)).toBe(0);
  });

  it('is a no-op that never throws on an empty or nonsensical range, or any buffer', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    expect(populatePages(memory.buffer, 10, 10)).toBe(0);
    expect(populatePages(memory.buffer, 65536, 2 * 65536)).toBe(0);
    expect(populatePages(memory.buffer, 8192, 4096)).toBe(0);
    expect(populatePages(memory.buffer, Number.NaN, 4096)).toBe(0);
    expect(populatePages(new ArrayBuffer(0))).toBe(0);
    // a malloc'd buffer may not start on a page: then the kernel refuses (EINVAL) and nothing happens
    const plain = new Uint8Array(3 * kPage + 123).fill(9);
    const got = populatePages(plain.buffer, 1, plain.length - 1);
    expect(got % kPage).toBe(0);
    expect(plain.every((b) => b === 9)).toBe(true);
  });

  it('where madvise cannot be bound or the advice is refused, every call is a no-op', () => {
    expect(bindPopulator(() => { throw new Error('no koffi here'); })).toBeUndefined();
    expect(bindPopulator(() => ({ madvise: () => -1, errno: () => 22 }))).toBeUndefined(); // a kernel before 5.14
    expect(bindPopulator(() => ({ madvise: () => { throw new TypeError('bad pointer'); }, errno: () => 0 }))).toBeUndefined();
    setPopulator(undefined);
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2 });
    expect(populatePages(memory.buffer)).toBe(0);
    // bound, but a call fails or throws: 0, never an exception
    const calls: number[] = [];
    const failing: Madvise = (_addr, length) => { calls.push(length); return -1; };
    setPopulator({ madvise: failing, errno: () => 12 });
    expect(populatePages(memory.buffer, 0, 65536)).toBe(0);
    setPopulator({ madvise: () => { throw new Error('EFAULT'); }, errno: () => 14 });
    expect(() => populatePages(memory.buffer, 0, 65536)).not.toThrow();
    expect(populatePages(memory.buffer, 0, 65536)).toBe(0);
    expect(calls).toEqual([65536]);
  });

  it.runIf(linux)('on the thread pool: the same pages mapped, the same answer', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 256, shared: true });
    memory.grow(128);
    const bytes = new Uint8Array(memory.buffer);
    const from = 65536 + 3 * kPage + 5;
    const pages = 512;
    expect(await populatePagesAsync(memory.buffer, from, from + pages * kPage - 10)).toBe(pages * kPage);
    expect(touchFaults(bytes, from - 5, from - 5 + pages * kPage)).toBeLessThan(pages / 8);
    expect(touchFaults(bytes, from - 5 + (pages + 8) * kPage, from - 5 + 2 * pages * kPage)).toBeGreaterThan(((pages - 8) * 7) / 8);
    expect(await populatePagesAsync(memory.buffer, 10, 10)).toBe(0);
  });

  it('on the thread pool, a failing or throwing call resolves 0, and without an async call it maps on the caller', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    setPopulator({ madvise: () => 0, madviseAsync: (_a, _l, _v, done) => done(new Error('EINVAL'), -1), errno: () => 22 });
    expect(await populatePagesAsync(memory.buffer, 0, 8192)).toBe(0);
    setPopulator({ madvise: () => 0, madviseAsync: () => { throw new TypeError('bad pointer'); }, errno: () => 0 });
    expect(await populatePagesAsync(memory.buffer, 0, 8192)).toBe(0);
    const sync: number[] = [];
    setPopulator({ madvise: (_a, length) => { sync.push(length); return 0; }, errno: () => 0 });
    expect(await populatePagesAsync(memory.buffer, 1, 8191)).toBe(8192);
    expect(sync).toEqual([8192]);
    setPopulator(undefined);
    expect(await populatePagesAsync(memory.buffer, 0, 8192)).toBe(0);
  });

  it.runIf(thpOnAdvice)('with hugePages, the range is backed by 2 MiB pages; without, by small ones', () => {
    for (const hugePages of [false, true]) {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024, shared: true });
      memory.grow(512); // 32 MiB: whole 2 MiB extents inside whatever the base's alignment
      const before = anonHugeBytes();
      expect(populatePages(memory.buffer, 65536, 65536 + (24 << 20), { hugePages })).toBe(24 << 20);
      const grown = anonHugeBytes() - before;
      if (hugePages) expect(grown).toBeGreaterThanOrEqual(16 << 20);
      else expect(grown).toBe(0);
      expect(touchFaults(new Uint8Array(memory.buffer), 65536, 65536 + (24 << 20))).toBeLessThan(768);
    }
  });

  it('with hugePages, advises MADV_HUGEPAGE on the same pages before populating them (on the pool too)', async () => {
    const seen: Array<[number, number, number]> = [];
    const madvise: Madvise = (addr, length, advice) => { seen.push([addr.byteOffset, length, advice]); return 0; };
    setPopulator({ madvise, madviseAsync: (addr, length, advice, done) => done(null, madvise(addr, length, advice)), errno: () => 0 });
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 });
    expect(populatePages(memory.buffer, 5000, 9000, { hugePages: true })).toBe(2 * kPage);
    expect(await populatePagesAsync(memory.buffer, 65536, 3 * 65536, { hugePages: true })).toBe(2 * 65536);
    expect(populatePages(memory.buffer, 0, kPage)).toBe(kPage);
    expect(seen).toEqual([[kPage, 2 * kPage, 14], [kPage, 2 * kPage, 23], [65536, 2 * 65536, 14], [65536, 2 * 65536, 23], [0, kPage, 23]]);
    // refused or throwing, the advice costs nothing but the huge pages
    setPopulator({ madvise: (_a, length, advice) => { if (advice === 14) throw new Error('EINVAL'); return length > 0 ? 0 : -1; }, errno: () => 22 });
    expect(populatePages(memory.buffer, 0, kPage, { hugePages: true })).toBe(kPage);
  });

  it('keeps at most two calls in flight on the pool; the rest wait their turn in order and all answer', async () => {
    let inFlight = 0, most = 0;
    const order: number[] = [];
    const late: Array<Promise<number>> = [];
    setPopulator({
      madvise: () => 0,
      madviseAsync: (addr, length, _advice, done) => {
        most = Math.max(most, ++inFlight);
        order.push(addr.byteOffset);
        setTimeout(() => {
          inFlight--;
          done(addr.byteOffset === 5 * 65536 ? new Error('EFAULT') : null, 0);
          // callers arriving while others wait: they queue behind them, never overtake
          if (addr.byteOffset === 0) setImmediate(() => { for (let k = 12; k < 15; k++) late.push(populatePagesAsync(memory.buffer, k * 65536, (k + 1) * 65536)); });
        }, 2 + (addr.byteOffset / 65536) % 3);
      },
      errno: () => 0,
    });
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 16 });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, k) => populatePagesAsync(memory.buffer, k * 65536, (k + 1) * 65536)));
    answers.push(...(await Promise.all(late)));
    expect(most).toBe(2);
    expect(order).toEqual(Array.from({ length: 15 }, (_, k) => k * 65536));
    expect(answers).toEqual(Array.from({ length: 15 }, (_, k) => (k === 5 ? 0 : 65536)));
    // and the slots are all given back: two more calls run side by side again
    most = 0;
    expect(await Promise.all([populatePagesAsync(memory.buffer, 0, 65536), populatePagesAsync(memory.buffer, 65536, 2 * 65536)])).toEqual([65536, 65536]);
    expect(most).toBe(2);
  });

  it('asks madvise for the widened range, with the view\'s bytes as the address', () => {
    const seen: Array<{ offset: number; length: number; view: number; advice: number }> = [];
    setPopulator({ madvise: (addr, length, advice) => { seen.push({ offset: addr.byteOffset, length, view: addr.byteLength, advice }); return 0; }, errno: () => 0 });
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2 });
    expect(populatePages(memory.buffer, 5000, 3 * kPage + 1)).toBe(3 * kPage);
    expect(seen).toEqual([{ offset: kPage, length: 3 * kPage, view: 3 * kPage, advice: 23 }]);
  });
});

describe('Arena.populate', () => {
  it.runIf(linux)('maps a region before it is filled: reading a file into it does not fault page by page', async () => {
    const arena = new Arena(0, { maxBytes: 64 << 20, initialBytes: 1 << 20 });
    const bytes = 8 << 20;
    const ptr = arena.alloc(bytes);
    const other = arena.alloc(bytes);
    await arena.populate(ptr, bytes);
    const view = new Uint8Array(arena.memory.buffer);
    expect(touchFaults(view, ptr, ptr + bytes)).toBeLessThan(bytes / kPage / 8);
    expect(touchFaults(view, other, other + bytes)).toBeGreaterThan(((bytes / kPage) * 7) / 8);
  });
});

describe('Arena.reserve', () => {
  afterEach(() => setPopulator(null));

  it('grows the memory once and advises huge pages once for the regions to come; their populates only map', async () => {
    const seen: Array<[number, number, number]> = [];
    const madvise: Madvise = (addr, length, advice) => { seen.push([addr.byteOffset, length, advice]); return 0; };
    setPopulator({ madvise, madviseAsync: (addr, length, advice, done) => done(null, madvise(addr, length, advice)), errno: () => 0 });
    const arena = new Arena(0, { maxBytes: 1 << 30, initialBytes: 1 << 20 });
    const sizes = [40 << 20, 30 << 20, (25 << 20) + 100, 5 << 20];
    const total = sizes.reduce((n, b) => n + Math.ceil(b / 64) * 64, 0);
    expect(arena.reserve(total)).toBe(true);
    const committed = arena.committedBytes;
    expect(committed).toBeGreaterThanOrEqual(65536 + total);
    expect(seen).toEqual([[65536, Math.ceil(total / 65536) * 65536, 14]]);
    seen.length = 0;
    let grows = 0;
    for (const b of sizes) {
      const buffer = arena.memory.buffer;
      const ptr = arena.alloc(Math.ceil(b / 64) * 64, 64);
      if (arena.memory.buffer !== buffer) grows++;
      await arena.populate(ptr, b);
    }
    // no grow while the regions were allocated, and each populate MADV_POPULATE_WRITE alone, in calls of at
    // most 8 MiB that cover the regions
    expect(grows).toBe(0);
    expect(arena.committedBytes).toBe(committed);
    expect(seen.every((s) => s[2] === 23 && s[1] <= (8 << 20) + 4096)).toBe(true);
    expect(seen.length).toBe(5 + 4 + 4 + 1);
    expect(seen.reduce((n, s) => n + s[1], 0)).toBeGreaterThanOrEqual(total);
    // past the reserved range a region is advised once, then populated in pieces
    const past = arena.alloc(20 << 20);
    seen.length = 0;
    await arena.populate(past, 20 << 20);
    // (widened to whole pages: the region starts 64-aligned, not on a page)
    expect(seen.map((s) => [Math.floor(s[1] / (1 << 20)), s[2]])).toEqual([[20, 14], [8, 23], [8, 23], [4, 23]]);
    // more than the arena can hold past its top: nothing done
    expect(arena.reserve(1 << 30)).toBe(false);
  });
});
