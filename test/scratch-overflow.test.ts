/**
 * Scratch overflow (src/core/scratch.ts): the engine's scratch regions are small (1 MiB), and on the
 * calling thread a request bigger than the region spills into arena regions freed by the `release` that
 * ends it. Checked: marks nest (an inner release frees only its own spills), a scratch without overflow
 * still throws RangeError (workers: the caller then runs the task), and a tenant-wide plate match over a
 * dictionary far bigger than the scratch answers exactly as with a scratch that holds it, through both the
 * kernel pass and the n-gram path, leaving the arena's allocated bytes where they were.
 */
import { describe, expect, it } from 'vitest';
import { Arena, ArenaSet } from '../src/core/arena.js';
import { Kernels } from '../src/core/kernels.js';
import { kernelModule } from '../src/core/module.js';
import { Scratch, type ScratchOverflow } from '../src/core/scratch.js';
import { kPlateSlotBytes } from '../src/core/segment.js';
import type { PlateMatch } from '../src/model/query.js';
import { matchTenantPlates, tenantMatchCounts } from '../src/query/tenant-match.js';
import { PlateGrams } from '../src/store/plate-grams.js';
import { PlateEpoch } from '../src/store/plate-epoch.js';

function overflowOf(arena: Arena): ScratchOverflow & { live: number } {
  const o = {
    live: 0,
    alloc: (bytes: number, align: number) => {
      const p = arena.alloc(bytes, Math.max(64, align));
      if (p >= 0) o.live++;
      return p;
    },
    free: (ptr: number) => {
      o.live--;
      arena.free(ptr);
    },
  };
  return o;
}

describe('Scratch overflow', () => {
  it('spills past the region and frees the spills at the matching release, marks nesting', () => {
    const arena = new Arena(0, { maxBytes: 64 << 20 });
    const base = arena.alloc(4096, 64);
    const o = overflowOf(arena);
    const s = new Scratch(base, 4096, o);
    const baseline = arena.allocatedBytes;
    const outer = s.mark();
    const a = s.alloc(1000);
    expect(a).toBeGreaterThanOrEqual(base);
    const big = s.alloc(1 << 20); // spills
    expect(big < base || big >= base + 4096).toBe(true);
    expect(o.live).toBe(1);
    const inner = s.mark();
    const small = s.alloc(100); // still fits in the region
    expect(small).toBeGreaterThanOrEqual(base);
    expect(small + 100).toBeLessThanOrEqual(base + 4096);
    s.alloc(5000); // spills again
    expect(o.live).toBe(2);
    s.release(inner);
    expect(o.live).toBe(1); // the outer spill stays: it was taken before the inner mark
    // the spilled region is still usable (nothing overwrote it)
    new Uint8Array(arena.memory.buffer, big, 1 << 20).fill(7);
    s.release(outer);
    expect(o.live).toBe(0);
    expect(arena.allocatedBytes).toBe(baseline);
    expect(s.available).toBe(4096);
    expect(() => s.release(outer + 2 ** 32)).toThrow(RangeError);
  });

  it('without overflow (a worker), a request past the region throws RangeError', () => {
    const s = new Scratch(1024, 4096);
    expect(() => s.alloc(5000)).toThrow(RangeError);
    s.alloc(4000);
    expect(() => s.alloc(200)).toThrow(RangeError);
  });

  it('a tenant-wide match over a dictionary bigger than the scratch answers as with a scratch that holds it', () => {
    const arenas = new ArenaSet({ arenaBytes: 256 << 20 });
    const arena = arenas.arena(arenas.alloc(64, 64).arena);
    // 60,000 distinct random plates, sorted, as the tenant's 16-byte slots
    let x = 20261202;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
    const alphabet = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
    const set = new Set<string>();
    while (set.size < 60_000) {
      const len = 5 + Math.floor(rnd() * 4);
      let p = '';
      for (let j = 0; j < len; j++) p += alphabet[Math.floor(rnd() * alphabet.length)];
      set.add(p);
    }
    const plates = [...set].sort();
    const plateSet = (grams: boolean): PlateEpoch => {
      const region = arenas.alloc(plates.length * kPlateSlotBytes, 16);
      const bytes = new Uint8Array(arenas.arena(region.arena).memory.buffer, region.ptr, plates.length * kPlateSlotBytes);
      bytes.fill(0);
      plates.forEach((p, d) => {
        for (let j = 0; j < p.length; j++) bytes[d * kPlateSlotBytes + j] = p.charCodeAt(j);
        bytes[d * kPlateSlotBytes + 15] = p.length;
      });
      return new PlateEpoch(arenas, region, plates.length, grams ? PlateGrams.build(bytes, plates.length) : undefined, new Uint32Array(0), new Map());
    };
    const o = overflowOf(arena);
    const small = new Kernels(kernelModule(), arena.memory, { ptr: arena.alloc(16 << 10, 64), bytes: 16 << 10 }, o);
    const noSpill = new Kernels(kernelModule(), arena.memory, { ptr: arena.alloc(16 << 10, 64), bytes: 16 << 10 });
    const roomy = new Kernels(kernelModule(), arena.memory, { ptr: arena.alloc(8 << 20, 64), bytes: 8 << 20 });
    const matches: PlateMatch[] = [
      { pattern: `${plates[123]!.slice(0, 2)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
      { pattern: `*${plates[4567]!.slice(1, 4)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
      { pattern: `*${plates[999]!.slice(2, 4)}*`, mode: 'wildcard', maxEdits: 0, ocr: true, transpositions: false },
      { pattern: plates[31_000]!, mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: false },
      { pattern: plates[42]!, mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: true },
      { pattern: `?${plates[7]!.slice(1, 3)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
    ];
    const counts = { ...tenantMatchCounts };
    let compared = 0, needed = 0;
    for (const grams of [false, true]) {
      const tp = plateSet(grams);
      for (const m of matches) {
        const before = arena.allocatedBytes;
        const want = matchTenantPlates(tp, m, roomy);
        const got = matchTenantPlates(tp, m, small);
        expect(got, JSON.stringify(m)).toEqual(want);
        if (want !== undefined) compared++;
        expect(o.live).toBe(0);
        expect(arena.allocatedBytes).toBe(before);
        // the same scratch without a way to spill cannot hold a pass over most of the dictionary
        if (!grams && want !== undefined && matchTenantPlates(tp, m, noSpill) === undefined) needed++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(8);
    expect(needed).toBeGreaterThanOrEqual(3);
    // both ways of matching were exercised
    expect(tenantMatchCounts.pass).toBeGreaterThan(counts.pass);
    expect(tenantMatchCounts.grams).toBeGreaterThan(counts.grams);
  });
});
