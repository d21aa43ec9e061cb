/**
 * The row scan against the reference matchesFilter + plateDistance, on the compiled wasm: every filter
 * and combination, exact boundaries (time bounds, bbox edges, radius equal to a row's distance,
 * polygon vertices on rows), multi-block segments with partial last blocks and zone-map pruning,
 * row ranges, capacity cuts, count-only scans, empty segments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Arena } from '../src/core/arena.js';
import { Kernels, type CompiledFilter } from '../src/core/kernels.js';
import { kBlockRows } from '../src/core/segment.js';
import type { PlateMatch, ReadFilter } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { haversineM, matchesFilter, plateDistance } from '../src/query/reference/index.js';
import { kCameras, kRegions, kT0, plateMatchArb, readFilterArb, storedReadsArb } from './helpers/arbitraries.js';
import { buildSegment, type BuiltSegment, type SegmentRow } from './helpers/segment-builder.js';

const arena = new Arena(0, { maxBytes: 512 * 1024 * 1024 });
const kernels = Kernels.forArena(arena, undefined, 8 * 1024 * 1024);

function asRead(r: SegmentRow, i: number): StoredRead {
  const read: StoredRead = { id: String(i), tenant: 't', plate: r.plate, ts: r.ts, lat: r.lat, lon: r.lon, camera: r.camera };
  if (r.region !== undefined) read.region = r.region;
  return read;
}

interface Expected {
  rows: number[];
  distances: number[];
}

function reference(seg: BuiltSegment, filter: ReadFilter, match: PlateMatch | undefined, start = 0, end = seg.rows.length): Expected {
  const rows: number[] = [];
  const distances: number[] = [];
  for (let i = start; i < end; i++) {
    const read = asRead(seg.rows[i]!, i);
    if (!matchesFilter(filter, read)) continue;
    const d = match ? plateDistance(match, read.plate) : 0;
    if (d < 0) continue;
    rows.push(i);
    distances.push(d);
  }
  return { rows, distances };
}

/** Runs the kernels: dictionary match (if any), then a full scan, a count-only scan and a cut scan. */
function run(seg: BuiltSegment, filter: ReadFilter, match: PlateMatch | undefined, range?: { start: number; end: number }, capacity?: number) {
  const mark = kernels.scratch.mark();
  try {
    let dist: number | null = null;
    if (match) {
      dist = kernels.scratch.alloc(Math.max(1, seg.layout.dictCount));
      kernels.matchDictionary(seg.layout, match, dist);
    }
    const compiled: CompiledFilter = kernels.compileFilter(filter, seg.dicts);
    const out = kernels.allocOutput(capacity ?? seg.layout.rows);
    const total = kernels.scanSegment(seg.layout, compiled, dist, out, range);
    const count = kernels.countSegment(seg.layout, compiled, dist, range);
    return { total, count, rows: Array.from(kernels.rows(out, total)), distances: Array.from(kernels.distances(out, total)) };
  } finally {
    kernels.scratch.release(mark);
  }
}

function checkScan(seg: BuiltSegment, filter: ReadFilter, match: PlateMatch | undefined, range?: { start: number; end: number }): void {
  const want = reference(seg, filter, match, range?.start, range?.end);
  const got = run(seg, filter, match, range);
  const label = JSON.stringify({ filter, match, range });
  expect(got.rows, label).toEqual(want.rows);
  expect(got.distances, label).toEqual(want.distances);
  expect(got.total, label).toBe(want.rows.length);
  expect(got.count, label).toBe(want.rows.length);
  if (want.rows.length > 1) {
    const cap = Math.floor(want.rows.length / 2);
    const cut = run(seg, filter, match, range, cap);
    expect(cut.total, label).toBe(want.rows.length);
    expect(cut.rows, label).toEqual(want.rows.slice(0, cap));
  }
}

const toRows = (reads: readonly StoredRead[]): SegmentRow[] =>
  reads.map((r) => ({ plate: r.plate, ts: r.ts, lat: r.lat, lon: r.lon, camera: r.camera, ...(r.region !== undefined ? { region: r.region } : {}) }));

