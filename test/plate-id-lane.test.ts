/**
 * A covered shard's code → tenant id map as stored (src/store/plate-id-lane.ts): Elias–Fano when it is the smallest
 * form (and allowed: `plateIdSpan.eliasFano`), else u16 offsets from a u32 base per block of 256 codes when every
 * block's ids span at most `plateIdSpan.max`, else u32; and the pool's scratch slots, one a worker (no spares).
 * bench/resident-breakdown.ts, docs/storage-v2.md "Where the resident bytes go", "Confidence by its values, the
 * code → id maps by Elias–Fano".
 *
 * The encoding against a plain array on random ascending maps (block spans at, below and past the limit), and a
 * cursor's lower bounds against a plain binary search over ascending, repeated and descending lookups; then an
 * engine whose shards read their plates through their tenant's dictionary by such maps, held to the plain
 * reference: every match mode (the tenant-wide match declined too, so patterns reach the covered shards' kernel
 * tasks through `CoveredDistances`), cursors walked to the end, hot lists both ways of the covered probe (the
 * map read on the calling thread and by the pool's workers), the analyses with a cloned one (its key ranges read
 * the map on the workers), export, exact plates; on the calling thread, after reopening on a one-worker pool with
 * the span limit lowered (maps of both widths), after seals that grow the tenant dictionary (every covered map
 * remapped through the growth map and stored again), compaction, a retention rewrite, and a reopen. Every
 * covered shard's map reads back, row by row, as the plate the tenant stored under that seq.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { StoredRead } from '../src/model/read.js';
import { parseReadId } from '../src/store/ids.js';
import { coveredProbeCounts, coveredProbeWay } from '../src/query/covered-probes.js';
import { probeWalkCounts } from '../src/query/hotlist-task.js';
import { referenceHotlistSearch } from '../src/query/reference/index.js';
import type { HotlistQuery, PlateMatch } from '../src/model/query.js';
import { coveredDistanceCounts } from '../src/query/covered-distances.js';
import { clonedPartsThrough } from '../src/query/analytics/cloned.js';
import { gatherById, idCursor, idLowerBound, kIdBlockShift, plateIdArray, plateIdLaneAt, plateIdLayout, plateIdReader, plateIdsInto, plateIdSpan, writePlateIds } from '../src/store/plate-id-lane.js';
import type { StoreEngine } from '../src/engine/store-engine.js';
import { filterArb, kDay, kT0, makeReads, rng } from './helpers/engine-data.js';
import { engineFixture, frequentPlates, tenantScopesArb, type EngineFixture } from './helpers/reference-checks.js';
import { checkCoveredShards } from './helpers/covered-checks.js';
import { pairsInShard } from '../src/query/shard-pairs.js';
import { internals, shardsOf } from './helpers/engine-internals.js';

const kDefaultSpan = plateIdSpan.max;
const kDefaultEliasFano = plateIdSpan.eliasFano;
afterAll(() => {
  plateIdSpan.max = kDefaultSpan;
  plateIdSpan.eliasFano = kDefaultEliasFano;
});

/** The bytes of a map's Elias–Fano form (plain definition: L low bits, n + max / 2^L bits of bitmap, a sample a 64). */
function efBytes(ids: readonly number[]): number {
  const n = ids.length, max = ids.at(-1)!;
  let low = 0;
  while (low < 24 && 2 ** (low + 1) * n <= max + 1) low++;
  return 16 + 4 * Math.ceil(n / 64) + 4 * Math.ceil((n + Math.floor(max / 2 ** low) + 1) / 32) + (low > 0 ? Math.ceil((n * low) / 8) + 16 : 0);
}

/**
 * The width a map must get (plain definition): 2 when every block of 256 codes spans at most the limit, else 4; 0
 * (Elias–Fano) instead when allowed and smaller.
 */
function expectedWidth(ids: readonly number[]): 0 | 2 | 4 {
  if (ids.length === 0) return 4;
  let width: 2 | 4 = 2;
  for (let b = 0; b < ids.length; b += 1 << kIdBlockShift) {
    const block = ids.slice(b, b + (1 << kIdBlockShift));
    if (block.at(-1)! - block[0]! > plateIdSpan.max) width = 4;
  }
  const bytes = width === 2 ? 4 * Math.ceil(ids.length / 256) + 2 * ids.length : 4 * ids.length;
  return plateIdSpan.eliasFano && efBytes(ids) < bytes ? 0 : width;
}

