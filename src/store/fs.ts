/**
 * The file-system seam of the store: every call the write-ahead log (src/store/wal.ts) and the durable
 * file primitives behind shards and manifests (src/store/durable-fs.ts) make to change the disk goes
 * through `storeFs()`, so a reliability test can make operation K fail (ENOSPC, EIO, a short or torn
 * write), once or for ever, and check that nothing is acknowledged without durability, that the server
 * answers 503 with a coded error while the disk fails, and that no corrupt state is left behind.
 *
 * Reads stay on node:fs directly: recovery and the shard loader must see the disk as it is (corruption
 * tests damage the files themselves).
 *
 * The seam is per process (per thread: a worker thread has its own module instance and always the real
 * disk). While a non-default file system is installed, sealing runs on the calling thread
 * (`storeFsIsReal()` is false), so the seam also sees the shard writer. Same shape as the audit seam
 * (src/server/audit/fs.ts).
 */
import * as fsp from 'node:fs/promises';
import { constants as fsc } from 'node:fs';

/** An open file of the store. Writes without a position append at the file offset. */
export interface StoreFile {
  /** Writes `length` bytes of `buf` from `offset`; may write fewer (the caller loops). */
  write(buf: Uint8Array, offset: number, length: number): Promise<number>;
  /** Gathers `bufs` in one write at `position` (default: the file offset); may write fewer bytes (the caller loops). */
  writev(bufs: readonly Uint8Array[], position?: number): Promise<number>;
  /** fdatasync: the data and the size. */
  datasync(): Promise<void>;
  /** fsync: data and metadata. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface StoreFs {
  /** `flags` as node:fs takes them: 'wx' (create, must not exist), 'w' (create or truncate), 'r+', 'r'. */
  open(path: string, flags: 'wx' | 'w' | 'r+' | 'r'): Promise<StoreFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; ENOENT is the caller's to ignore. */
  unlink(path: string): Promise<void>;
  /** mkdir -p; resolves to the first directory created, or undefined when all existed. */
  mkdir(path: string): Promise<string | undefined>;
  /** fsync of a directory, so that entries created, renamed or removed in it survive a crash. */
  syncDir(path: string): Promise<void>;
}

class NodeStoreFile implements StoreFile {
  constructor(private readonly fh: fsp.FileHandle) {}
  async write(buf: Uint8Array, offset: number, length: number): Promise<number> {
    return (await this.fh.write(buf, offset, length)).bytesWritten;
  }
  async writev(bufs: readonly Uint8Array[], position?: number): Promise<number> {
    return (await this.fh.writev(bufs as Uint8Array[], position)).bytesWritten;
  }
  datasync(): Promise<void> {
    return this.fh.datasync();
  }
  sync(): Promise<void> {
    return this.fh.sync();
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** The real disk. */
export const nodeStoreFs: StoreFs = {
  async open(path, flags) {
    return new NodeStoreFile(await fsp.open(path, flags));
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mkdir: (path) => fsp.mkdir(path, { recursive: true }),
  async syncDir(path) {
    const fh = await fsp.open(path, fsc.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

let current: StoreFs = nodeStoreFs;

/** The file system the store writes through now. */
export function storeFs(): StoreFs {
  return current;
}

/** False while a test's file system is installed: sealing then stays on this thread, under the seam. */
export function storeFsIsReal(): boolean {
  return current === nodeStoreFs;
}

/** Installs `fs` for every later store write of this process; returns a function that restores the previous one. */
export function setStoreFs(fs: StoreFs): () => void {
  const previous = current;
  current = fs;
  return () => {
    current = previous;
  };
}
