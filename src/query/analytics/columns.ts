/**
 * The columns of the rows a row scan returned (row-scan.ts), gathered into flat typed arrays, with plates
 * and cameras as compact integer ids: each shard's dictionary ids are translated once per distinct entry
 * touched (a string interned once), so the analyses group and compare integers, never strings, per row.
 * Plates of different tenants with the same text get the same id (a plate may be read across tenants).
 */
import { kCoordScale, kPlateSlotBytes } from '../../core/segment.js';
import { kLiveBlockRows } from '../../store/live-columns.js';
import type { LoadedShard } from '../../store/shard-loader.js';
import type { Hit } from '../../model/query.js';
import type { QueryBudget } from '../budget.js';
import { materialise } from '../executor.js';
import type { Source } from '../sources.js';
import type { SourceRows } from './row-scan.js';

/** Strings ↔ dense ids 0, 1, 2, … */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  id(s: string): number {
    let v = this.ids.get(s);
    if (v === undefined) {
      v = this.names.length;
      this.ids.set(s, v);
      this.names.push(s);
    }
    return v;
  }
  find(s: string): number {
    return this.ids.get(s) ?? -1;
  }
  get size(): number {
    return this.names.length;
  }
}

/** Base-37 code of a plate character: '0'–'9' → 1–10, 'A'–'Z' → 11–36 (0 is padding, never a character). */
function charCode37(c: number): number {
  return c <= 57 ? c - 47 : c - 54;
}

/**
 * A plate (1–10 characters of A–Z0–9) as one exact integer: its characters in base 37 (37^10 < 2^53). No
 * character codes to 0, so distinct plates get distinct numbers; a shard's 16-byte slot is read without
 * decoding a string.
 */
export function plateKey(p: string): number {
  let k = 0;
  for (let i = 0; i < p.length; i++) k = k * 37 + charCode37(p.charCodeAt(i));
  return k;
}

const chars = new Uint8Array(kPlateSlotBytes);

/** plateKey of a shard's dictionary entry `d`, from its characters (no string made). */
function entryKey(shard: LoadedShard, d: number): number {
  const len = shard.plateChars(d, chars);
  let k = 0;
  for (let i = 0; i < len; i++) k = k * 37 + charCode37(chars[i]!);
  return k;
}

function keyToPlate(k: number): string {
  let s = '';
  while (k > 0) {
    const c = k % 37;
    s = String.fromCharCode(c <= 10 ? c + 47 : c + 54) + s;
    k = (k - c) / 37;
  }
  return s;
}

/**
 * Integer keys (0 ≤ k < 2^53) ↔ dense ids 0, 1, 2, …: an open-addressing table of ids over the keys (linear
 * probing, load ≤ 1/2). Keys past V8's small integers (plate keys up to 37^10, plate-and-day keys) in a Map
 * or Set are boxed and slow to hash: a Map keyed by plate keys was 40 % of the cloned analysis' main-thread
 * time in a profile at 1M reads.
 */
export class KeyIds {
  protected keys = new Float64Array(1024);
  private count = 0;
  private table = new Int32Array(2048).fill(-1);
  private mask = 2047;

  private static slot(k: number): number {
    const lo = k >>> 0;
    const hi = (k / 4294967296) | 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 13)) >>> 0;
  }

  /** The id of key k, given the next id if k is new. */
  idOfKey(k: number): number {
    const table = this.table, keys = this.keys, mask = this.mask;
    for (let i = KeyIds.slot(k) & mask; ; i = (i + 1) & mask) {
      const id = table[i]!;
      if (id < 0) {
        if (this.count === keys.length) {
          const next = new Float64Array(keys.length * 2);
          next.set(keys);
          this.keys = next;
        }
        const v = this.count++;
        this.keys[v] = k;
        table[i] = v;
        if (this.count * 2 > table.length) this.grow();
        return v;
      }
      if (keys[id] === k) return id;
    }
  }

  /** The id of key k, or -1. */
  findKey(k: number): number {
    for (let i = KeyIds.slot(k) & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.table[i]!;
      if (id < 0) return -1;
      if (this.keys[id] === k) return id;
    }
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let v = 0; v < this.count; v++) {
      let i = KeyIds.slot(this.keys[v]!) & mask;
      while (table[i]! >= 0) i = (i + 1) & mask;
      table[i] = v;
    }
    this.table = table;
    this.mask = mask;
  }

  get size(): number {
    return this.count;
  }
}

/** Plates ↔ dense ids 0, 1, 2, …, keyed by plateKey (strings made only for the plates an answer names). */
export class PlateIds extends KeyIds {
  id(plate: string): number {
    return this.idOfKey(plateKey(plate));
  }

  find(plate: string): number {
    return this.findKey(plateKey(plate));
  }

  name(id: number): string {
    return keyToPlate(this.keys[id]!);
  }
}

/** One analysis' ids: shared by every gather of the analysis so ids agree between its passes. */
export class IdSpace {
  readonly plates = new PlateIds();
  readonly cameras = new Interner();
  private readonly shardPlates = new Map<object, Int32Array>();
  private readonly shardCameras = new Map<object, Int32Array>();

