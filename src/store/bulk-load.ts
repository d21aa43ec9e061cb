/**
 * Bulk loading of one tenant (`platesearch ingest`): validated reads arrive as columns
 * (src/store/read-columns.ts), are accumulated columnar (typed arrays and string dictionaries, no object
 * per read), and every `flushRows` rows are cut into day shards (src/store/shard-format.ts) and put into
 * the tenant's shard object store. Nothing goes through the WAL: the shards are the durable copy.
 *
 * Crash safety, with the manifest as the one commit point (as sealing, src/store/sealer.ts):
 *
 *   begin:   the tenant's live rows are sealed first (so every WAL row is below sealedSeq) and appends to
 *            the tenant are refused until the end
 *   flush:   put shard objects (atomic, durable) — not yet named by the manifest
 *   finish:  COMMIT manifest {shards += all put, nextSeq = sealedSeq = last seq + 1}
 *
 * A crash (or an error) before the commit leaves shard objects the manifest does not name: the next open
 * deletes them (src/store/sealer.ts openShards), and `abort` deletes them at once. Nothing is half loaded;
 * the caller reports success only after `finish` resolves.
 *
 * Memory: the accumulator (≈ 45 B a row plus the distinct strings of the rows held) and, while a flush
 * builds a shard, that shard's transient buffers: bounded by `flushRows`, not by the input.
 *
 * Outcome, as `TenantStore.append` gives it: rows get consecutive seqs in input order; a read whose readId
 * the tenant already holds, or that an earlier row of the load had, is counted as accepted and stored
 * once (the first copy).
 */
import { dayOf, kMaxShardRows, shardFileName, buildShard, type ShardSource } from './shard-format.js';
import { putSealedShard, kShardRowsCap } from './shard-writer.js';
import { dayEpoch } from '../crypto/key-names.js';
import type { ShardEntry } from './manifest.js';
import type { ReadColumns } from './read-columns.js';
import type { TenantStore } from './tenant-store.js';

/** Rows held before a flush: about a busy day of one tenant; ≈ 100 MB of accumulator at most. */
export const kBulkFlushRows = 1 << 21;

export interface BulkLoadOutcome {
  /** Rows given to `add` (stored + duplicates). */
  accepted: number;
  /** Rows stored (each with a new seq). */
  stored: number;
  /** Rows not stored because their readId was already held. */
  duplicates: number;
  shards: number;
}

/**
 * One string column of the accumulator: each row's code is its batch-local id into its batch's value list
 * (the batch a row came from is `BulkLoad.part`), so adding a batch copies no strings and hashes none; the
 * shard builder's dictionary pass dedupes.
 */
class Dict {
  readonly codes: Int32Array;
  /** Value lists of the batches held, by part number. */
  parts: (readonly string[])[] = [];

  constructor(capacity: number, private readonly part: Int32Array) {
    this.codes = new Int32Array(capacity);
  }

  reset(): void {
    this.parts = [];
  }

  value(row: number): string | undefined {
    const c = this.codes[row]!;
    return c < 0 ? undefined : this.parts[this.part[row]!]![c];
  }
}

export class BulkLoad {
  private readonly cap: number;
  private n = 0;
  private readonly ts: Float64Array;
  private readonly lat: Int32Array;
  private readonly lon: Int32Array;
  private readonly conf: Float64Array;
  /** Batch (part) number of each row held: its strings are in that batch's value lists. */
  private readonly part: Int32Array;
  private parts = 0;
  private readonly plate: Dict;
  private readonly camera: Dict;
  private readonly region: Dict;
  private readonly make: Dict;
  private readonly color: Dict;
  private readonly readId: Dict;
  /** Seq of accumulator row 0. */
  private baseSeq: number;
  private nextSeq: number;
  private nextGen: number;
  private readonly entries: ShardEntry[] = [];
  /** readIds stored by this load, with their seqs. */
  private readonly loadedIds = new Map<string, number>();
  private accepted = 0;
  private duplicates = 0;
  private done = false;
  /** Runs right after the commit, with the committed entries (the engine loads them for searches). */
  onCommit: ((entries: readonly ShardEntry[]) => Promise<void>) | undefined;

  /** Use TenantStore.beginBulkLoad (it seals the live rows and holds off appends). */
  constructor(private readonly store: TenantStore, firstSeq: number, firstGen: number, flushRows = kBulkFlushRows) {
    this.cap = Math.max(1, Math.min(flushRows, kMaxShardRows));
    this.ts = new Float64Array(this.cap);
    this.lat = new Int32Array(this.cap);
    this.lon = new Int32Array(this.cap);
    this.conf = new Float64Array(this.cap);
    this.part = new Int32Array(this.cap);
    this.plate = new Dict(this.cap, this.part);
    this.camera = new Dict(this.cap, this.part);
    this.region = new Dict(this.cap, this.part);
    this.make = new Dict(this.cap, this.part);
    this.color = new Dict(this.cap, this.part);
    this.readId = new Dict(this.cap, this.part);
    this.baseSeq = this.nextSeq = firstSeq;
    this.nextGen = firstGen;
  }

  /** Adds a batch of validated reads (in input order); flushes shards as the accumulator fills. */
  async add(b: ReadColumns): Promise<void> {
    if (this.done) throw new Error('bulk load already finished');
    // a batch never straddles a flush (its dictionary codes belong to the accumulator's current dictionaries)
    for (let from = 0; from < b.length; from += this.cap) {
      const part = from === 0 && b.length <= this.cap ? b : sliceColumns(b, from, Math.min(b.length, from + this.cap));
      if (this.n + part.length > this.cap) await this.flush();
      this.addPart(part);
    }
  }

