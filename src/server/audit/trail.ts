/**
 * The audit trail: one hash-chained, append-only NDJSON log per tenant, `audit/<tenant>.jsonl` (and
 * `audit/_system.jsonl` for callers with no known tenant), each with its head marker `audit/<tenant>.head`
 * (see head.ts). Record format and chain rule: record.ts; verification: verify.ts.
 *
 * Appends are group-committed per log: while one batch is being committed, later appends queue and go in
 * the next batch, in arrival order. A batch is one commit by the audit writer (writer.ts), in one hop to its
 * thread: the records' fields as JSON go over with the log's durable head and the data key; the thread gives
 * them seq/prev, seals and hashes them in queue order (batch.ts: the chain order is the commit order), writes
 * the lines at the end of the log, then the head marker, each durable (O_DSYNC: see fs.ts), and answers with
 * the hashes; then every append of the batch resolves with its record. One batch of a log is in flight at a time, so the marker never
 * covers lines that are not durable and no append resolves before a marker covering it is.
 * Fail-closed: if any step fails, every append of the batch rejects with AuditUnavailable, the log is cut
 * back to its last durable length and the marker rewritten before the next batch (if that fails too, the
 * next appends fail as well, until the disk recovers). Nothing is acknowledged that is not durable.
 *
 * On open, a torn tail after the marker's record (a crash between write and marker) is repaired: complete,
 * correctly chained records are kept and the marker advanced; the first bad or partial line and everything
 * after it are cut. A log that does not hold the marker's record where the marker says is left untouched
 * (evidence) and later records chain from the marker, so verification keeps reporting the break.
 *
 * One process appends to a data dir's audit logs: the server. CLI commands only read them.
 */
import { join } from 'node:path';
import { AuditUnavailable, BadInput } from '../../errors.js';
import { isTenantName, kSystemTenant } from '../../model/tenant.js';
import { type AuditFile, type AuditFs, nodeAuditFs, readFully } from './fs.js';
import { type HeadMarker, readHead, writeHead, writeHeadBoth } from './head.js';
import type { BatchOutput } from './batch.js';
import { type AuditFields, type AuditRecord, auditBody, kGenesisHash } from './record.js';
import { checkLine, scanLines, type VerifyResult, verifyLog } from './verify.js';
import { AuditSealer } from './sealing.js';
import { AuditWriter } from './writer.js';
import type { DataKeys } from '../../crypto/data-keys.js';
import { openDataDirKeys } from '../../crypto/data-dir-keys.js';

export type { AuditFields, AuditRecord, VerifyResult };

export interface AuditQuery {
  /** Inclusive, epoch ms. */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
  user?: string;
  action?: string;
  /** Records with seq > after. */
  after?: number;
  /** 1–kMaxAuditPage; default kDefaultAuditPage. */
  limit?: number;
}

export interface AuditPage {
  records: AuditRecord[];
  /** The seq to pass as `after` for the next page, or null when there is none. */
  next: number | null;
}

export const kDefaultAuditPage = 100;
export const kMaxAuditPage = 1000;
// one checkpoint (byte offset) per this many records, so `after` does not rescan a year of log
const kIndexStride = 256;
// longest line the start-up repair looks back over to confirm the marker's record (params ≤ 1 MiB bodies)
const kMaxLookback = 4 << 20;
export interface AuditTrailOptions {
  /** The file-system seam (tests inject faults through it). */
  fs?: AuditFs;
  /**
   * The data dir's keys: records are sealed under them (sealing.ts). Default: the default key store beside
   * the data dir, opened at the first append (a trail that only verifies never needs one).
   */
  keys?: DataKeys;
}

/** How an append may be committed. */
export interface AppendOptions {
  /**
   * The caller's thread has nothing else to run until the record is durable (the server: no other request in
   * flight). A batch of that one record is then sealed and chained on this thread before the hand-off rather
   * than on the writer thread after its wake-up (writer.ts).
   */
  callerIdle?: boolean;
}

