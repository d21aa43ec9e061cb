/**
 * Shard files, format 2: one tenant's reads of one UTC day, immutable, laid out as the kernels scan them
 * (src/core/segment.ts), every lane as narrow as its values allow, so loading is one read of the file into
 * arena memory and pointer arithmetic: no parsing of rows, no dictionary or zone building at load.
 *
 * This is the layout a shard is built in (writeShardFile). What is stored since format 3 is this layout after
 * the re-encodings the "Loaded, …" notes below name (memory only in format 2), run once when the file is written:
 * src/store/shard-format-v3.ts, which draws the difference. A format 2 file still loads (re-encoded at load) and is
 * converted on open.
 *
 *   D/tenants/<tenant>/shards/<yyyymmdd>-<generation 8 hex>.shard   (generation: a per-tenant counter)
 *
 *   offset  bytes
 *   0       8      magic "PSSHARD\0"
 *   8       4      u32 format version (2)
 *   12      4      u32 H: bytes of the header JSON
 *   16      H      header JSON (UTF-8): { meta, blockRows, tsBase, seqBase, dicts, lanes }, zero padded to 64
 *   …              lanes, each at a 64-byte aligned offset named in `lanes` as { at, bytes, width }:
 *
 *   lane        width (bytes)        values
 *   ts          4 (or 8)             ms since tsBase = day × 86,400,000 (u32, < 2^31 − 1); 8: i64 epoch ms,
 *                                    only if a row lies outside its day (never for day shards)
 *   lat, lon    4                    i32 degrees × 1e7
 *   plate       2 or 4               index into `slots` (u16 when the shard has ≤ 65,536 distinct plates)
 *   camera      1, 2 or 4            index into dicts.camera (width by dictionary size: laneWidthFor)
 *   region      1, 2 or 4; absent    index into dicts.region, 0 = none; ABSENT when no row has a region
 *   make, color 1, 2 or 4; absent    as region
 *   postings    2 or 4               the plate → rows index: row indexes ordered by (plate, row); u16 when
 *                                    the shard has ≤ 65,536 rows. An exact plate is a binary search in the
 *                                    sorted slots, then one over this lane (indirect through `plate`).
 *   slots       16 × distinct plates the sorted plate dictionary in the kernels' 16-byte slot format
 *                                    (characters zero padded, byte 15 the length): scanned as it is
 *   zones       48 × blocks          per block of blockRows rows: f64 minTs, maxTs, minLat, maxLat, minLon,
 *                                    maxLon (degrees), exact extremes of the stored values
 *   ---- lanes below are read only for rows a query returns (materialising a hit, tie-breaks) ----
 *   seq         4 (or 8)             the tenant's append seq − seqBase (= meta.minSeq) as u32; 8: f64 when
 *                                    the shard's seqs span 2^32 or more (ids: src/store/ids.ts). Loaded, the
 *                                    u32 lane becomes u16 (u24) offsets from per-block bases when every
 *                                    block spans < 2^16 (2^24) seqs (memory only: src/store/seq-blocks.ts)
 *                                    (or u16 offsets from per-minute bases, "seq by time", when blocks span more)
 *   (ts, lat and lon likewise become u24 offsets from per-run bases at load, and u32 postings and plate lanes
 *   row indexes and codes bit-packed at their exact bits, or u24 from 24 bits: memory only, src/store/shard-u24.ts,
 *   src/core/packed-lanes.ts; a u16 camera lane u8 entries of a
 *   table per run of 256 rows: src/store/shard-cameras.ts)
 *   confidence  2 or 8; absent       2: u16 confidence × 10,000 when every value is exactly k / 10,000
 *                                    (0xFFFF = none); 8: f64 (NaN = none); ABSENT when no row has one. Loaded,
 *                                    the u16 lane becomes codes into a table of the values the shard holds, at
 *                                    their exact bits (memory only: src/store/shard-confidence.ts)
 *   readIdOffsets 4; absent          u32[rows + 1] byte offsets into readIdBytes (equal = none), ABSENT
 *   readIdBytes 1; absent            when no row has a client read id
 *
 * dicts: { camera: sorted names, region / make / color: ["", sorted names…] } (entry 0 the "none"
 * placeholder). Rows are ordered by hour, then Z-order cell (src/store/spatial.ts), then seq.
 *
 * Why this shape (issue 11): format 1 was an Arrow IPC file of full-width columns (i64 ts and seq, u32
 * codes and postings, f64 confidence, a Utf8 plate dictionary besides the slots built at load): 84 B a
 * read resident. Here every lane is fixed width, so scans stay SIMD over lanes with no decompression on
 * the query path; the widths are chosen per shard and recorded in the SegmentLayout the loader builds.
 * Ids are not stored: a read's id is (tenant ordinal, seq), and seq must stay as it is across compaction
 * and retention rewrites (cursors and ids handed out are stable), so seq is stored, narrowed to an offset.
 *
 * The manifest keeps each file's size and CRC32C and its `format` (absent = 1); a mismatch, an unreadable
 * header, a lane outside the file or of the wrong size, or an unknown version is a coded error naming the
 * file. Format 1 and 2 files (src/store/shard-format-v1.ts, this one) are converted to format 3 on open
 * (src/store/shard-migrate.ts).
 */
import { kBlockRows, kCoordScale, kPlateSlotBytes, kZoneBytes, laneWidthFor, plateCodeReader, rowsReader, type CodeAt, type LaneWidth, type PlateWidth, type PostingsWidth, type RowAt } from '../core/segment.js';
import { CorruptFile, UnsupportedFormat } from '../errors.js';
import { seqBlocksReader } from '../core/segment.js';
import { labelReader, labelsReader, labelTriplesBytes, type LabelAt, type LabelField, type LabelLanes, type LabelsAt } from '../core/label-lanes.js';
import { baseRuns, kBaseBytes, kBaseLat, kBaseLon, kBaseTs, u24Reader } from '../core/base-lanes.js';
import { cameraReader, type CameraLanes } from '../core/camera-lane.js';
import { freshLanes, type LaneSource } from './lane-pool.js';
import { confidenceLane, kConfidenceScale, kNoConfidence, type ConfidenceLaneAt } from '../core/confidence-lane.js';
import { cellOf, kTimeBucketMs } from './spatial.js';
import type { RowRecord } from './wal-record.js';

export const kShardFormat = 'platesearch-shard';
/**
 * The version this build stores: 3, the lanes as a loaded shard holds them (src/store/shard-format-v3.ts). The
 * builder below lays a shard out as format 2 (`kShardBuildVersion`: every lane at a file width), which the
 * re-encodings then narrow; a data dir of format 2 files is converted on open (src/store/shard-migrate.ts).
 */
export const kShardVersion = 3;
/** The version writeShardFile lays out: the lanes before the re-encodings (still loadable, re-encoded at load). */
export const kShardBuildVersion = 2;
export const kDayMs = 86_400_000;