const storedBytes = (ids: readonly number[], width: 0 | 2 | 4) =>
  Math.max(16, width === 0 ? efBytes(ids) : width === 2 ? 4 * Math.ceil(ids.length / 256) + 2 * ids.length : 4 * ids.length);

describe('plate id maps as stored', () => {
  // ascending ids, an array of one kind of gaps: dense (a shard holding most of its tenant's plates), around 2^16 / 256
  // (block spans at the limit), mixed with huge ones, or spread (one plate in ~20); of any length up to 1,200
  const gapArbs = [
    fc.integer({ min: 1, max: 3 }),
    fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 250, max: 262 })),
    fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 250, max: 262 }), fc.constantFrom(0xffff, 0x10000), fc.integer({ min: 1, max: 2 ** 20 })),
    fc.integer({ min: 1, max: 40 }),
  ];
  const idsArb = fc.integer({ min: 0, max: gapArbs.length - 1 }).chain((k) => fc.array(gapArbs[k]!, { maxLength: 1200, size: 'max' }))
    .map((gaps) => {
      const ids: number[] = [];
      let id = gaps.length > 0 ? gaps[0]! - 1 : 0;
      for (let i = 0; i < gaps.length; i++) ids.push(i === 0 ? id : (id += gaps[i]!));
      return ids;
    });

  it('reads back every id, searches like a plain lower bound, and takes the smallest form (Elias–Fano on and off)', () => {
    let narrow = 0, wide = 0, ef = 0, gathered = 0;
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 0, max: 64 }), fc.array(fc.integer({ min: -5, max: 2 ** 26 }), { maxLength: 20 }), fc.boolean(), fc.nat(), (ids, pad, probes, eliasFano, seed) => {
        plateIdSpan.eliasFano = eliasFano;
        const { width, bytes } = plateIdLayout(ids);
        const want = expectedWidth(ids);
        plateIdSpan.eliasFano = true;
        expect(width).toBe(want);
        expect(bytes).toBe(storedBytes(ids, width));
        if (width === 2) narrow++;
        else if (width === 0) ef++;
        else if (ids.length > 0) wide++;
        // at a 16-aligned offset of a bigger buffer, as in an arena region
        const buffer = new ArrayBuffer(16 * pad + bytes + 16);
        const lane = writePlateIds(ids, new Uint8Array(buffer, 16 * pad, bytes), width);
        expect([...plateIdArray(lane)]).toEqual(ids);
        // as a worker sees it: rebuilt from the buffer, pointer, count and width
        const at = plateIdReader(plateIdLaneAt(buffer, 16 * pad, ids.length, width));
        for (let d = 0; d < ids.length; d++) expect(at(d)).toBe(ids[d]);
        // in a random order (runs of consecutive codes among jumps: the reader's two ways to a code)
        const r = rng(seed), order = ids.map((_, d) => d);
        for (let k = order.length - 1; k > 0; k--) {
          const j = Math.floor(r() * (k + 1));
          [order[k], order[j]] = [order[j]!, order[k]!];
        }
        for (const d of order) {
          expect(at(d)).toBe(ids[d]);
          if (d + 1 < ids.length && r() < 0.3) expect(at(d + 1)).toBe(ids[d + 1]);
        }
        for (const v of [...probes, ...ids.slice(0, 5), ...ids.slice(-3).map((x) => x + 1)]) {
          const want = ids.findIndex((x) => x >= v);
          expect(idLowerBound(lane, at, v)).toBe(want < 0 ? ids.length : want);
          const from = Math.abs(v) % (ids.length + 1), after = ids.findIndex((x, d) => d >= from && x >= v);
          expect(idLowerBound(lane, at, v, from)).toBe(after < 0 ? ids.length : after);
        }
        // a gather over a code range [lo, hi) (ranges starting and ending inside blocks), outside it untouched
        if ((ids.at(-1) ?? 0) < 2 ** 20) {
          const byId = new Uint8Array((ids.at(-1) ?? 0) + 1);
          for (let i = 0; i < byId.length; i++) byId[i] = (i * 7919) % 5;
          const lo = Math.abs(probes[0] ?? 0) % (ids.length + 1);
          const hi = lo + (Math.abs(probes[1] ?? 7) % (ids.length - lo + 1));
          const out = new Uint8Array(ids.length).fill(9);
          const differ = gatherById(lane, lo, hi, byId, out, 0);
          const want = ids.map((id, c) => (c >= lo && c < hi ? byId[id]! : 9));
          expect([...out]).toEqual(want);
          expect(differ).toBe(want.slice(lo, hi).filter((v) => v !== 0).length);
          gathered++;
        }
      }),
      { numRuns: 400, seed: 7301 },
    );
    expect(narrow).toBeGreaterThan(50);
    expect(wide).toBeGreaterThan(20);
    expect(ef, JSON.stringify({ narrow, wide, ef })).toBeGreaterThan(50);
    expect(gathered).toBeGreaterThan(50);
  });

  it('a cursor answers like a plain lower bound over ascending, repeated and descending lookups; chunks decode like the array; the tenant pairs mapped through it like a plain join', () => {
    // per map: a sequence of lookups in runs that ascend (steps of 0 repeat the last value; small and large steps),
    // each run starting again below the last value (the cursor's reset); values below the first id and past the last
    const stepArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 2 ** 21 }));
    const runArb = fc.record({ start: fc.integer({ min: -3, max: 2 ** 22 }), steps: fc.array(stepArb, { maxLength: 40 }) });
    // the plain lower bound: the first code whose id is ≥ v, by a scan
    const plainLowerBound = (ids: readonly number[], v: number) => {
      const d = ids.findIndex((x) => x >= v);
      return d < 0 ? ids.length : d;
    };
    let efMaps = 0, lookups = 0, resets = 0, pairsFound = 0;
    fc.assert(
      fc.property(idsArb, fc.array(runArb, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat(), (ids, runs, eliasFano, seed) => {
        plateIdSpan.eliasFano = eliasFano;
        const { width, bytes } = plateIdLayout(ids);
        plateIdSpan.eliasFano = true;
        if (width === 0) efMaps++;
        const lane = writePlateIds(ids, new Uint8Array(new ArrayBuffer(bytes + 16), 0, bytes), width);
        const cursor = idCursor(lane);
        expect(cursor.count).toBe(ids.length);
        const r = rng(seed);
        let last = -Infinity;
        for (const run of runs) {
          // runs start near an id of the map half the time (a lookup that lands on an id, or just past it)
          let v = r() < 0.5 && ids.length > 0 ? ids[Math.floor(r() * ids.length)]! + Math.floor(r() * 3) - 1 : run.start;
          for (const step of [0, ...run.steps]) {
            v += step;
            if (v < last) resets++;
            last = v;
            const want = plainLowerBound(ids, v), got = cursor.atLeast(v);
            expect(got, JSON.stringify({ v, width })).toBe(want);
            if (got < ids.length) expect(cursor.at(got)).toBe(ids[got]);
            // a code read between lookups, then the last answer's id again
            if (ids.length > 0 && r() < 0.2) {
              const d = Math.floor(r() * ids.length);
              expect(cursor.at(d)).toBe(ids[d]);
              if (got < ids.length) expect(cursor.at(got)).toBe(ids[got]);
            }
            lookups++;
          }
        }
        // codes decoded from any code into arrays of any length (a probe's chunks), past the last code too
        for (let k = 0; k < 3; k++) {
          const lo = Math.floor(r() * (ids.length + 2)), out = new Uint32Array(1 + Math.floor(r() * 300)).fill(7);
          const m = plateIdsInto(lane, lo, out), want = ids.slice(lo, lo + out.length);
          expect(m).toBe(want.length);
          expect([...out.subarray(0, m)]).toEqual(want);
        }
        // the tenant's pairs (plate ids ascending, repeated for several entries; some the map does not hold) joined
        // with the map: the plain join keeps pair q with code d where ids[d] = its plate
        const plates: number[] = [];
        for (let k = 0, id = Math.floor(r() * 5); k < 60; k++, id += Math.floor(r() * (r() < 0.5 ? 4 : 400))) plates.push(ids.length > 0 && r() < 0.6 ? ids[Math.floor(r() * ids.length)]! : id);
        plates.sort((a, b) => a - b);
        const n = plates.length;
        const tenant = { entries: Int32Array.from(plates, (_, q) => 1000 + q), plates: Int32Array.from(plates), distances: Int32Array.from(plates, (_, q) => q % 3) };
        const got = pairsInShard(tenant, idCursor(lane));
        const code = new Map(ids.map((id, d) => [id, d]));
        const want = { entries: [] as number[], plates: [] as number[], distances: [] as number[] };
        for (let q = 0; q < n; q++) {
          const d = code.get(plates[q]!);
          if (d === undefined) continue;
          want.entries.push(tenant.entries[q]!);
          want.plates.push(d);
          want.distances.push(tenant.distances[q]!);
        }
        expect({ entries: [...got.entries], plates: [...got.plates], distances: [...got.distances] }).toEqual(want);
        pairsFound += want.entries.length;
      }),
      { numRuns: 400, seed: 7302 },
    );
    expect(efMaps).toBeGreaterThan(50);
    expect(resets).toBeGreaterThan(100);
    expect(lookups).toBeGreaterThan(5000);
    expect(pairsFound).toBeGreaterThan(2000);
  });

  it('a walk a block at a time (plateIdsInto, the covered probe) reads every code as the per-code reader does, in each form', () => {
    // Elias–Fano, blocked, or u32 (the span limit lowered to 0 for dense maps too); blocks of any size walked from
    // code 0 to past the last code, as the probe takes them, and from random codes
    const forms = { 0: 0, 2: 0, 4: 0 };
    fc.assert(
      fc.property(idsArb, fc.constantFrom('ef', 'blocked', 'u32'), fc.integer({ min: 1, max: 300 }), fc.nat(), (ids, form, block, seed) => {
        plateIdSpan.eliasFano = form === 'ef';
        plateIdSpan.max = form === 'u32' ? 0 : kDefaultSpan;
        const { width, bytes } = plateIdLayout(ids);
        plateIdSpan.eliasFano = true;
        plateIdSpan.max = kDefaultSpan;
        if (ids.length > 1) forms[width]++;
        const buffer = new ArrayBuffer(bytes + 32);
        writePlateIds(ids, new Uint8Array(buffer, 16, bytes), width);
        // as a task's probe sees it: rebuilt from the buffer, pointer, count and width
        const lane = plateIdLaneAt(buffer, 16, ids.length, width), at = plateIdReader(lane);
        const want = ids.map((_, d) => at(d));
        expect(want).toEqual(ids);
        const out = new Uint32Array(block), walked: number[] = [];
        for (let lo = 0; lo <= ids.length; lo += block) {
          out.fill(0xdeadbeef);
          const m = plateIdsInto(lane, lo, out);
          expect(m).toBe(Math.min(block, ids.length - lo));
          expect(out.subarray(m).every((x) => x === 0xdeadbeef)).toBe(true); // nothing written past the codes
          walked.push(...out.subarray(0, m));
        }
        expect(walked).toEqual(want);
        const r = rng(seed);
        for (let k = 0; k < 4 && ids.length > 0; k++) {
          const lo = Math.floor(r() * ids.length), m = plateIdsInto(lane, lo, out);
          expect([...out.subarray(0, m)]).toEqual(want.slice(lo, lo + block));
        }
      }),
      { numRuns: 600, seed: 7303 },
    );
    expect(forms[0], JSON.stringify(forms)).toBeGreaterThan(50);
    expect(forms[2], JSON.stringify(forms)).toBeGreaterThan(50);
    expect(forms[4], JSON.stringify(forms)).toBeGreaterThan(50);
  });

  it('a block spanning exactly the limit stays u16, one more goes u32 (Elias–Fano off)', () => {
    plateIdSpan.eliasFano = false;
    const ids = Array.from({ length: 300 }, (_, i) => i);
    ids[255] = 0xffff; // block 0 spans 2^16 − 1
    for (let i = 256; i < 300; i++) ids[i] = 0x10000 + i;
    expect(plateIdLayout(ids).width).toBe(2);
    const lane = writePlateIds(ids, new Uint8Array(plateIdLayout(ids).bytes), 2);
    expect([...plateIdArray(lane)]).toEqual(ids);
    ids[255] = 0x10000; // 2^16
    ids[256] = 0x10001;
    expect(plateIdLayout(ids).width).toBe(4);
    plateIdSpan.eliasFano = true;
  });

  it('an Elias–Fano map of consecutive ids and of ids up to 2^32 − 1 reads back; one code stays blocked (smaller)', () => {
    for (const ids of [Array.from({ length: 1000 }, (_, i) => 5 + i), [123_456], Array.from({ length: 300 }, (_, i) => 2 ** 32 - 1 - 9_000_000 * (299 - i))]) {
      const { width, bytes } = plateIdLayout(ids);
      expect(width).toBe(ids.length === 1 ? 2 : 0);
      const lane = writePlateIds(ids, new Uint8Array(bytes), width);
      expect([...plateIdArray(lane)]).toEqual(ids);
    }
  });
});