interface Pending {
  fields: AuditFields;
  callerIdle: boolean;
  /** The append resolves with its record (appendDurable's resolve with nothing). */
  wantsRecord: boolean;
  resolve(r: AuditRecord | undefined): void;
  reject(e: unknown): void;
}

interface Log {
  tenant: string;
  path: string;
  headPath: string;
  file: AuditFile | undefined;
  headFile: AuditFile | undefined;
  /** Durable head: last seq/hash and the log length after it. */
  seq: number;
  hash: string;
  len: number;
  /** The file does not end in a newline (damaged): prefix the next batch with one. */
  needsNewline: boolean;
  /** A batch failed: cut back and rewrite the marker before the next one. */
  needsRecovery: boolean;
  queue: Pending[];
  flushing: Promise<void> | undefined;
  /** checkpoints[k] = byte offset of line k*kIndexStride (0-based), built on first query. */
  checkpoints: number[] | undefined;
  /** Lines covered by `checkpoints`. */
  checkpointLines: number | undefined;
}

export function isAuditLogName(tenant: string): boolean {
  return tenant === kSystemTenant || isTenantName(tenant);
}

/** Told of every record once it is durable, in chain order per log (insights keep their index current). */
export type AppendListener = (tenant: string, record: AuditRecord) => void;

export class AuditTrail {
  private readonly logs = new Map<string, Log>();
  private readonly listeners: AppendListener[] = [];
  private readonly opening = new Map<string, Promise<Log>>();
  private readonly writer = new AuditWriter();
  private closed = false;

  private sealer: AuditSealer | undefined;
  private sealerOpening: Promise<AuditSealer> | undefined;

  private constructor(
    readonly dir: string,
    private readonly fs: AuditFs,
    private readonly dataDir: string,
    keys: DataKeys | undefined,
  ) {
    if (keys) this.sealer = new AuditSealer(dir, keys);
  }

  /** The sealer, opening the default key store the first time when none was given. */
  private async sealerFor(): Promise<AuditSealer> {
    if (this.sealer) return this.sealer;
    this.sealerOpening ??= openDataDirKeys(this.dataDir, undefined).then(({ keys }) => (this.sealer = new AuditSealer(this.dir, keys)));
    return this.sealerOpening;
  }

  /** Opens `D/audit/`, repairing torn tails of every existing log. */
  static async open(dataDir: string, options: AuditTrailOptions = {}): Promise<AuditTrail> {
    const fs = options.fs ?? nodeAuditFs;
    const trail = new AuditTrail(join(dataDir, 'audit'), fs, dataDir, options.keys);
    await fs.mkdir(trail.dir);
    for (const name of await fs.readdir(trail.dir)) {
      if (!name.endsWith('.jsonl')) continue;
      const tenant = name.slice(0, -'.jsonl'.length);
      if (isAuditLogName(tenant)) await trail.log(tenant);
    }
    return trail;
  }