export interface ShardMeta {
  tenant: string;
  ordinal: number;
  day: number;
  rows: number;
  minTs: number;
  maxTs: number;
  minSeq: number;
  maxSeq: number;
  dictCount: number;
}

export function dayOf(ts: number): number {
  return Math.floor(ts / kDayMs);
}

export function shardFileName(day: number, generation: number): string {
  const d = new Date(day * kDayMs);
  const ymd = `${d.getUTCFullYear().toString().padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${ymd}-${generation.toString(16).padStart(8, '0')}.shard`;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Dictionary-encodes one string field in a single pass: ids in first-seen order, then remapped so that the
 * dictionary is sorted (byte order = string order for these ASCII/UTF-16 labels' code units).
 * With `optional`, entry 0 is a placeholder "" for rows without a value (they also get a null bit).
 */
export function encodeDict(n: number, get: (i: number) => string | undefined, optional: boolean) {
  const values: (string | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) values[i] = get(i);
  return encodeDictValues(values, optional);
}

/**
 * encodeDict over the values already in row order: one monomorphic pass over an array (the builder gathers
 * every field of a row at once, so the five dictionaries cost no closure call and no second random access
 * to the source per row).
 */
export function encodeDictValues(rowValues: readonly (string | undefined)[], optional: boolean) {
  const n = rowValues.length;
  const seen = new Map<string, number>();
  const firstIds = new Int32Array(n);
  const validity = optional ? new Uint8Array(Math.ceil(n / 8)) : undefined;
  let nulls = 0;
  let last: string | undefined;
  let lastId = -1;
  for (let i = 0; i < n; i++) {
    const v = rowValues[i];
    if (v === undefined) {
      firstIds[i] = -1;
      nulls++;
      continue;
    }
    // runs of one value (a region, a camera's burst) skip the hash lookup
    let id = v === last ? lastId : seen.get(v);
    if (id === undefined) seen.set(v, (id = seen.size));
    last = v;
    lastId = id;
    firstIds[i] = id;
    if (validity) validity[i >> 3]! |= 1 << (i & 7);
  }
  const distinct = [...seen.keys()];
  const sortedIds = distinct.map((_, i) => i).sort((x, y) => (distinct[x]! < distinct[y]! ? -1 : distinct[x]! > distinct[y]! ? 1 : 0));
  const base = optional ? 1 : 0;
  const remap = new Int32Array(distinct.length);
  sortedIds.forEach((first, rank) => (remap[first] = rank + base));
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = firstIds[i]! < 0 ? 0 : remap[firstIds[i]!]!;
  const values = sortedIds.map((i) => distinct[i]!);
  return { values: optional ? ['', ...values] : values, indices, validity, nulls };
}

// at most 2^27 rows (134M) in one tenant-day shard (the row index's bits in the sort key shards were first
// ordered by; kept as the format's limit)
const kIndexBits = 27;
export const kMaxShardRows = 2 ** kIndexBits;

/**
 * The rows of one shard to build, in seq order, read by index: either row records (sealing, rewrites) or
 * columns (bulk ingest, src/store/bulk-load.ts, which holds no object per read). Optional fields answer
 * undefined when absent.
 */
export interface ShardSource {
  readonly length: number;
  seq(i: number): number;
  ts(i: number): number;
  latE7(i: number): number;
  lonE7(i: number): number;
  plate(i: number): string;
  camera(i: number): string;
  region(i: number): string | undefined;
  confidence(i: number): number | undefined;
  make(i: number): string | undefined;
  color(i: number): string | undefined;
  readId(i: number): string | undefined;
}

/** Row records as a ShardSource. */
export function rowRecordSource(rows: readonly RowRecord[]): ShardSource {
  return {
    length: rows.length,
    seq: (i) => rows[i]!.seq,
    ts: (i) => rows[i]!.ts,
    latE7: (i) => rows[i]!.latE7,
    lonE7: (i) => rows[i]!.lonE7,
    plate: (i) => rows[i]!.plate,
    camera: (i) => rows[i]!.camera,
    region: (i) => rows[i]!.region,
    confidence: (i) => rows[i]!.confidence,
    make: (i) => rows[i]!.make,
    color: (i) => rows[i]!.color,
    readId: (i) => rows[i]!.readId,
  };
}

/**
 * The row order: by hour (5 bits: hours since the shard's first, later ones in the last bucket), then Z-order
 * cell (32 bits), then input index. Input rows come in seq order, so equal cells keep seq order. A stable LSD
 * radix sort on the 37-bit (hour, cell) in three passes (11, 11 and 15 bits) gives that order without
 * comparing: a native sort of packed 64-bit keys (hour ‖ cell ‖ index) took ~2/3 of a shard build's sort
 * time for what three counting passes do. `lanes`: where its arrays come from (a bulk build's pool,
 * src/store/lane-pool.ts); the order returned is one of them, for the caller to give back.
 */
export function sortOrder(input: ShardSource, lanes: LaneSource = freshLanes): Uint32Array {
  const n = input.length;
  // from `lanes` (a bulk build's pool: src/store/lane-pool.ts), every element written before it is read
  const cell = lanes.u32(n);
  const hour = lanes.u8(n);
  const c0 = new Int32Array(1 << 11), c1 = new Int32Array(1 << 11), c2 = new Int32Array(1 << 15);
  // each loop in a function of its own: sortOrder runs once a shard, so V8 optimizes it only on-stack in a
  // loop, and such code was thrown away at the first line after that loop ("insufficient type feedback"),
  // leaving the next loop to the interpreter until its own on-stack compile (bench/RESULTS.md "Bulk load:
  // lines found once …": 11 deopts of sortOrder in a 2M load)
  hourCellCounts(input, firstHour(input), hour, cell, c0, c1, c2);
  startsOf(c0);
  startsOf(c1);
  startsOf(c2);
  const a = lanes.u32(n), b = lanes.u32(n);
  scatterByCellLow(a, cell, c0);
  scatterByCellHigh(a, b, cell, c1);
  scatterByHour(b, a, hour, cell, c2);
  lanes.give(cell, hour, b);
  return a;
}

function firstHour(input: ShardSource): number {
  let first = Infinity;
  for (let i = 0, n = input.length; i < n; i++) first = Math.min(first, Math.floor(input.ts(i) / kTimeBucketMs));
  return first;
}

function hourCellCounts(input: ShardSource, first: number, hour: Uint8Array, cell: Uint32Array, c0: Int32Array, c1: Int32Array, c2: Int32Array): void {
  for (let i = 0, n = input.length; i < n; i++) {
    // hours since the shard's first hour (a day shard spans 24; anything later shares the last bucket)
    const h = Math.min(31, Math.floor(input.ts(i) / kTimeBucketMs) - first);
    const c = cellOf(input.latE7(i), input.lonE7(i));
    hour[i] = h;
    cell[i] = c;
    c0[c & 0x7ff]!++;
    c1[(c >>> 11) & 0x7ff]!++;
    c2[(h << 10) | (c >>> 22)]!++;
  }
}

function scatterByCellLow(to: Uint32Array, cell: Uint32Array, c0: Int32Array): void {
  for (let i = 0; i < to.length; i++) to[c0[cell[i]! & 0x7ff]!++] = i;
}

function scatterByCellHigh(from: Uint32Array, to: Uint32Array, cell: Uint32Array, c1: Int32Array): void {
  for (let j = 0; j < from.length; j++) {
    const i = from[j]!;
    to[c1[(cell[i]! >>> 11) & 0x7ff]!++] = i;
  }
}

function scatterByHour(from: Uint32Array, to: Uint32Array, hour: Uint8Array, cell: Uint32Array, c2: Int32Array): void {
  for (let j = 0; j < from.length; j++) {
    const i = from[j]!;
    to[c2[(hour[i]! << 10) | (cell[i]! >>> 22)]!++] = i;
  }
}

/** Bucket counts → each bucket's first place (an exclusive prefix sum, in place). */
function startsOf(counts: Int32Array): void {
  let at = 0;
  for (let d = 0; d < counts.length; d++) {
    const c = counts[d]!;
    counts[d] = at;
    at += c;
  }
}


export const kShardMagic = 'PSSHARD\0';
const kPrefixBytes = 16;
const kLaneAlign = 64;
/** ts offsets and codes stay below this, so the kernels compare them as i32. */
const kMaxTsOffset = 0x7ffffffe;

/** One lane of a shard file: its byte offset in the file, its size, and bytes per value. */
export interface ShardLane {
  at: number;
  bytes: number;
  width: number;
  /**
   * In memory only, never in a file: a plate or postings lane bit-packed at load (src/store/shard-u24.ts,
   * src/core/packed-lanes.ts) has width 0 and this many bits a value; `bytes` is then ceil(rows · bits / 8).
   */
  bits?: number;
}

export type ShardLaneName =
  | 'ts' | 'lat' | 'lon' | 'plate' | 'camera' | 'region' | 'make' | 'color' | 'postings' | 'slots' | 'zones'
  | 'seq' | 'confidence' | 'readIdOffsets' | 'readIdBytes'
  // in memory only, never in a file: region, make and color packed at load (src/store/shard-labels.ts), the
  // camera lane's run tables (src/store/shard-cameras.ts)
  | 'labels' | 'labelTriples' | 'cameraRuns' | 'cameraTable' | 'labelRuns' | 'labelTable'
  // in memory only: the values a confidence lane packed at load codes into (src/store/shard-confidence.ts)
  | 'confidenceValues';

export interface ShardHeader {
  meta: ShardMeta;
  blockRows: number;
  tsBase: number;
  seqBase: number;
  dicts: { camera: string[]; region: string[]; make: string[]; color: string[] };
  lanes: Partial<Record<ShardLaneName, ShardLane>>;
  /**
   * In memory only, never in a file: the seq lane re-encoded at load as u16 or u24 offsets from per-block bases
   * (`lanes.seq` then has width 2 or 3; these are the u32 bases, offsets from seqBase): src/store/seq-blocks.ts.
   */
  seqBlocks?: ShardLane;
  /**
   * In memory only, never in a file: set when `seqBlocks` holds a base per bucket of `ms` of ts from `origin` (the
   * shard's first ts) instead of per block of rows, and `lanes.seq` is u16 offsets from the row's bucket's base
   * (seq by time, src/store/seq-blocks.ts).
   */
  seqTime?: SeqTime;
  /**
   * In memory only, never in a file: the per-run bases of ts / lat / lon lanes narrowed at load to u24 offsets
   * (those lanes then have width 3): src/store/shard-u24.ts, src/core/base-lanes.ts.
   */
  bases?: ShardLane;
  /**
   * In memory only, never in a file: set when the labels lane is held as runs (`lanes.labelRuns`): its entries below
   * this are triple ids of their own, shared by every run (src/core/run-lane.ts, src/store/shard-labels.ts).
   */
  labelShared?: number;
}

/** Seq by time's buckets: row i's base is that of bucket floor((ts(i) − origin) / ms). */
export interface SeqTime {
  origin: number;
  ms: number;
}

const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** A shard's rows in shard order, field by field (confidence NaN when absent). */
interface GatheredRows {
  ts: Float64Array;
  seq: Float64Array;
  lat: Int32Array;
  lon: Int32Array;
  conf: Float64Array;
  plate: string[];
  camera: string[];
  region: (string | undefined)[];
  make: (string | undefined)[];
  color: (string | undefined)[];
  readId: (string | undefined)[];
}

function gathered(n: number): GatheredRows {
  return {
    ts: new Float64Array(n), seq: new Float64Array(n), lat: new Int32Array(n), lon: new Int32Array(n), conf: new Float64Array(n),
    plate: new Array(n), camera: new Array(n), region: new Array(n), make: new Array(n), color: new Array(n), readId: new Array(n),
  };
}

function gatherRows(rows: readonly RowRecord[], order: Uint32Array): GatheredRows {
  const n = order.length;
  const g = gathered(n);
  for (let i = 0; i < n; i++) {
    const r = rows[order[i]!]!;
    g.ts[i] = r.ts;
    g.seq[i] = r.seq;
    g.lat[i] = r.latE7;
    g.lon[i] = r.lonE7;
    g.conf[i] = r.confidence ?? NaN;
    g.plate[i] = r.plate;
    g.camera[i] = r.camera;
    g.region[i] = r.region;
    g.make[i] = r.make;
    g.color[i] = r.color;
    g.readId[i] = r.readId;
  }
  return g;
}

function gatherSource(src: ShardSource, order: Uint32Array): GatheredRows {
  const n = order.length;
  const g = gathered(n);
  for (let i = 0; i < n; i++) {
    const o = order[i]!;
    g.ts[i] = src.ts(o);
    g.seq[i] = src.seq(o);
    g.lat[i] = src.latE7(o);
    g.lon[i] = src.lonE7(o);
    g.conf[i] = src.confidence(o) ?? NaN;
    g.plate[i] = src.plate(o);
    g.camera[i] = src.camera(o);
    g.region[i] = src.region(o);
    g.make[i] = src.make(o);
    g.color[i] = src.color(o);
    g.readId[i] = src.readId(o);
  }
  return g;
}

/**
 * The plate lane's width in a file: u16 for a dictionary of at most 65,536 plates, else u32 (which the loader
 * narrows to u24 in memory: src/store/shard-u24.ts). Tests lower the u16 limit with the environment variable
 * PLATESEARCH_TEST_PLATE_U16_MAX, so that small data gets u32 lanes on disk and u24 ones in memory: shards are
 * written on the seal and build threads, which are given the process's environment but not a module's state.
 */
function plateLaneWidth(plates: number): 2 | 4 {
  const max = process.env.PLATESEARCH_TEST_PLATE_U16_MAX;
  return plates <= (max ? Number(max) : 0x10000) ? 2 : 4;
}

/**
 * The postings lane's width in a file: u16 for a shard of at most 65,536 rows, else u32 (which the loader packs or
 * narrows in memory: src/store/shard-u24.ts). PLATESEARCH_TEST_POSTINGS_U16_MAX lowers the limit for tests, as
 * PLATESEARCH_TEST_PLATE_U16_MAX does the plate lane's.
 */
function postingsLaneWidth(rows: number): 2 | 4 {
  const max = process.env.PLATESEARCH_TEST_POSTINGS_U16_MAX;
  return rows <= (max ? Number(max) : 0x10000) ? 2 : 4;
}

/**
 * Builds the bytes of one shard file from one tenant's rows of one UTC day (in seq order). `rowOrder` replaces
 * sortOrder's for benchmarks that compare row orders (bench/seq-order.ts); the engine never passes it.
 */
export function buildShard(tenant: string, ordinal: number, day: number, rowsOrSource: readonly RowRecord[] | ShardSource, rowOrder?: (src: ShardSource) => Uint32Array): { bytes: Uint8Array; meta: ShardMeta } {
  const src = Array.isArray(rowsOrSource) ? rowRecordSource(rowsOrSource as readonly RowRecord[]) : (rowsOrSource as ShardSource);
  const n = src.length;
  if (n > kMaxShardRows) throw new RangeError(`a shard holds at most ${kMaxShardRows} rows`);
  // row i of the shard is row order[i] of the source
  const order = (rowOrder ?? sortOrder)(src);

  // every field of a row gathered in one pass in shard order (one random access to the source per row;
  // reading it field by field through `order` cost a cache miss per field and row)
  const g = Array.isArray(rowsOrSource) ? gatherRows(rowsOrSource as readonly RowRecord[], order) : gatherSource(src, order);
  const plateDict = encodeDictValues(g.plate, false);
  const plates = plateDict.values;
  const writeSlots = (slots: Uint8Array) => {
    for (let d = 0; d < plates.length; d++) {
      const p = plates[d]!;
      if (p.length < 1 || p.length > 10) throw new RangeError(`plate ${JSON.stringify(p)} does not fit a dictionary slot`);
      for (let j = 0; j < p.length; j++) slots[d * kPlateSlotBytes + j] = p.charCodeAt(j);
      slots[d * kPlateSlotBytes + 15] = p.length;
    }
  };
  return writeShardFile(tenant, ordinal, day, {
    ts: g.ts, seq: g.seq, lat: g.lat, lon: g.lon, conf: g.conf, readId: g.readId,
    plate: plateDict.indices, plateCount: plates.length, writeSlots,
    camera: encodeDictValues(g.camera, false), region: encodeDictValues(g.region, true),
    make: encodeDictValues(g.make, true), color: encodeDictValues(g.color, true),
  });
}

/** One string field of a shard's rows, coded: sorted `values` (optional fields: entry 0 is ""), a code a row. */
export interface CodedDict {
  values: string[];
  indices: Int32Array;
  /** Rows without a value (code 0). */
  nulls: number;
}

/**
 * A shard's rows in shard order with every string field dictionary-coded: what a shard file is written from.
 * buildShard makes it from row records or a ShardSource; bulk ingest (src/store/bulk-load.ts) from its columns.
 */
export interface CodedRows {
  ts: Float64Array;
  seq: Float64Array;
  lat: Int32Array;
  lon: Int32Array;
  /** NaN when absent. */
  conf: Float64Array;
  readId: readonly (string | undefined)[];
  /** Each row's index into the sorted plate dictionary. */
  plate: Int32Array;
  plateCount: number;
  /** Writes the sorted plate dictionary as `plateCount` 16-byte slots. */
  writeSlots(slots: Uint8Array): void;
  camera: CodedDict;
  region: CodedDict;
  make: CodedDict;
  color: CodedDict;
}

/**
 * The bytes of one shard file from its coded rows (in shard order); laid out in a buffer from `pool` (a bulk
 * build's pool, src/store/lane-pool.ts: the bytes may be a view of a bigger buffer).
 */
export function writeShardFile(tenant: string, ordinal: number, day: number, g: CodedRows, pool: LaneSource = freshLanes): { bytes: Uint8Array; meta: ShardMeta } {
  const n = g.ts.length;
  const { camera: cameraDict, region, make, color, plateCount } = g;
  const { ts: tsOf, seq: seqOf, lat, lon, conf } = g;
  // every loop below is a function of its own: this runs once a shard, so V8 optimizes it only on-stack in a
  // loop, and such code was thrown away at the first line after the loop ("insufficient type feedback"), the
  // next loop then interpreted until its own on-stack compile: ~5 deopts a shard in a 2M bulk load
  // (bench/RESULTS.md "Bulk load: lines found once …")
  const { minTs, maxTs, minSeq, maxSeq, confCount, confNarrow, ridCount, ridBytes, rids } = rowStats(g);
  const tsBase = day * kDayMs;
  const narrowTs = n === 0 || (minTs >= tsBase && maxTs - tsBase <= kMaxTsOffset);
  const seqBase = n === 0 ? 0 : minSeq;
  const narrowSeq = n === 0 || maxSeq - minSeq <= 0xffffffff;
  const blocks = Math.ceil(n / kBlockRows);

  // lane sizes, then offsets (each 64-aligned), then one buffer
  const plan: Array<[ShardLaneName, number, number]> = [
    ['ts', narrowTs ? 4 : 8, n],
    ['lat', 4, n],
    ['lon', 4, n],
    ['plate', plateLaneWidth(plateCount), n],
    ['camera', laneWidthFor(cameraDict.values.length), n],
  ];
  if (region.nulls < n) plan.push(['region', laneWidthFor(region.values.length), n]);
  if (make.nulls < n) plan.push(['make', laneWidthFor(make.values.length), n]);
  if (color.nulls < n) plan.push(['color', laneWidthFor(color.values.length), n]);
  plan.push(['postings', postingsLaneWidth(n), n], ['slots', kPlateSlotBytes, plateCount], ['zones', kZoneBytes, blocks]);
  plan.push(['seq', narrowSeq ? 4 : 8, n]);
  if (confCount > 0) plan.push(['confidence', confNarrow ? 2 : 8, n]);
  if (ridCount > 0) plan.push(['readIdOffsets', 4, n + 1], ['readIdBytes', 1, ridBytes]);

  const meta: ShardMeta = { tenant, ordinal, day, rows: n, minTs, maxTs, minSeq, maxSeq, dictCount: plateCount };
  const lanes: ShardHeader['lanes'] = {};
  const dicts = { camera: cameraDict.values, region: region.values, make: make.values, color: color.values };
  // the header's size depends on the offsets' digits: lay out against a generous header size, then pad
  const probe: ShardHeader = { meta, blockRows: kBlockRows, tsBase, seqBase, dicts, lanes: {} };
  for (const [name] of plan) probe.lanes[name] = { at: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER, width: 8 };
  let at = roundUp(kPrefixBytes + enc.encode(JSON.stringify(probe)).length, kLaneAlign);
  for (const [name, width, count] of plan) {
    lanes[name] = { at, bytes: width * count, width };
    at = roundUp(at + width * count, kLaneAlign);
  }
  const header: ShardHeader = { meta, blockRows: kBlockRows, tsBase, seqBase, dicts, lanes };
  const headerBytes = enc.encode(JSON.stringify(header));
  const out = pool.u8Zero(at);
  const buf = out.buffer;
  out.set(enc.encode(kShardMagic), 0);
  const dv = new DataView(buf);
  dv.setUint32(8, kShardBuildVersion, true);
  dv.setUint32(12, headerBytes.length, true);
  out.set(headerBytes, kPrefixBytes);

  const lane = (name: ShardLaneName) => lanes[name]!;
  if (narrowTs) writeOffsets(new Uint32Array(buf, lane('ts').at, n), tsOf, tsBase);
  else writeBigInts(new BigInt64Array(buf, lane('ts').at, n), tsOf);
  new Int32Array(buf, lane('lat').at, n).set(lat);
  new Int32Array(buf, lane('lon').at, n).set(lon);
  const codes = (name: ShardLaneName, values: Int32Array) => {
    const l = lanes[name];
    if (!l) return;
    (l.width === 1 ? new Uint8Array(buf, l.at, n) : l.width === 2 ? new Uint16Array(buf, l.at, n) : new Uint32Array(buf, l.at, n)).set(values);
  };
  codes('plate', g.plate);
  codes('camera', cameraDict.indices);
  codes('region', region.indices);
  codes('make', make.indices);
  codes('color', color.indices);

  // plate → rows: a counting sort of row indexes by plate (stable, so rows ascend within a plate)
  const postings = lane('postings').width === 2 ? new Uint16Array(buf, lane('postings').at, n) : new Uint32Array(buf, lane('postings').at, n);
  writePostings(postings, g.plate, plateCount);

  g.writeSlots(new Uint8Array(buf, lane('slots').at, plateCount * kPlateSlotBytes));

  // zone maps per block, in degrees as the kernels compare them
  writeZones(new Float64Array(buf, lane('zones').at, blocks * 6), blocks, tsOf, lat, lon);

  if (narrowSeq) writeOffsets(new Uint32Array(buf, lane('seq').at, n), seqOf, seqBase);
  else new Float64Array(buf, lane('seq').at, n).set(seqOf);

  const cl = lanes.confidence;
  if (cl && cl.width === 2) writeNarrowConfidence(new Uint16Array(buf, cl.at, n), conf);
  else if (cl) new Float64Array(buf, cl.at, n).set(conf);

  if (lanes.readIdOffsets) writeReadIds(new Uint32Array(buf, lane('readIdOffsets').at, n + 1), new Uint8Array(buf, lane('readIdBytes').at, ridBytes), rids!);
  return { bytes: out, meta };
}

/** What the lanes' layout needs to know of the rows: ts and seq ranges, confidences, read ids (encoded). */
function rowStats(g: CodedRows) {
  const range = new Float64Array(4);
  valueRange(g.ts, range, 0);
  valueRange(g.seq, range, 2);
  const conf = new Float64Array(2);
  confidenceStats(g.conf, conf);
  // the read ids only when there are any (a bulk shard's list is empty): a branch never taken inside a loop
  // left that loop's optimized code without feedback for it
  const ids = g.readId.length > 0 ? encodeReadIds(g.readId, g.ts.length) : { ridCount: 0, ridBytes: 0, rids: undefined };
  return { minTs: range[0]!, maxTs: range[1]!, minSeq: range[2]!, maxSeq: range[3]!, confCount: conf[0]!, confNarrow: conf[1] === 1, ...ids };
}

/** out[at] = min, out[at + 1] = max of the values (±Infinity when none). */
function valueRange(values: Float64Array, out: Float64Array, at: number): void {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  out[at] = min;
  out[at + 1] = max;
}

/** out[0] = confidences present, out[1] = 1 when each fits the u16 lane exactly (confidence-lane.ts), else 0. */
function confidenceStats(conf: Float64Array, out: Float64Array): void {
  let confCount = 0, confNarrow = true;
  for (let i = 0; i < conf.length; i++) {
    const c = conf[i]!;
    if (c === c) {
      confCount++;
      if (confNarrow && !(c >= 0 && Object.is(Math.round(c * kConfidenceScale) / kConfidenceScale, c) && c * kConfidenceScale < kNoConfidence)) confNarrow = false;
    }
  }
  out[0] = confCount;
  out[1] = confNarrow ? 1 : 0;
}

/** The rows' read ids as UTF-8 (undefined where none), their count and bytes. */
function encodeReadIds(readId: readonly (string | undefined)[], n: number) {
  let ridCount = 0, ridBytes = 0;
  // made at the first read id: a holey array of n (dictionary elements past 100k rows) was the largest line of
  // a bulk shard's file in the profile when made for every shard
  let rids: (Uint8Array | undefined)[] | undefined;
  for (let i = 0; i < n; i++) {
    const id = readId[i];
    if (id !== undefined) {
      const b = enc.encode(id);
      rids ??= new Array<Uint8Array | undefined>(n);
      rids[i] = b;
      ridCount++;
      ridBytes += b.length;
    }
  }
  return { ridCount, ridBytes, rids };
}

/** out[i] = values[i] - base (ts and seq as u32 offsets). */
function writeOffsets(out: Uint32Array, values: ArrayLike<number>, base: number): void {
  for (let i = 0; i < out.length; i++) out[i] = values[i]! - base;
}

function writeBigInts(out: BigInt64Array, values: ArrayLike<number>): void {
  for (let i = 0; i < out.length; i++) out[i] = BigInt(values[i]!);
}

/** plate → rows: a counting sort of row indexes by plate (stable, so rows ascend within a plate). */
function writePostings(postings: Uint16Array | Uint32Array, plate: ArrayLike<number>, plateCount: number): void {
  const n = postings.length;
  const counts = new Uint32Array(plateCount + 1);
  for (let i = 0; i < n; i++) counts[plate[i]! + 1]!++;
  for (let p = 0; p < plateCount; p++) counts[p + 1]! += counts[p]!;
  for (let i = 0; i < n; i++) postings[counts[plate[i]!]!++] = i;
}

/** Zone maps per block, in degrees as the kernels compare them. */
function writeZones(zones: Float64Array, blocks: number, tsOf: ArrayLike<number>, lat: ArrayLike<number>, lon: ArrayLike<number>): void {
  const n = tsOf.length;
  for (let b = 0; b < blocks; b++) {
    let a0 = Infinity, a1 = -Infinity, b0 = Infinity, b1 = -Infinity, c0 = Infinity, c1 = -Infinity;
    for (let i = b * kBlockRows, end = Math.min(n, i + kBlockRows); i < end; i++) {
      const t = tsOf[i]!;
      if (t < a0) a0 = t;
      if (t > a1) a1 = t;
      const la = lat[i]! / kCoordScale, lo = lon[i]! / kCoordScale;
      if (la < b0) b0 = la;
      if (la > b1) b1 = la;
      if (lo < c0) c0 = lo;
      if (lo > c1) c1 = lo;
    }
    zones.set([a0, a1, b0, b1, c0, c1], b * 6);
  }
}

function writeNarrowConfidence(out: Uint16Array, conf: ArrayLike<number>): void {
  for (let i = 0; i < out.length; i++) out[i] = Number.isNaN(conf[i]!) ? kNoConfidence : Math.round(conf[i]! * kConfidenceScale);
}

/** Read ids as offsets (n + 1) into their bytes. */
function writeReadIds(offsets: Uint32Array, bytes: Uint8Array, rids: readonly (Uint8Array | undefined)[]): void {
  const n = offsets.length - 1;
  let o = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = o;
    const b = rids[i];
    if (b) {
      bytes.set(b, o);
      o += b.length;
    }
  }
  offsets[n] = o;
}

/** True when `bytes` start like a format 1 shard (an Arrow IPC file). */
export function isShardV1(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && dec.decode(bytes.subarray(0, 6)) === 'ARROW1';
}

/** The version of shard bytes (their u32 at offset 8), or 0 when they are too short to name one. */
export function shardBytesVersion(bytes: Uint8Array): number {
  return bytes.length < kPrefixBytes ? 0 : new DataView(bytes.buffer, bytes.byteOffset, 16).getUint32(8, true);
}

/**
 * Reads and checks the header of shard bytes: magic, version, header JSON, block size, and that every lane
 * lies inside the file, aligned, with the size its row count and width imply. Format 3 headers may name the
 * in-memory lanes and fields (src/store/shard-format-v3.ts), each checked likewise and against the others it
 * needs. Throws coded errors naming `file`.
 */
export function readShardHeader(file: string, bytes: Uint8Array): ShardHeader {
  if (bytes.length < kPrefixBytes) throw CorruptFile(`Shard is shorter than its header: ${file}`, { file });
  if (isShardV1(bytes)) throw UnsupportedFormat(`Shard format version 1 is read only by the migration: ${file}`, { file });
  if (dec.decode(bytes.subarray(0, 8)) !== kShardMagic) throw CorruptFile(`Not a platesearch shard: ${file}`, { file });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== kShardBuildVersion && version !== kShardVersion) throw UnsupportedFormat(`Shard format version ${version} is not supported: ${file}`, { file });
  const loaded = version === kShardVersion;
  const hb = dv.getUint32(12, true);
  if (kPrefixBytes + hb > bytes.length) throw CorruptFile(`Shard header runs past the end of the file: ${file}`, { file });
  let h: ShardHeader;
  try {
    h = JSON.parse(dec.decode(bytes.subarray(kPrefixBytes, kPrefixBytes + hb)));
  } catch {
    throw CorruptFile(`Shard header does not parse: ${file}`, { file });
  }
  const bad = (what: string): never => {
    throw CorruptFile(`Shard ${what}: ${file}`, { file });
  };
  if (typeof h !== 'object' || h === null || typeof h.meta !== 'object' || typeof h.lanes !== 'object' || typeof h.dicts !== 'object') bad('header is incomplete');
  if (!loaded && (h.seqBlocks !== undefined || h.seqTime !== undefined || h.bases !== undefined || h.labelShared !== undefined || h.lanes.labels || h.lanes.labelTriples || h.lanes.cameraRuns || h.lanes.cameraTable || h.lanes.labelRuns || h.lanes.labelTable || h.lanes.confidenceValues)) bad('header names an in-memory lane');
  if (h.blockRows !== kBlockRows) throw UnsupportedFormat(`Shard block size ${h.blockRows} is not supported: ${file}`, { file });
  const n = h.meta.rows;
  if (!Number.isInteger(n) || n < 0 || n > kMaxShardRows) bad('row count is invalid');
  for (const d of ['camera', 'region', 'make', 'color'] as const) if (!Array.isArray(h.dicts[d])) bad(`has no ${d} dictionary`);
  const count: Record<ShardLaneName, number> = {
    ts: n, lat: n, lon: n, plate: n, camera: n, region: n, make: n, color: n, postings: n, seq: n, confidence: n,
    slots: h.meta.dictCount, zones: Math.ceil(n / kBlockRows), readIdOffsets: n + 1, readIdBytes: -1, labels: n, labelTriples: -1, cameraRuns: -1, cameraTable: -1,
    labelRuns: -1, labelTable: -1, confidenceValues: -1,
  };
  const widths: Record<ShardLaneName, number[]> = loaded ? kLoadedWidths : kFileWidths;
  const required: ShardLaneName[] = ['ts', 'lat', 'lon', 'plate', 'camera', 'postings', 'slots', 'zones', 'seq'];
  for (const name of required) if (!h.lanes[name]) bad(`has no ${name} lane`);
  if (!h.lanes.readIdOffsets !== !h.lanes.readIdBytes) bad('read id lanes are incomplete');
  const first = kPrefixBytes + hb;
  const inside = (name: string, l: ShardLane | undefined, align: number) => {
    if (typeof l !== 'object' || l === null || !Number.isInteger(l.at) || !Number.isInteger(l.bytes) || l.bytes < 0 || l.at % align !== 0 || l.at < first || l.at + l.bytes > bytes.length) bad(`lane ${name} lies outside the file`);
  };
  for (const [name, l] of Object.entries(h.lanes) as Array<[ShardLaneName, ShardLane]>) {
    if (!(name in widths)) bad(`has an unknown lane ${name}`);
    if (!widths[name].includes(l.width)) bad(`lane ${name} has width ${l.width}`);
    // the lanes a format 2 file has (and the labels lane) stay 64-aligned in memory; the tables the re-encodings add
    // are aligned as their values need
    inside(name, l, count[name] >= 0 ? kLaneAlign : 4);
    if (l.width === 0 && !(Number.isInteger(l.bits) && l.bits! >= 1 && l.bits! <= 24)) bad(`lane ${name} has ${l.bits} bits`);
    if (l.width !== 0 && l.bits !== undefined) bad(`lane ${name} has bits and a width`);
    const size = l.width === 0 ? Math.ceil((count[name] * l.bits!) / 8) : count[name] * l.width;
    if (count[name] >= 0 && l.bytes !== size) bad(`lane ${name} has ${l.bytes} bytes`);
  }
  if (loaded) checkLoadedFields(h, inside, bad);
  return h;
}

