/**
 * Loads shards into arena memory: the object's bytes (src/store/object-store.ts, a ranged get into the
 * arena) land straight in an arena region (one copy,
 * no row parsing), apache-arrow parses only the metadata and hands back views into that region, and the
 * columns' arena offsets become the segment layout the kernels scan (src/core/segment.ts).
 *
 * Besides the file, a small side region holds what the kernels want in another shape: the plate
 * dictionary as 16-byte slots (built from the file's sorted Utf8 dictionary: O(distinct plates)) and the
 * zone maps (from the schema metadata). Unloading frees both regions for reuse.
 *
 * Sealed shards (manifest entries with a key) are read whole, checked against the manifest (size, CRC32C of
 * the stored bytes), and opened segment by segment (AES-256-GCM) straight into the arena region.
 */
import type { Table, Vector } from 'apache-arrow';
import type { ArenaSet, Region } from '../core/arena.js';
import { kBlockRows, kPlateSlotBytes, kZoneBytes, type SegmentLayout } from '../core/segment.js';
import { CorruptFile, KeyDestroyed } from '../errors.js';
import { isKeyDestroyed, wrappedFromJson, type DataKeys } from '../crypto/data-keys.js';
import { openSealedFile, readSealedHeader } from '../crypto/sealed-file.js';
import { crc32c } from './crc32c.js';
import type { ShardEntry } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { parseShard, readShardHeader, type ShardMeta } from './shard-format.js';
import type { ShardOpenPool } from './shard-open-pool.js';

const dec = new TextDecoder();

/** A shard resident in an arena, with JS views of its columns (all views share the arena's memory). */
export class LoadedShard {
  /** Where the shard is, for messages (ObjectStore.locate); its key is `entry.file`. */
  readonly file: string;
  readonly entry: ShardEntry;
  readonly meta: ShardMeta;
  readonly layout: SegmentLayout;
  readonly ts: BigInt64Array;
  /** The same i64 ts column as (lo, hi) i32 pairs: JS reads these without BigInt. */
  readonly ts32: Int32Array;
  readonly lat: Int32Array;
  readonly lon: Int32Array;
  readonly plate: Int32Array;
  readonly camera: Int32Array;
  readonly region: Int32Array;
  readonly seq32: Int32Array;
  readonly postings: Uint32Array;
  /** Arena offsets of the seq and plate_rows columns (for kernel tasks; see src/query/segment-task.ts). */
  readonly seqPtr: number;
  readonly postingsPtr: number;
  readonly zones: Float64Array;
  readonly cameras: readonly string[];
  readonly regions: readonly string[];
  private readonly table: Table;
  private readonly dictVector: Vector;
  private platesCache?: string[];
  readonly regions_: Region[];

  constructor(init: {
    file: string; entry: ShardEntry; meta: ShardMeta; layout: SegmentLayout; table: Table; zones: Float64Array; regions: Region[];
  }) {
    this.file = init.file;
    this.entry = init.entry;
    this.meta = init.meta;
    this.layout = init.layout;
    this.table = init.table;
    this.zones = init.zones;
    this.regions_ = init.regions;
    const t = init.table;
    const n = init.meta.rows;
    // views cut to the row count: the reader's views may run on into a buffer's 8-byte padding
    const values = <A extends { subarray(a: number, b: number): A }>(name: string): A =>
      n === 0 ? (t.getChild(name)!.data[0]?.values ?? new Uint32Array(0)).subarray(0, 0) : (t.getChild(name)!.data[0]!.values as A).subarray(0, n);
    this.ts = values<BigInt64Array>('ts');
    this.ts32 = new Int32Array(this.ts.buffer, this.ts.byteOffset, this.ts.length * 2);
    this.lat = values<Int32Array>('lat_e7');
    this.lon = values<Int32Array>('lon_e7');
    this.plate = values<Int32Array>('plate');
    this.camera = values<Int32Array>('camera');
    this.region = values<Int32Array>('region');
    const seq = values<BigInt64Array>('seq');
    this.seq32 = new Int32Array(seq.buffer, seq.byteOffset, seq.length * 2);
    this.postings = values<Uint32Array>('plate_rows');
    this.seqPtr = seq.byteOffset;
    this.postingsPtr = this.postings.byteOffset;
    this.slots = new Uint8Array(init.zones.buffer, init.layout.dict, init.layout.dictCount * kPlateSlotBytes);
    this.dictVector = t.getChild('plate')!.data[0]!.dictionary!;
    this.cameras = t.getChild('camera')!.data[0]!.dictionary!.toArray() as string[];
    this.regions = t.getChild('region')!.data[0]!.dictionary!.toArray() as string[];
  }

