/**
 * The durable alert log: one file per tenant, `D/alerts/<tenant>.log`, the source of every SSE delivery
 * and of `Last-Event-ID` replay, across restarts.
 *
 *   ┌────────┬─────────┬───────────────┬──────────────────────────────────────────────┐
 *   │ "PSAL" │ version │ baseId f64 LE │ records: u32 length, u32 crc32(payload),      │
 *   │ 4 B    │ u32 LE  │ (ids ≤ it are │ payload = the event's data JSON (alert.ts),   │
 *   │        │         │  used)        │ which carries the alert's id                  │
 *   └────────┴─────────┴───────────────┴──────────────────────────────────────────────┘
 *
 * Ids increase strictly per tenant and are never reused: an id is taken when an alert is appended, a
 * failed write skips its ids, and a compacted file records the last id used in `baseId`.
 * Appends are group-committed: while one batch is written and fdatasync'd, later appends queue and go
 * in the next. An alert is visible to readers only once durable. Recovery truncates a torn or
 * corrupt tail (the alerts in it were never acknowledged to a subscriber, since delivery follows
 * durability; the reads they came from are durable in the WAL).
 * Memory: a small index per alert (id, offset, length, the read's tenant and ts, its key) plus the
 * payloads of the most recent kCachedAlerts, so live subscribers never touch the disk; older replays read
 * the file. The keys (read id, hot list, entry) let a retried ingest raise only the alerts it is missing.
 *
 * Encrypted at rest (version 2): a record's payload is a lane record (src/crypto/log-lanes.ts). Each alert
 * is one block in the lane of its read's tenant and UTC day, whose data key is joined from two wrapped
 * keys: one under the read tenant's KEK of that day (retention shreds the alert with the read) and one
 * under the log owner's alert-log KEK (purging the owner shreds its hot-list entries and notes). Key
 * records are not indexed. Compaction writes a fresh file with fresh lanes. A version 1 (plaintext) log is
 * rewritten sealed at open.
 */
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptFile, UnsupportedFormat } from '../errors.js';
import { writeFileAtomic } from '../store/durable-fs.js';
import { alertPayload, type AlertDraft } from './alert.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { openDataDirKeys } from '../crypto/data-dir-keys.js';
import { alertLogEpoch, dayEpoch } from '../crypto/key-names.js';
import { kMaxLaneId, LaneReader, LaneWriter } from '../crypto/log-lanes.js';

const kMagic = 0x4c415350; // "PSAL" read as u32 LE
export const kAlertLogVersion = 2;
/** Plaintext logs written before encryption at rest: read once and rewritten sealed. */
const kAlertLogPlainVersion = 1;
const kDayMs = 86_400_000;
const kHeaderBytes = 16;
const kRecordHeader = 8;
// payloads kept in memory per tenant: a live stream and any reconnect within minutes are served from memory
const kCachedAlerts = 8192;
// lane ids a process may still take in a file it appends to (one per read tenant and UTC day it alerts on)
const kLaneHeadroom = 4096;

/** What makes an alert the same alert: its read, and the hot-list entry that matched it. */
export function alertKey(readId: string, hotlist: string, entry: string): string {
  return `${readId}\u0000${hotlist}\u0000${entry}`;
}

/** An alert as the log holds it. */
export interface LoggedAlert {
  id: number;
  /** Owner of the read and the read's ts: what visibility is checked against at delivery. */
  readTenant: string;
  readTs: number;
  /** The event's data JSON. */
  payload: string;
}

