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
 * plus the read ids held) and the one shard being built (its lanes copied out of the accumulator into buffers of
 * a lane pool, src/store/lane-pool.ts, moved back after each build and kept, as are the build's own big arrays and
 * the file and sealed buffers: sized by the biggest shard, not by the input; one build at a time, not awaited by the flush that starts it, so the parsing
 * goes on meanwhile), plus the sealed bytes of the one shard whose put is still in flight (puts run one at a
 * time, behind the parsing and the next shard's build): bounded by `flushRows`, not by the input. No string per row: plates are numbers (src/store/plate-key.ts), labels
 * codes of the load's label tables, and a shard is built straight from these lanes (src/store/bulk-build.ts), on
 * a build thread of its own once big enough (src/store/bulk-build-thread.ts).
 *
 * Outcome, as `TenantStore.append` gives it: rows get consecutive seqs in input order; a read whose readId
 * the tenant already holds, or that an earlier row of the load had, is counted as accepted and stored
 * once (the first copy).
 */
import { dayOf, kMaxShardRows, shardFileName } from './shard-format.js';
import { gatherF64, gatherI32, type BulkShardJob, type JobLabel } from './bulk-build.js';
import { BulkBuildThread } from './bulk-build-thread.js';
import { LanePool } from './lane-pool.js';
import { putSealedShard, kShardRowsCap } from './shard-writer.js';
import { dayEpoch } from '../crypto/key-names.js';
import type { ShardEntry } from './manifest.js';
import type { ReadColumns } from './read-columns.js';
import type { TenantStore } from './tenant-store.js';

/**
 * Rows held before a flush, so the most rows a bulk shard has (a busier day becomes several shards, as the
 * engine's seals of 1M live reads make them): ≈ 56 MiB of accumulator. The peak of a load follows the shard
 * size, not the accumulator alone: a build holds its job's lanes, spares, sort order, file and sealed bytes
 * (~400 B a row in all). At 2M rows a 20M load of 2.9M-read days peaked at 937 MiB, over the bound of
 * 1.25 × resident + 300 MiB (804 MiB for that load's dir); at 1M, 557 MiB, and no slower (bench/RESULTS.md
 * "Stop 35: the bulk load's peak").
 */
export const kBulkFlushRows = 1 << 20;
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

  /** A shard job's view of this field: a copy of the values so far (the job may go to another thread) and its rows' codes. */
  jobLabel(codes: Int32Array): JobLabel {
    return { values: this.values.slice(), optional: this.optional, codes };
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
  /** Rows held that an early flush kept (the day then being added: `keptDay`, NaN when none). */
  private kept = 0;
  private keptDay = NaN;
  private readonly earlyRows: number;
  private nextSeq: number;
  private nextGen: number;
  private readonly entries: ShardEntry[] = [];
  /** The shard build in flight, up to the start of its put (resolved when none): awaited before the next build. */
  private building: Promise<void> = Promise.resolve();
  private readonly builder: BulkBuildThread;
  /** Shard jobs' lane buffers (and an on-thread build's arrays), moved back after each build and reused. */
  private readonly lanes = new LanePool();
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
  constructor(private readonly store: TenantStore, firstSeq: number, firstGen: number, flushRows = kBulkFlushRows, offThreadRows?: number) {
    this.builder = new BulkBuildThread(offThreadRows);
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
      // a function of its own: addPart runs once a piece and was optimized on-stack in this loop, then that code
      // thrown away right after it, once a piece (11 deopts in a 2M load)
      this.codeRows(b, r, cameraCodes, regionCodes, makeCodes, colorCodes);
      this.n = r + b.length;
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

  /** Rows r.. get the batch's seqs and its labels' load codes (absent optional labels: 0). */
  private codeRows(b: ReadColumns, r: number, cameraCodes: Int32Array, regionCodes: Int32Array, makeCodes: Int32Array, colorCodes: Int32Array): void {
    const cam = b.camera.ids, reg = b.region.ids, mk = b.make.ids, col = b.color.ids;
    const { seq, camera, region, make, color } = this;
    const nextSeq = this.nextSeq;
    for (let i = 0; i < b.length; i++, r++) {
      seq[r] = nextSeq + i;
      camera[r] = cameraCodes[cam[i]!]!;
      const g = reg[i]!, m = mk[i]!, c = col[i]!;
      region[r] = g < 0 ? 0 : regionCodes[g]!;
      make[r] = m < 0 ? 0 : makeCodes[m]!;
      color[r] = c < 0 ? 0 : colorCodes[c]!;
    }
  }

  /**
   * Cuts the held rows into day shards (≤ kShardRowsCap rows each) and puts them; with `keepDay`, the rows of
   * that day stay held (moved to the front, in order) for a later flush.
   */
  private async flush(keepDay?: number): Promise<void> {
    const n = this.n;
    if (n === 0) return;
    if (keepDay !== undefined && keepDay === this.keptDay) {
      // the rows held before are all of keepDay: only the rows added since need a look (an early flush comes
      // every kBulkEarlyRows rows; scanning all held rows each time cost a busy day's rows several times over)
      let i = this.kept;
      while (i < n && dayOf(this.ts[i]!) === keepDay) i++;
      if (i === n) {
        this.kept = n;
        return;
      }
    }
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
      this.keptDay = keepDay;
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
        // one build in flight at a time, on the build thread (src/store/bulk-build-thread.ts), not awaited here:
        // while it runs, the pipeline goes on parsing; its lanes are the one shard held beyond the accumulator
        // (transferred, not copied), besides the sealed bytes of the put before it
        await this.building;
        const name = shardFileName(day, this.nextGen++);
        const built = this.builder.build(this.job(day, rows), this.lanes);
        const step = built.then(async ({ bytes, meta }) => {
          const key = await this.store.keys.newKey(dayEpoch(this.store.tenant, day));
          // one put in flight at a time: while it writes and syncs, the next shard is gathered and built
          await this.putting;
          this.started.push(name);
          // sealed into a buffer of the lane pool; the file's own buffer goes back to the builder once sealed,
          // before the next job is sent (else a third file buffer was held: one built, one put, one on its way back)
          const reuse = { lanes: this.lanes, sealed: () => this.builder.giveBack(bytes, this.lanes) };
          const put = putSealedShard(objects, name, day, bytes, meta, key, this.store.keys.cipher, reuse).then((entry) => void this.entries.push(entry));
          put.catch(() => undefined); // a failure is thrown by the next await of `putting`, not reported as unhandled
          this.putting = put;
        });
        step.catch(() => undefined); // likewise, by the next await of `building`
        this.building = step;
      }
      rowsOf.delete(day); // its index goes as soon as its shards are out
    }
    const keep = keepDay === undefined ? undefined : rowsOf.get(keepDay)?.rows;
    const readIds = this.readIds;
    this.readIds = new Map();
    this.n = this.kept = 0;
    this.keptDay = NaN;
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
    this.keptDay = keepDay!;
  }

  /**
   * Accumulator rows `rows` (ascending, so seq order) as a shard job of their own: each lane copied out one at
   * a time, labels with the load's values so far.
   */
  private job(day: number, rows: Uint32Array): BulkShardJob {
    const n = rows.length;
    const readId: (string | undefined)[] = [];
    if (this.readIds.size > 0) for (let i = 0; i < n; i++) readId.push(this.readIds.get(rows[i]!));
    // input in time order holds a day's rows as one run: then each lane is one slice (a copy of memory), not a gather
    const from = n > 0 ? rows[0]! : 0;
    const run = n > 0 && rows[n - 1]! - from === n - 1;
    // into buffers of the lane pool (src/store/lane-pool.ts), which the build gives back: a fresh copy a shard
    // faulted its pages in every time (~56 B a row)
    const pool = this.lanes;
    pool.sweep(); // what the last shard did not use goes
    const f64 = (lane: Float64Array) => (run ? copyF64(lane.subarray(from, from + n), pool.f64(n)) : gatherF64(lane, rows, pool.f64(n)));
    const i32 = (lane: Int32Array) => (run ? copyI32(lane.subarray(from, from + n), pool.i32(n)) : gatherI32(lane, rows, pool.i32(n)));
    return {
      tenant: this.store.tenant, ordinal: this.store.ordinal, day,
      ts: f64(this.ts), seq: f64(this.seq), conf: f64(this.conf), plate: f64(this.plate),
      lat: i32(this.lat), lon: i32(this.lon),
      camera: this.cameras.jobLabel(i32(this.camera)), region: this.regions.jobLabel(i32(this.region)),
      make: this.makes.jobLabel(i32(this.make)), color: this.colors.jobLabel(i32(this.color)),
      readId,
    };
  }

  /** Writes what is held and commits every shard of the load in one manifest write. Durable when it resolves. */
  async finish(): Promise<BulkLoadOutcome> {
    if (this.done) throw new Error('bulk load already finished');
    try {
      await this.flush();
      await this.building;
      await this.putting;
    } finally {
      void this.builder.close();
    }
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
      // a build still running starts its put when done; a put still writing would leave its file after the delete
      await this.building.catch(() => undefined);
      await this.putting.catch(() => undefined);
      void this.builder.close();
      await this.store.shardObjects.delete(this.started);
    } finally {
      this.store.endBulkLoad();
    }
  }
}


function copyF64(from: Float64Array, to: Float64Array): Float64Array {
  to.set(from);
  return to;
}

function copyI32(from: Int32Array, to: Int32Array): Int32Array {
  to.set(from);
  return to;
}

/** lane[j] = lane[keep[j]] for ascending `keep` (in place: j ≤ keep[j]). */
function moveDownF64(lane: Float64Array, keep: Uint32Array): void {
  for (let j = 0; j < keep.length; j++) lane[j] = lane[keep[j]!]!;
}

function moveDownI32(lane: Int32Array, keep: Uint32Array): void {
  for (let j = 0; j < keep.length; j++) lane[j] = lane[keep[j]!]!;
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
