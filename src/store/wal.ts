/**
 * The per-tenant write-ahead log: `D/tenants/<tenant>/wal/<generation>.wal`, generation in 16 hex digits.
 *
 *   file   = header record*
 *   header = "PSWAL" 0x00 version:u8 0x0a                      8 bytes; version 2 (1: plaintext, read only)
 *   record = length:u32le  crc:u32le  payload[length]           crc = CRC32C(length bytes ‖ payload)
 *
 * Version 2 payloads are lane records (src/crypto/log-lanes.ts): each group commit is encrypted as one
 * block per UTC day of its reads, under that day's data key for this file (wrapped under the tenant's KEK
 * of the day, in a key record of the same file), so a day's KEK shreds that day's reads in every copy of
 * the log. Inside a block: the record payloads of wal-record.ts, each len:u32le ‖ payload. Version 1
 * files (written before encryption) are read once, by the migration, and deleted when sealed.
 *
 * Writing: appends queue their framed records; one writer loop writes everything queued with a single
 * writev and one fdatasync (group commit), then reports every record of that group durable, in order.
 * Acknowledged = fsync'd. A failed write or sync leaves the file's tail unknown: the group (and everything
 * queued) is refused (503), and before the next write the log heals itself: it cuts the file back to the
 * end of the last durable group and syncs that (records are written at explicit positions, so the cut is
 * exact). While the disk keeps failing, healing fails too and appends keep answering 503; once it works
 * again, appends resume without a restart, and the refused records are not on disk (a retry with the same
 * readIds stores them once).
 *
 * Recovery: records are read until the end. A record that runs past the end of the file, or fails its
 * CRC with no valid record after it, is a torn tail (a crash mid-write): the file is truncated there.
 * A CRC failure followed by a valid record is corruption in the middle: it is reported with the file
 * and offset, the damaged bytes are skipped (resynchronising on the next record whose CRC checks), and
 * the file is left as it is for inspection.
 */
import { open as openFile, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c } from './crc32c.js';
import { ensureDir, fsyncDir } from './durable-fs.js';
import { storeFs, type StoreFile } from './fs.js';
import { CorruptFile, StorageUnavailable } from '../errors.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { dayEpoch } from '../crypto/key-names.js';
import { LaneReader, LaneWriter, packBlock, unpackBlock, type KeyOpener } from '../crypto/log-lanes.js';
import { aesGcm, type Cipher } from '../crypto/cipher.js';

export const kWalVersion = 2;
/** Plaintext logs written before encryption at rest: read (and migrated), never written. */
export const kWalPlainVersion = 1;
const kMagic = Uint8Array.from([0x50, 0x53, 0x57, 0x41, 0x4c, 0x00, kWalVersion, 0x0a]); // "PSWAL\0" v \n

/** What a log encrypts with: the tenant's day keys. */
export interface WalCipher {
  keys: DataKeys;
  tenant: string;
}
export const kWalHeaderBytes = kMagic.length;
/** Largest payload a record may carry; bigger lengths are treated as damage, not allocated. */
export const kMaxRecordBytes = 1 << 30;

export function walFileName(generation: number): string {
  return generation.toString(16).padStart(16, '0') + '.wal';
}

/** Generation of a WAL file name, or undefined if the name is not one. */
export function walGeneration(name: string): number | undefined {
  const m = /^([0-9a-f]{16})\.wal$/.exec(name);
  return m ? parseInt(m[1]!, 16) : undefined;
}

/** The 8-byte header (length, CRC) of a record carrying `payload`: the writer writes it and the payload with one writev, no copy. */
export function frameHeader(payload: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32c(payload, crc32c(head.subarray(0, 4))), 4);
  return head;
}

/** Frames one payload as a record, in one buffer (tests and tools). */
export function frameRecord(payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(payload), payload]);
}

/** A log's record payloads in file order, and its version: what forEachWalPayload opens. */
export interface WalRecords {
  file: string;
  records: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** kWalVersion (lane records) or kWalPlainVersion (plain payloads). */
  version?: number;
}

export interface WalScan extends WalRecords {
  file: string;
  /** Payloads of the valid records, in file order. */
  records: Uint8Array[];
  /** Byte offset where the valid log ends (the file is truncated here if `tornTail`). */
  goodEnd: number;
  tornTail: boolean;
  /** Offsets of damaged regions in the middle of the file. */
  corruptAt: number[];
  /** The header was missing or of an unknown version: nothing was read. */
  badHeader?: 'corrupt' | 'version';
  /** kWalVersion (lane records) or kWalPlainVersion (plain payloads). */
  version?: number;
}

