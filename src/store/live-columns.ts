/**
 * Live rows (acknowledged, not yet sealed) held columnar in arena memory (issue 11): no JS object per read.
 *
 * One generation (`LiveColumns`) of a tenant's live rows is a list of blocks of kLiveBlockRows rows, each
 * block ONE arena region holding fixed-width lanes, plus per-generation dictionaries:
 *
 *   block region (B = kLiveBlockRows rows, offsets in bytes; lanes are what src/core/segment.ts describes)
 *   ┌──────────┬─────────┬───────────────────────────────────────────────────────────────────────────┐
 *   │ ts       │ 0       │ i64[B]  epoch ms (the kernels' ts lane)                                   │
 *   │ seq      │ 8B      │ f64[B]  the tenant's append seq (ids: src/store/ids.ts)                   │
 *   │ conf     │ 16B     │ f64[B]  confidence, NaN = absent                                          │
 *   │ lat, lon │ 24B 28B │ i32[B]  degrees × 1e7                                                     │
 *   │ plate    │ 32B     │ u32[B]  code in the generation's plate dictionary (first-seen order)      │
 *   │ camera   │ 36B     │ u32[B]  code in the camera dictionary                                     │
 *   │ region   │ 40B     │ u32[B]  code in the region dictionary, 0 = none                           │
 *   │ make     │ 44B     │ u32[B]  code in the make dictionary, 0 = none                             │
 *   │ color    │ 48B     │ u32[B]  code in the color dictionary, 0 = none                            │
 *   │ prev     │ 52B     │ i32[B]  the previous row (generation row index) with the same plate, -1   │
 *   │ zone     │ 56B     │ f64[6]  minTs, maxTs, minLat, maxLat, minLon, maxLon of the block's rows  │
 *   └──────────┴─────────┴───────────────────────────────────────────────────────────────────────────┘
 *   56 bytes a row. Row g of the generation is row g % B of block ⌊g / B⌋.
 *
 *   plate dictionary: code → 16-byte slot (src/core/segment.ts) in arena chunks of kSlotChunk slots (the
 *   kernels match distinct plates chunk by chunk, never rows); JS keeps plate key → code (a typed table,
 *   src/store/plate-key-codes.ts) for appends and exact lookups, code → string for the query side, and
 *   `heads` (code → last row) which, with `prev`, chains a plate's rows newest first. These JS-side tables are
 *   arena regions too (src/store/table-memory.ts), freed when grown out of and with their generation, so a
 *   retired generation's ~40 B a plate does not wait for the collector.
 *   camera / region / make / color: small string ↔ code tables; read ids (rare, and needed only to
 *   materialise a hit) in a per-block string array made on first use.
 *
 * Snapshot semantics: rows are only ever appended, and a written row never changes (the one word that
 * does, `heads[code]`, is read only through rows below a view's length: chains skip newer rows). A
 * `LiveView` is (generation, length, dictionary sizes); a search that captured it sees exactly those rows
 * while appends go on. Sealing and retention do not edit a generation: they start a new one (holding the
 * rows that stay) and retire the old, whose regions are freed when the last pinned view lets go
 * (`pin`/`unpin`, as LoadedShard does), so a search awaiting the worker pool never reads freed memory. An
 * unpinned old generation gives its blocks back during the copy itself (`copyRows` `consume`), so the new
 * generation reuses them and a seal does not raise the arena's high-water by a second generation.
 *
 * The kernels see each block as a segment through `liveSegment` (the one place that maps these lanes to
 * SegmentLayout: a lane change is made there and in the offsets above).
 */
import type { ArenaSet, Region } from '../core/arena.js';
import { kBlockRows, kPlateSlotBytes, kZoneBytes, type SegmentLayout } from '../core/segment.js';
import type { ShardSource } from './shard-format.js';
import type { RowRecord } from './wal-record.js';
import type { ReadColumns, StringColumn } from './read-columns.js';
import { isKeyablePlate, plateKey, plateOfKey, writePlateSlot } from './plate-key.js';
import { PlateKeyCodes } from './plate-key-codes.js';
import { ArenaTables } from './table-memory.js';