const kDays = 3;
const kTenants = ['pd-a', 'pd-b', 'pd-big'];

/**
 * Every covered shard's map: ascending, stored at the width its ids call for, in a region of its stored size,
 * and every row's code reads, through the map and the tenant dictionary, as the plate stored under that seq.
 * Returns how many maps of each width there are.
 */
function expectMaps(f: EngineFixture, stored: readonly string[] = kTenants): { ef: number; u16: number; u32: number; maxOffset: number } {
  const plateOf = new Map(f.reads.map((r) => [`${r.tenant}/${parseReadId(r.id)!.seq}`, r.plate]));
  let ef = 0, u16 = 0, u32 = 0, maxOffset = 0;
  for (const [tenant, store] of internals(f.engine).stores) {
    for (const s of store.shards) {
      const at = s.plateIds(), lane = s.plateIdLane(), epoch = s.readsThrough;
      expect(at !== null && lane !== undefined && epoch !== undefined, `${s.file} is covered`).toBe(true);
      const ids = Array.from({ length: s.layout.dictCount }, (_, d) => at!(d));
      for (let d = 1; d < ids.length; d++) expect(ids[d]!, s.file).toBeGreaterThan(ids[d - 1]!);
      // a tenant's maps are stored again at each install: those of `stored` under the knobs as they are now
      if (stored.includes(tenant)) expect(lane!.width, s.file).toBe(expectedWidth(ids));
      const region = s.arenaRegions().find((r) => r.part === 'plate ids')!.region;
      expect(region.bytes, s.file).toBe(storedBytes(ids, lane!.width));
      if (lane!.width === 2) {
        u16++;
        for (let d = 0; d < ids.length; d++) maxOffset = Math.max(maxOffset, ids[d]! - ids[d & ~255]!);
      } else if (lane!.width === 0) ef++;
      else u32++;
      let bad = 0;
      for (let i = 0; i < s.rows; i++) if (epoch!.plateAt(ids[s.plate(i)]!) !== plateOf.get(`${tenant}/${s.seqAt(i)}`)) bad++;
      expect(bad, s.file).toBe(0);
    }
  }
  return { ef, u16, u32, maxOffset };
}

