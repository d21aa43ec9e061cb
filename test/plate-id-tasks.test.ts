/**
 * Segment and hot-list tasks over plate lanes of tenant ids (docs/storage-v2.md, "Round 4", step 3): a
 * tenant's rows split over day shards; each shard laid out as today (its own sorted dictionary, lane codes
 * into it) and, beside it, as step 4 will leave it (the lane remapped into the tenant's sorted dictionary,
 * src/store/plate-id-map.ts). A task over the id lane, given the pattern matched once against the tenant
 * dictionary (`dist`, src/query/plate-distances.ts) or the hot-list index probed once with it (`pairs`),
 * must answer exactly what the task over the shard's own dictionary answers: counts, kept rows, their
 * distances, ts and seqs. So must a hot-list task over the shard's own codes given that probe and the
 * shard's code → id map, or its plates probed through that map in the tenant's slots (`through`: how a
 * covered shard's task runs once its slots are dropped, src/query/covered-probes.ts). The per-shard task
 * itself is held to the reference by the engine's differential tests (test/engine-differential.test.ts).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/core/arena.js';
import { Kernels } from '../src/core/kernels.js';
import { codeLane, kPlateSlotBytes, laneWidthFor, type LaneWidth, type SegmentLayout } from '../src/core/segment.js';
import type { PlateMatch, ReadFilter } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { buildHotlistIndex, indexedEntry } from '../src/query/hotlist-index.js';
import { kKeptCodes, kKeptPlate, probeDictionary, runHotlistTask, type HotlistTask, type HotlistTaskResult } from '../src/query/hotlist-task.js';
import { shareTenantPairs } from '../src/query/shard-pairs.js';
import { matchPlatesOnce } from '../src/query/plate-distances.js';
import { runSegmentTask, type SegmentTask } from '../src/query/segment-task.js';
import { idsIn, remapCodes, slotWords } from '../src/store/plate-id-map.js';
import { plateIdLayout, writePlateIds } from '../src/store/plate-id-lane.js';
import { hotlistCaseArb, limitArb, plateMatchArb, queryPlateArb, readFilterArb, storedReadsArb } from './helpers/arbitraries.js';
import { buildSegment, type BuiltSegment } from './helpers/segment-builder.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261203;
const arena = new Arena(0, { maxBytes: 256 * 1024 * 1024 });
const kernels = Kernels.forArena(arena, undefined, 4 * 1024 * 1024);
const regions: number[] = [];
const alloc = (bytes: number): number => {
  const ptr = arena.alloc(Math.max(16, bytes), 64);
  if (ptr < 0) throw new RangeError('arena full');
  regions.push(ptr);
  return ptr;
};
const freeAll = () => {
  while (regions.length > 0) arena.free(regions.pop()!);
};
afterAll(freeAll);

/** One shard: its layout as loaded today, the same rows with the plate lane in tenant ids, and its hit lanes. */
interface ShardPair {
  built: BuiltSegment;
  own: SegmentLayout;
  ids: SegmentLayout;
  /** Code → tenant id (ascending). */
  map: Uint32Array;
  seq: number;
  postings: number;
}

/** Sorted plates as 16-byte slots at a fresh arena region. */
function slotsAt(plates: readonly string[]): number {
  const ptr = alloc(plates.length * kPlateSlotBytes);
  const b = new Uint8Array(arena.memory.buffer, ptr, plates.length * kPlateSlotBytes);
  b.fill(0);
  plates.forEach((p, d) => {
    for (let j = 0; j < p.length; j++) b[d * kPlateSlotBytes + j] = p.charCodeAt(j);
    b[d * kPlateSlotBytes + 15] = p.length;
  });
  return ptr;
}

/**
 * The reads split into `shards` shards (read i into shard i mod shards, seq = i), and the tenant dictionary
 * of all their plates. The id lane is as wide as the tenant's plate count needs (u16 past 256 plates).
 */
