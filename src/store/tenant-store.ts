/**
 * One tenant's storage: its manifest, its write-ahead log, its live (not yet sealed) rows and its
 * readId set. Layout under the data dir:
 *
 *   D/tenants/<tenant>/manifest.json        catalogue + counters (src/store/manifest.ts)
 *   D/tenants/<tenant>/wal/<gen>.wal        write-ahead log files (src/store/wal.ts)
 *   D/tenants/<tenant>/shards/<file>.shard  sealed shards (src/store/shard-format.ts), as objects of the
 *                                           tenant's shard object store (src/store/local-object-store.ts)
 *
 * Appends are durable (fsync'd, group commit) before they resolve, and visible from that moment on.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { StoredRead } from '../model/read.js';
import { kCoordScale } from '../core/segment.js';
import { CorruptFile, StorageUnavailable } from '../errors.js';
import { readIdOf } from './ids.js';
import { readManifest, writeManifest, type ShardEntry, type TenantManifest } from './manifest.js';
import { BulkLoad } from './bulk-load.js';
import { forEachWalPayload, recoverWal, walGeneration, WalWriter, kWalPlainVersion } from './wal.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { dayOf } from './shard-format.js';
import { decodeRecordInto, encodeRewriteRecord, type ColumnsSink, type RowRecord, type RowSink } from './wal-record.js';
import { encodeColumnsRecord } from './wal-record-columns.js';
import { SealRows } from './seal-rows.js';
import type { ReadColumns } from './read-columns.js';
import { plateOfKey } from './plate-key.js';
import { unlinkDurable, ensureDir, writeFileAtomic } from './durable-fs.js';
import type { LoadedShard } from './shard-loader.js';
import type { ArenaSet } from '../core/arena.js';
import { LiveRows, type LiveView } from './live-columns.js';
import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';

/** The acknowledgement mark of a tenant (see TenantStore.writeAckMark). */
const kAckMarkFile = 'ack-mark.json';
/** Rows per WAL record when the live log is rewritten from the columns. */
const kRewriteBatch = 16384;

export { toE7 } from './read-columns.js';

/** What appending a batch of columns did (TenantStore.appendColumns). */
export interface ColumnsAppendResult {
  /** The rows of the batch now stored, in order; row rows[k] got seq firstSeq + k. */
  rows: Int32Array;
  firstSeq: number;
  /** Rows of the batch skipped because their readId was already stored (idempotent retry). */
  duplicates: number[];
  /** For each of `duplicates`, the id of the stored read it repeats ('' if none). */
  duplicateIds: string[];
}

/** Row `i` of a batch of columns as the API returns it, stored under `id`. */
export function columnsRowToStoredRead(tenant: string, id: string, c: ReadColumns, i: number): StoredRead {
  const out: StoredRead = {
    id, tenant, plate: plateOfKey(c.plate[i]!), ts: c.ts[i]!, lat: c.latE7[i]! / kCoordScale, lon: c.lonE7[i]! / kCoordScale,
    camera: c.camera.values[c.camera.ids[i]!]!,
  };
  const label = (col: ReadColumns['region']) => (col.ids[i]! < 0 ? undefined : col.values[col.ids[i]!]);
  const region = label(c.region);
  if (region !== undefined) out.region = region;
  if (!Number.isNaN(c.confidence[i]!)) out.confidence = c.confidence[i]!;
  const make = label(c.make);
  if (make !== undefined) out.make = make;
  const color = label(c.color);
  if (color !== undefined) out.color = color;
  const readId = label(c.readId);
  if (readId !== undefined) out.readId = readId;
  return out;
}

/** Rows grouped by UTC day, days in order of first appearance, rows in their order. */
function rowsByDay(rows: readonly RowRecord[]): Map<number, RowRecord[]> {
  const byDay = new Map<number, RowRecord[]>();
  for (const r of rows) {
    const d = dayOf(r.ts);
    let list = byDay.get(d);
    if (!list) byDay.set(d, (list = []));
    list.push(r);
  }
  return byDay;
}

