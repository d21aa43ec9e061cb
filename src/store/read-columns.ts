/**
 * Validated reads as columns, the unit bulk ingest moves between threads (src/ingest/parse-chunk.ts makes
 * them, src/store/bulk-load.ts stores them): typed arrays and per-batch string dictionaries, no object per
 * read. Every typed array can be transferred to another thread without a copy.
 *
 * Plates are numbers (src/store/plate-key.ts); the other strings are dictionary-coded within the batch:
 * `ids[i]` indexes `values`, -1 is an absent optional field.
 * Coordinates are already the stored fixed-point values (degrees × 1e7, src/core/segment.ts), so what a
 * parse worker computed is bit-identical to what an append computes (toE7).
 */
import { kCoordScale } from '../core/segment.js';
import type { Read } from '../model/read.js';
import { plateKey } from './plate-key.js';

export interface StringColumn {
  ids: Int32Array;
  values: string[];
}

export interface ReadColumns {
  /** Rows in the batch. */
  length: number;
  ts: Float64Array;
  latE7: Int32Array;
  lonE7: Int32Array;
  /** NaN when absent (a present confidence is a finite number in [0, 1]). */
  confidence: Float64Array;
  /** Normalised plates as keys (src/store/plate-key.ts): no string per read crosses threads. */
  plate: Float64Array;
  camera: StringColumn;
  region: StringColumn;
  make: StringColumn;
  color: StringColumn;
  readId: StringColumn;
}

/**
 * A builder for one string column of a batch. `dedupe` (for columns of few distinct values: cameras,
 * labels) gives each distinct value one entry; without it (plates, readIds: nearly one value a row, where
 * a hash lookup per row costs more than it saves) every present value gets its own entry.
 */
export class StringColumnBuilder {
  readonly ids: Int32Array;
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  private last: string | undefined;
  private lastId = -1;

  /** `ids`: the row ids' array when the caller lays it out (ReadColumnsBuilder on lanes), else one of `capacity`. */
  constructor(capacity: number, private readonly dedupe = true, ids?: Int32Array) {
    this.ids = ids ?? new Int32Array(capacity);
  }

  set(row: number, v: string | undefined): void {
    if (v === undefined) {
      this.ids[row] = -1;
      return;
    }
    if (!this.dedupe) {
      this.ids[row] = this.values.length;
      this.values.push(v);
      return;
    }
    if (v === this.last) {
      this.ids[row] = this.lastId;
      return;
    }
    let id = this.index.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.index.set(v, id);
    }
    this.last = v;
    this.lastId = id;
    this.ids[row] = id;
  }

  // values met as bytes (setBytes): an open-addressing table of value ids by the bytes' hash, each such
  // value's bytes kept to compare against (a parse worker codes a camera without making its string); hash and
  // compare read four bytes at a time (DataView words), not one
  private table = new Int32Array(256).fill(-1);
  private byteCount = 0;
  private store = new Uint8Array(4096);
  private storeWords = new DataView(this.store.buffer);
  private storeEnd = 0;
  private at: number[] = [];
  private len: number[] = [];
  private src: Uint8Array | undefined;
  private srcWords = new DataView(new ArrayBuffer(0));

  /**
   * Sets row `row` to the ASCII text b[s..e) (dedupe builders only). The same value coded through `set`
   * may get a second id: the values list may repeat a string, which readers of a column allow (a consumer
   * codes values, not ids).
   */
  setBytes(row: number, b: Uint8Array, s: number, e: number): void {
    if (b !== this.src) {
      this.src = b;
      this.srcWords = new DataView(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
    }
    const words = this.srcWords;
    const n = e - s;
    const h = hashBytes(words, s, n);
    const table = this.table;
    const mask = table.length - 1;
    for (let k = h & mask; ; k = (k + 1) & mask) {
      const id = table[k]!;
      if (id < 0) break;
      if (this.len[id] === n && sameBytes(words, s, this.storeWords, this.at[id]!, n)) {
        this.ids[row] = id;
        return;
      }
    }
    const id = this.values.length;
    this.values.push((b as Buffer & { latin1Slice(s: number, e: number): string }).latin1Slice(s, e));
    if (this.storeEnd + n > this.store.length) {
      const grown = new Uint8Array(Math.max(this.store.length * 2, this.storeEnd + n));
      grown.set(this.store);
      this.store = grown;
      this.storeWords = new DataView(grown.buffer);
    }
    this.store.set(b.subarray(s, e), this.storeEnd);
    this.at[id] = this.storeEnd;
    this.len[id] = n;
    this.storeEnd += n;
    this.ids[row] = id;
    this.insert(id, h);
    if (++this.byteCount * 2 > this.table.length) this.rehash();
  }

  private insert(id: number, h: number): void {
    const mask = this.table.length - 1;
    let k = h & mask;
    while (this.table[k]! >= 0) k = (k + 1) & mask;
    this.table[k] = id;
  }

  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2).fill(-1);
    for (const id of old) {
      if (id < 0) continue;
      this.insert(id, hashBytes(this.storeWords, this.at[id]!, this.len[id]!));
    }
  }

  build(length: number): StringColumn {
    return { ids: this.ids.subarray(0, length), values: this.values };
  }
}

