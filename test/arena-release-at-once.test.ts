/**
 * Arena pages given back at the moment a region gives them up, not at the next idle release (docs/storage-v2.md,
 * "The open's peak"): a shard's tail when an open's re-encoding shrinks its region (Arena.shrink with `release`),
 * and a shard's own plate slots when its tenant dictionary covers it (Arena.punch with `release`). A release never
 * touches a live byte, the pages it gives read as zeros at once, and an engine opened that way (on the calling
 * thread and on the shard-open workers) answers as the plain reference while and after its dictionary installs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Arena } from '../src/core/arena.js';
import { IdleRelease } from '../src/core/idle-release.js';
import { libc } from '../src/core/libc.js';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery, TenantScope } from '../src/model/query.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { kDay, kT0, rng, sealedDataDir } from './helpers/engine-data.js';
import { internals, shardsOf } from './helpers/engine-internals.js';

const canRelease = process.platform === 'linux' && libc() !== undefined;
const kOsPage = 4096;

afterEach(() => {
  vi.restoreAllMocks();
});

/** The whole OS pages of `[from, to)`, rounded inward, or undefined when there is none. */
function wholePages(from: number, to: number): { first: number; end: number } | undefined {
  const first = Math.ceil(from / kOsPage) * kOsPage, end = Math.floor(to / kOsPage) * kOsPage;
  return end > first ? { first, end } : undefined;
}

/** Does every whole page of every free range of `a` (the range above its top too) read as zeros? Also: how many pages were looked at. */
function freePagesZero(a: Arena): { zero: boolean; pages: number } {
  const free = (a as unknown as { free_: ReadonlyArray<{ ptr: number; bytes: number }> }).free_;
  const ranges = [...free.map((r) => [r.ptr, r.ptr + r.bytes] as const), [a.topBytes, a.committedBytes] as const];
  let pages = 0;
  for (const [from, to] of ranges) {
    const w = wholePages(from, to);
    if (!w) continue;
    if (!a.bytes(w.first, w.end - w.first).every((b) => b === 0)) return { zero: false, pages };
    pages += (w.end - w.first) / kOsPage;
  }
  return { zero: true, pages };
}

describe('Arena.shrink and Arena.punch with release', () => {
  it.runIf(canRelease)('zero the given-up whole pages at once and keep every live byte, over random allocs, shrinks, punches and frees', () => {
    const r = rng(23);
    const a = new Arena(0, { maxBytes: 256 * 2 ** 20, initialBytes: 8 * 2 ** 20 });
    // live regions, each filled with its own byte (1–255) so that a zeroed or foreign byte shows
    const live = new Map<number, { bytes: number; tag: number }>();
    const intact = (ptr: number, e: { bytes: number; tag: number }) => a.bytes(ptr, e.bytes).every((b) => b === e.tag);
    let zeroChecked = 0, keptChecked = 0;
    for (let step = 0; step < 1200; step++) {
      const k = r();
      const ptrs = [...live.keys()];
      const ptr = ptrs[Math.floor(r() * ptrs.length)]!;
      const e = live.get(ptr);
      const release = r() < 0.7;
      if (k < 0.4 || !e) {
        const bytes = 16 + Math.floor(r() * r() * 120_000);
        const p = a.alloc(bytes, r() < 0.2 ? kOsPage : 64);
        const tag = 1 + Math.floor(r() * 255);
        a.bytes(p, bytes).fill(tag);
        live.set(p, { bytes, tag });
      } else if (k < 0.7) {
        // a shrink (the open's re-encoded shard): the tail's whole pages read zero at once with release, keep their bytes without
        const keep = 16 + Math.floor(r() * Math.max(1, e.bytes - 16));
        const cut = Math.ceil(keep / 16) * 16;
        const end = Math.ceil(e.bytes / 16) * 16;
        a.shrink(ptr, keep, release);
        const w = wholePages(ptr + cut, ptr + end);
        if (w && w.end <= ptr + e.bytes) {
          const tail = a.bytes(w.first, w.end - w.first);
          if (release) {
            expect(tail.every((b) => b === 0)).toBe(true);
            zeroChecked++;
          } else {
            expect(tail.every((b) => b === e.tag)).toBe(true);
            keptChecked++;
          }
        }
        e.bytes = Math.min(e.bytes, keep);
      } else if (k < 0.85 && e.bytes >= 96) {
        // a punch (a shard's slots dropped): the hole's whole pages read zero with release; the two parts stay whole
        const from = ptr + 16 * (1 + Math.floor(r() * ((e.bytes - 64) / 16 - 1)));
        const to = Math.min(ptr + Math.floor(e.bytes / 16) * 16, from + 16 * (1 + Math.floor(r() * r() * ((ptr + e.bytes - from) / 16))));
        const after = a.punch(ptr, from, to, release);
        const w = wholePages(from, to);
        if (w && release) {
          expect(a.bytes(w.first, w.end - w.first).every((b) => b === 0)).toBe(true);
          zeroChecked++;
        }
        const endOld = ptr + e.bytes;
        e.bytes = from - ptr;
        if (after >= 0 && endOld > after) live.set(after, { bytes: endOld - after, tag: e.tag });
      } else {
        live.delete(ptr);
        a.free(ptr);
      }
      if (step % 200 === 0) for (const [p, x] of live) expect(intact(p, x)).toBe(true);
    }
    for (const [p, x] of live) expect(intact(p, x)).toBe(true);
    expect(zeroChecked).toBeGreaterThan(50);
    expect(keptChecked).toBeGreaterThan(20);
  }, 120_000);
});

