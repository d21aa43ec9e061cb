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
 * Memory: the accumulator (56 B a row: seq, ts, conf and the plate key f64; lat, lon and four label codes i32;
 * plus the read ids held) and, while a flush builds a shard, that shard's transient buffers, plus the sealed
 * bytes of the one shard whose put is still in flight (puts run one at a time, behind the parsing and the
 * next shard's build): bounded by `flushRows`, not by the input. No string per row: plates are numbers (src/store/plate-key.ts), labels
 * codes of the load's label tables, and a shard is coded straight from these lanes (`coded`).
 *
 * Outcome, as `TenantStore.append` gives it: rows get consecutive seqs in input order; a read whose readId
 * the tenant already holds, or that an earlier row of the load had, is counted as accepted and stored
 * once (the first copy).
 */
import { dayOf, kMaxShardRows, shardFileName, sortOrder, writeShardFile, type CodedDict, type CodedRows, type ShardSource } from './shard-format.js';
import { plateOfKey, writePlateSlot } from './plate-key.js';
import { kPlateSlotBytes } from '../core/segment.js';
import { putSealedShard, kShardRowsCap } from './shard-writer.js';
import { dayEpoch } from '../crypto/key-names.js';
import type { ShardEntry } from './manifest.js';
import type { ReadColumns } from './read-columns.js';
import type { TenantStore } from './tenant-store.js';

/** Rows held before a flush: about a busy day of one tenant; ≈ 120 MB of accumulator at most. */
export const kBulkFlushRows = 1 << 21;
/**
 * Rows of finished days that start an early flush: input in time order writes each day's shards soon after
 * the day ends, so the shard builds on this thread overlap with the parse workers instead of all coming at
 * the end (the day still being added stays held, so a day does not become two shards).
 */
export const kBulkEarlyRows = 1 << 18;

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
 * One label field (camera, region, make, color) over the whole load: string ↔ code, code 0 = none for the
 * optional ones. A batch's few distinct values are coded once each (`codesOf`); rows then carry codes.
 */
class LoadLabels {
  readonly values: string[];
  private readonly codes = new Map<string, number>();
  constructor(readonly optional: boolean) {
    this.values = optional ? [''] : [];
  }

  /** Load codes of a batch's values (index = the batch's id). */
  codesOf(batchValues: readonly string[]): Int32Array {
    const out = new Int32Array(batchValues.length);
    for (let k = 0; k < batchValues.length; k++) {
      const v = batchValues[k]!;
      let c = this.codes.get(v);
      if (c === undefined) {
        c = this.values.length;
        this.values.push(v);
        this.codes.set(v, c);
      }
      out[k] = c;
    }
    return out;
  }

  /**
   * The shard dictionary of the codes `rowCodes` (one a row, in shard order): the values used, sorted (as
   * encodeDictValues sorts them; optional: "" first), and each row's index into it.
   */
  coded(rowCodes: Int32Array): CodedDict {
    const n = rowCodes.length;
    const used = new Uint8Array(this.values.length);
    let nulls = 0;
    for (let i = 0; i < n; i++) used[rowCodes[i]!] = 1;
    const base = this.optional ? 1 : 0;
    const list: number[] = [];
    for (let c = base; c < used.length; c++) if (used[c]) list.push(c);
    const vals = this.values;
    list.sort((x, y) => (vals[x]! < vals[y]! ? -1 : vals[x]! > vals[y]! ? 1 : 0));
    const remap = new Int32Array(this.values.length);
    list.forEach((c, rank) => (remap[c] = rank + base));
    const indices = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rowCodes[i]!;
      indices[i] = remap[c]!;
      if (c === 0 && this.optional) nulls++;
    }
    const sorted = list.map((c) => vals[c]!);
    return { values: this.optional ? ['', ...sorted] : sorted, indices, nulls };
  }
}

