/**
 * The TypeScript face of the WebAssembly kernels: what the executor calls. One `Kernels` per
 * (thread, arena): it instantiates the compiled module against that arena's shared memory and owns one
 * scratch region of it for per-query structures.
 *
 * A query over a segment runs in two steps (DESIGN.md decision 5: match distinct plates, not rows):
 *
 *   1. matchDictionary(seg, plateMatch, dist)   dictionary (distinct plates) → u8 distance per entry,
 *                                               255 = no match; SIMD: masked compare (exact, `?`),
 *                                               Shift-And (`*`), bit-parallel Myers/Hyyrö (fuzzy, OSA)
 *   2. scanSegment(seg, filter, dist, out)      rows → row indexes (segment-relative) and distances of
 *                                               rows passing every filter; zone maps prune blocks first
 *
 * ```ts
 * const k = Kernels.forArena(arena, kernelModule());          // or new Kernels(module, memory, scratch)
 * const mark = k.scratch.mark();
 * const dist = k.scratch.alloc(seg.dictCount);
 * if (k.matchDictionary(seg, match, dist) > 0) {
 *   const filter = k.compileFilter(query.filter, dicts);
 *   const out = k.allocOutput(seg.rows);
 *   const total = k.scanSegment(seg, filter, dist, out);      // rows in k.rows(out, n), distances in k.distances(out, n)
 * }
 * k.scratch.release(mark);
 * ```
 *
 * All pointers are byte offsets in this instance's arena. Everything here is synchronous and
 * allocation-free on the wasm side; call it from a worker (piscina) to keep the event loop free.
 */
import type { PlateMatch, ReadFilter } from '../model/query.js';
import { haversineM } from '../query/reference/geo.js';
import {
  kAbiVersion, kFilterEmpty, kNoMatch, kSegmentDescBytes, S_BLOCKS, S_CAMERA, S_DICT, S_DICT_COUNT, S_LAT, S_LON,
  S_PLATE, S_REGION, S_ROWS, S_TS, S_ZONES, S_MAKE, S_COLOR, S_WIDTHS, S_TS_BASE, S_BASES, S_CAMERA_RUNS, S_CAMERA_TABLE, S_LABEL_RUNS, S_LABEL_TABLE, S_LABEL_SHARED, W_TS, W_PLATE, W_PLATE_BITS, W_CAMERA, W_REGION,
  W_MAKE, W_COLOR, W_TS24, W_LAT24, W_LON24,
} from './abi.js';
import type { Arena } from './arena.js';
import { encodeFilter, patchFilterPointers, type SegmentDictionaries } from './filter.js';
import { labelTriples } from './label-lanes.js';
import { kernelModule } from './module.js';
import { encodePlateMatch, type PlateKernel } from './plate-query.js';
import { Scratch, type ScratchOverflow } from './scratch.js';
import { kPackedMaxBits } from './packed-lanes.js';
import type { SegmentLayout } from './segment.js';

export type { SegmentDictionaries } from './filter.js';
export { kNoMatch } from './abi.js';

/** A plate pattern compiled into this instance's scratch; reusable across segments of the arena. */
export interface CompiledPlateMatch {
  readonly kind: 'plate';
  readonly ptr: number;
  readonly kernel: PlateKernel;
  readonly match: PlateMatch;
}

/** A filter compiled for one segment's dictionaries, in this instance's scratch. */
export interface CompiledFilter {
  readonly kind: 'filter';
  readonly ptr: number;
  /** True when the filter can match nothing in this segment (e.g. none of its cameras): scans return 0. */
  readonly empty: boolean;
  readonly filter: ReadFilter;
}

/** Rows [start, end) of a segment, segment-relative. */
export interface RowRange {
  start: number;
  end: number;
}

/** Where scanSegment writes: `rows` u32[capacity] and, if non-zero, `distances` u8[capacity]. */
export interface ScanOutput {
  rows: number;
  distances: number;
  capacity: number;
}

interface KernelExports {
  memory?: WebAssembly.Memory;
  abiVersion(): number;
  dictMasked(dict: number, count: number, pq: number, out: number): number;
  dictWildcard(dict: number, count: number, pq: number, out: number): number;
  dictFuzzy(dict: number, count: number, pq: number, out: number): number;
  scan(seg: number, filter: number, dist: number, start: number, end: number, outRows: number, outDist: number, capacity: number): number;
  gatherSlots(dict: number, ids: number, n: number, out: number): void;
  unionSorted(a: number, na: number, b: number, nb: number, out: number): number;
}