/** The widths a format 2 file's lanes may have. */
const kFileWidths: Record<ShardLaneName, number[]> = {
  ts: [4, 8], lat: [4], lon: [4], plate: [2, 4], camera: [1, 2, 4], region: [1, 2, 4], make: [1, 2, 4], color: [1, 2, 4],
  postings: [2, 4], slots: [kPlateSlotBytes], zones: [kZoneBytes], seq: [4, 8], confidence: [2, 8], readIdOffsets: [4], readIdBytes: [1],
  labels: [], labelTriples: [], cameraRuns: [], cameraTable: [], labelRuns: [], labelTable: [], confidenceValues: [],
};

/**
 * The widths a format 3 file's lanes may have: those of format 2 and the re-encodings' (3: u24; 0: bit-packed, with
 * `bits`; src/store/shard-u24.ts, seq-blocks.ts, shard-labels.ts, shard-cameras.ts, shard-confidence.ts).
 */
const kLoadedWidths: Record<ShardLaneName, number[]> = {
  ...kFileWidths,
  ts: [3, 4, 8], lat: [3, 4], lon: [3, 4], plate: [0, 2, 3, 4], postings: [0, 2, 3, 4], seq: [2, 3, 4, 8], confidence: [0, 2, 8],
  labels: [1, 2], labelTriples: [1, 2], cameraRuns: [4], cameraTable: [2], labelRuns: [4], labelTable: [2], confidenceValues: [2],
};