/** Rows per live block: one zone map and one kernel segment each. */
export const kLiveBlockRows = kBlockRows;
/** Plate slots per dictionary chunk (128 KiB). */
export const kSlotChunk = 8192;

const B = kLiveBlockRows;
const kOffTs = 0;
const kOffSeq = 8 * B;
const kOffConf = 16 * B;
const kOffLat = 24 * B;
const kOffLon = 28 * B;
const kOffPlate = 32 * B;
const kOffCamera = 36 * B;
const kOffRegion = 40 * B;
const kOffMake = 44 * B;
const kOffColor = 48 * B;
const kOffPrev = 52 * B;
const kOffZone = 56 * B;
/** Bytes of one block region. */
export const kLiveBlockBytes = kOffZone + kZoneBytes;
/** Bytes a live row costs in arena memory (the lanes above). */
export const kLiveRowBytes = 56;

/** A dictionary of short labels: code ↔ string; with `optional`, code 0 is "none" (placeholder ""). */
export class LabelCodes {
  readonly values: string[];
  private readonly codes = new Map<string, number>();
  // the last label coded: a camera's burst or a batch of one region repeats it row after row, no hash needed
  private last: string | undefined;
  private lastCode = 0;
  constructor(readonly optional: boolean) {
    this.values = optional ? [''] : [];
  }

  code(v: string | undefined): number {
    if (v === undefined) {
      if (!this.optional) throw new Error('a required label is missing');
      return 0;
    }
    if (v === this.last) return this.lastCode;
    let c = this.codes.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(v);
      this.codes.set(v, c);
    }
    this.last = v;
    this.lastCode = c;
    return c;
  }

  find(v: string): number {
    return this.codes.get(v) ?? -1;
  }

  valueOf(code: number): string | undefined {
    return this.optional && code === 0 ? undefined : this.values[code];
  }
}

/** Codes in `to` of a batch column's values (its ids index this; -1, absent, is not in it). */
export function batchCodes(col: StringColumn, to: LabelCodes): Int32Array {
  const out = new Int32Array(col.values.length);
  for (let v = 0; v < out.length; v++) out[v] = to.code(col.values[v]);
  return out;
}

/** old code → new code of one label dictionary, -1 until first met. */
function codeMap(from: LabelCodes): Int32Array {
  return new Int32Array(from.values.length).fill(-1);
}

/** The code in `to` of code `old` of `from` (0, "none", stays 0 for optional labels). */
function mapCode(map: Int32Array, from: LabelCodes, to: LabelCodes, old: number): number {
  let c = map[old]!;
  if (c < 0) c = map[old] = to.code(from.valueOf(old));
  return c;
}

/** One block's lanes, as JS views of its arena region (views stay valid: shared memories never detach). */
export class LiveBlock {
  readonly ts32: Int32Array;
  readonly seq: Float64Array;
  readonly conf: Float64Array;
  readonly lat: Int32Array;
  readonly lon: Int32Array;
  readonly plate: Int32Array;
  readonly camera: Int32Array;
  readonly region: Int32Array;
  readonly make: Int32Array;
  readonly color: Int32Array;
  readonly prev: Int32Array;
  readonly zone: Float64Array;
  readIds: (string | undefined)[] | undefined;
  /** Rows written. */
  rows = 0;

  constructor(readonly mem: Region, buffer: ArrayBufferLike) {
    const p = mem.ptr;
    this.ts32 = new Int32Array(buffer, p + kOffTs, 2 * B);
    this.seq = new Float64Array(buffer, p + kOffSeq, B);
    this.conf = new Float64Array(buffer, p + kOffConf, B);
    this.lat = new Int32Array(buffer, p + kOffLat, B);
    this.lon = new Int32Array(buffer, p + kOffLon, B);
    this.plate = new Int32Array(buffer, p + kOffPlate, B);
    this.camera = new Int32Array(buffer, p + kOffCamera, B);
    this.region = new Int32Array(buffer, p + kOffRegion, B);
    this.make = new Int32Array(buffer, p + kOffMake, B);
    this.color = new Int32Array(buffer, p + kOffColor, B);
    this.prev = new Int32Array(buffer, p + kOffPrev, B);
    this.zone = new Float64Array(buffer, p + kOffZone, 6);
    this.zone.set([Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity]);
  }