export class TenantStore {
  readonly tenant: string;
  readonly dir: string;
  manifest: TenantManifest;
  /**
   * Where the tenant's sealed shards live, by key (the manifest entry's `file`). The only place that
   * decides it is a local directory; everything else goes through the interface.
   */
  readonly shardObjects: ObjectStore;
  /** The live rows, columnar in arena memory (src/store/live-columns.ts). */
  readonly live: LiveRows;
  /** Loaded shards, replaced (never mutated) on seal and retention so searches can hold a list. */
  shards: readonly LoadedShard[] = [];
  /** When the oldest live row arrived (ms), 0 if none: drives sealing by age. */
  liveSince = 0;
  /** When the last read was appended (acknowledged), or the store opened (ms): drives the idle seal. */
  lastAppendAt = Date.now();
  /** Corrupt or unreadable files found while opening, by path. */
  readonly corruptFiles: string[] = [];
  /** The coded errors behind `corruptFiles` (each names its file). */
  readonly corruptErrors: Error[] = [];

  private wal!: WalWriter;
  /** WAL generations on disk, oldest first (the last one is the open one). */
  private walGens: number[] = [];
  /** Generations that could not be read: never deleted by us, kept for inspection. */
  private badWalGens = new Set<number>();
  /** readId → seq of the stored read: a retry is told which read it repeats. */
  private readIds = new Map<string, number>();
  /** readIds of rows queued but not yet durable: a retry waits for the first copy's fsync. */
  private pendingReadIds = new Map<string, Promise<void>>();
  private nextSeq: number;
  /** Highest seq acknowledged (durable in the WAL), and the highest written to the acknowledgement mark. */
  private ackedSeq = 0;
  private markedSeq = 0;
  private marking: Promise<void> = Promise.resolve();
  /** Serialises seal / drop / close on this tenant. */
  private exclusive: Promise<unknown> = Promise.resolve();

  /** Shard files found shredded at open (an older copy of the data dir): left out, not reported as damage. */
  readonly shreddedFiles: string[] = [];
  /** WAL blocks found shredded at open (their day key destroyed): gone by design, not damage. */
  shreddedBlocks = 0;
  /** WAL generations written before encryption (plaintext): the migration seals them away. */
  readonly plainWalGens = new Set<number>();

  private constructor(tenant: string, dir: string, manifest: TenantManifest, readonly keys: DataKeys, arenas: ArenaSet) {
    this.tenant = tenant;
    this.live = new LiveRows(arenas);
    this.dir = dir;
    this.manifest = manifest;
    this.shardObjects = new LocalObjectStore(path.join(dir, 'shards'));
    this.nextSeq = manifest.nextSeq;
  }

  get ordinal(): number {
    return this.manifest.ordinal;
  }

  get walDir(): string {
    return path.join(this.dir, 'wal');
  }

  /** Creates a new tenant durably (manifest first: a tenant dir without one holds nothing acknowledged). */
  static async create(tenantsDir: string, tenant: string, ordinal: number, keys: DataKeys, arenas: ArenaSet): Promise<TenantStore> {
    const dir = path.join(tenantsDir, tenant);
    await ensureDir(dir);
    const manifest: TenantManifest = { tenant, ordinal, nextSeq: 1, sealedSeq: 1, shards: [] };
    await writeManifest(dir, manifest);
    const store = new TenantStore(tenant, dir, manifest, keys, arenas);
    store.wal = await WalWriter.create(store.walDir, 1, { keys, tenant });
    store.walGens = [1];
    return store;
  }