  get rows(): number {
    return this.meta.rows;
  }

  private pins = 0;
  private onFree: (() => void) | undefined;
  private freed = false;

  /** Keeps the arena regions alive until unpin(), across awaits. */
  pin(): void {
    this.pins++;
  }

  unpin(): void {
    if (--this.pins === 0 && this.onFree) this.free();
  }

  /** Called by unloadShard: frees now, or at the last unpin. */
  retire(free: () => void): void {
    this.onFree = free;
    if (this.pins === 0) this.free();
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.onFree!();
  }


  tsAt(i: number): number {
    return this.ts32[2 * i + 1]! * 4294967296 + (this.ts32[2 * i]! >>> 0);
  }

  seqAt(i: number): number {
    return this.seq32[2 * i + 1]! * 4294967296 + (this.seq32[2 * i]! >>> 0);
  }

  /** The plate dictionary as JS strings (sorted), decoded on first use. */
  plates(): string[] {
    this.platesCache ??= this.dictVector.toArray() as string[];
    return this.platesCache;
  }

  /** Row indexes of dictionary entry `d` (ascending), from the plate → rows column. */
  rowsOfPlate(d: number): Uint32Array {
    const post = this.postings, plate = this.plate;
    let lo = 0, hi = post.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (plate[post[mid]!]! < d) lo = mid + 1;
      else hi = mid;
    }
    const start = lo;
    hi = post.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (plate[post[mid]!]! <= d) lo = mid + 1;
      else hi = mid;
    }
    return post.subarray(start, lo);
  }

  /** The 16-byte plate slots (src/core/segment.ts) in the arena. */
  readonly slots: Uint8Array;

  /**
   * Dictionary index of `plate`, or -1: a binary search over the sorted 16-byte slots in the arena
   * (zero padding sorts a prefix before its extensions, as string order does), no strings decoded.
   */
  findPlate(p: string): number {
    const slots = this.slots;
    const n = this.layout.dictCount;
    const len = p.length;
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const base = mid * kPlateSlotBytes;
      let c = 0;
      for (let j = 0; j < 10 && c === 0; j++) c = slots[base + j]! - (j < len ? p.charCodeAt(j) : 0);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= n) return -1;
    const base = lo * kPlateSlotBytes;
    if (slots[base + 15] !== len) return -1;
    for (let j = 0; j < len; j++) if (slots[base + j] !== p.charCodeAt(j)) return -1;
    return lo;
  }

  /** Plate of dictionary entry `d`, decoded from its slot. */
  plateAt(d: number): string {
    if (this.platesCache) return this.platesCache[d]!;
    const base = d * kPlateSlotBytes;
    return String.fromCharCode(...this.slots.subarray(base, base + this.slots[base + 15]!));
  }

  /** The make and color columns (dictionary ids; 0 = none) and their dictionaries, for `makes`/`colors` filters. */
  attributes(): { make: Int32Array; makes: readonly string[]; color: Int32Array; colors: readonly string[] } {
    const x = (this.extraCols ??= this.makeExtraCols());
    return { make: x.make, makes: x.makes, color: x.color, colors: x.colors };
  }

  /** Optional columns of row `i`, for materialising a hit (direct views; no Arrow row accessors). */
  extras(i: number): { confidence?: number; make?: string; color?: string; readId?: string } {
    const x = (this.extraCols ??= this.makeExtraCols());
    const out: { confidence?: number; make?: string; color?: string; readId?: string } = {};
    if (!x.confValid || (x.confValid[i >> 3]! >> (i & 7)) & 1) out.confidence = x.conf[i]!;
    const m = x.make[i]!;
    if (m !== 0) out.make = x.makes[m]!;
    const c = x.color[i]!;
    if (c !== 0) out.color = x.colors[c]!;
    if (!x.ridValid || (x.ridValid[i >> 3]! >> (i & 7)) & 1) out.readId = dec.decode(x.ridData.subarray(x.ridOffsets[i]!, x.ridOffsets[i + 1]!));
    return out;
  }

  private extraCols?: {
    conf: Float64Array; confValid: Uint8Array | null; make: Int32Array; makes: string[]; color: Int32Array; colors: string[];
    ridOffsets: Int32Array; ridData: Uint8Array; ridValid: Uint8Array | null;
  };

  private makeExtraCols(): NonNullable<LoadedShard['extraCols']> {
    const t = this.table;
    const data = (name: string) => t.getChild(name)!.data[0]!;
    // a column with no nulls may omit its validity bitmap; with all nulls, every bit is 0
    const validity = (name: string): Uint8Array | null => {
      const d = data(name);
      if (d.nullCount === 0) return null;
      return d.nullBitmap ?? new Uint8Array(Math.ceil(d.length / 8));
    };
    const rid = data('read_id');
    return {
      conf: data('confidence').values as Float64Array,
      confValid: validity('confidence'),
      make: data('make').values as Int32Array,
      makes: data('make').dictionary!.toArray() as string[],
      color: data('color').values as Int32Array,
      colors: data('color').dictionary!.toArray() as string[],
      ridOffsets: rid.valueOffsets as Int32Array,
      ridData: rid.values as Uint8Array,
      ridValid: rid.nullCount === rid.length ? new Uint8Array(Math.ceil(rid.length / 8)) : validity('read_id'),
    };
  }

  /** Every non-null read_id (for the tenant's dedupe set). */
  /** The client readIds of the shard's rows, with the rows' seqs. */
  *readIds(): Iterable<[readId: string, seq: number]> {
    const col = this.table.getChild('read_id')!;
    if (col.nullCount === col.length) return;
    for (let i = 0; i < col.length; i++) {
      const v = col.get(i) as string | null;
      if (v !== null) yield [v, this.seqAt(i)];
    }
  }
}