  /** Registers a listener of durable appends (called synchronously; it must not throw or block). */
  onAppend(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  /** Tenants with a log, sorted. */
  tenants(): string[] {
    return [...this.logs.keys()].sort();
  }

  /**
   * Appends one record to `tenant`'s log; resolves with the record once it is durable (log and marker
   * fsync'd). Rejects with AuditUnavailable if it cannot be made durable.
   */
  append(tenant: string, fields: AuditFields): Promise<AuditRecord> {
    return this.enqueue(tenant, fields, true, false) as Promise<AuditRecord>;
  }

  /**
   * As append, but resolves with nothing: for callers that wait only for the record to be durable (the request
   * pipeline). The record object append answers with is the parse of the fields' JSON, the largest part left of
   * an append's main-thread CPU once the writer thread seals and chains (docs/search-paging.md); made only for
   * those who take it (append, and listeners of onAppend).
   */
  appendDurable(tenant: string, fields: AuditFields, options: AppendOptions = {}): Promise<void> {
    return this.enqueue(tenant, fields, false, options.callerIdle === true) as Promise<unknown> as Promise<void>;
  }

  private async enqueue(tenant: string, fields: AuditFields, wantsRecord: boolean, callerIdle: boolean): Promise<AuditRecord | undefined> {
    if (!isAuditLogName(tenant)) throw BadInput(`not a tenant name: ${JSON.stringify(tenant)}`);
    if (this.closed) throw AuditUnavailable('audit trail is closed');
    // an open log is taken without an await: with the sealer's key ready, the batch then reaches the
    // writer thread inside this call (flush), and the caller's work after it overlaps the durable writes
    let log = this.logs.get(tenant);
    if (!log) {
      try {
        log = await this.log(tenant);
      } catch (err) {
        throw AuditUnavailable(`audit log of ${tenant} cannot be opened: ${(err as Error).message}`);
      }
    }
    const open = log;
    return new Promise<AuditRecord | undefined>((resolve, reject) => {
      open.queue.push({ fields, callerIdle, wantsRecord, resolve, reject });
      if (!open.flushing) {
        const run: Promise<void> = this.flush(open).finally(() => {
          if (open.flushing === run) open.flushing = undefined;
        });
        open.flushing = run;
      }
    });
  }

  /** Records of `tenant`'s log by ascending seq, filtered; only durable records. */
  async query(tenant: string, q: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? kDefaultAuditPage)), kMaxAuditPage);
    const after = Math.max(0, Math.trunc(q.after ?? 0));
    const log = this.logs.get(tenant) ?? (isAuditLogName(tenant) && (await this.fs.size(join(this.dir, `${tenant}.jsonl`))) !== undefined ? await this.log(tenant) : undefined);
    if (!log || log.len === 0) return { records: [], next: null };
    const end = log.len;
    const reader = await this.fs.openRead(log.path);
    try {
      const checkpoints = await this.checkpointsOf(log, reader);
      // line k (0-based) holds seq k+1 in an intact log; start at the checkpoint at or before seq `after`
      const k = Math.min(Math.floor(after / kIndexStride), checkpoints.length - 1);
      const start = k >= 0 ? checkpoints[k]! : 0;
      const records: AuditRecord[] = [];
      for await (const line of scanLines(reader, start, end)) {
        if (!line.terminated) break;
        let r: AuditRecord;
        try {
          r = JSON.parse(line.bytes.toString('utf8')) as AuditRecord;
        } catch {
          continue;
        }
        if (typeof r !== 'object' || r === null || !(r.seq > after)) continue;
        if (q.user !== undefined && r.user !== q.user) continue;
        if (q.action !== undefined && r.action !== q.action) continue;
        if (q.from !== undefined || q.to !== undefined) {
          const t = Date.parse(r.ts);
          if (q.from !== undefined && !(t >= q.from)) continue;
          if (q.to !== undefined && !(t < q.to)) continue;
        }
        if (records.length === limit) return { records: await this.openAll(tenant, records), next: records[records.length - 1]!.seq };
        records.push(r);
      }
      return { records: await this.openAll(tenant, records), next: null };
    } finally {
      await reader.close();
    }
  }

  /** Records with their sealed fields opened (GET /v1/audit answers them so). */
  private async openAll(tenant: string, records: AuditRecord[]): Promise<AuditRecord[]> {
    if (!records.some((r) => typeof (r as Record<string, unknown>).sealed === 'string')) return records;
    const sealer = await this.sealerFor();
    return Promise.all(records.map(async (r) => (await sealer.open(tenant, r as unknown as Record<string, unknown>)) as unknown as AuditRecord));
  }

  /** Verifies `tenant`'s log on disk up to its durable head marker. */
  async verify(tenant: string): Promise<VerifyResult> {
    if (!isAuditLogName(tenant)) throw BadInput(`not a tenant name: ${JSON.stringify(tenant)}`);
    return verifyTenantLog(this.fs, this.dir, tenant, { stopAtHead: true });
  }

  /** Waits for queued appends, then closes every log. Appends after close reject. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.opening.values()]);
    for (const log of this.logs.values()) {
      while (log.flushing) await log.flushing;
      await log.file?.close().catch(() => {});
      await log.headFile?.close().catch(() => {});
      log.file = log.headFile = undefined;
    }
    await this.writer.close();
  }

  /**
   * For a caller with nothing else to run until its records are durable (the server with one request in
   * flight, its answer's text made): watches on this thread, at most `maxMs`, for the batch on the writer
   * thread to be answered, and takes its answer here (writer.ts `settle`). Nothing is acknowledged sooner: an
   * append still resolves only once its lines and then a marker covering them are durable.
   */
  settle(maxMs: number): void {
    this.writer.settle(maxMs);
  }

  /**
   * For a caller about to append a lone request's record (the server with one request in flight, its handler
   * answered): wakes the idle writer thread to watch for the batch (writer.ts `prime`), so its wake-up overlaps the
   * record's making.
   */
  prime(): void {
    this.writer.prime();
  }

  /**
   * Batches committed, how many of them in one hop on the writer thread, of those how many sealed before it,
   * how many answers were taken by `settle`, how many times an idle thread was primed, how many times it watched
   * after such a wake-up, and how many jobs it took watching (tests).
   */
  get writerStats(): { commits: number; threadCommits: number; madeHere: number; settled: number; primes: number; primedWakes: number; primedTakes: number } {
    return { ...this.writer.stats, primedWakes: this.writer.primedWakes, primedTakes: this.writer.primedTakes };
  }

  // ---------------------------------------------------------------- internals

  private log(tenant: string): Promise<Log> {
    const open = this.logs.get(tenant);
    if (open) return Promise.resolve(open);
    let p = this.opening.get(tenant);
    if (!p) {
      p = this.openLog(tenant).finally(() => this.opening.delete(tenant));
      this.opening.set(tenant, p);
    }
    return p;
  }

  private async openLog(tenant: string): Promise<Log> {
    const log: Log = {
      tenant,
      path: join(this.dir, `${tenant}.jsonl`),
      headPath: join(this.dir, `${tenant}.head`),
      file: undefined,
      headFile: undefined,
      seq: 0,
      hash: kGenesisHash,
      len: 0,
      needsNewline: false,
      needsRecovery: false,
      queue: [],
      flushing: undefined,
      checkpoints: undefined,
      checkpointLines: undefined,
    };
    const headExisted = (await this.fs.size(log.headPath)) !== undefined;
    const logExisted = (await this.fs.size(log.path)) !== undefined;
    // the marker first: a log never exists without one, so a missing marker is damage, not a crash
    log.headFile = await this.fs.openReadWrite(log.headPath);
    log.file = await this.fs.openReadWrite(log.path);
    try {
      const size = await log.file.size();
      let marker = headExisted ? await readHead(log.headFile) : undefined;
      if (!headExisted || !logExisted) {
        await this.fs.syncDir(this.dir);
      }
      if (!marker) {
        // no marker (new log, or marker destroyed): chain from the last valid record from the start
        marker = await this.adoptTail(log, { seq: 0, hash: kGenesisHash, len: 0 }, size);
        await writeHeadBoth(log.headFile, marker);
      } else if (size > marker.len && (await this.holdsMarkerRecord(log.file, marker))) {
        const adopted = await this.adoptTail(log, marker, size);
        if (adopted.seq !== marker.seq || adopted.len !== size) {
          if (adopted.seq !== marker.seq) await writeHead(log.headFile, adopted);
          marker = adopted;
        }
      } else if (size !== marker.len) {
        // the log does not match its marker: tampering or media damage. Keep it as evidence; new
        // records chain from the marker, at the end of the file, so verification keeps failing.
        marker = { ...marker, len: size };
        log.needsNewline = size > 0 && !(await this.endsWithNewline(log.file, size));
      }
      log.seq = marker.seq;
      log.hash = marker.hash;
      log.len = marker.len;
    } catch (err) {
      await log.file.close().catch(() => {});
      await log.headFile.close().catch(() => {});
      throw err;
    }
    this.logs.set(tenant, log);
    return log;
  }

  /** Whether the line ending at `marker.len` is the marker's record. */
  private async holdsMarkerRecord(file: AuditFile, marker: HeadMarker): Promise<boolean> {
    if (marker.len === 0) return marker.seq === 0;
    const back = Math.min(marker.len, kMaxLookback);
    const buf = await readFully(file, back, marker.len - back);
    if (buf.length !== back || buf[back - 1] !== 0x0a) return false;
    const startNl = buf.lastIndexOf(0x0a, back - 2);
    if (startNl < 0 && back < marker.len) return false; // longer than the look-back: cannot confirm
    try {
      const r = JSON.parse(buf.subarray(startNl + 1, back - 1).toString('utf8')) as Record<string, unknown>;
      return r.seq === marker.seq && r.hash === marker.hash;
    } catch {
      return false;
    }
  }

  private async endsWithNewline(file: AuditFile, size: number): Promise<boolean> {
    const b = await readFully(file, 1, size - 1);
    return b[0] === 0x0a;
  }

  /**
   * Keeps the complete, correctly chained records after `from` and cuts the log after the last of them
   * (fsync'd). Returns the new head.
   */
  private async adoptTail(log: Log, from: HeadMarker, size: number): Promise<HeadMarker> {
    const file = log.file!;
    let head = { ...from };
    for await (const line of scanLines(file, from.len, size)) {
      const checked = checkLine(line, head.seq + 1, head.hash, log.tenant);
      if ('error' in checked) break;
      head = { seq: head.seq + 1, hash: checked.record.hash as string, len: line.offset + line.bytes.length + 1 };
    }
    if (head.len !== size) {
      await file.truncate(head.len);
      await file.sync();
    }
    return head;
  }

  private async checkpointsOf(log: Log, reader: AuditFile): Promise<number[]> {
    if (log.checkpoints) return log.checkpoints;
    const end = log.len;
    const checkpoints: number[] = [];
    let n = 0;
    for await (const line of scanLines(reader, 0, end)) {
      if (n % kIndexStride === 0) checkpoints.push(line.offset);
      n++;
    }
    // cache it only if no batch landed while we scanned (appends extend a cached index line by line)
    if (log.len === end && !log.checkpoints) {
      log.checkpoints = checkpoints;
      log.checkpointLines = n;
    }
    return checkpoints;
  }

  /** The group commit of one log: one batch at a time, each of everything queued when it starts. */
  private async flush(log: Log): Promise<void> {
    for (;;) {
      if (log.queue.length === 0) {
        // no await between this check and the end: an append from now on starts a new group commit
        log.flushing = undefined;
        return;
      }
      const batch: Pending[] = [];
      const fields: string[] = [];
      for (const p of log.queue.splice(0)) {
        // a record that is not plain JSON fails alone, never its batch
        try {
          fields.push(JSON.stringify(p.fields));
          batch.push(p);
        } catch (err) {
          p.reject(AuditUnavailable(`audit record is not JSON: ${(err as Error).message}`));
        }
      }
      if (batch.length === 0) continue;
      const ts = new Date().toISOString();
      const shiftsLines = log.needsNewline;
      let out: BatchOutput;
      try {
        if (log.needsRecovery) await this.recover(log);
        // no await when the sealer and this month's key are ready (the common case): see append
        const sealer = this.sealer ?? (await this.sealerFor());
        const now = Date.now();
        if (!sealer.prepared(log.tenant, now)) await sealer.prepare(log.tenant, now);
        // sealed and chained in queue order where the batch is written (the writer thread): chain order is commit order
        out = await this.writer.commit(log.file!, log.headFile!, {
          tenant: log.tenant, ts, seq: log.seq, prev: log.hash, linesAt: log.len, newline: log.needsNewline,
          key: sealer.take(log.tenant, batch.length), fields,
        }, sealer.keys.cipher, batch.length === 1 && batch[0]!.callerIdle);
      } catch (err) {
        log.needsRecovery = true;
        const e = AuditUnavailable(`audit record could not be written durably: ${(err as Error).message}`);
        for (const p of batch) p.reject(e);
        continue;
      }
      const { hashes, offsets: lineOffsets, bodies } = out;
      const told = this.listeners.length > 0;
      const records = new Array<AuditRecord | undefined>(batch.length);
      let prev = log.hash;
      for (let i = 0; i < batch.length; i++) {
        if (told || batch[i]!.wantsRecord) {
          // a batch made on this thread has parsed each record's fields already (batch.ts bodies)
          const r = bodies?.[i] ?? auditBody(fields[i]!, log.tenant, ts);
          r.seq = log.seq + 1 + i;
          r.prev = prev;
          r.hash = hashes[i]!;
          records[i] = r as AuditRecord;
        }
        prev = hashes[i]!;
      }
      const head: HeadMarker = { seq: log.seq + batch.length, hash: prev, len: out.len };
      if (log.checkpoints && log.checkpointLines !== undefined) {
        for (let i = 0; i < lineOffsets.length; i++) {
          if (log.checkpointLines % kIndexStride === 0) log.checkpoints.push(lineOffsets[i]!);
          log.checkpointLines++;
        }
        if (shiftsLines) log.checkpoints = undefined; // line numbering shifted; rebuild
      }
      log.seq = head.seq;
      log.hash = head.hash;
      log.len = head.len;
      log.needsNewline = false;
      for (const listener of this.listeners) {
        for (const r of records) {
          try {
            listener(log.tenant, r!);
          } catch {
            // a listener's failure never fails the durable append it is told about
          }
        }
      }
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(records[i]);
    }
  }

  /**
   * After a failed batch: reopen both files (after a failed fsync the page cache cannot be trusted),
   * cut the log back to its last durable length and write the durable head to both marker slots.
   */
  private async recover(log: Log): Promise<void> {
    await log.file?.close().catch(() => {});
    await log.headFile?.close().catch(() => {});
    log.file = log.headFile = undefined;
    log.file = await this.fs.openReadWrite(log.path);
    log.headFile = await this.fs.openReadWrite(log.headPath);
    const size = await log.file.size();
    if (size > log.len) {
      await log.file.truncate(log.len);
    }
    await log.file.sync();
    await writeHeadBoth(log.headFile, { seq: log.seq, hash: log.hash, len: log.len });
    log.needsRecovery = false;
  }
}

/**
 * Verifies one tenant's log as it is on disk (reading the marker first, so a concurrent writer can only
 * make the log longer than the marker, never shorter). Used by the server and by `platesearch audit verify`.
 */
export async function verifyTenantLog(fs: AuditFs, auditDir: string, tenant: string, options: { stopAtHead?: boolean } = {}): Promise<VerifyResult> {
  const headPath = join(auditDir, `${tenant}.head`);
  const logPath = join(auditDir, `${tenant}.jsonl`);
  let marker: HeadMarker | undefined;
  if ((await fs.size(headPath)) !== undefined) {
    const hf = await fs.openRead(headPath);
    try {
      marker = await readHead(hf);
    } finally {
      await hf.close();
    }
  }
  if ((await fs.size(logPath)) === undefined) return verifyLog(undefined, 0, marker, tenant, options);
  const lf = await fs.openRead(logPath);
  try {
    return await verifyLog(lf, await lf.size(), marker, tenant, options);
  } finally {
    await lf.close();
  }
}