  tsAt(r: number): number {
    return this.ts32[2 * r + 1]! * 4294967296 + (this.ts32[2 * r]! >>> 0);
  }
}

/**
 * The segment the kernels scan for rows [0, rows) of block `b` of `cols` (rows ≤ what the block holds),
 * with the generation's plate dictionary. The one function that maps live lanes to SegmentLayout.
 */
export function liveSegment(cols: LiveColumns, b: number, rows: number): SegmentLayout {
  const block = cols.blocks[b]!;
  const p = block.mem.ptr;
  return {
    arena: block.mem.arena, rows,
    ts: p + kOffTs, lat: p + kOffLat, lon: p + kOffLon, plate: p + kOffPlate, camera: p + kOffCamera, region: p + kOffRegion,
    dict: cols.slotChunks[0]?.ptr ?? 0, dictCount: Math.min(cols.plateCount, kSlotChunk),
    // the zone map holds the extremes of every row written to the block (a superset of a view's rows: wider is allowed)
    zones: rows > 0 ? p + kOffZone : 0, blocks: rows > 0 ? 1 : 0,
    make: p + kOffMake, color: p + kOffColor,
  };
}

/** The segment of plate dictionary chunk `c` (its slots; no rows), for matchDictionary. */
export function liveDictSegment(cols: LiveColumns, c: number, plateCount: number): SegmentLayout {
  const chunk = cols.slotChunks[c]!;
  return { ...liveSegment(cols, 0, 0), arena: chunk.arena, dict: chunk.ptr, dictCount: Math.max(0, Math.min(kSlotChunk, plateCount - c * kSlotChunk)) };
}

/** Byte offsets of a block region's lanes (the table above), for code that reads live rows in a worker. */
export const kLiveLanes = {
  ts: kOffTs, seq: kOffSeq, lat: kOffLat, lon: kOffLon, plate: kOffPlate, camera: kOffCamera, region: kOffRegion, make: kOffMake, color: kOffColor, prev: kOffPrev,
} as const;

/**
 * Where a view's rows and plates lie in its generation's arena (one arena: `sameArena`): each block region's
 * start and each plate slot chunk's, so a worker holding the arena's memory reads them where they are.
 */
export function liveRegions(view: LiveView): { blocks: Int32Array; slotChunks: Int32Array } {
  const cols = view.cols;
  const blocks = new Int32Array(view.blockCount());
  for (let b = 0; b < blocks.length; b++) blocks[b] = cols.blocks[b]!.mem.ptr;
  const slotChunks = new Int32Array(Math.ceil(view.plateCount / kSlotChunk));
  for (let c = 0; c < slotChunks.length; c++) slotChunks[c] = cols.slotChunks[c]!.ptr;
  return { blocks, slotChunks };
}

/** One generation of a tenant's live rows (see the file comment). */
export class LiveColumns {
  readonly blocks: LiveBlock[] = [];
  length = 0;
  /** The tables' memory: arena regions, freed as they are grown out of and with the generation. */
  private readonly tables: ArenaTables;
  /** plate key → code. */
  private readonly keyCodes: PlateKeyCodes;
  /** plate → code, undefined when absent: the Map-like lookup of the query side (src/store/live-plate-order.ts). */
  readonly plateCodes = {
    get: (plate: string): number | undefined => {
      const c = this.codeOfPlate(plate);
      return c < 0 ? undefined : c;
    },
  };
  readonly plates: string[] = [];
  readonly slotChunks: Region[] = [];
  private slotViews: Uint8Array[] = [];
  /** code → last row of that plate (grown by doubling, the old array freed: read it anew at each use). */
  heads: Int32Array;
  /**
   * code → rows of that plate (grown with `heads`): a view's count of a plate is this less the rows its
   * chain holds past the view (src/store/live-plate-chain.ts plateRowsInView), so counting a pattern's rows
   * needs no pass over the blocks.
   */
  plateRows: Int32Array;
  readonly cameras = new LabelCodes(false);
  readonly regions = new LabelCodes(true);
  readonly makes = new LabelCodes(true);
  readonly colors = new LabelCodes(true);
  /** The arena every region of this generation is in, or -1 before the first; `sameArena` false once they straddle. */
  arena = -1;
  sameArena = true;
  private pins = 0;
  /** Leading blocks already freed (copyRows consuming this generation). */
  private released = 0;
  private retired = false;
  private freed = false;