function recordAt(buf: Uint8Array, dv: DataView, off: number): number {
  // returns the record's end offset if a valid record starts at `off`, else -1
  if (off + 8 > buf.length) return -1;
  const len = dv.getUint32(off, true);
  if (len > kMaxRecordBytes || off + 8 + len > buf.length) return -1;
  const crc = crc32c(buf.subarray(off + 8, off + 8 + len), crc32c(buf.subarray(off, off + 4)));
  return crc === dv.getUint32(off + 4, true) ? off + 8 + len : -1;
}

/** Parses a WAL file's bytes; pure (no I/O), so tests can feed it damaged buffers. */
export function scanWal(file: string, buf: Uint8Array): WalScan {
  const out: WalScan = { file, records: [], goodEnd: 0, tornTail: false, corruptAt: [] };
  if (buf.length < kWalHeaderBytes) {
    // a crash while creating the file: nothing was ever acknowledged in it
    out.tornTail = buf.length > 0;
    return out;
  }
  for (let i = 0; i < kWalHeaderBytes; i++) {
    if (i === 6) continue;
    if (buf[i] !== kMagic[i]) {
      out.badHeader = 'corrupt';
      return out;
    }
  }
  if (buf[6] !== kWalVersion && buf[6] !== kWalPlainVersion) {
    out.badHeader = 'version';
    return out;
  }
  out.version = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = kWalHeaderBytes;
  out.goodEnd = off;
  while (off < buf.length) {
    const end = recordAt(buf, dv, off);
    if (end >= 0) {
      out.records.push(buf.subarray(off + 8, end));
      off = end;
      out.goodEnd = off;
      continue;
    }
    // damaged or torn: is there a valid record anywhere after this point?
    let next = -1;
    for (let p = off + 1; p + 8 <= buf.length; p++) {
      if (recordAt(buf, dv, p) >= 0) {
        next = p;
        break;
      }
    }
    if (next < 0) {
      out.tornTail = true;
      break;
    }
    out.corruptAt.push(off);
    off = next;
  }
  return out;
}

/** Bytes a streamed log is read by (streamWal); a longer record gets a window of its own size. */
const kStreamWindowBytes = 1 << 20;

/**
 * A whole, undamaged log's records, read in order a window at a time: the seal job's reader (issue 11,
 * bounded memory). Its files are logs this process wrote and rotated — torn tails were cut when they were
 * opened, and a log found damaged is never handed to the worker — so it holds a window and one record,
 * never the file (a 1M-row log is ~70 MiB). Unlike scanWal it does not resynchronise: at the first thing a
 * whole log does not have (a bad header, a record failing its CRC or running past the end) it throws
 * (PS_CORRUPT_FILE), the job fails, and the engine seals from its live rows instead. A record handed out
 * is a view of the window, valid until the next one is asked for: readers decode it before that.
 */
export async function streamWal(file: string): Promise<WalRecords> {
  const fh = await openFile(file, 'r');
  let version: number;
  try {
    const head = Buffer.alloc(kWalHeaderBytes);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const magic = bytesRead === head.length && kMagic.every((b, i) => i === 6 || head[i] === b);
    version = head[6]!;
    if (!magic || (version !== kWalVersion && version !== kWalPlainVersion)) throw CorruptFile(`${file}: not a whole log (header)`, { file });
  } catch (err) {
    await fh.close();
    throw err;
  }
  async function* records(): AsyncGenerator<Uint8Array> {
    try {
      let buf = Buffer.allocUnsafe(kStreamWindowBytes);
      let lo = 0, hi = 0; // unread bytes: buf[lo, hi), which end at file offset `pos`
      let pos = kWalHeaderBytes;
      let eof = false;
      const have = async (need: number): Promise<boolean> => {
        if (lo + need > buf.length) {
          const into = need > buf.length ? Buffer.allocUnsafe(need) : buf;
          buf.copy(into, 0, lo, hi);
          hi -= lo;
          lo = 0;
          buf = into;
        }
        while (hi - lo < need && !eof) {
          const { bytesRead } = await fh.read(buf, hi, buf.length - hi, pos);
          if (bytesRead === 0) eof = true;
          hi += bytesRead;
          pos += bytesRead;
        }
        return hi - lo >= need;
      };
      for (;;) {
        if (!(await have(8))) {
          if (hi > lo) throw CorruptFile(`${file}: a record runs past the end`, { file });
          return;
        }
        const len = buf.readUInt32LE(lo);
        if (len > kMaxRecordBytes || !(await have(8 + len))) throw CorruptFile(`${file}: a record runs past the end`, { file });
        const payload = buf.subarray(lo + 8, lo + 8 + len);
        if (crc32c(payload, crc32c(buf.subarray(lo, lo + 4))) !== buf.readUInt32LE(lo + 4)) throw CorruptFile(`${file}: a record fails its checksum at ${pos - (hi - lo)}`, { file });
        lo += 8 + len;
        yield payload;
      }
    } finally {
      await fh.close();
    }
  }
  return { file, version, records: records() };
}