/** A format 3 header's in-memory fields, each present exactly when a lane's form needs it, and inside the file. */
function checkLoadedFields(h: ShardHeader, inside: (name: string, l: ShardLane | undefined, align: number) => void, bad: (what: string) => never): void {
  const lanes = h.lanes;
  const n = h.meta.rows;
  const u24 = ['ts', 'lat', 'lon'].some((f) => lanes[f as ShardLaneName]!.width === 3);
  if (u24 !== (h.bases !== undefined)) bad('u24 lanes and their bases disagree');
  if (h.bases) {
    inside('bases', h.bases, 4);
    if (h.bases.bytes !== kBaseBytes * baseRuns(n)) bad(`bases have ${h.bases.bytes} bytes`);
  }
  const seqWidth = lanes.seq!.width;
  if ((seqWidth === 2 || seqWidth === 3) !== (h.seqBlocks !== undefined)) bad('seq lane and its bases disagree');
  if (h.seqBlocks) {
    inside('seqBlocks', h.seqBlocks, 4);
    if (h.seqBlocks.bytes % 4 !== 0 || h.seqBlocks.bytes === 0) bad(`seq bases have ${h.seqBlocks.bytes} bytes`);
  }
  if (h.seqTime !== undefined && (h.seqBlocks === undefined || seqWidth !== 2 || !Number.isFinite(h.seqTime.origin) || !(h.seqTime.ms > 0))) bad('seq by time is invalid');
  if ((lanes.confidence?.width === 0) !== (lanes.confidenceValues !== undefined)) bad('confidence codes and their values disagree');
  if (!lanes.labels !== !lanes.labelTriples) bad('labels lane is incomplete');
  if (lanes.labels && (lanes.region || lanes.make || lanes.color)) bad('has labels and their lanes');
  if (!lanes.labelRuns !== !lanes.labelTable || !lanes.labelRuns !== (h.labelShared === undefined) || (lanes.labelRuns && !lanes.labels)) bad('labels runs are incomplete');
  if (h.labelShared !== undefined && !(Number.isInteger(h.labelShared) && h.labelShared >= 0)) bad('labels runs are incomplete');
  if (!lanes.cameraRuns !== !lanes.cameraTable || (lanes.cameraRuns && lanes.camera!.width !== 1)) bad('camera runs are incomplete');
}