  constructor(private readonly arenas: ArenaSet) {
    this.tables = new ArenaTables(arenas);
    this.keyCodes = new PlateKeyCodes(this.tables);
    this.heads = this.tables.int32(64);
    this.plateRows = this.tables.int32(64);
  }

  get plateCount(): number {
    return this.plates.length;
  }

  /**
   * A region for a block or a slot chunk: in this generation's arena when it has room, else in any arena;
   * when no arena can hold it at all (tests run with arenas of a few hundred KiB), plain JS memory
   * (arena -1). Either way the kernels are off for this generation (`sameArena`): the JS scans serve.
   */
  private alloc(bytes: number): { region: Region; buffer: ArrayBufferLike } {
    if (this.arena >= 0) {
      const ptr = this.arenas.allocIn(this.arena, bytes, 64);
      if (ptr >= 0) return { region: { arena: this.arena, ptr, bytes }, buffer: this.arenas.arena(this.arena).memory.buffer };
      this.sameArena = false;
    }
    try {
      const region = this.arenas.alloc(bytes, 64);
      if (this.arena < 0) this.arena = region.arena;
      return { region, buffer: this.arenas.arena(region.arena).memory.buffer };
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.sameArena = false;
      return { region: { arena: -1, ptr: 0, bytes }, buffer: new ArrayBuffer(bytes) };
    }
  }

  private release(r: Region): void {
    if (r.arena >= 0) this.arenas.free(r);
  }

  /** Appends one row (seq order); the caller makes it visible by taking a new view. */
  push(r: RowRecord): void {
    const g = this.length;
    const b = g >>> 13;
    const i = g & (B - 1);
    const block = this.blockAt(b);
    const t = r.ts;
    const hi = Math.floor(t / 4294967296);
    block.ts32[2 * i] = (t - hi * 4294967296) | 0;
    block.ts32[2 * i + 1] = hi;
    block.seq[i] = r.seq;
    block.conf[i] = r.confidence ?? NaN;
    block.lat[i] = r.latE7;
    block.lon[i] = r.lonE7;
    const code = this.plateCode(plateKey(r.plate), r.plate);
    block.plate[i] = code;
    block.prev[i] = this.heads[code]!;
    block.camera[i] = this.cameras.code(r.camera);
    block.region[i] = this.regions.code(r.region);
    block.make[i] = this.makes.code(r.make);
    block.color[i] = this.colors.code(r.color);
    if (r.readId !== undefined) (block.readIds ??= [])[i] = r.readId;
    widenZone(block.zone, t, r.latE7, r.lonE7);
    // written last: a reader never follows a head to a row not yet filled in (and views skip rows ≥ their length)
    this.heads[code] = g;
    this.plateRows[code]!++;
    block.rows = i + 1;
    this.length = g + 1;
  }