  /** Dictionary id → plate id for a shard, filled lazily (-1: not yet). */
  platesOf(src: Source & { kind: 'shard' }): Int32Array {
    let m = this.shardPlates.get(src.shard);
    if (!m) this.shardPlates.set(src.shard, (m = new Int32Array(src.shard.layout.dictCount).fill(-1)));
    return m;
  }

  /** The plate id of dictionary entry `d` of a shard. */
  shardPlate(src: Source & { kind: 'shard' }, d: number): number {
    return this.plates.idOfKey(entryKey(src.shard, d));
  }

  camerasOf(src: Source & { kind: 'shard' }): Int32Array {
    let m = this.shardCameras.get(src.shard);
    if (!m) this.shardCameras.set(src.shard, (m = Int32Array.from(src.shard.cameras, (c) => this.cameras.id(c))));
    return m;
  }
}

/** Rows as columns. `tag` is a per-row bit set given by the gatherer (multisite: the sites of the row). */
export interface Columns {
  n: number;
  plate: Int32Array;
  camera: Int32Array;
  ts: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  tag: Int32Array;
  /** Index into `sources`, and the row within it, to materialise a hit. */
  source: Int32Array;
  row: Uint32Array;
  sources: Source[];
}

/**
 * Gathers the rows of `scanned` into columns. `rowsOf` picks (and may merge) a source's rows with their
 * tags; the default takes filter 0 with tag 0.
 */
export function gather(
  ids: IdSpace, scanned: readonly SourceRows[], budget: QueryBudget | undefined,
  rowsOf: (s: SourceRows) => { rows: ArrayLike<number>; tags?: ArrayLike<number> } = (s) => ({ rows: s.rows[0]! }),
): Columns {
  const picked = scanned.map(rowsOf);
  const n = picked.reduce((a, p) => a + p.rows.length, 0);
  const c: Columns = {
    n, plate: new Int32Array(n), camera: new Int32Array(n), ts: new Float64Array(n), lat: new Float64Array(n),
    lon: new Float64Array(n), tag: new Int32Array(n), source: new Int32Array(n), row: new Uint32Array(n), sources: [],
  };
  let o = 0;
  scanned.forEach((s, si) => {
    const { rows, tags } = picked[si]!;
    const src = s.src;
    c.sources.push(src);
    if (src.kind === 'shard') {
      const sh = src.shard;
      const plateIds = ids.platesOf(src);
      const cameraIds = ids.camerasOf(src);
      for (let j = 0; j < rows.length; j++, o++) {
        budget?.tick();
        const i = rows[j]!;
        const d = sh.plate(i);
        let p = plateIds[d]!;
        if (p < 0) plateIds[d] = p = ids.shardPlate(src, d);
        c.plate[o] = p;
        c.camera[o] = cameraIds[sh.camera(i)]!;
        c.ts[o] = sh.tsAt(i);
        c.lat[o] = sh.latE7(i) / kCoordScale;
        c.lon[o] = sh.lonE7(i) / kCoordScale;
        c.tag[o] = tags ? tags[j]! : 0;
        c.source[o] = si;
        c.row[o] = i;
      }
    } else {
      // ids by the live dictionaries' codes, looked up once per code (as by shard dictionary ids above)
      const v = src.view;
      const plateIds = new Int32Array(v.plateCount).fill(-1);
      const cameraIds = new Int32Array(v.cols.cameras.values.length).fill(-1);
      for (let j = 0; j < rows.length; j++, o++) {
        budget?.tick();
        const i = rows[j]!;
        const b = v.block(i);
        const r = i % kLiveBlockRows;
        const pc = b.plate[r]!;
        let p = plateIds[pc]!;
        if (p < 0) plateIds[pc] = p = ids.plates.id(v.cols.plates[pc]!);
        const cc = b.camera[r]!;
        let cam = cameraIds[cc]!;
        if (cam < 0) cameraIds[cc] = cam = ids.cameras.id(v.cols.cameras.values[cc]!);
        c.plate[o] = p;
        c.camera[o] = cam;
        c.ts[o] = b.tsAt(r);
        c.lat[o] = b.lat[r]! / kCoordScale;
        c.lon[o] = b.lon[r]! / kCoordScale;
        c.tag[o] = tags ? tags[j]! : 0;
        c.source[o] = si;
        c.row[o] = i;
      }
    }
  });
  return c;
}

/** The tenant ordinal and seq of row `k` (its id is their fixed-width hex: id order = (ordinal, seq) order). */
export function idParts(c: Columns, k: number): { ordinal: number; seq: number } {
  const src = c.sources[c.source[k]!]!;
  const i = c.row[k]!;
  return { ordinal: src.ordinal, seq: src.kind === 'shard' ? src.shard.seqAt(i) : src.view.seq(i) };
}

/** The hit (search's hit JSON, distance 0) of row `k`. */
export function hitOf(c: Columns, k: number): Hit {
  const { ordinal, seq } = idParts(c, k);
  return materialise({ distance: 0, ts: c.ts[k]!, ordinal, seq, source: c.sources[c.source[k]!]!, row: c.row[k]! });
}