/** Boundary filters built from the stored rows themselves. */
function boundaryFilterArb(rows: readonly SegmentRow[]): fc.Arbitrary<ReadFilter> {
  const row = fc.constantFrom(...rows);
  return fc.oneof(
    // radius exactly the distance to another row: the kernel's band must defer to the reference
    fc.tuple(row, row, fc.constantFrom(0, 0, -1e-9, 1e-9)).map(([a, b, eps]): ReadFilter => ({
      near: { lat: a.lat, lon: a.lon, radiusM: Math.max(0, haversineM(a.lat, a.lon, b.lat, b.lon) + eps) },
    })),
    // bbox whose edges pass exactly through rows
    fc.tuple(row, row).map(([a, b]): ReadFilter => ({
      bbox: [Math.min(a.lon, b.lon), Math.min(a.lat, b.lat), Math.max(a.lon, b.lon), Math.max(a.lat, b.lat)],
    })),
    // polygon with vertices on rows (edges through rows: even-odd must agree bit for bit)
    fc.array(row, { minLength: 3, maxLength: 6 }).map((vs): ReadFilter => ({ polygon: vs.map((v) => [v.lon, v.lat] as [number, number]) })),
    // time window with bounds on row timestamps
    fc.tuple(row, row).map(([a, b]): ReadFilter => ({ from: Math.min(a.ts, b.ts), to: Math.max(a.ts, b.ts) })),
  );
}

