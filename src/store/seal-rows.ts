/**
 * The rows a seal or rewrite job gathers (WAL records, shard rows), held as columns in the seal worker
 * (src/store/seal-worker.ts) and handed out one UTC day at a time as ShardSources in seq order, one row
 * per seq: the copy read last wins, as `lastBySeq` (src/store/rows-by-seq.ts, the plain reference) does.
 *
 * Why columns (issue 11, bounded memory): a seal of 1M rows read as one `RowRecord` object per row held
 * 500–770 MiB in the worker before the first shard was written. Here a row costs 52 bytes of typed
 * arrays (plus its read id when it has one), in chunks of 2^16 rows so growing never copies; plates and
 * labels are codes into dictionaries of distinct strings. The shard builder's own transient arrays
 * (shard-format.ts buildShard) then exist for one day's shard at a time.
 *
 *   per chunk of kChunkRows rows, one ArrayBuffer:
 *   seq f64 · ts f64 · confidence f64 (NaN = none) · lat, lon i32 (degrees × 1e7)
 *   · plate, camera, region, make, color i32 (codes; region/make/color 0 = none)
 */
import { batchCodes, LabelCodes } from './live-columns.js';
import { dayOf, type ShardSource } from './shard-format.js';
import { plateOfKey } from './plate-key.js';
import { PlateKeyCodes } from './plate-key-codes.js';
import type { WalColumns } from './wal-record-columns.js';

const kChunkBits = 16;
/** Rows per column chunk. */
export const kChunkRows = 1 << kChunkBits;
const kChunkMask = kChunkRows - 1;

class Chunk {
  readonly seq: Float64Array;
  readonly ts: Float64Array;
  readonly conf: Float64Array;
  readonly lat: Int32Array;
  readonly lon: Int32Array;
  readonly plate: Int32Array;
  readonly camera: Int32Array;
  readonly region: Int32Array;
  readonly make: Int32Array;
  readonly color: Int32Array;
  readIds: (string | undefined)[] | undefined;

  /** The chunk at byte `at` of `buf` (kChunkBytes long). */
  constructor(buf: ArrayBuffer, at: number) {
    const B = kChunkRows;
    this.seq = new Float64Array(buf, at, B);
    this.ts = new Float64Array(buf, at + 8 * B, B);
    this.conf = new Float64Array(buf, at + 16 * B, B);
    this.lat = new Int32Array(buf, at + 24 * B, B);
    this.lon = new Int32Array(buf, at + 28 * B, B);
    this.plate = new Int32Array(buf, at + 32 * B, B);
    this.camera = new Int32Array(buf, at + 36 * B, B);
    this.region = new Int32Array(buf, at + 40 * B, B);
    this.make = new Int32Array(buf, at + 44 * B, B);
    this.color = new Int32Array(buf, at + 48 * B, B);
  }
}

const kChunkBytes = 52 * kChunkRows;
/**
 * Chunks are carved from slabs of this many (34 MiB), not allocated one by one (3.25 MiB each): glibc serves
 * a request above 32 MiB (its dynamic mmap threshold's ceiling) from a mapping of its own, given back to the
 * system when freed, and a page of it is resident only once written. A chunk of its own went through malloc's
 * threshold: the first job's chunks were mapped, and freeing them raised the threshold past a chunk's size, so
 * every later job's chunks came from the seal thread's arena, which kept them resident for the process's life.
 * Two 1M-row seals in a row on one worker (bench/seal-job-rss.ts --days 1 --jobs 2, with the worker's young
 * generation capped too): 13 MiB left in the arenas against 23–83, peak RSS 297–300 MiB against 356–357
 * (bench/RESULTS.md "HTTP ingest RSS: the parse workers' lanes, the seal worker's heap").
 */
export const kChunksPerSlab = 10;

/** Hands out chunks from slabs (see kChunksPerSlab). */
class ChunkSlabs {
  private slab: ArrayBuffer | undefined;
  private used = kChunksPerSlab;

  next(): Chunk {
    if (this.used === kChunksPerSlab) {
      this.slab = new ArrayBuffer(kChunkBytes * kChunksPerSlab);
      this.used = 0;
    }
    return new Chunk(this.slab!, kChunkBytes * this.used++);
  }
}