interface TenantLog {
  tenant: string;
  path: string;
  fh: FileHandle;
  baseId: number;
  nextId: number;
  /** Durable file length. */
  size: number;
  ids: number[];
  offsets: number[];
  lens: number[];
  readTenants: string[];
  readTs: number[];
  /** alertKey of each alert, and the set of keys of durable and pending alerts. */
  keys: string[];
  keySet: Set<string>;
  payloads: Array<string | undefined>;
  pending: Array<{ alerts: Array<LoggedAlert & { key: string }>; resolve(a: LoggedAlert[]): void; reject(e: unknown): void }>;
  flushScheduled: boolean;
  /** kAlertLogVersion, or kAlertLogPlainVersion until a plaintext log is rewritten. */
  version: number;
  /** Serialises flushes, disk reads and compaction on this log. */
  chain: Promise<unknown>;
  /** This file's lanes: the writer's (new blocks) and a reader that knows every lane's key (older replays). */
  lanes: LaneWriter;
  reader: LaneReader;
}

export class AlertLog {
  private readonly logs = new Map<string, TenantLog>();
  private readonly opening = new Map<string, Promise<TenantLog>>();
  private closed = false;

  private constructor(readonly dir: string, private readonly keys: DataKeys) {}

  static async open(dataDir: string, keys?: DataKeys): Promise<AlertLog> {
    const log = new AlertLog(join(dataDir, 'alerts'), keys ?? (await openDataDirKeys(dataDir, undefined)).keys);
    await mkdir(log.dir, { recursive: true });
    return log;
  }

  /** Highest durable alert id of the tenant (0 when it has none). */
  async lastId(tenant: string): Promise<number> {
    const log = await this.tenantLog(tenant);
    return log.ids.length > 0 ? log.ids[log.ids.length - 1]! : log.baseId;
  }

  /** Appends alerts (ids assigned in call order); resolves once they are durable. */
  async append(tenant: string, drafts: readonly AlertDraft[], raised: number): Promise<LoggedAlert[]> {
    if (this.closed) throw new Error('alert log closed');
    const log = await this.tenantLog(tenant);
    const alerts = drafts.map((d) => {
      const id = log.nextId++;
      const key = alertKey(d.read.id, d.hotlist, d.entry);
      log.keySet.add(key); // pending: a concurrent retry of the same read does not raise it twice
      return { id, readTenant: d.read.tenant, readTs: d.read.ts, payload: alertPayload(id, d, raised), key };
    });
    return new Promise((resolve, reject) => {
      log.pending.push({ alerts, resolve, reject });
      if (!log.flushScheduled) {
        log.flushScheduled = true;
        log.chain = log.chain.then(() => this.flush(log));
      }
    });
  }

  /** The drafts whose alert (same read, list and entry) the tenant's log does not hold, durable or pending. */
  async missing(tenant: string, drafts: readonly AlertDraft[]): Promise<AlertDraft[]> {
    const log = await this.tenantLog(tenant);
    return drafts.filter((d) => !log.keySet.has(alertKey(d.read.id, d.hotlist, d.entry)));
  }

  /** Up to `max` durable alerts with id > `afterId`, ascending. */
  async readAfter(tenant: string, afterId: number, max: number): Promise<LoggedAlert[]> {
    const log = await this.tenantLog(tenant);
    const from = firstAfter(log.ids, afterId);
    const to = Math.min(log.ids.length, from + max);
    if (from >= to) return [];
    const out: LoggedAlert[] = [];
    let missing = false;
    for (let i = from; i < to; i++) {
      const payload = log.payloads[i];
      if (payload === undefined) {
        missing = true;
        break;
      }
      out.push({ id: log.ids[i]!, readTenant: log.readTenants[i]!, readTs: log.readTs[i]!, payload });
    }
    if (!missing) return out;
    // older than the cache: one read of the contiguous byte range, on the chain (compaction may swap the file)
    return this.onChain(log, async () => {
      const start = firstAfter(log.ids, afterId);
      const end = Math.min(log.ids.length, start + max);
      if (start >= end) return [];
      const first = log.offsets[start]!;
      const last = log.offsets[end - 1]! + log.lens[end - 1]!;
      const buf = Buffer.allocUnsafe(last - first);
      await log.fh.read(buf, 0, buf.length, first);
      const res: LoggedAlert[] = [];
      for (let i = start; i < end; i++) {
        const off = log.offsets[i]! - first + kRecordHeader;
        const payload = await this.openPayload(log, buf.subarray(off, off + log.lens[i]! - kRecordHeader));
        res.push({ id: log.ids[i]!, readTenant: log.readTenants[i]!, readTs: log.readTs[i]!, payload });
      }
      return res;
    });
  }