  /**
   * Appends the rows of `from` (an older generation) below `length` that `keep` accepts, lane by lane:
   * the same rows as pushing `record(g)` of each, without a row object or a dictionary lookup per row
   * (each old code is looked up once). Sealing keeps every row appended while it ran this way.
   * With `consume` (the caller retires `from` right after), an unpinned `from` gives each block back as soon
   * as it is passed; `keep(h)` then must not read rows of `from` below h.
   */
  copyRows(from: LiveColumns, length: number, keep: (g: number) => boolean, consume = false): void {
    // consuming an unpinned generation: each of its blocks is freed once passed, so this generation's blocks
    // take their place in the arena instead of growing it by a second copy (wasm memory never shrinks); its
    // tables first (the copy reads its plates' strings, never its key table, heads or counts)
    const release = consume && from.pins === 0;
    if (release) from.freeTables();
    const plateMap = this.tables.int32(Math.max(1, from.plateCount)).fill(-1);
    const cameraMap = codeMap(from.cameras), regionMap = codeMap(from.regions), makeMap = codeMap(from.makes), colorMap = codeMap(from.colors);
    for (let h = 0; h < length; h++) {
      if (release && (h & (B - 1)) === 0 && h > 0) from.releaseBlocksBelow(h >>> 13);
      if (!keep(h)) continue;
      const src = from.blocks[h >>> 13]!;
      const j = h & (B - 1);
      const g = this.length;
      const b = g >>> 13;
      const i = g & (B - 1);
      const block = this.blockAt(b);
      block.ts32[2 * i] = src.ts32[2 * j]!;
      block.ts32[2 * i + 1] = src.ts32[2 * j + 1]!;
      block.seq[i] = src.seq[j]!;
      block.conf[i] = src.conf[j]!;
      const latE7 = (block.lat[i] = src.lat[j]!);
      const lonE7 = (block.lon[i] = src.lon[j]!);
      const old = src.plate[j]!;
      let code = plateMap[old]!;
      if (code < 0) code = plateMap[old] = this.plateCode(plateKey(from.plates[old]!), from.plates[old]);
      block.plate[i] = code;
      block.prev[i] = this.heads[code]!;
      block.camera[i] = mapCode(cameraMap, from.cameras, this.cameras, src.camera[j]!);
      block.region[i] = mapCode(regionMap, from.regions, this.regions, src.region[j]!);
      block.make[i] = mapCode(makeMap, from.makes, this.makes, src.make[j]!);
      block.color[i] = mapCode(colorMap, from.colors, this.colors, src.color[j]!);
      const rid = src.readIds?.[j];
      if (rid !== undefined) (block.readIds ??= [])[i] = rid;
      widenZone(block.zone, src.tsAt(j), latE7, lonE7);
      this.heads[code] = g;
      this.plateRows[code]!++;
      block.rows = i + 1;
      this.length = g + 1;
    }
    this.tables.free(plateMap);
  }

  /** Frees blocks [released, `end`) of a generation being consumed (copyRows), before it is retired. */
  private releaseBlocksBelow(end: number): void {
    for (; this.released < end; this.released++) this.release(this.blocks[this.released]!.mem);
  }

  /**
   * Appends rows `rows` (indexes into `c`, a batch from the HTTP ingest's parse) with seqs firstSeq,
   * firstSeq + 1, …: what pushing each row's record does, without the record: plates looked up by key, labels
   * coded once per distinct batch value.
   */
  pushColumns(c: ReadColumns, rows: ArrayLike<number>, firstSeq: number): void {
    const camera = batchCodes(c.camera, this.cameras), region = batchCodes(c.region, this.regions);
    const make = batchCodes(c.make, this.makes), color = batchCodes(c.color, this.colors);
    const optional = (codes: Int32Array, id: number) => (id < 0 ? 0 : codes[id]!);
    for (let k = 0; k < rows.length; k++) {
      const x = rows[k]!;
      const g = this.length;
      const b = g >>> 13;
      const i = g & (B - 1);
      const block = this.blockAt(b);
      const t = c.ts[x]!;
      const hi = Math.floor(t / 4294967296);
      block.ts32[2 * i] = (t - hi * 4294967296) | 0;
      block.ts32[2 * i + 1] = hi;
      block.seq[i] = firstSeq + k;
      block.conf[i] = c.confidence[x]!;
      const latE7 = (block.lat[i] = c.latE7[x]!);
      const lonE7 = (block.lon[i] = c.lonE7[x]!);
      const code = this.plateCode(c.plate[x]!, undefined);
      block.plate[i] = code;
      block.prev[i] = this.heads[code]!;
      block.camera[i] = camera[c.camera.ids[x]!]!;
      block.region[i] = optional(region, c.region.ids[x]!);
      block.make[i] = optional(make, c.make.ids[x]!);
      block.color[i] = optional(color, c.color.ids[x]!);
      const rid = c.readId.ids[x]!;
      if (rid >= 0) (block.readIds ??= [])[i] = c.readId.values[rid]!;
      widenZone(block.zone, t, latE7, lonE7);
      this.heads[code] = g;
      this.plateRows[code]!++;
      block.rows = i + 1;
      this.length = g + 1;
    }
  }

