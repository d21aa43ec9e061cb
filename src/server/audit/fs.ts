/**
 * The file-system seam of the audit trail: every call the writer makes to the disk goes through
 * `AuditFs`, so a reliability test can inject ENOSPC, EIO or short writes and check that the trail fails
 * closed (no durable record, no answer) and recovers once the disk is healthy again.
 */
import { constants as fsc, openSync, fsyncSync, closeSync } from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface AuditFile {
  /**
   * Every completed write is already durable (the file is open with O_DSYNC), so a sync after writes
   * would only cost a round trip to the thread pool (~35 µs of each audited request's latency). A sync is
   * still needed after `truncate`.
   */
  readonly durableWrites?: boolean;
  /**
   * The file's descriptor, when it is a plain one the audit writer's thread may write through (writer.ts);
   * undefined for a wrapper (a test's fault injection), whose writes must go through its methods.
   */
  readonly fd?: number;
  /** Writes `buf` at `position`; may write fewer bytes than asked (the caller loops). */
  write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Makes everything written so far durable (data and size). */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface AuditFs {
  /** Opens for read and write, creating the file when absent. */
  openReadWrite(path: string): Promise<AuditFile>;
  openRead(path: string): Promise<AuditFile>;
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** Size in bytes, or undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  /** fsync of a directory, so new files in it survive a crash. */
  syncDir(path: string): Promise<void>;
}

class NodeAuditFile implements AuditFile {
  constructor(private readonly fh: fsp.FileHandle, readonly durableWrites = false) {}
  get fd(): number {
    return this.fh.fd;
  }
  async write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.write(buf, offset, length, position)).bytesWritten;
  }
  async read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(buf, offset, length, position)).bytesRead;
  }
  // fdatasync: flushes the data and the metadata needed to read it back (the size of an appended
  // log), skipping timestamps: one journal write fewer per group commit than fsync
  sync(): Promise<void> {
    return this.fh.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** The real disk. */
export const nodeAuditFs: AuditFs = {
  async openReadWrite(path) {
    // O_DSYNC: a write returns once its data (and the size that reads it back) is on stable storage,
    // as write + fdatasync would, in one call
    return new NodeAuditFile(await fsp.open(path, fsc.O_RDWR | fsc.O_CREAT | fsc.O_DSYNC, 0o600), true);
  },
  async openRead(path) {
    return new NodeAuditFile(await fsp.open(path, 'r'));
  },
  async mkdir(path) {
    await fsp.mkdir(path, { recursive: true });
  },
  readdir(path) {
    return fsp.readdir(path);
  },
  async size(path) {
    try {
      return (await fsp.stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async syncDir(path) {
    const fd = openSync(path, fsc.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

/** Writes all of `buf` at `position`, looping over short writes; a write of 0 bytes is an error. */
export async function writeFully(file: AuditFile, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await file.write(buf, done, buf.length - done, position + done);
    if (!(n > 0)) throw Object.assign(new Error('short write: 0 bytes written'), { code: 'EIO' });
    done += n;
  }
}

/** Reads exactly `length` bytes at `position` (fewer only at end of file). */
export async function readFully(file: AuditFile, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = await file.read(buf, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}