export class BulkLoad {
  private readonly cap: number;
  private n = 0;
  private readonly ts: Float64Array;
  private readonly lat: Int32Array;
  private readonly lon: Int32Array;
  private readonly conf: Float64Array;
  /** Plate keys (src/store/plate-key.ts). */
  private readonly plate: Float64Array;
  private readonly camera: Int32Array;
  private readonly region: Int32Array;
  private readonly make: Int32Array;
  private readonly color: Int32Array;
  private readonly cameras = new LoadLabels(false);
  private readonly regions = new LoadLabels(true);
  private readonly makes = new LoadLabels(true);
  private readonly colors = new LoadLabels(true);
  /** Client read ids of the rows held (rare), by accumulator row. */
  private readIds = new Map<number, string>();
  /** Each row's seq (rows kept across an early flush move to the front, so seqs are not row + base). */
  private readonly seq: Float64Array;
  /** Rows held that an early flush kept (the day then being added). */
  private kept = 0;
  private readonly earlyRows: number;
  private nextSeq: number;
  private nextGen: number;
  private readonly entries: ShardEntry[] = [];
  /** The shard put in flight (resolved when none): awaited before the next put and before the commit. */
  private putting: Promise<void> = Promise.resolve();
  /** Names of every shard put started, finished or not (an abort deletes them all). */
  private readonly started: string[] = [];
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
    this.plate = new Float64Array(this.cap);
    this.camera = new Int32Array(this.cap);
    this.region = new Int32Array(this.cap);
    this.make = new Int32Array(this.cap);
    this.color = new Int32Array(this.cap);
    this.seq = new Float64Array(this.cap);
    this.earlyRows = Math.min(kBulkEarlyRows, this.cap >>> 1);
    this.nextSeq = firstSeq;
    this.nextGen = firstGen;
  }

  /** Adds a batch of validated reads (in input order); flushes shards as the accumulator fills. */
  async add(b: ReadColumns): Promise<void> {
    if (this.done) throw new Error('bulk load already finished');
    for (let from = 0; from < b.length; from += this.cap) {
      const part = from === 0 && b.length <= this.cap ? b : sliceColumns(b, from, Math.min(b.length, from + this.cap));
      if (this.n + part.length > this.cap) await this.flush();
      this.addPart(part);
      if (this.n - this.kept >= this.earlyRows) await this.flush(dayOf(this.ts[this.n - 1]!));
    }
  }

  private addPart(b: ReadColumns): void {
    this.accepted += b.length;
    const cameraCodes = this.cameras.codesOf(b.camera.values);
    const regionCodes = this.regions.codesOf(b.region.values);
    const makeCodes = this.makes.codesOf(b.make.values);
    const colorCodes = this.colors.codesOf(b.color.values);
    const hasIds = b.readId.values.length > 0;
    let r = this.n;
    if (!hasIds && r + b.length <= this.cap) {
      // no read ids: every row is stored, the lanes copied whole
      this.ts.set(b.ts, r);
      this.lat.set(b.latE7, r);
      this.lon.set(b.lonE7, r);
      this.conf.set(b.confidence, r);
      this.plate.set(b.plate, r);
      const cam = b.camera.ids, reg = b.region.ids, mk = b.make.ids, col = b.color.ids;
      for (let i = 0; i < b.length; i++, r++) {
        this.seq[r] = this.nextSeq + i;
        this.camera[r] = cameraCodes[cam[i]!]!;
        const g = reg[i]!, m = mk[i]!, c = col[i]!;
        this.region[r] = g < 0 ? 0 : regionCodes[g]!;
        this.make[r] = m < 0 ? 0 : makeCodes[m]!;
        this.color[r] = c < 0 ? 0 : colorCodes[c]!;
      }
      this.n = r;
      this.nextSeq += b.length;
      return;
    }
    for (let i = 0; i < b.length; i++) {
      let rid: string | undefined;
      if (hasIds) {
        const k = b.readId.ids[i]!;
        if (k >= 0) {
          // the first row carrying a readId is stored; later ones (in the tenant, the load, the batch) are not
          const id = b.readId.values[k]!;
          if (this.store.hasReadId(id) || this.loadedIds.has(id)) {
            this.duplicates++;
            continue;
          }
          rid = id;
          this.loadedIds.set(id, this.nextSeq);
        }
      }
      r = this.n++;
      this.seq[r] = this.nextSeq++;
      this.ts[r] = b.ts[i]!;
      this.lat[r] = b.latE7[i]!;
      this.lon[r] = b.lonE7[i]!;
      this.conf[r] = b.confidence[i]!;
      this.plate[r] = b.plate[i]!;
      this.camera[r] = cameraCodes[b.camera.ids[i]!]!;
      const g = b.region.ids[i]!, m = b.make.ids[i]!, c = b.color.ids[i]!;
      this.region[r] = g < 0 ? 0 : regionCodes[g]!;
      this.make[r] = m < 0 ? 0 : makeCodes[m]!;
      this.color[r] = c < 0 ? 0 : colorCodes[c]!;
      if (rid !== undefined) this.readIds.set(r, rid);
    }
  }

  /**
   * Cuts the held rows into day shards (≤ kShardRowsCap rows each) and puts them; with `keepDay`, the rows of
   * that day stay held (moved to the front, in order) for a later flush.
   */
  private async flush(keepDay?: number): Promise<void> {
    const n = this.n;
    if (n === 0) return;
    // rows of each day, in seq order: one counting pass
    const dayOfRow = new Int32Array(n);
    const counts = new Map<number, number>();
    // rows come mostly in time order: count runs of one day, one map update a run
    let runDay = NaN, run = 0;
    for (let i = 0; i < n; i++) {
      const d = dayOf(this.ts[i]!);
      dayOfRow[i] = d;
      if (d === runDay) {
        run++;
        continue;
      }
      if (run > 0) counts.set(runDay, (counts.get(runDay) ?? 0) + run);
      runDay = d;
      run = 1;
    }
    if (run > 0) counts.set(runDay, (counts.get(runDay) ?? 0) + run);
    const days = [...counts.keys()].sort((a, b) => a - b);
    if (days.length === 1 && days[0] === keepDay) {
      this.kept = n; // nothing but the day being added: nothing to write yet
      return;
    }
    const rowsOf = new Map<number, { rows: Uint32Array; fill: number }>(days.map((d) => [d, { rows: new Uint32Array(counts.get(d)!), fill: 0 }]));
    let slot = rowsOf.get(dayOfRow[0]!)!;
    for (let i = 0; i < n; i++) {
      if (dayOfRow[i] !== dayOfRow[i - 1]) slot = rowsOf.get(dayOfRow[i]!)!;
      slot.rows[slot.fill++] = i;
    }
    const objects = this.store.shardObjects;
    for (const day of days) {
      if (day === keepDay) continue;
      const all = rowsOf.get(day)!.rows;
      for (let s = 0; s < all.length; s += kShardRowsCap) {
        const rows = all.subarray(s, Math.min(all.length, s + kShardRowsCap));
        const name = shardFileName(day, this.nextGen++);
        const { bytes, meta } = writeShardFile(this.store.tenant, this.store.ordinal, day, this.coded(rows));
        const key = await this.store.keys.newKey(dayEpoch(this.store.tenant, day));
        // one put in flight at a time, not awaited here: while it writes and syncs, the pipeline goes on
        // parsing and the next shard is built; its sealed bytes are the one shard held beyond the accumulator
        await this.putting;
        this.started.push(name);
        const put = putSealedShard(objects, name, day, bytes, meta, key, this.store.keys.cipher).then((entry) => void this.entries.push(entry));
        put.catch(() => undefined); // a failure is thrown by the next await of `putting`, not reported as unhandled
        this.putting = put;
      }
      rowsOf.delete(day); // its index goes as soon as its shards are out
    }
    const keep = keepDay === undefined ? undefined : rowsOf.get(keepDay)?.rows;
    const readIds = this.readIds;
    this.readIds = new Map();
    this.n = this.kept = 0;
    if (!keep) return;
    // ascending rows moved down in order: a row's new place is never above its old one
    for (const lane of [this.ts, this.seq, this.conf, this.plate]) moveDownF64(lane, keep);
    for (const lane of [this.lat, this.lon, this.camera, this.region, this.make, this.color]) moveDownI32(lane, keep);
    if (readIds.size > 0) {
      for (let j = 0; j < keep.length; j++) {
        const id = readIds.get(keep[j]!);
        if (id !== undefined) this.readIds.set(j, id);
      }
    }
    this.n = this.kept = keep.length;
  }

  /**
   * Accumulator rows `rows` (ascending, so seq order) in shard order with every dictionary coded, straight
   * from the lanes: plates sorted and deduped as numbers, labels by their load codes; no string per row.
   */
  private coded(rows: Uint32Array): CodedRows {
    const n = rows.length;
    const order = sortOrder(this.source(rows));
    // accumulator row of each shard row, then one lane at a time: a gather of one lane keeps its cache lines
    // and pages warm, where ten lanes a row miss in each of them (the rows of a day span the accumulator)
    const at = new Int32Array(n);
    for (let i = 0; i < n; i++) at[i] = rows[order[i]!]!;
    const ts = gatherF64(this.ts, at), seq = gatherF64(this.seq, at), conf = gatherF64(this.conf, at), keys = gatherF64(this.plate, at);
    const lat = gatherI32(this.lat, at), lon = gatherI32(this.lon, at);
    const camera = gatherI32(this.camera, at), region = gatherI32(this.region, at), make = gatherI32(this.make, at), color = gatherI32(this.color, at);
    // without read ids the writer reads past the end of an empty list (undefined: none)
    const readId: (string | undefined)[] = [];
    if (this.readIds.size > 0) for (let i = 0; i < n; i++) readId.push(this.readIds.get(at[i]!));
    const { plate, dict, m } = codePlates(keys);
    const writeSlots = (slots: Uint8Array) => {
      for (let d = 0; d < m; d++) writePlateSlot(dict[d]!, slots, d * kPlateSlotBytes);
    };
    return {
      ts, seq, lat, lon, conf, readId, plate, plateCount: m, writeSlots,
      camera: this.cameras.coded(camera), region: this.regions.coded(region), make: this.makes.coded(make), color: this.colors.coded(color),
    };
  }

  /** Accumulator rows `rows` (ascending, so seq order) as a shard source (the row order is computed from it). */
  private source(rows: Uint32Array): ShardSource {
    const seqs = this.seq;
    const ts = this.ts, lat = this.lat, lon = this.lon, conf = this.conf, plate = this.plate;
    const label = (l: LoadLabels, codes: Int32Array) => (i: number) => (l.optional && codes[rows[i]!] === 0 ? undefined : l.values[codes[rows[i]!]!]);
    return {
      length: rows.length,
      seq: (i) => seqs[rows[i]!]!,
      ts: (i) => ts[rows[i]!]!,
      latE7: (i) => lat[rows[i]!]!,
      lonE7: (i) => lon[rows[i]!]!,
      plate: (i) => plateOfKey(plate[rows[i]!]!),
      camera: label(this.cameras, this.camera) as (i: number) => string,
      region: label(this.regions, this.region),
      confidence: (i) => {
        const c = conf[rows[i]!]!;
        return Number.isNaN(c) ? undefined : c;
      },
      make: label(this.makes, this.make),
      color: label(this.colors, this.color),
      readId: (i) => this.readIds.get(rows[i]!),
    };
  }

  /** Writes what is held and commits every shard of the load in one manifest write. Durable when it resolves. */
  async finish(): Promise<BulkLoadOutcome> {
    if (this.done) throw new Error('bulk load already finished');
    await this.flush();
    await this.putting;
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
      await this.putting.catch(() => undefined); // a put still writing would leave its file after the delete
      await this.store.shardObjects.delete(this.started);
    } finally {
      this.store.endBulkLoad();
    }
  }
}