/**
 * Typed views of a shard's lanes over its bytes (an arena region or a plain buffer), and its rows as
 * JS values: what loading, materialising hits, rewrites and the migration read through.
 */
export class ShardView {
  readonly header: ShardHeader;
  readonly rows: number;
  readonly bytes: Uint8Array;

  constructor(readonly file: string, bytes: Uint8Array, header?: ShardHeader) {
    // lanes are 8-aligned from the file's start: views need the file 8-aligned in its buffer
    this.bytes = bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.from(bytes);
    this.header = header ?? readShardHeader(file, this.bytes);
    this.rows = this.header.meta.rows;
  }

  /** Byte offset of a lane in the underlying buffer (an arena offset when the bytes are an arena region). */
  ptr(name: ShardLaneName): number {
    const l = this.header.lanes[name];
    return l ? this.bytes.byteOffset + l.at : 0;
  }

  width(name: ShardLaneName): number {
    return this.header.lanes[name]?.width ?? 0;
  }

  /**
   * A code lane (plate, camera, region, make, color, or the file's postings) at its width; undefined when absent.
   * A loaded shard's u24 postings and plate lanes (width 3, src/store/shard-u24.ts) are read through rowsReader
   * and plateReader instead.
   */
  codes(name: ShardLaneName, count = this.rows): Uint8Array | Uint16Array | Uint32Array | undefined {
    const l = this.header.lanes[name];
    if (!l) return undefined;
    if (l.width === 3 || l.width === 0) throw new Error(`lane ${name} is u24 or bit-packed in memory: read it with rowsReader`);
    const b = this.bytes.buffer, at = this.bytes.byteOffset + l.at;
    return l.width === 1 ? new Uint8Array(b, at, count) : l.width === 2 ? new Uint16Array(b, at, count) : new Uint32Array(b, at, count);
  }