  /** Block `b`, allocated when it is the next one (rows are appended in order, so never further ahead). */
  private blockAt(b: number): LiveBlock {
    if (b === this.blocks.length) {
      const { region, buffer } = this.alloc(kLiveBlockBytes);
      this.blocks.push(new LiveBlock(region, buffer));
    }
    return this.blocks[b]!;
  }

  /** The code of plate `key` (its string `plate` when the caller has one), added when new. */
  private plateCode(key: number, plate: string | undefined): number {
    let code = this.keyCodes.get(key);
    if (code >= 0) return code;
    code = this.plates.length;
    const c = Math.floor(code / kSlotChunk);
    if (c === this.slotChunks.length) {
      const { region, buffer } = this.alloc(kSlotChunk * kPlateSlotBytes);
      this.slotChunks.push(region);
      const view = new Uint8Array(buffer, region.ptr, kSlotChunk * kPlateSlotBytes);
      view.fill(0);
      this.slotViews.push(view);
    }
    writePlateSlot(key, this.slotViews[c]!, (code % kSlotChunk) * kPlateSlotBytes);
    if (code === this.heads.length) {
      // readers take `heads` anew at each use on this thread, never across an await: the old arrays go back now
      const heads = this.heads, plateRows = this.plateRows;
      this.heads = this.tables.int32(code * 2);
      this.heads.set(heads);
      this.plateRows = this.tables.int32(code * 2);
      this.plateRows.set(plateRows);
      this.tables.free(heads);
      this.tables.free(plateRows);
    }
    this.heads[code] = -1;
    this.plateRows[code] = 0;
    this.plates.push(plate ?? plateOfKey(key));
    this.keyCodes.set(key, code);
    return code;
  }

  /** The code of `plate`, or -1. */
  codeOfPlate(plate: string): number {
    return isKeyablePlate(plate) ? this.keyCodes.get(plateKey(plate)) : -1;
  }

  /** Slot bytes of plate `code` (16 bytes: characters, zero padding, length in the last byte). */
  slot(code: number): Uint8Array {
    const base = (code % kSlotChunk) * kPlateSlotBytes;
    return this.slotViews[Math.floor(code / kSlotChunk)]!.subarray(base, base + kPlateSlotBytes);
  }

  /** The slots of chunk `c` (kSlotChunk plates, 16 bytes each; those past plateCount unwritten). */
  slotChunk(c: number): Uint8Array {
    return this.slotViews[c]!;
  }

  /** Arena bytes this generation holds. */
  get bytes(): number {
    return this.blocks.length * kLiveBlockBytes + this.slotChunks.length * kSlotChunk * kPlateSlotBytes + this.tables.bytes;
  }

  /** The arena regions this generation holds now, blocks, slot chunks, then tables (bench/resident-breakdown.ts). */
  arenaRegions(): Region[] {
    if (this.freed) return [];
    return [...this.blocks.slice(this.released).map((b) => b.mem), ...this.slotChunks, ...this.tables.held()].filter((r) => r.arena >= 0);
  }

  pin(): void {
    this.pins++;
  }

  unpin(): void {
    if (--this.pins === 0 && this.retired) this.free();
  }

  /** This generation is replaced: free its regions now, or when the last pinned view lets go. */
  retire(): void {
    this.retired = true;
    if (this.pins === 0) this.free();
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.releaseBlocksBelow(this.blocks.length);
    for (const c of this.slotChunks) this.release(c);
    this.freeTables();
  }

  /** Gives the plate key table, heads and counts back (freeing, or consumed by a copy). */
  private freeTables(): void {
    this.keyCodes.free();
    this.tables.freeAll();
    // a reader after the free (a bug) finds no plate and no row rather than another generation's
    this.heads = new Int32Array(0);
    this.plateRows = new Int32Array(0);
  }
}