/**
 * pd-a: three days sealed in three rounds (three shards a day); pd-b: three days sealed once; pd-big: a day of
 * 100,000 reads over 1,000,000 vehicles (~95k plates in the tenant dictionary) and two small days, whose maps'
 * blocks span most of it: offsets past 2^15 in a u16 map (day 3), a block past 2^16 ids (day 2: u32).
 */
async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = async (tenant: string, reads: ReturnType<typeof makeReads>) => {
    for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
    await engine.seal(tenant);
  };
  for (let round = 0; round < 3; round++) await append('pd-a', makeReads({ seed: 710 + round, reads: 1500, vehicles: 900, days: kDays }));
  await append('pd-b', makeReads({ seed: 720, reads: 2000, vehicles: 700, days: kDays }));
  await append('pd-big', [
    ...makeReads({ seed: 740, reads: 100_000, vehicles: 1_000_000, days: 1 }),
    ...makeReads({ seed: 741, reads: 90, vehicles: 1_000_000, days: 1, start: kT0 + kDay }),
    ...makeReads({ seed: 742, reads: 500, vehicles: 1_000_000, days: 1, start: kT0 + 2 * kDay }),
  ]);
  return out;
}

/**
 * Hot lists long enough that a covered shard's probe walks every plate of its map (the exact entries hashed, not
 * searched one by one: entries × 24 ≥ the shard's plates) besides fuzzy ones, its plates probed through the map
 * (forced), held to the reference; on the calling thread the walk is seen taken (`probeWalkCounts`).
 */