// One function per array type: a loop over lanes of both types in one function makes its element reads
// polymorphic, several times slower than these.
function gatherF64(lane: Float64Array, at: Int32Array): Float64Array {
  const out = new Float64Array(at.length);
  for (let i = 0; i < at.length; i++) out[i] = lane[at[i]!]!;
  return out;
}

function gatherI32(lane: Int32Array, at: Int32Array): Int32Array {
  const out = new Int32Array(at.length);
  for (let i = 0; i < at.length; i++) out[i] = lane[at[i]!]!;
  return out;
}

/** lane[j] = lane[keep[j]] for ascending `keep` (in place: j ≤ keep[j]). */
function moveDownF64(lane: Float64Array, keep: Uint32Array): void {
  for (let j = 0; j < keep.length; j++) lane[j] = lane[keep[j]!]!;
}

function moveDownI32(lane: Int32Array, keep: Uint32Array): void {
  for (let j = 0; j < keep.length; j++) lane[j] = lane[keep[j]!]!;
}

/**
 * The sorted plate dictionary of a shard's plate keys, and each row's index into it: the distinct keys
 * found with an open-addressing hash table over the numbers (one probe or two a row), then only those
 * sorted (native Float64Array sort) and ranked. Numeric order of keys = string order of plates.
 */