  /** Opens an existing tenant: reads its manifest, replays its WAL (truncating a torn tail). */
  static async open(tenantsDir: string, tenant: string, keys: DataKeys, arenas: ArenaSet): Promise<TenantStore | undefined> {
    const dir = path.join(tenantsDir, tenant);
    const manifest = await readManifest(dir);
    if (!manifest) return undefined;
    if (manifest.tenant !== tenant) throw CorruptFile(`Manifest names tenant ${manifest.tenant}: ${path.join(dir, 'manifest.json')}`);
    const store = new TenantStore(tenant, dir, manifest, keys, arenas);
    await store.replay();
    return store;
  }

  private async replay(): Promise<void> {
    await ensureDir(this.walDir);
    const names = (await readdir(this.walDir)).filter((n) => walGeneration(n) !== undefined).sort();
    // rows gathered as columns, one per seq (the copy read last wins: a rewrite may repeat rows of an older file)
    const gathered = new SealRows();
    const sealedSeq = this.manifest.sealedSeq;
    const fromRow: RowSink = (seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, readId) => {
      if (seq >= this.nextSeq) this.nextSeq = seq + 1;
      if (seq >= sealedSeq) gathered.add(seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, readId); // else already in a shard
    };
    const fromColumns: ColumnsSink = (w) => {
      let last = -Infinity;
      if (w.seqs) for (const seq of w.seqs) last = Math.max(last, seq);
      else if (w.columns.length > 0) last = w.firstSeq + w.columns.length - 1;
      if (last >= this.nextSeq) this.nextSeq = last + 1;
      gathered.addColumns(w, sealedSeq, Infinity);
    };
    let maxGen = 0;
    for (const name of names) {
      const gen = walGeneration(name)!;
      maxGen = Math.max(maxGen, gen);
      this.walGens.push(gen);
      const file = path.join(this.walDir, name);
      const scan = await recoverWal(file);
      if (scan.badHeader || scan.corruptAt.length > 0) {
        this.corruptFiles.push(file);
        this.badWalGens.add(gen);
      }
      if (scan.version === kWalPlainVersion) this.plainWalGens.add(gen);
      // each block decoded as it is opened: no second copy of the log's plaintext
      const opened = await forEachWalPayload(scan, (ref) => this.keys.openKey(ref), this.keys.cipher, (payload) => {
        try {
          decodeRecordInto(file, payload, fromRow, fromColumns);
        } catch {
          // thrown before any of the record's rows reached the columns
          if (!this.corruptFiles.includes(file)) this.corruptFiles.push(file);
          this.badWalGens.add(gen);
        }
      });
      this.shreddedBlocks += opened.shredded;
      if (opened.corrupt.length > 0) {
        if (!this.corruptFiles.includes(file)) this.corruptFiles.push(file);
        this.corruptErrors.push(CorruptFile(opened.corrupt[0]!, { file }));
        this.badWalGens.add(gen);
      }
    }
    await this.checkAckMark();
    const rows = gathered.inSeqOrder();
    this.live.replace(rows);
    if (rows.length > 0) this.liveSince = Date.now();
    for (let i = 0; i < rows.length; i++) {
      const id = rows.readId(i);
      if (id !== undefined) this.readIds.set(id, rows.seq(i));
    }
    // new appends always go to a fresh file: recovered files are only read, then deleted once sealed
    const gen = maxGen + 1;
    this.wal = await WalWriter.create(this.walDir, gen, { keys: this.keys, tenant: this.tenant });
    this.walGens.push(gen);
  }

  /** readIds of sealed rows, with their seqs (the shard loader registers them). */
  addKnownReadIds(ids: Iterable<[readId: string, seq: number]>): void {
    for (const [id, seq] of ids) this.readIds.set(id, seq);
  }

  /** Set while a bulk load (src/store/bulk-load.ts) owns the tenant's seqs. */
  private bulkActive = false;

  /** Whether the tenant holds a read with this readId (live or sealed). */
  hasReadId(id: string): boolean {
    return this.readIds.has(id);
  }