// every case seven times: wide lanes (i64 ts, u32 codes), narrow ones as format 2 shards lay them out, those
// with ts / lat / lon as u24 offsets from per-run bases, as loaded shards hold them (src/core/base-lanes.ts), and
// each of the last two with u24 plate codes (ABI 9, src/store/shard-u24.ts) or bit-packed ones at the dictionary's
// exact bits (ABI 11, src/core/packed-lanes.ts: 1 to 6 bits for these dictionaries)
for (const lanes of ['wide', 'narrow', 'u24', 'narrow+plate24', 'u24+plate24', 'narrow+packed', 'u24+packed'] as const) {
const narrow = lanes !== 'wide', u24 = lanes.startsWith('u24'), plateU24 = lanes.endsWith('plate24');
const plateBits = lanes.endsWith('packed') ? ('exact' as const) : undefined;
const label = lanes === 'wide' ? '' : `, ${lanes} lanes`;
describe(`scan vs reference (property)${label}`, () => {
  it('random reads, random filters, with and without a plate condition', () => {
    fc.assert(
      fc.property(
        storedReadsArb(60).chain((reads) =>
          fc.tuple(fc.constant(reads), readFilterArb(reads),
            reads.length ? fc.option(plateMatchArb(reads.map((r) => r.plate)), { nil: undefined }) : fc.constant(undefined))),
        ([reads, filter, match]) => {
          const seg = buildSegment(arena, toRows(reads), { narrow, u24, plateU24, plateBits });
          try {
            checkScan(seg, filter, match);
          } finally {
            seg.free();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('boundary filters built from the rows (radius = a row distance, edges through rows)', () => {
    const rechecksBefore = kernels.radiusRechecks;
    fc.assert(
      fc.property(
        storedReadsArb(40).filter((r) => r.length > 0).chain((reads) => {
          const seg = toRows(reads).map((r) => ({ ...r, lat: Math.round(r.lat * 1e7) / 1e7, lon: Math.round(r.lon * 1e7) / 1e7 }));
          return fc.tuple(fc.constant(reads), fc.array(boundaryFilterArb(seg), { minLength: 1, maxLength: 3 }));
        }),
        ([reads, filters]) => {
          const seg = buildSegment(arena, toRows(reads), { narrow, u24, plateU24, plateBits });
          try {
            checkScan(seg, Object.assign({}, ...filters) as ReadFilter, undefined);
            for (const f of filters) checkScan(seg, f, undefined);
          } finally {
            seg.free();
          }
        },
      ),
      { numRuns: 300 },
    );
    // Radii equal to a row's distance put rows inside the band: the JS re-check must have run.
    expect(kernels.radiusRechecks).toBeGreaterThan(rechecksBefore);
  });
});

describe(`scan: segments, blocks and ranges${label}`, () => {
  // 2.5 blocks, time-sorted (zone maps prune and contain), positions and plates cycling.
  const n = 2 * kBlockRows + 4321;
  const plates = ['7ABC123', 'X', 'ABCDEFGHIJ', '0BC1Z3', '7ABC132', 'Q1'];
  const big: SegmentRow[] = Array.from({ length: n }, (_, i) => {
    const cam = kCameras[i % kCameras.length]!;
    const r: SegmentRow = {
      plate: plates[(i * 7) % plates.length]!, ts: kT0 + i * 1000, camera: cam.camera,
      lat: cam.lat + ((i % 13) - 6) * 1e-4, lon: cam.lon + ((i % 11) - 5) * 1e-4,
    };
    if (i % 4 !== 0) r.region = kRegions[i % kRegions.length]!;
    return r;
  });
  const seg = buildSegment(arena, big, { narrow, u24, plateU24, plateBits });
  if (u24) expect([seg.layout.tsWidth, seg.layout.latWidth, seg.layout.lonWidth]).toEqual([3, 3, 3]);

  it('time windows across block edges, with zone-map pruning', () => {
    const edges = [0, 1, kBlockRows - 1, kBlockRows, kBlockRows + 1, 2 * kBlockRows, n - 1, n];
    for (const a of edges) for (const b of edges) if (a <= b) checkScan(seg, { from: kT0 + a * 1000, to: kT0 + b * 1000 }, undefined);
    checkScan(seg, { from: kT0 + 500 }, undefined);
    checkScan(seg, { to: kT0 + 8191 * 1000 + 1 }, undefined);
  });

  it('row ranges: partial blocks at both ends, empty ranges', () => {
    const match: PlateMatch = { pattern: '7ABC123', mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: true };
    for (const [s, e] of [[0, n], [1, kBlockRows + 1], [kBlockRows - 3, kBlockRows + 3], [100, 100], [n - 5, n], [2 * kBlockRows, n]] as const) {
      checkScan(seg, {}, undefined, { start: s, end: e });
      checkScan(seg, {}, match, { start: s, end: e });
      checkScan(seg, { from: kT0 + 9000 * 1000, cameras: ['cam-2', 'patrol 7'] }, match, { start: s, end: e });
    }
  });

  it('combined filters over many blocks', () => {
    const c = kCameras[0]!;
    const filters: ReadFilter[] = [
      { bbox: [c.lon - 2e-4, c.lat - 3e-4, c.lon + 1e-4, c.lat + 2e-4] },
      { near: { lat: c.lat, lon: c.lon, radiusM: 25 } },
      { near: { lat: c.lat, lon: c.lon, radiusM: 25 }, from: kT0 + 5000 * 1000, to: kT0 + 17000 * 1000, regions: ['CA'] },
      { polygon: [[c.lon - 3e-4, c.lat - 3e-4], [c.lon + 3e-4, c.lat - 1e-4], [c.lon, c.lat + 4e-4]] },
      { cameras: ['cam-17'], regions: ['NV', 'WA'] },
      { cameras: ['cam-unknown'] },
      { regions: ['WA'] },
      { from: kT0, to: kT0 },
    ];
    const match: PlateMatch = { pattern: '0BC1Z3', mode: 'exact', maxEdits: 0, ocr: true, transpositions: false };
    for (const f of filters) {
      checkScan(seg, f, undefined);
      checkScan(seg, f, match);
    }
  });

  it('an empty segment scans to nothing', () => {
    const empty = buildSegment(arena, [], { narrow, u24, plateU24, plateBits });
    checkScan(empty, {}, undefined);
    checkScan(empty, { from: 0 }, { pattern: 'A', mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: true });
    empty.free();
  });
});
}

/**
 * u24 lanes at their edges (src/core/base-lanes.ts): offsets 0 and 2^24 − 1 within a run, negative coordinates,
 * runs whose span is exactly 2^24 (the lane must stay full width), bounds at, just outside and far outside a
 * run's range, and row ranges that start and end inside runs.
 */
describe('scan: u24 lanes at their edges', () => {
  const span = 2 ** 24;
  // Santiago: lat and lon both negative; ts from an hour into a day
  const lat0 = -334_000_000, lon0 = -706_000_000, t0 = Date.UTC(2026, 10, 2, 1, 0, 0);
  /** 3 runs and a bit; in each run one row at the run's minimum and one at minimum + `widest` on every lane. */
  const rowsWith = (widest: number): SegmentRow[] => Array.from({ length: 3 * 1024 + 77 }, (_, i) => {
    const k = i % 1024, run = i >> 10;
    const off = k === 5 ? 0 : k === 900 ? widest : 1 + ((i * 7919) % (widest - 1));
    const lat = lat0 + run * 3_000_000 + (k === 5 ? 0 : k === 900 ? widest : (off * 3) % widest);
    const lon = lon0 - run * 5_000_000 + off;
    const cam = kCameras[i % kCameras.length]!;
    return { plate: ['AB1', 'CD22', 'EF333'][i % 3]!, ts: t0 + run * 5_000_000 + off, lat: lat / 1e7, lon: lon / 1e7, camera: cam.camera };
  });
  const fits = buildSegment(arena, rowsWith(span - 1), { u24: true });
  const wide = buildSegment(arena, rowsWith(span), { u24: true });

  it('narrows lanes whose runs span < 2^24 and keeps the others full width', () => {
    expect([fits.layout.tsWidth, fits.layout.latWidth, fits.layout.lonWidth]).toEqual([3, 3, 3]);
    expect([wide.layout.tsWidth, wide.layout.latWidth, wide.layout.lonWidth]).toEqual([4, undefined, undefined]);
    expect(wide.layout.bases).toBeUndefined();
  });

  it('bounds at a run\'s base and base + 2^24 − 1, just outside them, and outside every run', () => {
    for (const seg of [fits, wide]) {
      const edges = (values: number[]) => {
        const out = new Set<number>();
        for (const v of values) for (const d of [-1, 0, 1]) out.add(v + d);
        return [...out];
      };
      const run = (r: number) => seg.rows.slice(r * 1024, (r + 1) * 1024);
      const extremes = (f: (x: SegmentRow) => number) => [0, 1, 2, 3].flatMap((r) => {
        const vs = run(r).map(f);
        return vs.length ? [Math.min(...vs), Math.max(...vs)] : [];
      });
      const tsEdges = edges(extremes((x) => x.ts));
      const latEdges = edges(extremes((x) => Math.round(x.lat * 1e7))).map((v) => v / 1e7);
      const lonEdges = edges(extremes((x) => Math.round(x.lon * 1e7))).map((v) => v / 1e7);
      const far = [t0 - 1e9, t0 + 1e10];
      for (const a of [...tsEdges, ...far]) for (const b of [tsEdges[3]!, tsEdges[10]!, far[1]!]) if (a <= b) checkScan(seg, { from: a, to: b }, undefined);
      for (const a of latEdges) for (const b of [latEdges[4]!, latEdges[latEdges.length - 2]!, 10]) {
        if (a <= b) checkScan(seg, { bbox: [-180, a, 180, b] }, undefined);
      }
      for (const a of lonEdges) for (const b of [lonEdges[1]!, lonEdges[7]!, 0]) {
        if (a <= b) checkScan(seg, { bbox: [a, -90, b, 90], from: tsEdges[4]! }, undefined);
      }
      // boxes entirely outside the data: north, south, east, west
      for (const bbox of [[-71, -30, -70, -29], [-71, -40, -70, -39], [-60, -34, -59, -33], [-80, -34, -79, -33]] as const) checkScan(seg, { bbox: [...bbox] }, undefined);
      // radius and polygon around rows at a run's extremes (the scalar tests read base + offset)
      for (const i of [5, 900, 1024 + 5, 2048 + 900, seg.rows.length - 1]) {
        const x = seg.rows[i]!;
        checkScan(seg, { near: { lat: x.lat, lon: x.lon, radiusM: 150 } }, undefined);
        checkScan(seg, { near: { lat: x.lat, lon: x.lon, radiusM: 2000 }, from: x.ts, to: x.ts + 1 }, { pattern: 'AB1', mode: 'exact', maxEdits: 0, ocr: false, transpositions: false });
        checkScan(seg, { polygon: [[x.lon - 0.01, x.lat - 0.01], [x.lon + 0.01, x.lat - 0.01], [x.lon, x.lat + 0.01]] }, undefined);
      }
      // row ranges starting and ending inside runs (the kernel's per-run passes start mid-run)
      for (const [s, e] of [[3, 1030], [1023, 1025], [1000, 3 * 1024 + 50], [2047, 2049]] as const) {
        checkScan(seg, { from: tsEdges[2]!, to: tsEdges[12]!, bbox: [lonEdges[0]!, latEdges[0]!, lonEdges[9]!, latEdges[9]!] }, undefined, { start: s, end: e });
      }
    }
  });
});

/**
 * u24 plate codes above 2^16 (ABI 9: a loaded shard with more than 65,536 plates narrows its u32 lane to u24,
 * src/store/shard-u24.ts): 90,000 distinct plates in dictionary order, so a code's third byte is 0 to 1 and every
 * pattern kind gathers `dist[plate[r]]` at codes whose high byte matters, on the plate-only path (the counting
 * loop widens four codes with one swizzle), the labels path and the SIMD filter path; rows ranges end at the
 * lane's last row (its load reads the padding).
 */
describe('scan: u24 plate codes of 2^16 and more', () => {
  const n = 90_000;
  const plateOf = (k: number) => `P${k.toString(36).toUpperCase().padStart(4, '0')}`;
  const rows: SegmentRow[] = Array.from({ length: n + 333 }, (_, i) => {
    const cam = kCameras[i % kCameras.length]!;
    // rows in a shuffled plate order (rows are stored by time), a few plates read twice
    const k = i < n ? (i * 7919) % n : (i * 31) % n;
    return { plate: plateOf(k), ts: kT0 + i * 500, lat: cam.lat + (i % 7) * 1e-4, lon: cam.lon, camera: cam.camera, ...(i % 3 ? { region: kRegions[i % kRegions.length]! } : {}) };
  });
  const matches: PlateMatch[] = [
    { pattern: plateOf(n - 3), mode: 'exact', maxEdits: 0, ocr: false, transpositions: false },
    { pattern: plateOf(70_001), mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: true },
    { pattern: plateOf(66_000), mode: 'fuzzy', maxEdits: 1, ocr: true, transpositions: false },
    { pattern: 'P1Z*', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
    { pattern: 'P2?', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
    { pattern: '*Z1*', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
  ];
  // u24 codes, and (ABI 11) bit-packed ones at the exact 17 bits, at 23 and at 24 (the widest: a code's last bit is
  // bit 30 of its u32 load when it starts at bit 7 of a byte)
  const forms: Array<{ u24: boolean; plateBits?: number | 'exact' }> = [{ u24: false }, { u24: true }, { u24: false, plateBits: 'exact' }, { u24: true, plateBits: 'exact' }, { u24: false, plateBits: 23 }, { u24: false, plateBits: 24 }];
  for (const { u24, plateBits } of forms) {
    it(`every pattern over the codes${u24 ? ', with u24 ts / lat / lon' : ''}${plateBits ? `, packed at ${plateBits} bits` : ''}`, () => {
      const seg = buildSegment(arena, rows, plateBits ? { sortPlates: true, plateBits, u24 } : { sortPlates: true, plateU24: true, u24 });
      try {
        expect(seg.layout.plateWidth).toBe(plateBits ? 0 : 3);
        if (plateBits) expect(seg.layout.plateBits).toBe(plateBits === 'exact' ? 17 : plateBits);
        expect(seg.layout.dictCount).toBe(n);
        for (const m of matches) {
          checkScan(seg, {}, m);
          checkScan(seg, { cameras: ['cam-2', 'patrol 7'] }, m);
          checkScan(seg, { from: kT0 + 1000 * 500, to: kT0 + 80_000 * 500, regions: ['CA', 'NV'] }, m);
          checkScan(seg, {}, m, { start: n - 37, end: rows.length });
        }
      } finally {
        seg.free();
      }
    });
  }
});