export function codePlates(keys: Float64Array): { plate: Int32Array; dict: Float64Array; m: number } {
  const n = keys.length;
  const size = Math.max(16, 2 ** Math.ceil(Math.log2(2 * n + 1)));
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  const distinct = new Float64Array(n);
  const first = new Int32Array(n);
  let m = 0;
  const slotOf = (k: number): number => {
    // keys are integers below 2^53: their low and high 32 bits, mixed
    let h = Math.imul((k >>> 0) ^ Math.imul(Math.floor(k / 4294967296), 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & mask;
  };
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    for (let h = slotOf(k); ; h = (h + 1) & mask) {
      const d = table[h]!;
      if (d < 0) {
        table[h] = m;
        distinct[m] = k;
        first[i] = m++;
        break;
      }
      if (distinct[d] === k) {
        first[i] = d;
        break;
      }
    }
  }
  const dict = distinct.slice(0, m).sort();
  const rankOf = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const k = dict[j]!;
    let h = slotOf(k);
    while (distinct[table[h]!] !== k) h = (h + 1) & mask;
    rankOf[table[h]!] = j;
  }
  const plate = new Int32Array(n);
  for (let i = 0; i < n; i++) plate[i] = rankOf[first[i]!]!;
  return { plate, dict, m };
}

/** Rows [from, to) of a batch (views; the dictionaries are shared). */
function sliceColumns(b: ReadColumns, from: number, to: number): ReadColumns {
  const col = (c: ReadColumns['camera']) => ({ ids: c.ids.subarray(from, to), values: c.values });
  return {
    length: to - from, ts: b.ts.subarray(from, to), latE7: b.latE7.subarray(from, to), lonE7: b.lonE7.subarray(from, to),
    confidence: b.confidence.subarray(from, to), plate: b.plate.subarray(from, to), camera: col(b.camera), region: col(b.region),
    make: col(b.make), color: col(b.color), readId: col(b.readId),
  };
}