async function checkWalkedHotlists(f: EngineFixture, plates: readonly string[], runs: number, seed: number, onThisThread: boolean): Promise<void> {
  const before = probeWalkCounts.blocks;
  const made = fc.stringMatching(/^[0-9][A-Z]{3}[0-9]{3}$/);
  const entryArb = fc.oneof(
    { weight: 6, arbitrary: fc.record({ p: fc.constantFrom(...plates), ocr: fc.boolean() }).map(({ p, ocr }): PlateMatch => ({ pattern: p, mode: 'exact', maxEdits: 0, ocr, transpositions: false })) },
    { weight: 3, arbitrary: made.map((p): PlateMatch => ({ pattern: p, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false })) },
    { weight: 1, arbitrary: fc.record({ p: fc.constantFrom(...plates), k: fc.integer({ min: 1, max: 2 }), ocr: fc.boolean() }).map(({ p, k, ocr }): PlateMatch => ({ pattern: p, mode: 'fuzzy', maxEdits: k, ocr, transpositions: false })) },
  );
  coveredProbeWay.force = 'through';
  try {
    await fc.assert(
      fc.asyncProperty(tenantScopesArb(kTenants, kDays), fc.array(entryArb, { minLength: 20, maxLength: 120 }), fc.oneof(fc.constant({}), filterArb(kT0, kDays)), fc.integer({ min: 1, max: 20 }), async (scopes, entries, filter, limitPerPlate) => {
        const seen = new Set<string>();
        const query: HotlistQuery = { entries: entries.filter((e) => !seen.has(e.pattern) && seen.add(e.pattern)), filter, limitPerPlate };
        expect(await f.engine.searchHotlist(scopes, query)).toEqual(referenceHotlistSearch(f.reads, scopes, query));
      }),
      { numRuns: runs, seed },
    );
  } finally {
    delete coveredProbeWay.force;
  }
  if (onThisThread) expect(probeWalkCounts.blocks).toBeGreaterThan(before);
}