function queries(plates: string[], seed: number, n: number): SearchQuery[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const pattern = plates[Math.floor(r() * plates.length)]!;
    const from = kT0 + Math.floor(r() * 3) * kDay;
    const mode = (['exact', 'fuzzy', 'wildcard'] as const)[i % 3]!;
    const q: SearchQuery = {
      plate: { pattern: mode === 'wildcard' ? `${pattern.slice(0, 2)}*` : pattern, mode, maxEdits: mode === 'fuzzy' ? 1 : 0, ocr: false, transpositions: false },
      filter: i % 2 === 0 ? { from, to: from + 2 * kDay } : {},
      limit: 50,
    };
    return i % 7 === 6 ? { filter: { from, to: from + kDay }, limit: 20 } : q;
  });
}

describe('an open gives its pages back as it goes', () => {
  for (const openThreads of [0, 2]) {
    it.runIf(canRelease)(`the shrunk shards' tails at load and the dropped slots at install, with ${openThreads} shard-open workers; answers as the reference`, async () => {
      // ~1,000 plates a shard: each shard's slots span several whole pages
      const { dir, cleanup, stored } = await sealedDataDir('ps-release-at-once-', 'pd-a', { seed: 31, reads: 24_000, vehicles: 3_000, days: 4 }, 6_000);
      // no release but the ones made at the moment: the open's own and the idle ticks do nothing here
      vi.spyOn(IdleRelease.prototype, 'release').mockImplementation(() => 0);
      const engine: Engine = await openEngine({ dataDir: dir, threads: 0, openThreads, sealRows: 1e12, sealAgeMs: 0 });
      try {
        const arenas = (engine as unknown as { arenas: { arenas: readonly Arena[] } }).arenas.arenas;
        const shards = shardsOf(engine, 'pd-a');
        expect(shards.length).toBeGreaterThanOrEqual(4);
        // every shard's region was shrunk by its re-encoding, and the tail is free: its whole pages read zero
        const atOpen = arenas.map(freePagesZero);
        expect(atOpen.every((x) => x.zero)).toBe(true);
        expect(atOpen.reduce((n, x) => n + x.pages, 0)).toBeGreaterThan(shards.length);
        const scope: TenantScope[] = [{ tenant: 'pd-a', minTs: 0 }];
        const plates = [...new Set(stored.map((x) => x.plate))];
        // searched while the dictionary builds and installs, and after
        const during = Promise.all(queries(plates, 5, 12).map(async (q) => [q, await engine.search(scope, q)] as const));
        await internals(engine).plateIndexesSettled();
        for (const [q, got] of await during) expect(got.hits).toEqual(referenceSearch(stored, scope, q).hits);
        expect(shards.every((s) => s.slotsDropped)).toBe(true);
        // the dropped slots are free and read zero (their pages given back at the drop), and more pages are free than at open
        const settled = arenas.map(freePagesZero);
        expect(settled.every((x) => x.zero)).toBe(true);
        expect(settled.reduce((n, x) => n + x.pages, 0)).toBeGreaterThan(atOpen.reduce((n, x) => n + x.pages, 0));
        for (const q of queries(plates, 9, 30)) {
          const got = await engine.search(scope, q);
          expect(got.hits).toEqual(referenceSearch(stored, scope, q).hits);
        }
      } finally {
        await engine.close();
        await cleanup();
      }
    }, 240_000);
  }
});
