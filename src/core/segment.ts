/**
 * The column layout of a segment (a sealed shard or a live block) resident in an arena: the seam
 * between the store (which writes and loads these bytes, src/store) and the kernels (which scan them,
 * assembly/ via src/core). All pointers are byte offsets into the arena's shared WebAssembly.Memory,
 * aligned to 16 bytes (64 where the shard file aligns them).
 *
 *   rows i = 0 … rows-1, sorted by time bucket then place, so blocks have tight zone maps
 *   ┌──────────┬────────────────────────────────────────────────────────────────────┐
 *   │ ts       │ i64[rows]  epoch ms; or (tsWidth 4) u32[rows] ms since tsBase;     │
 *   │          │            or (3) u24 offsets from per-run bases (base-lanes.ts)   │
 *   │ lat, lon │ i32[rows]  degrees × 1e7, rounded (API.md: ≥ 1e-7° precision);     │
 *   │          │            or (latWidth / lonWidth 3) u24 from per-run bases       │
 *   │          │            filters compare f64(v) / 1e7 so boundaries agree with   │
 *   │          │            the reference on the stored value                       │
 *   │ plate    │ u32[rows]  index into the plate dictionary (also u24: plateWidth 3) │
 *   │          │            (or bit-packed: plateWidth 0, plateBits: packed-lanes.ts) │
 *   │ camera   │ u32[rows]  index into the segment's camera dictionary; or u8       │
 *   │          │            entries of per-run tables (cameraRuns: camera-lane.ts)  │
 *   │ region   │ u32[rows]  index into the region dictionary; 0 = no region         │
 *   │          │ (plate, camera, region, make, color: u8/u16/u32 per *Width; region │
 *   │          │  pointer 0 = the column is absent, every row has no region)        │
 *   ├──────────┼────────────────────────────────────────────────────────────────────┤
 *   │ dict     │ distinct plates, 16-byte slots: bytes 0–9 the characters (A–Z0–9), │
 *   │          │ zero padded; byte 15 the length (1–10). One v128 per plate.        │
 *   │ zones    │ per block of kBlockRows rows: f64 minTs, maxTs, minLat, maxLat,    │
 *   │          │ minLon, maxLon (degrees), 48 bytes a block                         │
 *   └──────────┴────────────────────────────────────────────────────────────────────┘
 * Everything else a hit needs (id, camera/region strings, confidence, make, color) is materialised
 * only for the rows a query returns, on the JS side.
 *
 * Lane widths (format 2 shards, src/store/shard-format.ts): every width field is optional and its default is
 * the wide lane above (i64 ts, u32 codes), so a producer that writes wide lanes sets none of them. A
 * producer with narrow lanes picks, per segment, the narrowest width that holds its largest value
 * (laneWidthFor): codes by dictionary size, ts as u32 offsets when every read lies within 2^31 ms of
 * `tsBase` (a day shard: offsets from its UTC midnight). The kernels read each lane at its width; JS
 * readers go through codeLane / tsReader below, never assume a width.
 *
 * Lanes only materialised hits need (not read by the kernels, but described here so every producer of
 * segments has one description): `seq` (u32 offsets from `seqBase`, or f64 when the span needs more) and
 * the plate → rows index `postings` (u16, u24 or u32 row indexes by `postingsWidth`: JS reads it through rowsReader).
 *
 * What the kernels (src/core/kernels.ts) rely on:
 * - zone maps hold the exact extremes of the stored values (ts, and f64(v) / 1e7 for lat/lon), or
 *   wider bounds: the scan skips a block on them, and drops the time test for a block inside the window;
 *   `zones` = 0 (or `blocks` = 0) turns pruning off;
 * - every id in the camera/region columns is < the length of the dictionary given to compileFilter;
 * - dictionary slots are zero beyond the plate's length (bytes length–14): exact match compares all 16.
 */

import { kBaseLat, kBaseLon, kBaseTs, u24Reader } from './base-lanes.js';
import { packedReader } from './packed-lanes.js';

// power of two; one block's zone map covers this many rows
export const kBlockRows = 8192;
/** Bytes per plate-dictionary slot: 10 characters, padding, length in the last byte. */
export const kPlateSlotBytes = 16;
/** Bytes of one block's zone map: six f64. */
export const kZoneBytes = 48;
/** Fixed-point scale of stored coordinates. */
export const kCoordScale = 1e7;