/**
 * A consistent snapshot of the live rows: the first `length` rows of a generation and the dictionary
 * entries they use. Row indexes are the generation's. Implements the shard builder's ShardSource.
 */
export class LiveView implements ShardSource {
  readonly plateCount: number;
  constructor(readonly cols: LiveColumns, readonly length: number) {
    this.plateCount = cols.plateCount;
  }

  block(g: number): LiveBlock {
    return this.cols.blocks[g >>> 13]!;
  }

  seq(g: number): number {
    return this.block(g).seq[g & (B - 1)]!;
  }

  ts(g: number): number {
    return this.block(g).tsAt(g & (B - 1));
  }

  latE7(g: number): number {
    return this.block(g).lat[g & (B - 1)]!;
  }

  lonE7(g: number): number {
    return this.block(g).lon[g & (B - 1)]!;
  }

  plateCode(g: number): number {
    return this.block(g).plate[g & (B - 1)]!;
  }

  plate(g: number): string {
    return this.cols.plates[this.plateCode(g)]!;
  }

  camera(g: number): string {
    return this.cols.cameras.values[this.block(g).camera[g & (B - 1)]!]!;
  }

  region(g: number): string | undefined {
    return this.cols.regions.valueOf(this.block(g).region[g & (B - 1)]!);
  }

  confidence(g: number): number | undefined {
    const c = this.block(g).conf[g & (B - 1)]!;
    return Number.isNaN(c) ? undefined : c;
  }

  make(g: number): string | undefined {
    return this.cols.makes.valueOf(this.block(g).make[g & (B - 1)]!);
  }

  color(g: number): string | undefined {
    return this.cols.colors.valueOf(this.block(g).color[g & (B - 1)]!);
  }

  readId(g: number): string | undefined {
    return this.block(g).readIds?.[g & (B - 1)];
  }

  /** Row `g` as a row record (for the WAL and materialising: a few rows at a time). */
  record(g: number): RowRecord {
    const r: RowRecord = { seq: this.seq(g), plate: this.plate(g), ts: this.ts(g), latE7: this.latE7(g), lonE7: this.lonE7(g), camera: this.camera(g) };
    const region = this.region(g);
    if (region !== undefined) r.region = region;
    const confidence = this.confidence(g);
    if (confidence !== undefined) r.confidence = confidence;
    const make = this.make(g);
    if (make !== undefined) r.make = make;
    const color = this.color(g);
    if (color !== undefined) r.color = color;
    const readId = this.readId(g);
    if (readId !== undefined) r.readId = readId;
    return r;
  }

  /** Plate code of `plate` among this view's plates, or -1. */
  findPlate(plate: string): number {
    const c = this.cols.codeOfPlate(plate);
    return c < this.plateCount ? c : -1;
  }

  /** Rows of plate `code`, ascending (through the same-plate chain, skipping rows appended after the view). */
  rowsOfPlate(code: number): number[] {
    const out: number[] = [];
    const cols = this.cols;
    let g = cols.heads[code] ?? -1;
    while (g >= this.length) g = cols.blocks[g >>> 13]!.prev[g & (B - 1)]!;
    while (g >= 0) {
      out.push(g);
      g = cols.blocks[g >>> 13]!.prev[g & (B - 1)]!;
    }
    return out.reverse();
  }