/** Reads a WAL file, truncating a torn tail durably. */
export async function recoverWal(file: string): Promise<WalScan> {
  const buf = await readFile(file);
  const scan = scanWal(file, buf);
  if (scan.tornTail && !scan.badHeader) {
    const fh = await storeFs().open(file, 'r+');
    try {
      await fh.truncate(scan.goodEnd);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  return scan;
}

type Pending =
  | { kind: 'record'; payload: Uint8Array | undefined; day: number; onDurable?: () => void; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'rotate'; generation: number; onRotated?: () => void; resolve: () => void; reject: (e: unknown) => void };

/**
 * An open WAL with group commit. One writer loop per log; `append` never writes by itself.
 */
export class WalWriter {
  readonly dir: string;
  private fh: StoreFile;
  private gen: number;
  private queue: Pending[] = [];
  private running = false;
  private failure: unknown;
  private closed = false;
  /** Bytes of the current file known durable: the next group is written here. */
  private durableEnd = kWalHeaderBytes;
  /** fsyncs done so far (for tests and metrics: group commit means fewer syncs than appends). */
  syncs = 0;
  /** This file's lanes (one data key per day); a new file starts new lanes. */
  private lanes: LaneWriter;

  private constructor(dir: string, fh: StoreFile, generation: number, private readonly cipher: WalCipher) {
    this.dir = dir;
    this.fh = fh;
    this.gen = generation;
    this.lanes = new LaneWriter(cipher.keys);
  }

  /** Creates a fresh log file `generation` in `dir` (durably: header fsync'd, directory fsync'd). */
  static async create(dir: string, generation: number, cipher: WalCipher): Promise<WalWriter> {
    await ensureDir(dir);
    const fh = await WalWriter.newFile(dir, generation);
    return new WalWriter(dir, fh, generation, cipher);
  }

  private static async newFile(dir: string, generation: number): Promise<StoreFile> {
    const file = path.join(dir, walFileName(generation));
    const fh = await storeFs().open(file, 'wx');
    try {
      // at the file offset, so later writev calls follow it
      for (let off = 0; off < kMagic.length; ) {
        const n = await fh.write(kMagic, off, kMagic.length - off);
        if (!(n > 0)) throw Object.assign(new Error(`short write: 0 bytes written to ${file}`), { code: 'EIO' });
        off += n;
      }
      await fh.sync();
      await fsyncDir(dir);
    } catch (err) {
      await fh.close().catch(() => undefined);
      // nothing was ever acknowledged in it: remove it, so that a retry can create this generation again
      await storeFs().unlink(file).catch(() => undefined);
      throw err;
    }
    return fh;
  }

  get generation(): number {
    return this.gen;
  }

  /**
   * Queues one record. Resolves once it is fsync'd; `onDurable` runs synchronously at that moment, in log
   * order, before any later record's callback (the engine makes rows visible there). `day` (UTC days since
   * the epoch) is the day of every read in the payload: it picks the lane, so the day's key.
   */
  append(payload: Uint8Array, day: number, onDurable?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(StorageUnavailable('The log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'record', payload, day, onDurable, resolve, reject });
      this.kick();
    });
  }

  /**
   * Switches to a new file `generation` once everything queued before is durable. Records queued after
   * the call go to the new file. The old file stays (the caller deletes it when its rows are sealed).
   * `onRotated` runs synchronously at the switch, when exactly the old files' rows are visible.
   */
  rotate(generation: number, onRotated?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(StorageUnavailable('The log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'rotate', generation, onRotated, resolve, reject });
      this.kick();
    });
  }

  /** Waits for everything queued, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.queue.push({ kind: 'record', payload: undefined, day: 0, resolve, reject: () => resolve() });
      this.kick();
    });
    this.closed = true;
    await this.fh.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // let the current tick's appends join this group
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (this.failure !== undefined) {
          try {
            await this.heal();
          } catch (err) {
            this.fail(err, []);
            continue;
          }
        }
        if (head.kind === 'rotate') {
          this.queue.shift();
          try {
            const fh = await WalWriter.newFile(this.dir, head.generation);
            await this.fh.close();
            this.fh = fh;
            this.gen = head.generation;
            this.durableEnd = kWalHeaderBytes;
            this.lanes = new LaneWriter(this.cipher.keys);
            head.onRotated?.();
            head.resolve();
          } catch (err) {
            this.fail(err, [head]);
          }
          continue;
        }
        let n = 0;
        while (n < this.queue.length && this.queue[n]!.kind === 'record') n++;
        const group = this.queue.splice(0, n) as Extract<Pending, { kind: 'record' }>[];
        try {
          const frames = await this.encryptGroup(group);
          if (frames.length > 0) {
            // at explicit positions from the durable end, so that healing can cut a failed group off exactly
            let bufs = frames;
            let at = this.durableEnd;
            while (bufs.length > 0) {
              const bytesWritten = await this.fh.writev(bufs, at);
              if (!(bytesWritten > 0)) throw Object.assign(new Error('short write: 0 bytes written to the log'), { code: 'EIO' });
              bufs = advance(bufs, bytesWritten);
              at += bytesWritten;
            }
            await this.fh.datasync();
            this.durableEnd = at;
            this.syncs++;
            this.lanes.durable();
          }
        } catch (err) {
          this.lanes.failed();
          this.fail(err, group);
          continue;
        }
        for (const g of group) g.onDurable?.();
        for (const g of group) g.resolve();
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.kick();
    }
  }

  /** The group's records as framed lane records (header, payload, …): one encrypted block per day, in first-appearance order. */
  private async encryptGroup(group: ReadonlyArray<Extract<Pending, { kind: 'record' }>>): Promise<Buffer[]> {
    const byDay = new Map<number, Uint8Array[]>();
    for (const g of group) {
      if (!g.payload) continue;
      let list = byDay.get(g.day);
      if (!list) byDay.set(g.day, (list = []));
      list.push(g.payload);
    }
    const frames: Buffer[] = [];
    for (const [day, payloads] of byDay) {
      const epoch = dayEpoch(this.cipher.tenant, day);
      for (const rec of await this.lanes.encode(`d${day}`, [epoch], packBlock(payloads))) frames.push(frameHeader(rec), rec);
    }
    return frames;
  }

  /** Cuts the file back to its durable end and syncs the cut; throws while the disk still fails. */
  private async heal(): Promise<void> {
    await this.fh.truncate(this.durableEnd);
    await this.fh.datasync();
    this.failure = undefined;
  }

  private fail(err: unknown, group: Pending[]): void {
    this.failure ??= err;
    const e = StorageUnavailable('The write-ahead log could not be written durably', { cause: String(err) });
    for (const g of group) g.reject(e);
    for (const g of this.queue.splice(0)) g.reject(e);
  }
}

function advance(bufs: Buffer[], written: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (written >= b.length) {
      written -= b.length;
      continue;
    }
    out.push(written > 0 ? b.subarray(written) : b);
    written = 0;
  }
  return out;
}

/** Sizes of WAL files, for stats. */
export async function walBytes(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** What the valid records of a scanned log hold, opened. */
export interface WalContents {
  /** Record payloads (wal-record.ts), in file order. */
  payloads: Uint8Array[];
  /** Blocks whose day key was destroyed (shredded by retention or purge): their reads are gone by design. */
  shredded: number;
  /** Records that passed their CRC but do not open (damage): reported, never returned. */
  corrupt: string[];
}

/**
 * Opens the records of a scanned log one block at a time (plaintext version 1 files as they are), handing
 * each record payload to `onPayload` in file order before the next block is decrypted: a reader that
 * decodes as it goes (replay, the seal job) holds one block's plaintext, not a second copy of the log.
 */
export async function forEachWalPayload(scan: WalRecords, open: KeyOpener, cipher: Cipher, onPayload: (payload: Uint8Array) => void): Promise<Omit<WalContents, 'payloads'>> {
  const out = { shredded: 0, corrupt: [] as string[] };
  if (scan.version === kWalPlainVersion) {
    for await (const rec of scan.records) onPayload(rec);
    return out;
  }
  const reader = new LaneReader(open, cipher);
  for await (const rec of scan.records) {
    const r = await reader.read(rec);
    if (r.kind === 'block') {
      const inner = unpackBlock(r.plain);
      if (inner) for (const payload of inner) onPayload(payload);
      else out.corrupt.push(`a block of ${scan.file} holds malformed records`);
    } else if (r.kind === 'shredded') out.shredded++;
    else if (r.kind === 'corrupt') out.corrupt.push(`${scan.file}: ${r.reason}`);
  }
  return out;
}

/** Opens the records of a scanned log, every payload at once (tests and tools; readers decode as they go). */
export async function openWalRecords(scan: WalScan, open: KeyOpener, cipher: Cipher = aesGcm): Promise<WalContents> {
  const payloads: Uint8Array[] = [];
  const r = await forEachWalPayload(scan, open, cipher, (p) => void payloads.push(p));
  return { payloads, ...r };
}