  /**
   * Starts a bulk load: the caller has sealed the live rows (none may be left, so every WAL row is below the
   * sealedSeq the load commits); appends are refused until commitBulkLoad or endBulkLoad.
   */
  beginBulkLoad(flushRows?: number, offThreadRows?: number): BulkLoad {
    if (this.bulkActive) throw StorageUnavailable(`A bulk load of tenant ${this.tenant} is already running`);
    if (this.live.length > 0) throw new Error(`bulk load of ${this.tenant}: live rows must be sealed first`);
    this.bulkActive = true;
    return new BulkLoad(this, this.nextSeq, this.manifest.nextShardGen ?? 1, flushRows, offThreadRows);
  }

  /** The commit point of a bulk load: one manifest write naming its shards and moving both seq counters past it. */
  async commitBulkLoad(entries: readonly ShardEntry[], endSeq: number, nextShardGen: number, readIds: ReadonlyMap<string, number>): Promise<void> {
    try {
      await this.withExclusive(async () => {
        if (this.live.length > 0 || this.nextSeq > endSeq) throw new Error(`bulk load of ${this.tenant}: the tenant changed under it`);
        const next: TenantManifest = {
          ...this.manifest, shards: [...this.manifest.shards, ...entries], nextShardGen, nextSeq: endSeq, sealedSeq: endSeq,
        };
        await writeManifest(this.dir, next);
        this.manifest = next;
        this.nextSeq = endSeq;
        this.ackedSeq = Math.max(this.ackedSeq, endSeq - 1);
        this.addKnownReadIds(readIds);
      });
    } finally {
      this.bulkActive = false;
    }
  }

  /** Ends a bulk load that did not commit. */
  endBulkLoad(): void {
    this.bulkActive = false;
  }

  /**
   * appendColumns: a batch of validated reads as columns (the HTTP ingest's parse, or the library's
   * `append` through readColumnsOf): readId retries, one WAL record per UTC day, durable before it resolves,
   * rows visible in seq order right after the fsync, and no object per read: the WAL records are encoded
   * from the columns and the live rows pushed from them.
   */
  async appendColumns(c: ReadColumns): Promise<ColumnsAppendResult> {
    if (this.bulkActive) throw StorageUnavailable(`Tenant ${this.tenant} is being bulk loaded`);
    const duplicates: number[] = [];
    const waitFor: Promise<void>[] = [];
    const batchIds = new Set<string>();
    let rows: Int32Array;
    if (c.readId.values.length === 0) {
      rows = new Int32Array(c.length);
      for (let i = 0; i < rows.length; i++) rows[i] = i;
    } else {
      const kept: number[] = [];
      for (let i = 0; i < c.length; i++) {
        const rid = c.readId.ids[i]!;
        const id = rid < 0 ? undefined : c.readId.values[rid]!;
        if (id !== undefined) {
          if (this.readIds.has(id) || batchIds.has(id)) {
            duplicates.push(i);
            continue;
          }
          const pending = this.pendingReadIds.get(id);
          if (pending) {
            duplicates.push(i);
            waitFor.push(pending);
            continue;
          }
          batchIds.add(id);
        }
        kept.push(i);
      }
      rows = Int32Array.from(kept);
    }
    const firstSeq = this.nextSeq;
    if (rows.length > 0) {
      this.nextSeq += rows.length;
      const onDurable = () => {
        // runs in log order right after the fsync: visible rows are always a seq-ordered prefix
        const now = Date.now();
        if (this.live.length === 0) this.liveSince = now;
        this.lastAppendAt = now;
        this.ackedSeq = firstSeq + rows.length - 1;
        this.live.pushColumns(c, rows, firstSeq);
        if (batchIds.size > 0) {
          for (let k = 0; k < rows.length; k++) {
            const rid = c.readId.ids[rows[k]!]!;
            if (rid >= 0) this.readIds.set(c.readId.values[rid]!, firstSeq + k);
          }
        }
      };
      // one record per UTC day of the batch (each day's reads go under that day's key, so retention can shred them)
      const day0 = dayOf(c.ts[rows[0]!]!);
      let oneDay = true;
      for (let k = 1; k < rows.length && oneDay; k++) oneDay = dayOf(c.ts[rows[k]!]!) === day0;
      let durable: Promise<void>;
      if (oneDay) {
        durable = this.wal.append(encodeColumnsRecord(c, rows, firstSeq), day0, onDurable);
      } else {
        const byDay = new Map<number, { rows: number[]; seqs: number[] }>();
        for (let k = 0; k < rows.length; k++) {
          const d = dayOf(c.ts[rows[k]!]!);
          let part = byDay.get(d);
          if (!part) byDay.set(d, (part = { rows: [], seqs: [] }));
          part.rows.push(rows[k]!);
          part.seqs.push(firstSeq + k);
        }
        const parts = [...byDay].map(([day, part], i, all) => this.wal.append(encodeColumnsRecord(c, part.rows, 0, part.seqs), day, i === all.length - 1 ? onDurable : undefined));
        durable = Promise.all(parts).then(() => undefined);
      }
      await this.awaitDurable(durable, batchIds);
    }
    const duplicateIds = await this.duplicateIdsOf(waitFor, duplicates.map((i) => c.readId.values[c.readId.ids[i]!]!));
    return { rows, firstSeq, duplicates, duplicateIds };
  }

