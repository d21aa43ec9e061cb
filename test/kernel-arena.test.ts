/**
 * Arenas: region allocation, reuse after free (unload/reload does not grow memory), several arenas when
 * one is full, kernels per arena, and the compiled module and a shared arena handed to a worker thread.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Arena, ArenaSet, kArenaReservedBytes } from '../src/core/arena.js';
import { Kernels } from '../src/core/kernels.js';
import { kernelModule } from '../src/core/module.js';
import { buildSegment, type SegmentRow } from './helpers/segment-builder.js';

describe('Arena', () => {
  it('hands out aligned, disjoint regions above the reserved page', () => {
    const a = new Arena(0, { maxBytes: 4 << 20 });
    const ptrs = [a.alloc(10), a.alloc(100, 16), a.alloc(1000, 256), a.alloc(17, 64)];
    expect(ptrs[0]).toBeGreaterThanOrEqual(kArenaReservedBytes);
    expect(ptrs[2]! % 256).toBe(0);
    expect(ptrs[3]! % 64).toBe(0);
    const spans = ptrs.map((p, i) => [p, p + [10, 100, 1000, 17][i]!] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(() => a.free(12345)).toThrow();
  });

  it('reuses freed regions: unloading and reloading does not grow memory', () => {
    const a = new Arena(0, { maxBytes: 256 << 20, initialBytes: 1 << 20 });
    const sizes = [3 << 20, 5 << 20, 1 << 20, 7 << 20];
    let live = sizes.map((s) => a.alloc(s));
    const committed = a.committedBytes;
    const tops: number[] = [];
    for (let round = 0; round < 50; round++) {
      // unload two shards, load two of other sizes, in shuffled order
      a.free(live[round % 4]!);
      a.free(live[(round + 2) % 4]!);
      live[round % 4] = a.alloc(sizes[(round + 1) % 4]!);
      live[(round + 2) % 4] = a.alloc(sizes[(round + 3) % 4]!);
      tops.push(a.topBytes);
    }
    // First fit may fragment for a round or two, then the high-water mark is flat: no leak.
    expect(Math.max(...tops)).toBeLessThanOrEqual(kArenaReservedBytes + 2 * (16 << 20));
    expect(new Set(tops.slice(10)).size).toBe(1);
    expect(a.committedBytes).toBeLessThanOrEqual(committed + (64 << 20));
    for (const p of live) a.free(p);
    expect(a.allocatedBytes).toBe(0);
    expect(a.regionCount).toBe(0);
    expect(a.topBytes).toBe(kArenaReservedBytes); // everything coalesced back
  });

  it('returns -1 when the arena is full', () => {
    const a = new Arena(0, { maxBytes: 1 << 20 });
    expect(a.alloc(2 << 20)).toBe(-1);
    expect(a.alloc(512 << 10)).toBeGreaterThan(0);
  });
});

describe('ArenaSet', () => {
  it('opens arenas as they fill, and kernels search each', () => {
    const opened: number[] = [];
    const set = new ArenaSet({ arenaBytes: 4 << 20, initialBytes: 1 << 20, onArena: (a) => opened.push(a.index) });
    const regions = Array.from({ length: 5 }, () => set.alloc(1536 << 10));
    expect(set.arenas.length).toBeGreaterThanOrEqual(3);
    expect(opened).toEqual(set.arenas.map((a) => a.index));
    expect(() => set.alloc(8 << 20)).toThrow(RangeError);
    for (const r of regions) set.free(r);
    expect(set.allocatedBytes).toBe(0);

    // One segment per arena; one Kernels per arena; the same query over all of them.
    const rows = (k: number): SegmentRow[] => Array.from({ length: 1000 }, (_, i) => ({
      plate: i % 10 === k ? '7ABC123' : `P${k}X${i % 97}`, ts: i, lat: 1, lon: 2, camera: 'c',
    }));
    let total = 0;
    for (let k = 0; k < 3; k++) {
      const arena = set.arena(k);
      const seg = buildSegment(arena, rows(k));
      const kernels = Kernels.forArena(arena, kernelModule(), 256 << 10);
      const dist = kernels.scratch.alloc(seg.layout.dictCount);
      kernels.matchDictionary(seg.layout, { pattern: '7ABC123', mode: 'exact', maxEdits: 0, ocr: false, transpositions: false }, dist);
      total += kernels.countSegment(seg.layout, null, dist);
    }
    expect(total).toBe(300);
  });
});

describe('module and arenas in a worker thread', () => {
  it('the compiled module and a shared arena cross to a worker, which runs the kernels on the same bytes', async () => {
    const arena = new Arena(0, { maxBytes: 16 << 20 });
    const seg = buildSegment(arena, ['AB1', 'AB2', 'ZZ'].map((plate, i) => ({ plate, ts: i, lat: 0, lon: 0, camera: 'c' })));
    const kernels = Kernels.forArena(arena, kernelModule(), 64 << 10);
    const pq = kernels.compilePlateMatch({ pattern: 'AB?', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false });
    const out = kernels.scratch.alloc(16);
    // Plain JS worker: instantiate with its own imports over the same memory, run dictMasked.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { module, memory, dict, count, pq, out } = workerData;
      const instance = new WebAssembly.Instance(module, { env: { memory, abort() {}, radiusRecheck() { return 0; } } });
      parentPort.postMessage(instance.exports.dictMasked(dict, count, pq, out));`;
    const worker = new Worker(source, {
      eval: true,
      workerData: { module: kernelModule(), memory: arena.memory, dict: seg.layout.dict, count: seg.layout.dictCount, pq: pq.ptr, out },
    });
    const matched = await new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
    expect(matched).toBe(2);
    expect(Array.from(kernels.bytes(out, 3))).toEqual([0, 0, 255]); // written by the worker, read here
  });
});