async function checkAll(f: EngineFixture, runs: number, seed: number, onThisThread = true): Promise<void> {
  const before = { gathers: coveredDistanceCounts.shardGathers, maps: coveredProbeCounts.shardMaps, probes: coveredProbeCounts.shardProbes, cloned: clonedPartsThrough.count };
  await checkWalkedHotlists(f, frequentPlates(f.reads, 500), Math.max(10, Math.ceil(runs / 3)), seed + 50, onThisThread);
  await checkCoveredShards(f, kTenants, kDays, frequentPlates(f.reads, 500), runs, seed);
  // every way a map is read was taken: distances gathered, pairs mapped, plates probed through it, cloned key ranges
  expect(coveredDistanceCounts.shardGathers).toBeGreaterThan(before.gathers);
  expect(coveredProbeCounts.shardMaps).toBeGreaterThan(before.maps);
  expect(coveredProbeCounts.shardProbes).toBeGreaterThan(before.probes);
  expect(clonedPartsThrough.count).toBeGreaterThan(before.cloned);
}

/** The median of the covered maps' widest block spans: a limit that leaves maps on both sides of it. */
function medianMapSpan(e: Engine): number {
  const spans: number[] = [];
  for (const s of shardsOf(e)) {
    const at = s.plateIds()!;
    let widest = 0;
    for (let b = 0; b < s.layout.dictCount; b += 256) widest = Math.max(widest, at(Math.min(s.layout.dictCount, b + 256) - 1) - at(b));
    spans.push(widest);
  }
  spans.sort((x, y) => x - y);
  return spans[spans.length >>> 1]!;
}