function layOut(reads: readonly StoredRead[], shards: number): { pairs: ShardPair[]; tenant: { dict: number; dictCount: number } } {
  const tenantPlates = [...new Set(reads.map((r) => r.plate))].sort();
  const tenantDict = slotsAt(tenantPlates);
  const tenantWords = slotWords(new Uint8Array(arena.memory.buffer, tenantDict, tenantPlates.length * kPlateSlotBytes), tenantPlates.length);
  const pairs: ShardPair[] = [];
  for (let s = 0; s < shards; s++) {
    const mine = reads.map((r, i) => ({ r, i })).filter(({ i }) => i % shards === s);
    if (mine.length === 0) continue;
    const built = buildSegment(arena, mine.map(({ r }) => ({ plate: r.plate, ts: r.ts, lat: r.lat, lon: r.lon, camera: r.camera, ...(r.region !== undefined ? { region: r.region } : {}) })), { sortPlates: true, narrow: true });
    regions.push(...[]); // built.free() is called by the caller
    const n = mine.length;
    const buf = arena.memory.buffer;
    const seq = alloc(4 * n);
    new Uint32Array(buf, seq, n).set(mine.map(({ i }) => i));
    const lane = codeLane(buf, built.layout.plate, built.layout.plateWidth as LaneWidth, n); // the builder's u8 / u16 / u32
    // the plate → rows index: rows ordered by (plate, row)
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lane[a]! - lane[b]! || a - b);
    const postings = alloc(4 * n);
    new Uint32Array(buf, postings, n).set(order);
    const own: SegmentLayout = { ...built.layout, seq, seqWidth: 4, seqBase: 0, postings, postingsWidth: 4 };
    // the lane mapped into the tenant dictionary (the map is monotone: the postings stay ordered)
    const map = idsIn(slotWords(new Uint8Array(buf, built.layout.dict, built.layout.dictCount * kPlateSlotBytes), built.layout.dictCount), built.layout.dictCount, tenantWords, tenantPlates.length);
    const width = laneWidthFor(tenantPlates.length);
    const idLane = alloc(width * n);
    remapCodes(lane, map, codeLane(buf, idLane, width, n), n);
    const ids: SegmentLayout = { ...own, plate: idLane, plateWidth: width, dict: tenantDict, dictCount: tenantPlates.length };
    pairs.push({ built, own, ids, map, seq, postings });
  }
  return { pairs, tenant: { dict: tenantDict, dictCount: tenantPlates.length } };
}

/** The filter without make/color tests (the built segments have no make/color lanes). */
function withoutAttributes(f: ReadFilter): ReadFilter {
  const { makes: _m, colors: _c, ...rest } = f;
  return rest;
}

/** Reads with many distinct plates (both the postings walk and the row scan get chosen), 3 shards. */
const readsArb = fc.tuple(storedReadsArb(60), storedReadsArb(60), storedReadsArb(60)).map(([a, b, c]) => [...a, ...b, ...c]);

/** A task result as comparable rows: (row, distance, ts, seq), sorted. */
function keptRows(r: { rows: Uint32Array; distances: Uint8Array; ts: Float64Array; seqs: Float64Array }): number[][] {
  return Array.from(r.rows, (row, j) => [row, r.distances[j]!, r.ts[j]!, r.seqs[j]!]).sort((x, y) => x[0]! - y[0]!);
}