export interface SegmentLayout {
  /** Index of the arena (shared WebAssembly.Memory) holding every column below. */
  arena: number;
  rows: number;
  ts: number;
  lat: number;
  lon: number;
  plate: number;
  camera: number;
  region: number;
  dict: number;
  dictCount: number;
  zones: number;
  blocks: number;
  /**
   * u32[rows] make and color ids (index into the segment's make/color dictionaries; 0 = none), for the
   * `makes`/`colors` filters. Absent (0) in segments without these columns: a filter naming makes or
   * colors is then empty for the segment (src/core/filter.ts), so the kernel never reads them.
   */
  make?: number;
  color?: number;
  /**
   * Bytes per ts value: 8 = i64 epoch ms (default), 4 = u32 ms since `tsBase` (< 2^31), 3 = u24 ms since
   * `tsBase` + the row's run base in `bases` (src/core/base-lanes.ts).
   */
  tsWidth?: 8 | 4 | 3;
  /** Epoch ms added to every u32 / u24 ts value (tsWidth 4 or 3). */
  tsBase?: number;
  /** Bytes per lat / lon value: 4 = i32 (default), 3 = u24 offsets from the row's run base in `bases`. */
  latWidth?: 4 | 3;
  lonWidth?: 4 | 3;
  /** Arena offset of the per-run bases of the u24 lanes (kBaseBytes per kBaseRows rows); 0/unset when none is u24. */
  bases?: number;
  /**
   * Bytes per code of the plate, camera, region, make and color lanes: 1, 2 or 4 (default 4). The plate lane may
   * also be 3: u24 codes (a loaded shard narrows its u32 lane in memory, src/store/shard-u24.ts; read it with
   * plateCodeReader). 0: bit-packed at `plateBits` bits a code (src/core/packed-lanes.ts; a loaded shard's u32 lane
   * whose codes fit fewer than 24 bits, src/store/shard-u24.ts).
   */
  plateWidth?: PlateWidth;
  /** Bits per code of a bit-packed plate lane (plateWidth 0); unset otherwise. */
  plateBits?: number;
  cameraWidth?: LaneWidth;
  /**
   * The camera lane by runs (src/core/camera-lane.ts): when set, `camera` holds u8 entries into a table per run of
   * 256 rows, `cameraRuns` (u32 × (runs + 1)) where each run's entries start in `cameraTable` (u16 camera codes, of
   * `cameraEntries` entries). Read it with cameraReader.
   */
  cameraRuns?: number;
  cameraTable?: number;
  cameraEntries?: number;
  regionWidth?: LaneWidth;
  makeWidth?: LaneWidth;
  colorWidth?: LaneWidth;
  /**
   * Arena offset of the seq lane (hits only): u32 offsets from `seqBase` (seqWidth 4), f64 (8), i64 (unset),
   * or u16 / u24 offsets from per-block u32 bases at `seqBlocks` (2 / 3; offsets from `seqBase`,
   * src/store/seq-blocks.ts).
   */
  seq?: number;
  seqWidth?: 2 | 3 | 4 | 8;
  seqBase?: number;
  seqBlocks?: number;
  /**
   * Seq by time (src/store/seq-blocks.ts): `seqBlocks` holds `buckets` bases, one per `ms` of ts from `origin`,
   * and the u16 seq lane offsets from the row's bucket's base (read it with seqReader, which reads ts for it).
   */
  seqTime?: { origin: number; ms: number; buckets: number };
  /**
   * Arena offset of the plate → rows index (row indexes ordered by (plate, row)): u16, u32, or u24 (3: a loaded
   * shard of more than 65,536 rows narrows its u32 lane in memory, src/store/shard-u24.ts; read it with rowsReader),
   * or bit-packed (0) at `postingsBits` bits a row index (src/core/packed-lanes.ts).
   */
  postings?: number;
  postingsWidth?: PostingsWidth;
  /** Bits per row index of a bit-packed postings lane (postingsWidth 0); unset otherwise. */
  postingsBits?: number;
  /**
   * Arena offset of the labels lane (src/core/label-lanes.ts): one code a row into the triple table at
   * `labelTriples` (`labelCount` distinct (region, make, color) triples), u8 or u16 by `labelsWidth`. Set when a
   * loaded shard's three lanes were packed (src/store/shard-labels.ts); `region`, `make` and `color` are then 0.
   * The kernels read it in the region lane's slot, with a filter's mask over triples (src/core/kernels.ts).
   */
  labels?: number;
  labelsWidth?: 1 | 2;
  labelTriples?: number;
  /** Bytes of each code in the triple table: 1, or 2 when some region / make / color code is past 255. */
  labelTriplesWidth?: 1 | 2;
  labelCount?: number;
  /**
   * The labels lane by runs (src/core/label-lanes.ts, a u16 code lane held as runs: src/core/run-lane.ts): when set,
   * `labels` holds u8 entries (`labelsWidth` 1): below `labelShared` a triple id, else into a table per run of 256
   * rows, `labelRuns` (u32 × (runs + 1)) where each run's entries start in `labelTable` (u16 triple ids, of
   * `labelEntries` entries). Set for a shard of
   * more than 256 triples whose runs see few of them. Read it with labelReader.
   */
  labelRuns?: number;
  labelTable?: number;
  labelEntries?: number;
  /** Entries below this are triple ids of their own (the shard's most frequent triples, numbered first). */
  labelShared?: number;
}

