/**
 * The object store (src/store/object-store.ts) on a local directory: an object is a file named by its key
 * under the root (a key's `/` segments are subdirectories).
 *
 * put      bytes to a hidden temp file `.<name>.tmp-<pid>-<thread>-<n>` beside the object, fsync, rename
 *          onto the name, fsync of the directory (src/store/durable-fs.ts); a crash leaves the old state or
 *          the new object, and at worst a hidden temp file that `recover` removes at the next open.
 * get      one read of the file's size; getRange a positioned read, straight into the caller's buffer.
 * list     the names under the root, hidden names (temp files) left out.
 * delete   unlink, then one fsync of each directory touched.
 *
 * Writes go through the store's file-system seam (src/store/fs.ts), so fault-injection tests see them;
 * reads use node:fs directly, as the rest of the store's reads do (corruption tests damage the files).
 */
import { open, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { ensureDir, fsyncDir, writeFileAtomic } from './durable-fs.js';
import { storeFs } from './fs.js';
import { checkObjectKey, objectNotFound, type ObjectStore, type ObjectStoreSpec } from './object-store.js';

const kTempMark = '.tmp-';
let tempCounter = 0;

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export class LocalObjectStore implements ObjectStore {
  readonly spec: ObjectStoreSpec;
  private readonly root: string;
  /** Directories known to exist (made durable once per store). */
  private readonly madeDirs = new Set<string>();

  constructor(root: string) {
    this.root = path.resolve(root);
    this.spec = { kind: 'local', root: this.root };
  }

  private pathOf(key: string): string {
    checkObjectKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  locate(key: string): string {
    return this.pathOf(key);
  }

  async put(key: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      await ensureDir(dir);
      this.madeDirs.add(dir);
    }
    const tmp = path.join(dir, `.${path.basename(file)}${kTempMark}${process.pid}-${threadId}-${++tempCounter}`);
    await writeFileAtomic(file, bytes, tmp);
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.pathOf(key);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isEnoent(err)) throw objectNotFound(file);
      throw err;
    }
    try {
      // one read of the whole size (readFile reads 512 KiB a trip through the thread pool: a data dir's
      // open read its shards ~18 trips each at 20M reads), into a buffer of its own (transferable)
      const size = (await fh.stat()).size;
      const out = Buffer.allocUnsafeSlow(size);
      let done = 0;
      while (done < size) {
        const { bytesRead } = await fh.read(out, done, size - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === size ? out : out.subarray(0, done);
    } finally {
      await fh.close();
    }
  }

  async getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const file = this.pathOf(key);
    if (into && into.length < length) throw new RangeError(`getRange: the target holds ${into.length} bytes, ${length} asked`);
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isEnoent(err)) throw objectNotFound(file);
      throw err;
    }
    try {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw Object.assign(new Error(`object shorter than ${offset + length} bytes: ${file}`), { code: 'ERANGE' });
        }
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
    return out;
  }

  async head(key: string): Promise<number | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if (isEnoent(err)) return undefined;
      throw err;
    }
  }

  async list(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, keyPrefix: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isEnoent(err)) return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temp files of puts in flight or interrupted
        const key = keyPrefix + e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), key + '/');
        else if (e.isFile() && key.startsWith(prefix)) out.push(key);
      }
    };
    await walk(this.root, '');
    return out;
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = this.pathOf(key);
      try {
        await storeFs().unlink(file);
      } catch (err) {
        if (!isEnoent(err)) throw err;
      }
      dirs.add(path.dirname(file));
    }
    for (const d of dirs) {
      try {
        await fsyncDir(d);
      } catch (err) {
        if (!isEnoent(err)) throw err; // nothing was there to delete
      }
    }
  }

  async recover(): Promise<void> {
    const sweep = async (dir: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isEnoent(err)) return;
        throw err;
      }
      const temps = entries.filter((e) => e.isFile() && e.name.startsWith('.') && e.name.includes(kTempMark));
      for (const e of temps) {
        try {
          await storeFs().unlink(path.join(dir, e.name));
        } catch (err) {
          if (!isEnoent(err)) throw err;
        }
      }
      if (temps.length > 0) await fsyncDir(dir);
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) await sweep(path.join(dir, e.name));
    };
    await sweep(this.root);
  }
}

/** Opens the store a spec describes (on any thread). Local directories are the only kind today. */
export function openObjectStore(spec: ObjectStoreSpec): ObjectStore {
  if (spec.kind === 'local') return new LocalObjectStore(spec.root);
  throw new RangeError(`unknown object store kind: ${String((spec as { kind: unknown }).kind)}`);
}