/**
 * Reads shard object `entry.file` of `objects` into `arenas` and verifies it against its manifest entry
 * (size, CRC32C) and its own metadata. Any failure frees what was allocated and throws a coded error
 * naming the shard (its ObjectStore.locate name). With `pool` (while a data dir opens), a sealed shard's
 * checksum and decryption run on a worker thread (src/store/shard-open-pool.ts).
 */
export async function loadShard(arenas: ArenaSet, objects: ObjectStore, entry: ShardEntry, keys?: DataKeys, pool?: ShardOpenPool): Promise<LoadedShard> {
  const regions: Region[] = [];
  const file = objects.locate(entry.file);
  try {
    let bytes: Uint8Array;
    let region: Region;
    if (entry.key) {
      // sealed: the stored bytes are checked (size, CRC32C), then every segment is opened straight into the arena
      if (!keys) throw CorruptFile(`Shard is encrypted and no key store was given: ${file}`, { file });
      const stored = await objects.get(entry.file);
      if (stored.length !== entry.bytes) throw CorruptFile(`Shard size ${stored.length} differs from the manifest's ${entry.bytes}: ${file}`, { file });
      if (!pool && crc32c(stored) !== entry.crc) throw CorruptFile(`Shard checksum mismatch: ${file}`, { file });
      const key = await keys.openKey(wrappedFromJson(entry.key)).catch((err: unknown) => {
        if (isKeyDestroyed(err)) throw KeyDestroyed(`Shard ${file} was shredded (its day key is destroyed)`, { file });
        throw err;
      });
      const size = readSealedHeader(file, stored).plainBytes;
      if (entry.plainBytes !== undefined && size !== entry.plainBytes) throw CorruptFile(`Shard plaintext size differs from the manifest: ${file}`, { file });
      const fileSpan = Math.ceil(size / 64) * 64;
      const sideBytes = entry.dictCount * kPlateSlotBytes + Math.ceil(entry.rows / kBlockRows) * kZoneBytes;
      region = arenas.alloc(Math.max(16, fileSpan + sideBytes), 64);
      regions.push(region);
      const memory = arenas.arena(region.arena).memory;
      if (pool) await pool.open({ file, stored, crc: entry.crc, key, memory, ptr: region.ptr }); // `stored` moves to the worker
      else openSealedFile(file, stored, key, new Uint8Array(memory.buffer), region.ptr, keys.cipher);
      bytes = new Uint8Array(memory.buffer).subarray(region.ptr, region.ptr + size);
    } else {
      // plaintext (a data dir written before encryption at rest, until its migration rewrites it)
      const size = await objects.head(entry.file);
      if (size === undefined) throw CorruptFile(`Shard is missing: ${file}`, { file });
      if (size !== entry.bytes) throw CorruptFile(`Shard size ${size} differs from the manifest's ${entry.bytes}: ${file}`, { file });
      // one region: the object, then (64-aligned) the plate slots and zone maps
      const fileSpan = Math.ceil(size / 64) * 64;
      const sideBytes = entry.dictCount * kPlateSlotBytes + Math.ceil(entry.rows / kBlockRows) * kZoneBytes;
      region = arenas.alloc(Math.max(16, fileSpan + sideBytes), 64);
      regions.push(region);
      bytes = new Uint8Array(arenas.arena(region.arena).memory.buffer, region.ptr, size);
      try {
        await objects.getRange(entry.file, 0, size, bytes);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERANGE') throw CorruptFile(`Shard shorter than expected: ${file}`, { file });
        throw err;
      }
      if (crc32c(bytes) !== entry.crc) throw CorruptFile(`Shard checksum mismatch: ${file}`, { file });
    }
    const table = parseShard(file, bytes);
    const { meta, zones } = readShardHeader(file, table);
    if (meta.rows !== entry.rows) throw CorruptFile(`Shard row count differs from the manifest: ${file}`, { file });
    const memBuffer = arenas.arena(region.arena).memory.buffer;
    const ptrOf = (name: string): number => {
      if (meta.rows === 0) return 0; // an empty shard: no rows to address
      const v = table.getChild(name)?.data[0]?.values as ArrayBufferView | undefined;
      if (!v || v.buffer !== memBuffer) throw CorruptFile(`Shard column ${name} is missing or misplaced: ${file}`, { file });
      return v.byteOffset;
    };
    if (table.batches.length !== 1 && meta.rows > 0) throw CorruptFile(`Shard has ${table.batches.length} record batches: ${file}`, { file });

    // side region: 16-byte plate slots, then zone maps
    const dictVector = table.getChild('plate')?.data[0]?.dictionary;
    if (!dictVector) throw CorruptFile(`Shard has no plate dictionary: ${file}`, { file });
    const dictCount = dictVector.length;
    const slotsBytes = dictCount * kPlateSlotBytes;
    const blocks = zones.length / 6;
    if (dictCount !== entry.dictCount || dictCount !== meta.dictCount) {
      throw CorruptFile(`Shard plate dictionary size differs from its manifest entry: ${file}`, { file });
    }
    const sideRegion = { ptr: region.ptr + Math.ceil(bytes.length / 64) * 64 };
    const mem = new Uint8Array(memBuffer);
    const dictData = dictVector.data[0]!;
    const offsets = dictData.valueOffsets as Int32Array;
    const chars = dictData.values as Uint8Array;
    mem.fill(0, sideRegion.ptr, sideRegion.ptr + slotsBytes);
    for (let d = 0; d < dictCount; d++) {
      const s = offsets[d]!, e = offsets[d + 1]!;
      const len = e - s;
      if (len < 1 || len > 10) throw CorruptFile(`Shard plate dictionary entry ${d} has length ${len}: ${file}`, { file });
      const slot = sideRegion.ptr + d * kPlateSlotBytes;
      mem.set(chars.subarray(s, e), slot);
      mem[slot + 15] = len;
    }
    const zonesPtr = sideRegion.ptr + slotsBytes;
    const zoneView = new Float64Array(memBuffer, zonesPtr, zones.length);
    zoneView.set(zones);

    const layout: SegmentLayout = {
      arena: region.arena, rows: meta.rows,
      ts: ptrOf('ts'), lat: ptrOf('lat_e7'), lon: ptrOf('lon_e7'), plate: ptrOf('plate'), camera: ptrOf('camera'),
      region: ptrOf('region'), dict: sideRegion.ptr, dictCount, zones: zonesPtr, blocks,
      make: ptrOf('make'), color: ptrOf('color'),
    };
    return new LoadedShard({ file, entry, meta, layout, table, zones: zoneView, regions });
  } catch (err) {
    for (const r of regions) arenas.free(r);
    if ((err as { code?: string }).code?.startsWith('PS_')) throw err;
    throw CorruptFile(`Shard cannot be loaded: ${file} (${(err as Error).message})`, { file });
  }
}

/**
 * Frees a shard's arena regions for reuse. If a reader has pinned it (an export in progress, a task on
 * the pool), the regions are freed when the last pin goes.
 */
export function unloadShard(arenas: ArenaSet, shard: LoadedShard): void {
  shard.retire(() => {
    for (const r of shard.regions_) arenas.free(r);
  });
}