/** Bytes of one code in a dictionary-coded lane. */
export type LaneWidth = 1 | 2 | 4;

/** A dictionary-coded lane as JS sees it (indexing works the same at every width). */
export type CodeLane = Uint8Array | Uint16Array | Uint32Array;

/**
 * Bytes per plate code: a LaneWidth, or 3 (u24 in memory: src/store/shard-u24.ts), or 0: bit-packed, the bits a
 * code given beside it (src/core/packed-lanes.ts).
 */
export type PlateWidth = LaneWidth | 3 | 0;

/** Bytes per row index of a postings lane: u16, u24, u32, or 0: bit-packed (as PlateWidth). */
export type PostingsWidth = 2 | 3 | 4 | 0;

/** Row i's code in a plate lane, whatever its width. */
export type CodeAt = (i: number) => number;

/**
 * A reader of `rows` plate codes at `ptr`: u8, u16, u32 (width 4 when undefined), or u24 (3 B each,
 * little-endian, the lane padded by kU24Pad bytes), read as rowsReader reads u24 postings: one unaligned u32 load
 * through a DataView masked with 0xFFFFFF; or (width 0) bit-packed at `bits` bits a code.
 */
export function plateCodeReader(buffer: ArrayBufferLike, ptr: number, width: PlateWidth | undefined, rows: number, bits?: number): CodeAt {
  if (width === 0) return packedReader(buffer, ptr, rows, packedBits(bits));
  if (width === 3) {
    const v = new DataView(buffer, ptr, 3 * rows + 1);
    return (i) => v.getUint32(3 * i, true) & 0xffffff;
  }
  // one closure per width, so each call site sees one typed array kind (as rowsReader)
  if (width === 1) {
    const a = new Uint8Array(buffer, ptr, rows);
    return (i) => a[i]!;
  }
  if (width === 2) {
    const a = new Uint16Array(buffer, ptr, rows);
    return (i) => a[i]!;
  }
  const a = new Uint32Array(buffer, ptr, rows);
  return (i) => a[i]!;
}

/** A packed lane's bits, which its layout must give. */
function packedBits(bits: number | undefined): number {
  if (bits === undefined || !(bits >= 1 && bits <= 24)) throw new Error(`a bit-packed lane needs its bits (1-24), not ${bits}`);
  return bits;
}

/** The narrowest code width that holds codes 0 … count-1. */
export function laneWidthFor(count: number): LaneWidth {
  return count <= 0x100 ? 1 : count <= 0x10000 ? 2 : 4;
}

/** A view of `rows` codes of width `width` at `ptr` (width 4 when undefined: the wide default). */
export function codeLane(buffer: ArrayBufferLike, ptr: number, width: LaneWidth | undefined, rows: number): CodeLane {
  switch (width ?? 4) {
    case 1: return new Uint8Array(buffer, ptr, rows);
    case 2: return new Uint16Array(buffer, ptr, rows);
    default: return new Uint32Array(buffer, ptr, rows);
  }
}

/** Entry j of a lane of row indexes (the plate → rows postings), whatever its width. */
export type RowAt = (j: number) => number;

/**
 * A reader of `rows` row indexes at `ptr`: u16, u32 (width 4 when undefined), or u24 (3 B each, little-endian:
 * plain row numbers, no bases; a shard's rows stay < 2^24). A u24 read is one unaligned u32 load masked with
 * 0xFFFFFF (a DataView: a typed array cannot load at an offset not a multiple of 4); the last one reads a byte
 * past the lane, inside its padding (kU24Pad). Three byte loads measured ~1.5-2x slower in a galloping search.
 * Width 0: bit-packed at `bits` bits a row index (src/core/packed-lanes.ts), read likewise and shifted.
 */
export function rowsReader(buffer: ArrayBufferLike, ptr: number, width: PostingsWidth | undefined, rows: number, bits?: number): RowAt {
  if (width === 0) return packedReader(buffer, ptr, rows, packedBits(bits));
  if (width === 2) {
    const a = new Uint16Array(buffer, ptr, rows);
    return (j) => a[j]!;
  }
  if (width === 3) {
    const v = new DataView(buffer, ptr, 3 * rows + 1);
    return (j) => v.getUint32(3 * j, true) & 0xffffff;
  }
  const a = new Uint32Array(buffer, ptr, rows);
  return (j) => a[j]!;
}