/** Default scratch per (worker, arena): room for a 4M-entry distance array and a 1M-row output. */
export const kDefaultScratchBytes = 16 * 1024 * 1024;

export class Kernels {
  readonly memory: WebAssembly.Memory;
  /** Per-query bump allocator over this instance's scratch region. */
  readonly scratch: Scratch;
  private readonly exports: KernelExports;
  private readonly segDesc: number;
  private buffer: ArrayBufferLike;
  private view: DataView;
  private activeNear: ReadFilter['near'];
  /** Rows whose radius test the kernel deferred to the reference formula (they lie within ~1e-7 of the radius). */
  radiusRechecks = 0;

  /**
   * Instantiates `module` against `memory` (one arena). `scratch` is a region of that arena, at least
   * 4 KiB, owned by this instance alone (two threads must never share one). `overflow` (the arena's
   * owning thread only) serves requests bigger than the region (src/core/scratch.ts).
   */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, scratch: { ptr: number; bytes: number }, overflow?: ScratchOverflow) {
    this.memory = memory;
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory,
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`kernel abort at ${line}:${col}`);
        },
        // The kernel's haversine agrees with the reference except maybe in the last ulp; rows within a
        // hair of the radius come here, to be decided by the reference formula itself.
        radiusRecheck: (latE7: number, lonE7: number): number => {
          const n = this.activeNear!;
          this.radiusRechecks++;
          return haversineM(n.lat, n.lon, latE7 / 1e7, lonE7 / 1e7) <= n.radiusM ? 1 : 0;
        },
      },
    });
    this.exports = instance.exports as unknown as KernelExports;
    const abi = this.exports.abiVersion();
    if (abi !== kAbiVersion) throw new Error(`kernel module ABI ${abi}, expected ${kAbiVersion}; rebuild with npm run build:wasm`);
    this.scratch = new Scratch(scratch.ptr, scratch.bytes, overflow);
    this.segDesc = this.scratch.alloc(kSegmentDescBytes, 16);
    this.buffer = memory.buffer;
    this.view = new DataView(this.buffer);
  }

  /** Convenience for the arena's owning thread: allocates `scratchBytes` in `arena` and instantiates. */
  static forArena(arena: Arena, module: WebAssembly.Module = kernelModule(), scratchBytes = kDefaultScratchBytes): Kernels {
    const ptr = arena.alloc(scratchBytes, 64);
    if (ptr < 0) throw new RangeError(`arena ${arena.index} has no room for ${scratchBytes} bytes of scratch`);
    return new Kernels(module, arena.memory, { ptr, bytes: scratchBytes });
  }

  /** Compiles a plate pattern into scratch (about 1 KiB). Pass the result to matchDictionary for every segment. */
  compilePlateMatch(match: PlateMatch): CompiledPlateMatch {
    const enc = encodePlateMatch(match);
    const ptr = this.scratch.alloc(enc.bytes.length, 16);
    this.bytes(ptr, enc.bytes.length).set(enc.bytes);
    return { kind: 'plate', ptr, kernel: enc.kernel, match };
  }

  /**
   * Writes, for every entry of `seg`'s plate dictionary, its distance under `match` (0 for exact and
   * wildcard; the edit distance for fuzzy) or 255 (kNoMatch) into `out` (u8[seg.dictCount] in this
   * arena). Returns the number of matching entries. A PlateMatch is compiled on the fly; compile once
   * with compilePlateMatch when matching many segments.
   */
  matchDictionary(seg: SegmentLayout, match: PlateMatch | CompiledPlateMatch, out: number): number {
    const pq = 'kind' in match ? match : this.compilePlateMatch(match);
    if (seg.dictCount === 0) return 0;
    const e = this.exports;
    switch (pq.kernel) {
      case 'masked':
        return e.dictMasked(seg.dict, seg.dictCount, pq.ptr, out) >>> 0;
      case 'wildcard':
        return e.dictWildcard(seg.dict, seg.dictCount, pq.ptr, out) >>> 0;
      case 'fuzzy':
        return e.dictFuzzy(seg.dict, seg.dictCount, pq.ptr, out) >>> 0;
    }
  }

  /**
   * Copies the 16-byte slots `ids[0..n)` (u32 at `ids`) of the dictionary at `dict` side by side to `out`
   * (n · 16 bytes): a small dictionary of candidates for matchDictionary (src/query/gram-match.ts).
   */
  gatherSlots(dict: number, ids: number, n: number, out: number): void {
    if (n > 0) this.exports.gatherSlots(dict, ids, n, out);
  }

  /**
   * The sorted union of the ascending, duplicate-free u32 lists at `a` (na) and `b` (nb) into `out` (room
   * for na + nb, overlapping neither); returns its length (src/query/gram-match.ts).
   */
  unionSorted(a: number, na: number, b: number, nb: number, out: number): number {
    return this.exports.unionSorted(a, na, b, nb, out) >>> 0;
  }

  /**
   * Compiles `filter` for one segment (its camera/region dictionaries become byte masks by id) into
   * scratch. Time and bbox become exact integer thresholds; see src/core/filter.ts. Pass the segment `seg`
   * when it may have a labels lane (a loaded shard): its region/make/color masks are then over its triples.
   */
  compileFilter(filter: ReadFilter, dicts: SegmentDictionaries, seg?: SegmentLayout): CompiledFilter {
    // a packed segment (labels lane): the region, make and color masks become one over its triples
    const triples = seg?.labels ? labelTriples(this.currentBuffer(), seg) : undefined;
    const enc = encodeFilter(filter, triples ? { ...dicts, triples } : dicts);
    const ptr = this.scratch.alloc(enc.bytes.length, 16);
    this.bytes(ptr, enc.bytes.length).set(enc.bytes);
    patchFilterPointers(this.dataView(), ptr, enc);
    return { kind: 'filter', ptr, empty: (enc.flags & kFilterEmpty) !== 0, filter };
  }

  /** Allocates a ScanOutput for up to `capacity` rows in scratch. */
  allocOutput(capacity: number): ScanOutput {
    const rows = this.scratch.alloc(Math.max(4, capacity * 4), 16);
    const distances = this.scratch.alloc(Math.max(16, capacity), 16);
    return { rows, distances, capacity };
  }

  /**
   * Scans rows `range` (default all) of `seg`, keeping rows that pass `filter` (null: no filter) and
   * whose plate's entry in `plateDistances` (null: no plate condition, distance 0) is not 255.
   * Writes the first `out.capacity` passing rows, in row order, to `out.rows` (segment-relative u32)
   * and their distances to `out.distances` (u8; skipped when 0). With `out` null nothing is written.
   * Returns the exact number of passing rows (which may exceed the capacity).
   */
  scanSegment(
    seg: SegmentLayout, filter: CompiledFilter | null, plateDistances: number | null,
    out: ScanOutput | null, range?: RowRange,
  ): number {
    if (filter?.empty) return 0;
    const start = range ? Math.max(0, range.start) : 0;
    const end = range ? Math.min(seg.rows, range.end) : seg.rows;
    if (end <= start) return 0;
    this.writeSegment(seg);
    this.activeNear = filter?.filter.near;
    return this.exports.scan(
      this.segDesc, filter ? filter.ptr : 0, plateDistances ?? 0, start, end,
      out ? out.rows : 0, out ? out.distances : 0, out ? out.capacity : 0,
    ) >>> 0;
  }

  /** scanSegment without materialising rows: the count alone (what `total` needs). */
  countSegment(seg: SegmentLayout, filter: CompiledFilter | null, plateDistances: number | null, range?: RowRange): number {
    return this.scanSegment(seg, filter, plateDistances, null, range);
  }

  /** A byte view of this arena (re-made after the memory grows). */
  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.currentBuffer(), ptr, length);
  }

  /** The first `n` row indexes of a scan output. */
  rows(out: ScanOutput, n: number): Uint32Array {
    return new Uint32Array(this.currentBuffer(), out.rows, Math.min(n, out.capacity));
  }

  /** The first `n` distances of a scan output. */
  distances(out: ScanOutput, n: number): Uint8Array {
    return new Uint8Array(this.currentBuffer(), out.distances, Math.min(n, out.capacity));
  }

  private currentBuffer(): ArrayBufferLike {
    if (this.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.buffer = this.memory.buffer;
      this.view = new DataView(this.buffer);
    }
    return this.buffer;
  }

  private dataView(): DataView {
    this.currentBuffer();
    return this.view;
  }

  private writeSegment(seg: SegmentLayout): void {
    const v = this.dataView();
    const p = this.segDesc;
    v.setUint32(p + S_ROWS, seg.rows, true);
    v.setUint32(p + S_TS, seg.ts, true);
    v.setUint32(p + S_LAT, seg.lat, true);
    v.setUint32(p + S_LON, seg.lon, true);
    v.setUint32(p + S_PLATE, seg.plate, true);
    v.setUint32(p + S_CAMERA, seg.camera, true);
    // a packed segment's labels lane takes the region lane's slot (its filter masks are over triples)
    v.setUint32(p + S_REGION, seg.labels || seg.region, true);
    v.setUint32(p + S_DICT, seg.dict, true);
    v.setUint32(p + S_DICT_COUNT, seg.dictCount, true);
    v.setUint32(p + S_ZONES, seg.zones, true);
    v.setUint32(p + S_BLOCKS, seg.blocks, true);
    v.setUint32(p + S_MAKE, seg.make ?? 0, true);
    v.setUint32(p + S_COLOR, seg.color ?? 0, true);
    v.setUint32(p + S_WIDTHS, widthsWord(seg), true);
    v.setBigInt64(p + S_TS_BASE, BigInt(seg.tsWidth === 4 || seg.tsWidth === 3 ? seg.tsBase ?? 0 : 0), true);
    v.setUint32(p + S_BASES, seg.bases ?? 0, true);
    v.setUint32(p + S_CAMERA_RUNS, seg.cameraRuns ?? 0, true);
    v.setUint32(p + S_CAMERA_TABLE, seg.cameraTable ?? 0, true);
    v.setUint32(p + S_LABEL_RUNS, seg.labelRuns ?? 0, true);
    v.setUint32(p + S_LABEL_TABLE, seg.labelTable ?? 0, true);
    v.setUint32(p + S_LABEL_SHARED, seg.labelShared ?? 0, true);
  }
}