describe('covered shards read through stored maps', () => {
  const f = {} as EngineFixture;
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-plateidlane-', () => open(0), load);

  it('stores every covered map as Elias–Fano and answers as the reference (calling thread)', async () => {
    await internals(f.engine).plateIndexesSettled();
    const widths = expectMaps(f);
    expect(widths.ef).toBe(3 * kDays + kDays + 3);
    await checkAll(f, 40, 7401);
  }, 600_000);

  it('reopened with Elias–Fano off: u16 offsets, one map u32, and the same answers (calling thread)', async () => {
    plateIdSpan.eliasFano = false;
    await f.engine.close();
    f.engine = await open(0);
    await internals(f.engine).plateIndexesSettled();
    const widths = expectMaps(f);
    // pd-big's second day: one block of ~90 codes spread over its ~95k ids
    expect(widths.u32).toBe(1);
    expect(widths.u16).toBe(3 * kDays + kDays + 2);
    expect(widths.maxOffset).toBeGreaterThan(0x8000);
    await checkAll(f, 24, 7451);
  }, 600_000);

  it('after reopening on a one-worker pool with the span limit lowered: maps of both widths; every pool task had a scratch slot', async () => {
    plateIdSpan.max = medianMapSpan(f.engine);
    await f.engine.close();
    f.engine = await open(1);
    await internals(f.engine).plateIndexesSettled();
    const widths = expectMaps(f);
    expect(widths.u16).toBeGreaterThan(0);
    expect(widths.u32).toBeGreaterThan(0);
    // one worker, one slot: without it every task would come back to the calling thread
    const regions = (f.engine as StoreEngine).residentRegions();
    expect(regions.filter((r) => r.owner === 'worker scratch').length).toBe(1);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 30, 7501, false);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 600_000);

  it('after seals that grow the tenant dictionary (pd-a\'s maps stored again as Elias–Fano), compaction and a retention rewrite (pool, mixed widths), reopened', async () => {
    plateIdSpan.eliasFano = true;
    // new plates sort among the old ones: every covered map is remapped and stored again
    const more = makeReads({ seed: 730, reads: 900, vehicles: 400, days: kDays }).map((r) => ({ ...r, plate: `${r.plate.slice(0, 2)}Q${r.plate.slice(2)}`.slice(0, 10) }));
    f.reads.push(...(await f.engine.append('pd-a', more.slice(0, 450))).stored);
    await f.engine.seal('pd-a');
    f.reads.push(...(await f.engine.append('pd-a', more.slice(450))).stored);
    await f.engine.seal('pd-a');
    await internals(f.engine).plateIndexesSettled();
    const mixed = expectMaps(f, ['pd-a']);
    expect(mixed.ef).toBe(shardsOf(f.engine, 'pd-a').length);
    expect(mixed.u16 + mixed.u32).toBeGreaterThan(0);
    await checkAll(f, 24, 7601, false);
    await internals(f.engine).compact('pd-a');
    await internals(f.engine).plateIndexesSettled();
    expect(shardsOf(f.engine, 'pd-a').length).toBeLessThan(5 * kDays);
    expectMaps(f, ['pd-a']);
    await checkAll(f, 24, 7701, false);
    for (const [tenant, cutoff] of [['pd-b', kT0 + Math.floor(0.5 * kDay)], ['pd-a', kT0 + Math.floor(1.5 * kDay)]] as const) {
      const res = await f.engine.dropBefore(tenant, cutoff);
      expect(res.readsDeleted).toBe(f.reads.filter((r) => r.tenant === tenant && r.ts < cutoff).length);
      f.reads = f.reads.filter((r) => !(r.tenant === tenant && r.ts < cutoff));
    }
    await internals(f.engine).plateIndexesSettled();
    expectMaps(f, ['pd-a']);
    await checkAll(f, 24, 7801, false);
    await f.engine.close();
    plateIdSpan.max = kDefaultSpan;
    f.engine = await open(0);
    await internals(f.engine).plateIndexesSettled();
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expect(expectMaps(f).ef).toBe(shardsOf(f.engine).length);
    await checkAll(f, 16, 7901);
  }, 900_000);
});