  /** Waits for a batch's WAL records, its readIds pending meanwhile (a retry of one waits for this fsync). */
  private async awaitDurable(durable: Promise<void>, batchIds: ReadonlySet<string>): Promise<void> {
    for (const id of batchIds) this.pendingReadIds.set(id, durable);
    try {
      await durable;
    } finally {
      for (const id of batchIds) if (this.pendingReadIds.get(id) === durable) this.pendingReadIds.delete(id);
    }
  }

  /** Once the copies a batch's repeats wait for are durable: the id each repeat stands for. */
  private async duplicateIdsOf(waitFor: readonly Promise<void>[], readIds: readonly string[]): Promise<string[]> {
    if (waitFor.length > 0) await Promise.all(waitFor);
    return readIds.map((id) => {
      const seq = this.readIds.get(id);
      // a repeat of a read earlier in the same batch, or of a concurrent batch that failed: no stored read
      return seq === undefined ? '' : readIdOf(this.ordinal, seq);
    });
  }

  /** Runs `fn` with seal / drop / close of this tenant excluded. */
  withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts a new WAL file once everything queued is durable. Returns the first seq not in the old files
   * and the generations that the caller may delete once their rows are safe elsewhere.
   */
  async rotateWal(): Promise<{ boundarySeq: number; oldGens: number[] }> {
    const gen = Math.max(...this.walGens) + 1;
    let boundarySeq = 0;
    await this.wal.rotate(gen, () => {
      // every row queued before the rotate is durable and visible now; later ones go to the new file
      const view = this.live.view();
      boundarySeq = view.length > 0 ? view.seq(view.length - 1) + 1 : this.manifest.sealedSeq;
    });
    const oldGens = this.walGens.filter((g) => g !== gen);
    this.walGens = [...oldGens, gen];
    return { boundarySeq, oldGens };
  }

  /** Deletes WAL files whose rows are safe elsewhere (never the ones that failed to read). */
  async deleteWalGens(gens: readonly number[]): Promise<void> {
    const del = gens.filter((g) => !this.badWalGens.has(g));
    await unlinkDurable(this.walDir, del.map((g) => g.toString(16).padStart(16, '0') + '.wal'));
    this.walGens = this.walGens.filter((g) => !del.includes(g));
  }

  /** Appends already-stored rows again to the current WAL file (a retention rewrite keeps survivors). */
  async rewriteRows(rows: readonly RowRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await Promise.all([...rowsByDay(rows)].map(([day, dayRows]) => this.wal.append(encodeRewriteRecord(dayRows), day)));
  }