describe('segment tasks over tenant plate ids', () => {
  it('answer with a per-query tenant dist exactly as over the shard’s own dictionary', () => {
    const caseArb = readsArb.chain((reads) => {
      const plates = reads.length > 0 ? [...new Set(reads.map((r) => r.plate))] : ['7ABC123'];
      // broad prefixes too: a tenant range narrowed by the prefix and matching ≥ 1/8 of the plates takes the row scan
      const broad = fc.tuple(fc.constantFrom(...plates), fc.integer({ min: 1, max: 2 })).map(([p, n]): PlateMatch => ({ pattern: `${p.slice(0, n)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }));
      return fc.record({ reads: fc.constant(reads), match: fc.oneof(plateMatchArb(plates), broad), filter: readFilterArb(reads), limit: limitArb, shards: fc.integer({ min: 1, max: 4 }) });
    });
    let viaShared = 0;
    fc.assert(
      fc.property(caseArb, ({ reads, match, filter, limit, shards }) => {
        fc.pre(reads.length > 0);
        const { pairs, tenant } = layOut(reads, shards);
        try {
          const dist = alloc(tenant.dictCount);
          // what a stale region could hold: distance 0 everywhere (the match must write every entry)
          new Uint8Array(arena.memory.buffer, dist, tenant.dictCount).fill(0);
          const shared = matchPlatesOnce(kernels, tenant, match, dist);
          for (const p of pairs) {
            const base = { seq: p.seq, postings: p.postings, plate: match, filter: withoutAttributes(filter), cameras: p.built.dicts.cameras, regions: p.built.dicts.regions, limit };
            const want = runSegmentTask(kernels, { ...base, layout: p.own } as SegmentTask);
            const got = runSegmentTask(kernels, { ...base, layout: p.ids, dist: shared } as SegmentTask);
            expect(got.total).toBe(want.total);
            expect(got.beyond).toBe(want.beyond);
            expect(keptRows(got)).toEqual(keptRows(want));
            viaShared++;
          }
        } finally {
          for (const p of pairs) p.built.free();
          freeAll();
        }
      }),
      { numRuns: 200, seed },
    );
    expect(viaShared).toBeGreaterThan(200);
  });
});

/** `r` with the plate codes of its kept rows' fields mapped through `map` (own code → tenant plate id). */
function withPlateCodes(r: HotlistTaskResult, map: ArrayLike<number>): HotlistTaskResult {
  if (!r.fields) return r;
  const codes = r.fields.codes.slice();
  for (let o = kKeptPlate; o < codes.length; o += kKeptCodes) codes[o] = map[codes[o]!]!;
  return { ...r, fields: { ...r.fields, codes } };
}

describe('hot-list tasks over tenant plate ids', () => {
  it('answer with the index probed once with the tenant dictionary exactly as probing the shard’s own', () => {
    // the case's entries share one mode; mixed ones beside them make the probe's pairs several runs (exact,
    // OCR exact, fuzzy and OCR fuzzy passes), as a covered shard's mapping must walk them
    const caseArb = fc.tuple(hotlistCaseArb(60), storedReadsArb(60), fc.integer({ min: 1, max: 4 })).chain(([c, more, shards]) => {
      const reads = [...c.reads, ...more];
      const plates = reads.length > 0 ? [...new Set(reads.map((r) => r.plate))] : ['7ABC123'];
      const mixedArb = fc.record({ pattern: queryPlateArb(plates), fuzzy: fc.boolean(), maxEdits: fc.constantFrom(1, 2), ocr: fc.boolean(), transpositions: fc.boolean() })
        .map(({ pattern, fuzzy, maxEdits, ocr, transpositions }): PlateMatch => ({ pattern, mode: fuzzy ? 'fuzzy' : 'exact', maxEdits: fuzzy ? maxEdits : 0, ocr, transpositions: fuzzy && transpositions }));
      return fc.array(mixedArb, { maxLength: 6 }).map((mixed) => ({ reads, shards, query: { ...c.query, entries: [...c.query.entries, ...mixed] } }));
    });
    let viaMap = 0, runs = 0;
    fc.assert(
      fc.property(caseArb, ({ reads, query, shards }) => {
        const entries: PlateMatch[] = query.entries.filter(indexedEntry);
        fc.pre(reads.length > 0 && entries.length > 0);
        const { pairs, tenant } = layOut(reads, shards);
        try {
          const index = buildHotlistIndex(entries);
          const probed = probeDictionary(index, arena.memory.buffer, tenant.dict, tenant.dictCount);
          const shared = shareTenantPairs(probed);
          // the probe's pairs in ascending runs of plates (several: passes, or exact entries found one by one)
          runs = Math.max(runs, 1 + probed.plates.filter((d, q) => q > 0 && d < probed.plates[q - 1]!).length);
          for (const p of pairs) {
            const base = { seq: p.seq, postings: p.postings, filter: withoutAttributes(query.filter), cameras: p.built.dicts.cameras, regions: p.built.dicts.regions, limit: query.limitPerPlate, index };
            const want = runHotlistTask(arena.memory.buffer, { ...base, layout: p.own } as HotlistTask);
            const got = runHotlistTask(arena.memory.buffer, { ...base, layout: p.ids, pairs: probed } as HotlistTask);
            // the same rows; their plate codes (KeptFields) are in the layout's dictionary: the tenant's ids here
            expect(got).toEqual(withPlateCodes(want, p.map));
            // the map as a covered shard stores it (src/store/plate-id-lane.ts), at both widths
            for (const width of [2, 4] as const) {
              const ids = writePlateIds(p.map, new Uint8Array(Math.max(16, 4 * p.map.length + 8)), plateIdLayout(p.map).width === 2 ? width : 4);
              // a covered shard (own codes, slots dropped): the tenant pairs mapped through its code → id map in the task
              const mapped = runHotlistTask(arena.memory.buffer, { ...base, layout: { ...p.own, dict: 0 }, through: { ids, pairs: shared } } as HotlistTask);
              expect(mapped).toEqual(want);
              // or its plates probed through the map in the tenant's slots
              const slots = new Uint8Array(arena.memory.buffer, tenant.dict, tenant.dictCount * kPlateSlotBytes);
              const probedThrough = runHotlistTask(arena.memory.buffer, { ...base, layout: { ...p.own, dict: 0 }, through: { slots, ids } } as HotlistTask);
              expect(probedThrough).toEqual(want);
            }
            viaMap++;
          }
        } finally {
          for (const p of pairs) p.built.free();
          freeAll();
        }
      }),
      { numRuns: 200, seed },
    );
    expect(viaMap).toBeGreaterThan(200);
    expect(runs).toBeGreaterThan(2); // pairs in several runs: exact and fuzzy passes, or exact entries searched one by one
  });
});