  private addPart(b: ReadColumns): void {
    this.accepted += b.length;
    const part = this.parts++;
    this.plate.parts.push(b.plate.values);
    this.camera.parts.push(b.camera.values);
    this.region.parts.push(b.region.values);
    this.make.parts.push(b.make.values);
    this.color.parts.push(b.color.values);
    this.readId.parts.push(b.readId.values);
    const hasIds = b.readId.values.length > 0;
    for (let i = 0; i < b.length; i++) {
      let rid = -1;
      if (hasIds) {
        const k = b.readId.ids[i]!;
        if (k >= 0) {
          // the first row carrying a readId is stored; later ones (in the tenant, the load, the batch) are not
          const id = b.readId.values[k]!;
          if (this.store.hasReadId(id) || this.loadedIds.has(id)) {
            this.duplicates++;
            continue;
          }
          rid = k;
          this.loadedIds.set(id, this.nextSeq);
        }
      }
      const r = this.n++;
      this.nextSeq++;
      this.ts[r] = b.ts[i]!;
      this.lat[r] = b.latE7[i]!;
      this.lon[r] = b.lonE7[i]!;
      this.conf[r] = b.confidence[i]!;
      this.part[r] = part;
      this.plate.codes[r] = b.plate.ids[i]!;
      this.camera.codes[r] = b.camera.ids[i]!;
      this.region.codes[r] = b.region.ids[i]!;
      this.make.codes[r] = b.make.ids[i]!;
      this.color.codes[r] = b.color.ids[i]!;
      this.readId.codes[r] = rid;
    }
  }

  /** Cuts the held rows into day shards (≤ kShardRowsCap rows each) and puts them. */
  private async flush(): Promise<void> {
    const n = this.n;
    if (n === 0) return;
    // rows of each day, in seq order: one counting pass
    const dayOfRow = new Int32Array(n);
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const d = dayOf(this.ts[i]!);
      dayOfRow[i] = d;
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    const days = [...counts.keys()].sort((a, b) => a - b);
    const rowsOf = new Map<number, { rows: Uint32Array; fill: number }>(days.map((d) => [d, { rows: new Uint32Array(counts.get(d)!), fill: 0 }]));
    for (let i = 0; i < n; i++) {
      const slot = rowsOf.get(dayOfRow[i]!)!;
      slot.rows[slot.fill++] = i;
    }
    const objects = this.store.shardObjects;
    for (const day of days) {
      const all = rowsOf.get(day)!.rows;
      for (let s = 0; s < all.length; s += kShardRowsCap) {
        const rows = all.subarray(s, Math.min(all.length, s + kShardRowsCap));
        const name = shardFileName(day, this.nextGen++);
        const { bytes, meta } = buildShard(this.store.tenant, this.store.ordinal, day, this.source(rows));
        const key = await this.store.keys.newKey(dayEpoch(this.store.tenant, day));
        this.entries.push(await putSealedShard(objects, name, day, bytes, meta, key, this.store.keys.cipher));
      }
      rowsOf.delete(day); // its index goes as soon as its shards are out
    }
    this.baseSeq += n;
    this.n = 0;
    for (const d of [this.plate, this.camera, this.region, this.make, this.color, this.readId]) d.reset();
    this.parts = 0;
  }

  /** Accumulator rows `rows` (ascending, so seq order) as a shard source. */
  private source(rows: Uint32Array): ShardSource {
    const base = this.baseSeq;
    const ts = this.ts, lat = this.lat, lon = this.lon, conf = this.conf;
    const plate = this.plate, camera = this.camera, region = this.region, make = this.make, color = this.color, readId = this.readId;
    return {
      length: rows.length,
      seq: (i) => base + rows[i]!,
      ts: (i) => ts[rows[i]!]!,
      latE7: (i) => lat[rows[i]!]!,
      lonE7: (i) => lon[rows[i]!]!,
      plate: (i) => plate.value(rows[i]!)!,
      camera: (i) => camera.value(rows[i]!)!,
      region: (i) => region.value(rows[i]!),
      confidence: (i) => {
        const c = conf[rows[i]!]!;
        return Number.isNaN(c) ? undefined : c;
      },
      make: (i) => make.value(rows[i]!),
      color: (i) => color.value(rows[i]!),
      readId: (i) => readId.value(rows[i]!),
    };
  }

  /** Writes what is held and commits every shard of the load in one manifest write. Durable when it resolves. */
  async finish(): Promise<BulkLoadOutcome> {
    if (this.done) throw new Error('bulk load already finished');
    await this.flush();
    this.done = true;
    const endSeq = this.nextSeq;
    await this.store.commitBulkLoad(this.entries, endSeq, this.nextGen, this.loadedIds);
    await this.onCommit?.(this.entries);
    return { accepted: this.accepted, stored: this.accepted - this.duplicates, duplicates: this.duplicates, shards: this.entries.length };
  }

  /** Gives up: deletes the shard objects put so far (the next open would too) and lets appends in again. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.store.shardObjects.delete(this.entries.map((e) => e.file));
    } finally {
      this.store.endBulkLoad();
    }
  }
}


/** Rows [from, to) of a batch (views; the dictionaries are shared). */
function sliceColumns(b: ReadColumns, from: number, to: number): ReadColumns {
  const col = (c: ReadColumns['plate']) => ({ ids: c.ids.subarray(from, to), values: c.values });
  return {
    length: to - from, ts: b.ts.subarray(from, to), latE7: b.latE7.subarray(from, to), lonE7: b.lonE7.subarray(from, to),
    confidence: b.confidence.subarray(from, to), plate: col(b.plate), camera: col(b.camera), region: col(b.region),
    make: col(b.make), color: col(b.color), readId: col(b.readId),
  };
}