  /**
   * rewriteRows for rows of a live view picked by `keep`, a batch of kRewriteBatch at a time, so only one
   * batch of row records exists at once (the live rows are columns; the WAL takes records).
   */
  async rewriteLiveRows(view: LiveView, end: number, keep: (g: number) => boolean): Promise<void> {
    let batch: RowRecord[] = [];
    for (let g = 0; g < end; g++) {
      if (!keep(g)) continue;
      batch.push(view.record(g));
      if (batch.length >= kRewriteBatch) {
        await this.rewriteRows(batch);
        batch = [];
      }
    }
    await this.rewriteRows(batch);
  }

  forgetReadId(id: string): void {
    this.readIds.delete(id);
  }

  isBadWalGen(gen: number): boolean {
    return this.badWalGens.has(gen);
  }

  hasBadWalGens(): boolean {
    return this.badWalGens.size > 0;
  }

  /** Forgets readIds of deleted live rows. */
  forgetReadIds(view: LiveView, rows: Iterable<number>): void {
    for (const g of rows) {
      const id = view.readId(g);
      if (id !== undefined) this.readIds.delete(id);
    }
  }

  async saveManifest(next: TenantManifest): Promise<void> {
    next.nextSeq = Math.max(next.nextSeq, this.nextSeq);
    await writeManifest(this.dir, next);
    this.manifest = next;
  }

  get nextSeqValue(): number {
    return this.nextSeq;
  }

  get walSyncs(): number {
    return this.wal.syncs;
  }

  /**
   * The acknowledgement mark, `ack-mark.json`: the highest seq this tenant acknowledged, written lazily
   * (the engine calls this about once a second, and at close), never on the ingest path. A torn WAL tail
   * only ever loses unacknowledged records, but a log cut shorter (by a tool, a restore, a bad disk)
   * loses acknowledged ones and looks the same; the mark tells them apart at the next start (see
   * checkAckMark). Best effort: a failed write is retried on the next call.
   */
  writeAckMark(): Promise<void> {
    this.marking = this.marking.then(async () => {
      const seq = this.ackedSeq;
      if (seq <= this.markedSeq) return;
      try {
        await writeFileAtomic(path.join(this.dir, kAckMarkFile), Buffer.from(JSON.stringify({ ackedSeq: seq }) + '\n'));
        this.markedSeq = seq;
      } catch {
        // the next call tries again; the mark may lag, which only narrows what the check can see
      }
    });
    return this.marking;
  }

  /**
   * At open, after the WAL replay: every seq up to the mark was acknowledged, so it must be in the WAL, in a
   * shard, or covered by the manifest's `nextSeq` (saved by every seal and retention drop). A mark beyond
   * all of them means acknowledged reads were cut off the log: the log is reported (so /healthz says
   * degraded) and their seqs are never given out again.
   */
  private async checkAckMark(): Promise<void> {
    let mark: number | undefined;
    try {
      const text = await readFile(path.join(this.dir, kAckMarkFile), 'utf8');
      const v = (JSON.parse(text) as { ackedSeq?: unknown }).ackedSeq;
      if (Number.isSafeInteger(v) && (v as number) > 0) mark = v as number;
    } catch {
      return; // no mark yet (or an unreadable one: nothing to compare with)
    }
    if (mark === undefined) return;
    this.ackedSeq = this.markedSeq = mark;
    const present = this.nextSeq - 1;
    if (mark <= present) return;
    const detail = `acknowledged reads up to seq ${mark} are missing: the log and shards end at seq ${present} (cut short?)`;
    if (!this.corruptFiles.includes(this.walDir)) this.corruptFiles.push(this.walDir);
    this.corruptErrors.push(CorruptFile(`${this.walDir}: ${detail}`));
    this.nextSeq = mark + 1;
  }

  async close(): Promise<void> {
    await this.writeAckMark();
    await this.withExclusive(() => this.wal.close());
  }
}