export class SealRows {
  private readonly chunks: Chunk[] = [];
  private readonly slabs = new ChunkSlabs();
  /** Rows added (copies of one seq included). */
  length = 0;
  private readonly plates = new LabelCodes(false);
  private readonly cameras = new LabelCodes(false);
  private readonly regions = new LabelCodes(true);
  private readonly makes = new LabelCodes(true);
  private readonly colors = new LabelCodes(true);
  /** Plate key → code in `plates`, for records of columns (the plate's string is made once, at its first row). */
  private readonly plateKeys = new PlateKeyCodes();

  /** Adds one row as read (any seq order; a seq met again replaces the earlier copy). */
  add(seq: number, plate: string, ts: number, latE7: number, lonE7: number, camera: string,
    region: string | undefined, confidence: number | undefined, make: string | undefined, color: string | undefined, readId: string | undefined): void {
    const g = this.length;
    const i = g & kChunkMask;
    if (i === 0) this.chunks.push(this.slabs.next());
    const c = this.chunks[g >>> kChunkBits]!;
    c.seq[i] = seq;
    c.ts[i] = ts;
    c.conf[i] = confidence ?? NaN;
    c.lat[i] = latE7;
    c.lon[i] = lonE7;
    c.plate[i] = this.plates.code(plate);
    c.camera[i] = this.cameras.code(camera);
    c.region[i] = this.regions.code(region);
    c.make[i] = this.makes.code(make);
    c.color[i] = this.colors.code(color);
    if (readId !== undefined) (c.readIds ??= [])[i] = readId;
    this.length = g + 1;
  }

  /**
   * Adds the rows of a columnar WAL record (src/store/wal-record-columns.ts) whose seq is in
   * [fromSeq, toSeq): lane by lane, each label coded once per record value, plates by key.
   */
  addColumns(w: WalColumns, fromSeq: number, toSeq: number): void {
    const c = w.columns;
    const camera = batchCodes(c.camera, this.cameras), region = batchCodes(c.region, this.regions);
    const make = batchCodes(c.make, this.makes), color = batchCodes(c.color, this.colors);
    const { seqs, firstSeq } = w;
    const hasReadIds = c.readId.values.length > 0;
    for (let k = 0; k < c.length; k++) {
      const seq = seqs ? seqs[k]! : firstSeq + k;
      if (!(seq >= fromSeq && seq < toSeq)) continue;
      const g = this.length;
      const i = g & kChunkMask;
      if (i === 0) this.chunks.push(this.slabs.next());
      const ch = this.chunks[g >>> kChunkBits]!;
      ch.seq[i] = seq;
      ch.ts[i] = c.ts[k]!;
      ch.conf[i] = c.confidence[k]!;
      ch.lat[i] = c.latE7[k]!;
      ch.lon[i] = c.lonE7[k]!;
      const key = c.plate[k]!;
      let p = this.plateKeys.get(key);
      if (p < 0) this.plateKeys.set(key, (p = this.plates.code(plateOfKey(key))));
      ch.plate[i] = p;
      ch.camera[i] = camera[c.camera.ids[k]!]!;
      const r = c.region.ids[k]!, m = c.make.ids[k]!, o = c.color.ids[k]!;
      ch.region[i] = r < 0 ? 0 : region[r]!;
      ch.make[i] = m < 0 ? 0 : make[m]!;
      ch.color[i] = o < 0 ? 0 : color[o]!;
      if (hasReadIds) {
        const id = c.readId.ids[k]!;
        if (id >= 0) (ch.readIds ??= [])[i] = c.readId.values[id]!;
      }
      this.length = g + 1;
    }
  }

  private seqAt(g: number): number {
    return this.chunks[g >>> kChunkBits]!.seq[g & kChunkMask]!;
  }