/** ts of row i of a segment, whatever its ts lane's width. */
export function tsReader(buffer: ArrayBufferLike, seg: SegmentLayout): (i: number) => number {
  if (seg.tsWidth === 3) return u24Reader(buffer, seg.ts, seg.rows, seg.bases!, kBaseTs, seg.tsBase ?? 0);
  if (seg.tsWidth === 4) {
    const ts = new Uint32Array(buffer, seg.ts, seg.rows);
    const base = seg.tsBase ?? 0;
    return (i) => base + ts[i]!;
  }
  const ts32 = new Int32Array(buffer, seg.ts, seg.rows * 2);
  return (i) => ts32[2 * i + 1]! * 4294967296 + (ts32[2 * i]! >>> 0);
}

/** The seq of row i of a segment from its seq lane at `ptr` (the layout's, or a task's copy of it), whatever its form. */
export function segmentSeqReader(buffer: ArrayBufferLike, seg: SegmentLayout, ptr = seg.seq!): (i: number) => number {
  const time = seg.seqTime && { ...seg.seqTime, ts: tsReader(buffer, seg) };
  return seqReader(buffer, ptr, seg.rows, seg.seqWidth, seg.seqBase, seg.seqBlocks, time);
}

/** lat or lon (i32, 1e-7°) of row i of a segment, whatever the lane's width. */
export function coordReader(buffer: ArrayBufferLike, seg: SegmentLayout, which: 'lat' | 'lon'): (i: number) => number {
  const width = which === 'lat' ? seg.latWidth : seg.lonWidth;
  if (width === 3) return u24Reader(buffer, seg[which], seg.rows, seg.bases!, which === 'lat' ? kBaseLat : kBaseLon);
  const v = new Int32Array(buffer, seg[which], seg.rows);
  return (i) => v[i]!;
}

/** log2 of kBlockRows: row i lies in block i >>> kBlockShift. */
export const kBlockShift = Math.log2(kBlockRows);

/** Seq by time's buckets and the ts of every row, for seqBlocksReader. */
export interface SeqTimeReader {
  origin: number;
  ms: number;
  buckets: number;
  ts: (i: number) => number;
}

/**
 * seq of row i from u16 (`width` 2) or u24 (3: little-endian, the lane padded so a u32 load of the last
 * offset stays inside it) offsets at `ptr`, added to their block's u32 base (`blocks`) and `base`
 * (src/store/seq-blocks.ts); with `time`, u16 offsets added to the base of the row's bucket of ts (seq by time).
 */
export function seqBlocksReader(buffer: ArrayBufferLike, ptr: number, blocks: number, rows: number, base: number, width: 2 | 3 = 2, time?: SeqTimeReader): (i: number) => number {
  if (time) {
    const bases = new Uint32Array(buffer, blocks, time.buckets);
    const seq = new Uint16Array(buffer, ptr, rows);
    const { origin, ms, ts } = time;
    return (i) => base + bases[Math.floor((ts(i) - origin) / ms)]! + seq[i]!;
  }
  const bases = new Uint32Array(buffer, blocks, Math.ceil(rows / kBlockRows));
  if (width === 3) {
    const v = new DataView(buffer, ptr, 3 * rows + 1);
    return (i) => base + bases[i >>> kBlockShift]! + (v.getUint32(3 * i, true) & 0xffffff);
  }
  const seq = new Uint16Array(buffer, ptr, rows);
  return (i) => base + bases[i >>> kBlockShift]! + seq[i]!;
}

/**
 * seq of row i from a seq lane: u32 offsets from `base` (width 4), f64 values (width 8, format 2 shards whose
 * seqs span 2^32 or more), or, without a width, i64 values (the wide default, as format 1 laid them out).
 * u16 / u24 offsets from bases (2 / 3) take `blocks`, and `time` for seq by time.
 */
export function seqReader(buffer: ArrayBufferLike, ptr: number, rows: number, width: 2 | 3 | 4 | 8 | undefined, base: number | undefined, blocks?: number, time?: SeqTimeReader): (i: number) => number {
  if (width === 2 || width === 3) return seqBlocksReader(buffer, ptr, blocks!, rows, base ?? 0, width, time);
  if (width === 4) {
    const seq = new Uint32Array(buffer, ptr, rows);
    const b = base ?? 0;
    return (i) => b + seq[i]!;
  }
  if (width === 8) {
    const seq = new Float64Array(buffer, ptr, rows);
    return (i) => seq[i]!;
  }
  const seq32 = new Int32Array(buffer, ptr, rows * 2);
  return (i) => seq32[2 * i + 1]! * 4294967296 + (seq32[2 * i]! >>> 0);
}