/** A hash of the n bytes at w[s..]: four at a time (the last four overlapping), bytes only below four. */
function hashBytes(w: DataView, s: number, n: number): number {
  let h = 0x811c9dc5 ^ n;
  if (n < 4) {
    for (let j = 0; j < n; j++) h = Math.imul(h ^ w.getUint8(s + j), 0x01000193);
  } else {
    for (let j = 0; j + 4 < n; j += 4) h = Math.imul(h ^ w.getInt32(s + j), 0x9e3779b1);
    h = Math.imul(h ^ w.getInt32(s + n - 4), 0x85ebca6b);
  }
  return h ^ (h >>> 15);
}

/** Whether the n bytes at a[as..] and b[bs..] are the same (four at a time, the last four overlapping). */
function sameBytes(a: DataView, as: number, b: DataView, bs: number, n: number): boolean {
  if (n < 4) {
    for (let j = 0; j < n; j++) if (a.getUint8(as + j) !== b.getUint8(bs + j)) return false;
    return true;
  }
  for (let j = 0; j + 4 < n; j += 4) if (a.getInt32(as + j) !== b.getInt32(bs + j)) return false;
  return a.getInt32(as + n - 4) === b.getInt32(bs + n - 4);
}

/** Fixed-point degrees, as stored (src/core/segment.ts); `| 0` folds -0 into 0. */
export function toE7(deg: number): number {
  return Math.round(deg * kCoordScale) | 0;
}

/**
 * The columns of a batch being filled row by row: validated reads (`add`: the library's `append` and the
 * HTTP body's JSON path) or a byte reader's fields written straight into the arrays (src/ingest/parse-chunk.ts).
 * 52 B a row plus the distinct strings, where a row object costs several times that.
 */
export class ReadColumnsBuilder {
  /** Rows filled so far. */
  length = 0;
  readonly ts: Float64Array;
  readonly latE7: Int32Array;
  readonly lonE7: Int32Array;
  readonly confidence: Float64Array;
  readonly plate: Float64Array;
  readonly camera: StringColumnBuilder;
  readonly region: StringColumnBuilder;
  readonly make: StringColumnBuilder;
  readonly color: StringColumnBuilder;
  readonly readId: StringColumnBuilder;

  /**
   * With `lanes` (at least columnLaneBytes(capacity) bytes; src/ingest/column-lanes.ts): every typed array is
   * a view of it, and build() hands out views of it, not copies, so the batch crosses threads as that one
   * buffer and can come back to be filled again.
   */
  constructor(readonly capacity: number, readonly lanes?: ArrayBuffer) {
    const n = capacity;
    const f64 = (lane: number) => (lanes ? new Float64Array(lanes, 8 * n * lane, n) : new Float64Array(n));
    const i32 = (lane: number) => (lanes ? new Int32Array(lanes, 24 * n + 4 * n * lane, n) : new Int32Array(n));
    this.ts = f64(0);
    this.confidence = f64(1);
    this.plate = f64(2);
    this.latE7 = i32(0);
    this.lonE7 = i32(1);
    this.camera = new StringColumnBuilder(n, true, lanes && i32(2));
    this.region = new StringColumnBuilder(n, true, lanes && i32(3));
    this.make = new StringColumnBuilder(n, true, lanes && i32(4));
    this.color = new StringColumnBuilder(n, true, lanes && i32(5));
    this.readId = new StringColumnBuilder(n, false, lanes && i32(6));
  }

  /** Adds a validated, normalised read (src/model/read.ts); returns its row. */
  add(r: Read): number {
    const i = this.length++;
    this.ts[i] = r.ts;
    this.latE7[i] = toE7(r.lat);
    this.lonE7[i] = toE7(r.lon);
    this.confidence[i] = r.confidence === undefined ? NaN : r.confidence;
    this.plate[i] = plateKey(r.plate);
    this.camera.set(i, r.camera);
    this.region.set(i, r.region);
    this.make.set(i, r.make);
    this.color.set(i, r.color);
    this.readId.set(i, r.readId);
    return i;
  }

  /**
   * The rows filled, as columns: on lanes, views of them; else arrays copied to their length unless full, so
   * a transfer moves only them.
   */
  build(): ReadColumns {
    const n = this.length;
    const cut = <T extends Float64Array | Int32Array>(a: T) => (n === this.capacity ? a : this.lanes ? (a.subarray(0, n) as T) : (a.slice(0, n) as T));
    return {
      length: n, ts: cut(this.ts), latE7: cut(this.latE7), lonE7: cut(this.lonE7), confidence: cut(this.confidence),
      plate: cut(this.plate), camera: this.camera.build(n), region: this.region.build(n), make: this.make.build(n),
      color: this.color.build(n), readId: this.readId.build(n),
    };
  }
}

/** Bytes of the lanes a ReadColumnsBuilder of `capacity` rows lays out in one buffer: 3 f64 and 7 i32 lanes. */
export function columnLaneBytes(capacity: number): number {
  return 52 * capacity;
}

/** Validated reads as one batch of columns (what `append` hands the store instead of an object per read). */
export function readColumnsOf(reads: readonly Read[]): ReadColumns {
  const b = new ReadColumnsBuilder(reads.length);
  for (let i = 0; i < reads.length; i++) b.add(reads[i]!);
  return b.build();
}

/** Typed arrays of a batch (for postMessage's transfer list). */
export function transferables(c: ReadColumns): ArrayBuffer[] {
  const list = [c.ts, c.latE7, c.lonE7, c.confidence, c.plate, c.camera.ids, c.region.ids, c.make.ids, c.color.ids, c.readId.ids];
  return [...new Set(list.map((a) => a.buffer as ArrayBuffer))];
}