  /**
   * Row indexes in seq order, one per seq (the last added of equal seqs); undefined when the rows were
   * added in strictly ascending seq order already (then every row, as it is).
   */
  private seqOrder(): Uint32Array | undefined {
    const n = this.length;
    let sorted = true;
    let min = Infinity, max = -Infinity;
    for (let g = 0; g < n; g++) {
      const s = this.seqAt(g);
      if (g > 0 && s <= this.seqAt(g - 1)) sorted = false;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    if (sorted) return undefined;
    let order: Uint32Array;
    if (max - min < 2 ** 32 && Number.isInteger(min) && Number.isInteger(max)) {
      // one native sort of (seq − min) ‖ row index: equal seqs stay in the order they were added
      const keys = new BigUint64Array(n);
      const k32 = new Uint32Array(keys.buffer);
      for (let g = 0; g < n; g++) {
        k32[2 * g] = g;
        k32[2 * g + 1] = this.seqAt(g) - min;
      }
      keys.sort();
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = k32[2 * i]!;
    } else {
      order = new Uint32Array(n);
      for (let g = 0; g < n; g++) order[g] = g;
      order.sort((a, b) => this.seqAt(a) - this.seqAt(b) || a - b);
    }
    // keep the last of each run of one seq
    let w = 0;
    for (let i = 0; i < n; i++) {
      const g = order[i]!;
      if (w > 0 && this.seqAt(order[w - 1]!) === this.seqAt(g)) order[w - 1] = g;
      else order[w++] = g;
    }
    return order.subarray(0, w);
  }

  /** Every row in seq order, one per seq (the last added of equal seqs), as one ShardSource: replay's live rows. */
  inSeqOrder(): ShardSource {
    const order = this.seqOrder();
    if (order) return this.source(order);
    const all = new Uint32Array(this.length);
    for (let g = 0; g < all.length; g++) all[g] = g;
    return this.source(all);
  }

  /**
   * The rows as one ShardSource per UTC day (in seq order within a day, one row per seq), days ascending,
   * and the number of rows they hold.
   */
  byDay(): { rows: number; days: Map<number, ShardSource> } {
    const order = this.seqOrder();
    const n = order ? order.length : this.length;
    const at = order ? (i: number) => order[i]! : (i: number) => i;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const g = at(i);
      const d = dayOf(this.chunks[g >>> kChunkBits]!.ts[g & kChunkMask]!);
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    const lists = new Map<number, { rows: Uint32Array; fill: number }>();
    for (const d of [...counts.keys()].sort((a, b) => a - b)) lists.set(d, { rows: new Uint32Array(counts.get(d)!), fill: 0 });
    for (let i = 0; i < n; i++) {
      const g = at(i);
      const list = lists.get(dayOf(this.chunks[g >>> kChunkBits]!.ts[g & kChunkMask]!))!;
      list.rows[list.fill++] = g;
    }
    const days = new Map<number, ShardSource>();
    for (const [d, { rows }] of lists) days.set(d, this.source(rows));
    return { rows: n, days };
  }

  /** Rows `rows` (indexes as added) as a ShardSource. */
  private source(rows: Uint32Array): ShardSource {
    const chunks = this.chunks;
    const chunk = (i: number) => chunks[rows[i]! >>> kChunkBits]!;
    const j = (i: number) => rows[i]! & kChunkMask;
    const { plates, cameras, regions, makes, colors } = this;
    return {
      length: rows.length,
      seq: (i) => chunk(i).seq[j(i)]!,
      ts: (i) => chunk(i).ts[j(i)]!,
      latE7: (i) => chunk(i).lat[j(i)]!,
      lonE7: (i) => chunk(i).lon[j(i)]!,
      plate: (i) => plates.values[chunk(i).plate[j(i)]!]!,
      camera: (i) => cameras.values[chunk(i).camera[j(i)]!]!,
      region: (i) => regions.valueOf(chunk(i).region[j(i)]!),
      confidence: (i) => {
        const c = chunk(i).conf[j(i)]!;
        return Number.isNaN(c) ? undefined : c;
      },
      make: (i) => makes.valueOf(chunk(i).make[j(i)]!),
      color: (i) => colors.valueOf(chunk(i).color[j(i)]!),
      readId: (i) => chunk(i).readIds?.[j(i)],
    };
  }
}