  /** The camera code of every row, as a function of the row: the file's lane, or u8 entries of run tables in memory. */
  cameraReader(): CodeAt {
    return cameraReader(this.bytes.buffer, this.cameraLanes());
  }

  /** The camera lane's part of a segment layout (arena offsets, width, the run tables once packed). */
  cameraLanes(): CameraLanes {
    const lanes = this.header.lanes;
    const out: CameraLanes = { rows: this.rows, camera: this.ptr('camera'), cameraWidth: lanes.camera!.width as LaneWidth };
    if (lanes.cameraRuns) {
      out.cameraRuns = this.ptr('cameraRuns');
      out.cameraTable = this.ptr('cameraTable');
      out.cameraEntries = lanes.cameraTable!.bytes / 2;
    }
    return out;
  }

  /** The plate lane's code of every row, as a function of the row: u16 or u32 as the file has it, or u24 or bit-packed in memory. */
  plateReader(): CodeAt {
    return plateCodeReader(this.bytes.buffer, this.ptr('plate'), this.width('plate') as PlateWidth, this.rows, this.header.lanes.plate!.bits);
  }

  /** The postings lane's row index at every position, as a function of the position: u16 or u32, or u24 or bit-packed in memory. */
  postingsReader(): RowAt {
    return rowsReader(this.bytes.buffer, this.ptr('postings'), this.width('postings') as PostingsWidth, this.rows, this.header.lanes.postings!.bits);
  }

