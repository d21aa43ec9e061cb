/**
 * A write-once buffer for a streamed answer whose audit record must state its size before the first byte
 * is sent (API.md: `resultCount` = rows for exports, and the record is written before the answer). The
 * export is formatted into the spool first, counting rows, then streamed out of it. Small exports stay in
 * memory; beyond kSpoolMemoryBytes the spool moves to an unlinked-on-finish temp file under `D/tmp/`.
 *
 * The temp file is encrypted (the export holds plates and cameras): AES-256-GCM under a key made for this
 * spool and held only in memory, never wrapped or stored, so the file is unreadable once the process is
 * gone (a crash leaves ciphertext no key opens; start-up deletes it). Frames: len:u32 LE ‖ ciphertext ‖
 * tag, nonce = counterNonce(0, frame index).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { counterNonce, kTagBytes, newDataKey } from '../../crypto/aead.js';
import { aesGcm, type Cipher } from '../../crypto/cipher.js';

// beyond this the export is spooled to disk: keeps a server's memory bounded under concurrent exports
const kSpoolMemoryBytes = 16 << 20;
// chunk size of reading the spool back: large writes, bounded memory
const kReadChunk = 1 << 20;

export const kSpoolPrefix = 'export-spool-';

export class Spool {
  private chunks: Buffer[] = [];
  private memBytes = 0;
  private file: FileHandle | undefined;
  private path: string | undefined;
  private fileBytes = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private draining = false;
  /** The file's key (memory only) and the next frame's counter. */
  private readonly key = newDataKey();
  private frames = 0;

  /** `cipher`: the data keys' (AES-256-GCM; src/crypto/cipher.ts). */
  constructor(private readonly tmpDir: string, private readonly cipher: Cipher = aesGcm) {}

  /** Removes spool files left by a crash. */
  static async sweep(tmpDir: string): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(tmpDir);
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => n.startsWith(kSpoolPrefix)).map((n) => unlink(join(tmpDir, n)).catch(() => {})));
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= 64 * 1024) await this.drainPending();
  }

  /** Appends bytes (a binary format: Parquet), after any text written before them. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    await this.drainPending();
    await this.store(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  private async drainPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    await this.store(buf);
  }

  /** Keeps `buf` in memory while the spool is small, else appends it to the spool file. */
  private async store(buf: Buffer): Promise<void> {
    if (!this.file && this.memBytes + buf.length <= kSpoolMemoryBytes) {
      this.chunks.push(buf);
      this.memBytes += buf.length;
      return;
    }
    if (!this.file) {
      await mkdir(this.tmpDir, { recursive: true });
      this.path = join(this.tmpDir, `${kSpoolPrefix}${process.pid}-${randomBytes(6).toString('hex')}`);
      this.file = await open(this.path, 'wx+', 0o600);
      for (const c of this.chunks) await this.appendToFile(c);
      this.chunks = [];
      this.memBytes = 0;
    }
    await this.appendToFile(buf);
  }

  private async appendToFile(plain: Buffer): Promise<void> {
    const sealed = this.cipher.seal(this.key, counterNonce(0, this.frames++), plain);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(plain.length, 0);
    const buf = Buffer.concat([len, sealed]);
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.file!.write(buf, done, buf.length - done, this.fileBytes + done);
      done += bytesWritten;
    }
    this.fileBytes += buf.length;
  }

  /** Ends writing. */
  async finish(): Promise<void> {
    await this.drainPending();
  }

  /**
   * Discards the spool after `ms` unless draining has begun (an answer that was never streamed, e.g. when
   * its audit record failed and the pipeline answered 503 instead).
   */
  expireUnlessDrained(ms: number): void {
    setTimeout(() => {
      if (!this.draining) void this.discard();
    }, ms).unref();
  }

  /** The spooled bytes in order, in chunks; then the spool is gone. */
  async *drain(): AsyncGenerator<Buffer> {
    this.draining = true;
    try {
      if (!this.file) {
        for (const c of this.chunks) yield c;
        return;
      }
      const lenBuf = Buffer.alloc(4);
      let frame = 0;
      for (let pos = 0; pos < this.fileBytes; frame++) {
        await this.readExactly(lenBuf, pos);
        const len = lenBuf.readUInt32LE(0);
        const sealed = Buffer.allocUnsafe(len + kTagBytes);
        await this.readExactly(sealed, pos + 4);
        pos += 4 + sealed.length;
        const plain = this.cipher.open(this.key, counterNonce(0, frame), sealed);
        if (!plain) throw new Error(`export spool ${this.path}: frame ${frame} does not authenticate`);
        for (let off = 0; off < plain.length; off += kReadChunk) yield plain.subarray(off, Math.min(plain.length, off + kReadChunk));
      }
    } finally {
      await this.discard();
    }
  }

  private async readExactly(buf: Buffer, pos: number): Promise<void> {
    for (let off = 0; off < buf.length; ) {
      const { bytesRead } = await this.file!.read(buf, off, buf.length - off, pos + off);
      if (bytesRead <= 0) throw new Error(`export spool ${this.path} is shorter than written`);
      off += bytesRead;
    }
  }

  /** Frees memory and deletes the temp file (idempotent). */
  async discard(): Promise<void> {
    this.chunks = [];
    this.pending = [];
    const file = this.file;
    const path = this.path;
    this.file = undefined;
    this.path = undefined;
    if (file) await file.close().catch(() => {});
    if (path) await unlink(path).catch(() => {});
  }
}