  /**
   * Up to `max` durable alerts with id < `beforeId`, newest first (`GET /v1/alerts/recent` pages backwards
   * from the head with it). The ids are found in the index, the alerts read through readAfter (one read path
   * for payloads, cached or on disk).
   */
  async readBefore(tenant: string, beforeId: number, max: number): Promise<LoggedAlert[]> {
    const log = await this.tenantLog(tenant);
    const end = firstAfter(log.ids, beforeId - 1);
    const start = Math.max(0, end - max);
    if (start >= end) return [];
    const found = await this.readAfter(tenant, log.ids[start]! - 1, end - start);
    // a compaction in between may have removed some: never return ids at or past beforeId
    return found.filter((a) => a.id < beforeId).reverse();
  }

  /** Whether the tenant's log holds alert `id` durably (not swept). */
  async has(tenant: string, id: number): Promise<boolean> {
    const log = await this.tenantLog(tenant);
    const i = firstAfter(log.ids, id - 1);
    return i < log.ids.length && log.ids[i] === id;
  }

  /** The durable alert `id` of the tenant, or undefined (never raised, not yet durable, or swept). */
  async get(tenant: string, id: number): Promise<LoggedAlert | undefined> {
    const [alert] = await this.readAfter(tenant, id - 1, 1);
    return alert?.id === id ? alert : undefined;
  }

  /** Tenants with a log file or alerts in this process. */
  async tenants(): Promise<string[]> {
    const names = new Set(this.logs.keys());
    for (const f of await readdir(this.dir)) if (f.endsWith('.log')) names.add(f.slice(0, -4));
    return [...names];
  }