  /** Index of the first row with seq ≥ `seq` (rows are in seq order). */
  firstAtOrAbove(seq: number): number {
    let lo = 0, hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seq(mid) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Blocks holding rows of this view, with the number of its rows in each. */
  blockCount(): number {
    return Math.ceil(this.length / B);
  }

  rowsInBlock(b: number): number {
    return Math.min(B, this.length - b * B);
  }

  /** Whether any of the first `end` rows passes `test`. */
  some(test: (g: number) => boolean, end = this.length): boolean {
    for (let g = 0; g < end; g++) if (test(g)) return true;
    return false;
  }

  pin(): void {
    this.cols.pin();
  }

  unpin(): void {
    this.cols.unpin();
  }
}

/** Rows `rows` (ascending indexes) of a view as a ShardSource, for building a shard without copying them. */
export function subsetSource(view: LiveView, rows: ArrayLike<number>): ShardSource {
  return {
    length: rows.length,
    seq: (i) => view.seq(rows[i]!),
    ts: (i) => view.ts(rows[i]!),
    latE7: (i) => view.latE7(rows[i]!),
    lonE7: (i) => view.lonE7(rows[i]!),
    plate: (i) => view.plate(rows[i]!),
    camera: (i) => view.camera(rows[i]!),
    region: (i) => view.region(rows[i]!),
    confidence: (i) => view.confidence(rows[i]!),
    make: (i) => view.make(rows[i]!),
    color: (i) => view.color(rows[i]!),
    readId: (i) => view.readId(rows[i]!),
  };
}

/**
 * A tenant's live rows: the current generation and the view searches capture. Appends push in place;
 * sealing and retention start a new generation with the rows that stay (`keepOnly`).
 */
export class LiveRows {
  private cols: LiveColumns;
  private view_: LiveView | undefined;

  constructor(private readonly arenas: ArenaSet) {
    this.cols = new LiveColumns(arenas);
  }

  get length(): number {
    return this.cols.length;
  }

  /** The current rows as a consistent snapshot. */
  view(): LiveView {
    if (!this.view_ || this.view_.length !== this.cols.length || this.view_.plateCount !== this.cols.plateCount) {
      this.view_ = new LiveView(this.cols, this.cols.length);
    }
    return this.view_;
  }

  push(row: RowRecord): void {
    this.cols.push(row);
  }

  /** Appends rows of a batch of columns (LiveColumns.pushColumns). */
  pushColumns(c: ReadColumns, rows: ArrayLike<number>, firstSeq: number): void {
    this.cols.pushColumns(c, rows, firstSeq);
  }

  /** Replaces every row with the rows of `src` (in seq order): WAL replay. */
  replace(src: ShardSource): void {
    const next = new LiveColumns(this.arenas);
    // one record object, refilled row by row: push reads it and keeps nothing of it
    const r: RowRecord = { seq: 0, plate: '', ts: 0, latE7: 0, lonE7: 0, camera: '' };
    for (let i = 0; i < src.length; i++) {
      r.seq = src.seq(i);
      r.plate = src.plate(i);
      r.ts = src.ts(i);
      r.latE7 = src.latE7(i);
      r.lonE7 = src.lonE7(i);
      r.camera = src.camera(i);
      r.region = src.region(i);
      r.confidence = src.confidence(i);
      r.make = src.make(i);
      r.color = src.color(i);
      r.readId = src.readId(i);
      next.push(r);
    }
    this.swap(next);
  }

  /**
   * Keeps the rows of the current view that `keep` accepts (and every row appended after `from`'s end is
   * kept as it is): a new generation, the old one retired. Sealing keeps the rows past its cut, retention the
   * rows not dropped.
   */
  keepOnly(keep: (g: number) => boolean): void {
    const next = new LiveColumns(this.arenas);
    next.copyRows(this.cols, this.cols.length, keep, true);
    this.swap(next);
  }

  /** Arena bytes held by the current generation. */
  get bytes(): number {
    return this.cols.bytes;
  }

  /** The current generation's arena regions (a retired one pinned by a view is not among them). */
  arenaRegions(): Region[] {
    return this.cols.arenaRegions();
  }

  private swap(next: LiveColumns): void {
    const old = this.cols;
    this.cols = next;
    this.view_ = undefined;
    old.retire();
  }
}

/** Widens a block's zone map [tMin, tMax, latMin, latMax, lonMin, lonMax] to hold one row. */
function widenZone(z: Float64Array, t: number, latE7: number, lonE7: number): void {
  const lat = latE7 / 1e7, lon = lonE7 / 1e7;
  if (t < z[0]!) z[0] = t;
  if (t > z[1]!) z[1] = t;
  if (lat < z[2]!) z[2] = lat;
  if (lat > z[3]!) z[3] = lat;
  if (lon < z[4]!) z[4] = lon;
  if (lon > z[5]!) z[5] = lon;
}