const log2Width = (w: number | undefined): number => (w === 1 ? 0 : w === 2 ? 1 : 2);
/** The plate lane's field: a log2 width, or 3 for a u24 lane of codes (ABI 9); 0 for a bit-packed one (ABI 11: W_PLATE_BITS). */
const plateWidthField = (w: number | undefined): number => (w === 3 ? 3 : w === 0 ? 0 : log2Width(w));

/** A bit-packed plate lane's bits (ABI 11), checked: the kernel reads a code with one u32 load. */
function packedPlateBits(bits: number | undefined): number {
  if (bits === undefined || !Number.isInteger(bits) || bits < 1 || bits > kPackedMaxBits) throw new Error(`a bit-packed plate lane needs its bits (1-${kPackedMaxBits}), not ${bits}`);
  return bits;
}

/** The camera lane's field: a log2 width, or 3 for u8 entries of run tables (ABI 10). */
const cameraWidthField = (seg: SegmentLayout): number => (seg.cameraRuns ? 3 : log2Width(seg.cameraWidth));

/** The region slot's field: the labels lane's or the region lane's log2 width, or 3 for labels by runs (ABI 11). */
const regionWidthField = (seg: SegmentLayout): number => (seg.labelRuns ? 3 : log2Width(seg.labels ? seg.labelsWidth : seg.regionWidth));

/**
 * The S_WIDTHS word of a layout (src/core/abi.ts): each lane's log2 width, wide where a field is unset, and the
 * u24 bits (a u24 ts lane is also marked u32: its values are offsets from tsBase, as a u32 lane's).
 */
export function widthsWord(seg: SegmentLayout): number {
  const u24 = (seg.tsWidth === 3 ? 1 << W_TS24 : 0) | (seg.latWidth === 3 ? 1 << W_LAT24 : 0) | (seg.lonWidth === 3 ? 1 << W_LON24 : 0);
  const plateBits = seg.plateWidth === 0 ? packedPlateBits(seg.plateBits) << W_PLATE_BITS : 0;
  return plateBits | u24 | ((seg.tsWidth === 4 || seg.tsWidth === 3 ? 2 : 3) << W_TS) | (plateWidthField(seg.plateWidth) << W_PLATE) | (cameraWidthField(seg) << W_CAMERA) |
    (regionWidthField(seg) << W_REGION) | (log2Width(seg.makeWidth) << W_MAKE) | (log2Width(seg.colorWidth) << W_COLOR);
}

/** Distance meaning "no match" in a dictionary distance array. */
export const kNoMatchDistance = kNoMatch;