  /**
   * Rewrites the tenant's log without the alerts `keep` refuses (retention: their reads are gone), via
   * temp + fsync + rename + fsync(dir). Ids of kept alerts are unchanged; `baseId` keeps the last id used.
   * Resolves with the number of alerts dropped.
   */
  async compact(tenant: string, keep: (readTenant: string, readTs: number) => boolean, options: { force?: boolean } = {}): Promise<number> {
    const log = await this.tenantLog(tenant);
    return this.onChain(log, async () => {
      const n = log.ids.length;
      let drop = 0;
      for (let i = 0; i < n; i++) if (!keep(log.readTenants[i]!, log.readTs[i]!)) drop++;
      // force: rewrite under fresh lanes even when nothing is dropped (a day's key generation is retiring)
      if (drop === 0 && !(options.force && n > 0)) return 0;
      const kept: number[] = [];
      for (let i = 0; i < n; i++) if (keep(log.readTenants[i]!, log.readTs[i]!)) kept.push(i);
      await this.rewrite(log, kept);
      const pick = <T>(a: T[]): T[] => kept.map((i) => a[i]!);
      log.ids = pick(log.ids);
      log.readTenants = pick(log.readTenants);
      log.readTs = pick(log.readTs);
      log.keys = pick(log.keys);
      log.keySet = new Set([...log.keys, ...log.pending.flatMap((b) => b.alerts.map((a) => a.key))]);
      return drop;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const log of this.logs.values()) {
      await log.chain.catch(() => undefined);
      await log.fh.close().catch(() => undefined);
    }
    this.logs.clear();
  }

  private onChain<T>(log: TenantLog, work: () => Promise<T>): Promise<T> {
    const next = log.chain.then(work, work);
    log.chain = next.catch(() => undefined);
    return next;
  }

  private async flush(log: TenantLog): Promise<void> {
    log.flushScheduled = false;
    const batch = log.pending.splice(0);
    if (batch.length === 0) return;
    let encoded: { bytes: Buffer; blocks: Array<{ offset: number; len: number }>; keyRecords: Buffer[] };
    try {
      encoded = await this.encode(log, batch.flatMap((b) => b.alerts), log.size);
      await log.fh.write(encoded.bytes, 0, encoded.bytes.length, log.size);
      await log.fh.datasync();
    } catch (err) {
      log.lanes.failed();
      await log.fh.truncate(log.size).catch(() => undefined);
      for (const b of batch) for (const a of b.alerts) log.keySet.delete(a.key);
      for (const b of batch) b.reject(err);
      return;
    }
    log.lanes.durable();
    for (const k of encoded.keyRecords) await log.reader.read(k);
    let k = 0;
    for (const b of batch) {
      for (const a of b.alerts) {
        log.ids.push(a.id);
        log.offsets.push(encoded.blocks[k]!.offset);
        log.lens.push(encoded.blocks[k]!.len);
        log.readTenants.push(a.readTenant);
        log.readTs.push(a.readTs);
        log.keys.push(a.key);
        log.payloads.push(a.payload);
        k++;
      }
    }
    log.size += encoded.bytes.length;
    const stale = log.payloads.length - kCachedAlerts - 1;
    for (let i = stale; i >= 0 && log.payloads[i] !== undefined; i--) log.payloads[i] = undefined;
    for (const b of batch) b.resolve(b.alerts.map(({ key: _key, ...alert }) => alert));
  }

  private tenantLog(tenant: string): Promise<TenantLog> {
    const have = this.logs.get(tenant);
    if (have) return Promise.resolve(have);
    let p = this.opening.get(tenant);
    if (!p) {
      p = this.load(tenant).then((log) => {
        this.logs.set(tenant, log);
        this.opening.delete(tenant);
        return log;
      }, (err) => {
        this.opening.delete(tenant);
        throw err;
      });
      this.opening.set(tenant, p);
    }
    return p;
  }

  /**
   * Encodes alerts as records starting at file offset `at`: each alert one block of its lane (a new lane's
   * key record first). Returns the bytes, where each alert's record lies, and the key records written.
   */
  private async encode(log: TenantLog, alerts: ReadonlyArray<{ readTenant: string; readTs: number; payload: string }>, at: number) {
    const parts: Buffer[] = [];
    const blocks: Array<{ offset: number; len: number }> = [];
    const keyRecords: Buffer[] = [];
    let off = at;
    for (const a of alerts) {
      const day = Math.floor(a.readTs / kDayMs);
      const recs = await log.lanes.encode(`${a.readTenant}/${day}`, [dayEpoch(a.readTenant, day), alertLogEpoch(log.tenant)], [Buffer.from(a.payload, 'utf8')]);
      for (let i = 0; i < recs.length; i++) {
        const payload = recs[i]!;
        const rec = Buffer.allocUnsafe(kRecordHeader);
        rec.writeUInt32LE(payload.length, 0);
        rec.writeUInt32LE(crc32(payload), 4);
        parts.push(rec, payload);
        if (i === recs.length - 1) blocks.push({ offset: off, len: kRecordHeader + payload.length });
        else keyRecords.push(payload);
        off += kRecordHeader + payload.length;
      }
    }
    return { bytes: Buffer.concat(parts), blocks, keyRecords };
  }

  /** The alert JSON of one stored block record's payload. */
  private async openPayload(log: TenantLog, payload: Uint8Array): Promise<string> {
    const r = await log.reader.read(payload);
    if (r.kind !== 'block') throw CorruptFile(`${log.path}: an alert record does not open (${r.kind === 'corrupt' ? r.reason : r.kind})`, { file: log.path });
    return r.plain.toString('utf8');
  }

  /**
   * Writes the alerts at indexes `kept` to a fresh file with fresh lanes (temp + fsync + rename + fsync dir)
   * and points the log at it: compaction, and the migration of a plaintext log. `baseId` keeps the last id.
   */
  private async rewrite(log: TenantLog, kept: readonly number[]): Promise<void> {
    const payloads: string[] = [];
    for (const i of kept) {
      let p = log.payloads[i];
      if (p === undefined) {
        const buf = Buffer.allocUnsafe(log.lens[i]! - kRecordHeader);
        await log.fh.read(buf, 0, buf.length, log.offsets[i]! + kRecordHeader);
        p = log.version === kAlertLogPlainVersion ? buf.toString('utf8') : await this.openPayload(log, buf);
      }
      payloads.push(p);
    }
    const lanes = new LaneWriter(this.keys);
    const fresh: TenantLog = { ...log, lanes };
    const encoded = await this.encode(fresh, kept.map((i, j) => ({ readTenant: log.readTenants[i]!, readTs: log.readTs[i]!, payload: payloads[j]! })), kHeaderBytes);
    await writeFileAtomic(log.path, [header(log.nextId - 1), encoded.bytes], log.path + '.tmp');
    await log.fh.close();
    log.fh = await open(log.path, 'r+');
    lanes.durable();
    log.lanes = lanes;
    log.reader = new LaneReader((ref) => this.keys.openKey(ref), this.keys.cipher);
    for (const k of encoded.keyRecords) await log.reader.read(k);
    log.version = kAlertLogVersion;
    log.offsets = encoded.blocks.map((b) => b.offset);
    log.lens = encoded.blocks.map((b) => b.len);
    log.payloads = kept.map((i, j) => (log.payloads[i] !== undefined ? payloads[j] : undefined));
    log.size = kHeaderBytes + encoded.bytes.length;
    log.baseId = log.nextId - 1;
  }

  /** Opens (or creates) a tenant's log, rebuilding the index and truncating a torn tail. */
  private async load(tenant: string): Promise<TenantLog> {
    const path = join(this.dir, `${tenant}.log`);
    let whole: Buffer;
    try {
      whole = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return this.create(tenant, path);
    }
    // shorter than a header: a creation cut short by a crash (before this version created logs whole, the
    // name appeared before its header was written). Nothing was ever appended to it: records are appended
    // only once the header is durable. Refusing it would refuse the tenant's alerts for good.
    if (whole.length < kHeaderBytes) return this.create(tenant, path);
    if (whole.readUInt32LE(0) !== kMagic) throw CorruptFile(`${path}: not an alert log`, { file: path });
    const version = whole.readUInt32LE(4);
    if (version !== kAlertLogVersion && version !== kAlertLogPlainVersion) throw UnsupportedFormat(`${path}: alert log version ${version}`, { file: path });
    const baseId = whole.readDoubleLE(8);
    const fh = await open(path, 'r+');
    const log = this.fresh(tenant, path, fh, baseId, kHeaderBytes);
    log.version = version;
    const texts: string[] = [];
    let off = kHeaderBytes;
    while (off + kRecordHeader <= whole.length) {
      const len = whole.readUInt32LE(off);
      const end = off + kRecordHeader + len;
      if (end > whole.length || crc32(whole.subarray(off + kRecordHeader, end)) !== whole.readUInt32LE(off + 4)) {
        if (validRecordAfter(whole, off + 1)) throw CorruptFile(`${path}: damaged record at offset ${off} (not a torn tail)`, { file: path, offset: off });
        break;
      }
      let payload: string;
      if (version === kAlertLogPlainVersion) payload = whole.toString('utf8', off + kRecordHeader, end);
      else {
        const r = await log.reader.read(whole.subarray(off + kRecordHeader, end));
        if (r.kind === 'key' || r.kind === 'shredded') {
          off = end; // a lane's key, or an alert whose read (or owner) was shredded: gone by design
          continue;
        }
        if (r.kind === 'corrupt') throw CorruptFile(`${path}: ${r.reason}`, { file: path, offset: off });
        payload = r.plain.toString('utf8');
      }
      let parsed: { id: number; hotlist: string; entry: string; read: { id: string; tenant: string; ts: string } };
      try {
        parsed = JSON.parse(payload) as typeof parsed;
      } catch {
        break;
      }
      log.ids.push(parsed.id);
      log.offsets.push(off);
      log.lens.push(kRecordHeader + len);
      log.readTenants.push(parsed.read.tenant);
      log.readTs.push(Date.parse(parsed.read.ts));
      const key = alertKey(parsed.read.id, parsed.hotlist, parsed.entry);
      log.keys.push(key);
      log.keySet.add(key);
      log.payloads.push(undefined);
      texts.push(payload);
      off = end;
    }
    if (off < whole.length) {
      await fh.truncate(off); // torn tail
      await fh.sync();
    }
    log.size = off;
    const n = log.payloads.length;
    for (let i = Math.max(0, n - kCachedAlerts); i < n; i++) log.payloads[i] = texts[i];
    log.nextId = Math.max(baseId, log.ids.length > 0 ? log.ids[log.ids.length - 1]! : 0) + 1;
    // this process's lanes follow the file's: a reused lane id would hide the older lane's key from
    // disk reads (replays past the cache, compaction)
    log.lanes = new LaneWriter(this.keys, log.reader.nextLane);
    if (version === kAlertLogPlainVersion || log.reader.reusedLanes || log.reader.nextLane > kMaxLaneId - kLaneHeadroom) {
      // a plaintext log (written before encryption at rest) is rewritten sealed now, keeping every alert
      // and id; so is one whose lane ids were reused by a later process (its older blocks would not open
      // from disk: every payload is at hand now) or near their end (a rewrite numbers them from 0)
      const all = log.ids.map((_, i) => i);
      for (const i of all) log.payloads[i] = texts[i];
      await this.rewrite(log, all);
      const m = log.payloads.length;
      for (let i = 0; i < m - kCachedAlerts; i++) log.payloads[i] = undefined;
    }
    return log;
  }

  /**
   * Creates the tenant's empty log whole (temp + fsync + rename + fsync dir, like a rewrite): a crash
   * leaves no file or a whole header, never a name without one.
   */
  private async create(tenant: string, path: string): Promise<TenantLog> {
    await writeFileAtomic(path, header(0), path + '.tmp');
    return this.fresh(tenant, path, await open(path, 'r+'), 0, kHeaderBytes);
  }

  private fresh(tenant: string, path: string, fh: FileHandle, baseId: number, size: number): TenantLog {
    return {
      tenant, path, fh, baseId, nextId: baseId + 1, size, version: kAlertLogVersion,
      ids: [], offsets: [], lens: [], readTenants: [], readTs: [], keys: [], keySet: new Set(), payloads: [],
      pending: [], flushScheduled: false, chain: Promise.resolve(),
      lanes: new LaneWriter(this.keys), reader: new LaneReader((ref) => this.keys.openKey(ref), this.keys.cipher),
    };
  }
}

/** Whether a record with a valid CRC starts anywhere at or after `from` (then the damage is not a torn tail). */
function validRecordAfter(whole: Buffer, from: number): boolean {
  for (let p = from; p + kRecordHeader <= whole.length; p++) {
    const len = whole.readUInt32LE(p);
    const end = p + kRecordHeader + len;
    if (len === 0 || end > whole.length) continue;
    if (crc32(whole.subarray(p + kRecordHeader, end)) === whole.readUInt32LE(p + 4)) return true;
  }
  return false;
}

function header(baseId: number): Buffer {
  const b = Buffer.alloc(kHeaderBytes);
  b.writeUInt32LE(kMagic, 0);
  b.writeUInt32LE(kAlertLogVersion, 4);
  b.writeDoubleLE(baseId, 8);
  return b;
}

/** Index of the first id > afterId (ids ascending). */
function firstAfter(ids: readonly number[], afterId: number): number {
  let lo = 0, hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= afterId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