  /**
   * Region, make or color code (dictionary id, 0 = none) of every row, as a function of the row: the file's lane,
   * 0 when it is absent, or the labels lane through its triple table once packed (src/store/shard-labels.ts).
   */
  labelReader(field: LabelField): LabelAt {
    return labelReader(this.bytes.buffer, this.labelLanes(), field);
  }

  /** The labels lane and its triple table, read once for the three fields (undefined: three lanes; labelReader). */
  labelsReader(): LabelsAt | undefined {
    return labelsReader(this.bytes.buffer, this.labelLanes());
  }

  /** The region / make / color lanes' or the labels lane's part of a segment layout (arena offsets, widths). */
  labelLanes(): LabelLanes {
    const lanes = this.header.lanes;
    const out: LabelLanes = { rows: this.rows, region: this.ptr('region'), make: this.ptr('make'), color: this.ptr('color') };
    if (lanes.region) out.regionWidth = lanes.region.width as LaneWidth;
    if (lanes.make) out.makeWidth = lanes.make.width as LaneWidth;
    if (lanes.color) out.colorWidth = lanes.color.width as LaneWidth;
    if (lanes.labels) {
      out.labels = this.ptr('labels');
      out.labelsWidth = lanes.labels.width as 1 | 2;
      out.labelTriples = this.ptr('labelTriples');
      out.labelTriplesWidth = lanes.labelTriples!.width as 1 | 2;
      out.labelCount = lanes.labelTriples!.bytes / labelTriplesBytes(1, out.labelTriplesWidth);
      if (lanes.labelRuns) {
        out.labelRuns = this.ptr('labelRuns');
        out.labelTable = this.ptr('labelTable');
        out.labelEntries = lanes.labelTable!.bytes / 2;
        out.labelShared = this.header.labelShared ?? 0;
      }
    }
    return out;
  }

  /** lat or lon (i32, 1e-7°) of every row, as a function of the row: the file's i32 lane or its u24 form in memory. */
  coordReader(name: 'lat' | 'lon'): (i: number) => number {
    if (this.header.lanes[name]!.width === 3) return u24Reader(this.bytes.buffer, this.ptr(name), this.rows, this.basesPtr(), name === 'lat' ? kBaseLat : kBaseLon);
    const v = new Int32Array(this.bytes.buffer, this.ptr(name), this.rows);
    return (i) => v[i]!;
  }

  /** Arena (buffer) offset of the in-memory bases of u24 lanes (0 when none). */
  basesPtr(): number {
    return this.header.bases ? this.bytes.byteOffset + this.header.bases.at : 0;
  }

  f64(name: 'zones'): Float64Array {
    return new Float64Array(this.bytes.buffer, this.ptr(name), this.header.lanes[name]!.bytes / 8);
  }

  /** ts of every row, as a function of the row. */
  tsReader(): (i: number) => number {
    const l = this.header.lanes.ts!;
    if (l.width === 3) return u24Reader(this.bytes.buffer, this.ptr('ts'), this.rows, this.basesPtr(), kBaseTs, this.header.tsBase);
    if (l.width === 4) {
      const ts = new Uint32Array(this.bytes.buffer, this.ptr('ts'), this.rows);
      const base = this.header.tsBase;
      return (i) => base + ts[i]!;
    }
    const ts32 = new Int32Array(this.bytes.buffer, this.ptr('ts'), this.rows * 2);
    return (i) => ts32[2 * i + 1]! * 4294967296 + (ts32[2 * i]! >>> 0);
  }

  seqReader(): (i: number) => number {
    const l = this.header.lanes.seq!;
    if (l.width === 2 || l.width === 3) {
      const bases = this.header.seqBlocks!;
      const time = this.header.seqTime && { ...this.header.seqTime, buckets: bases.bytes / 4, ts: this.tsReader() };
      return seqBlocksReader(this.bytes.buffer, this.ptr('seq'), this.bytes.byteOffset + bases.at, this.rows, this.header.seqBase, l.width, time);
    }
    if (l.width === 4) {
      const seq = new Uint32Array(this.bytes.buffer, this.ptr('seq'), this.rows);
      const base = this.header.seqBase;
      return (i) => base + seq[i]!;
    }
    const seq = new Float64Array(this.bytes.buffer, this.ptr('seq'), this.rows);
    return (i) => seq[i]!;
  }

  /** Where the confidence lane lies and how it is held (src/core/confidence-lane.ts); undefined: no row has one. */
  confidenceAt(): ConfidenceLaneAt | undefined {
    const l = this.header.lanes.confidence;
    if (!l) return undefined;
    const ptr = this.ptr('confidence');
    if (l.width !== 0) return { ptr, width: l.width as 2 | 8 };
    return { ptr, width: 0, bits: l.bits!, values: this.ptr('confidenceValues'), count: this.header.lanes.confidenceValues!.bytes / 2 };
  }

  /** Confidence of every row (undefined = none). */
  confidenceReader(): (i: number) => number | undefined {
    const at = this.confidenceAt();
    return at ? confidenceLane(this.bytes.buffer, at, this.rows) : () => undefined;
  }

  /** Client read id of every row (undefined = none). */
  readIdReader(): (i: number) => string | undefined {
    if (!this.header.lanes.readIdOffsets) return () => undefined;
    const offsets = new Uint32Array(this.bytes.buffer, this.ptr('readIdOffsets'), this.rows + 1);
    const bytes = new Uint8Array(this.bytes.buffer, this.ptr('readIdBytes'), this.header.lanes.readIdBytes!.bytes);
    return (i) => {
      const s = offsets[i]!, e = offsets[i + 1]!;
      if (e < s || e > bytes.length) throw CorruptFile(`Shard read id offsets are out of order: ${this.file}`, { file: this.file });
      return e === s ? undefined : dec.decode(bytes.subarray(s, e));
    };
  }

  /** The plate dictionary (sorted), decoded from the slots. */
  plates(): string[] {
    const slots = new Uint8Array(this.bytes.buffer, this.ptr('slots'), this.header.meta.dictCount * kPlateSlotBytes);
    const out: string[] = new Array(this.header.meta.dictCount);
    for (let d = 0; d < out.length; d++) {
      const base = d * kPlateSlotBytes;
      out[d] = String.fromCharCode(...slots.subarray(base, base + slots[base + 15]!));
    }
    return out;
  }

  /** Every row as a row record (rewrites and the migration; never on a query path). */
  rowRecords(): RowRecord[] {
    const n = this.rows;
    if (n === 0) return [];
    const ts = this.tsReader(), seq = this.seqReader(), conf = this.confidenceReader(), rid = this.readIdReader();
    const lat = this.coordReader('lat'), lon = this.coordReader('lon');
    const plates = this.plates();
    const d = this.header.dicts;
    const plate = this.plateReader(), camera = this.cameraReader();
    const region = this.labelReader('region'), make = this.labelReader('make'), color = this.labelReader('color');
    const out: RowRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r: RowRecord = { seq: seq(i), plate: plates[plate(i)]!, ts: ts(i), latE7: lat(i), lonE7: lon(i), camera: d.camera[camera(i)]! };
      if (r.plate === undefined || r.camera === undefined) throw CorruptFile(`Shard row ${i} names no dictionary entry: ${this.file}`, { file: this.file });
      const g = region(i);
      if (g !== 0) r.region = d.region[g]!;
      const c = conf(i);
      if (c !== undefined) r.confidence = c;
      const m = make(i), k = color(i);
      if (m !== 0) r.make = d.make[m]!;
      if (k !== 0) r.color = d.color[k]!;
      const id = rid(i);
      if (id !== undefined) r.readId = id;
      out[i] = r;
    }
    return out;
  }
}
