/**
 * Durable file primitives. Durability means fsync: of the file for its bytes, and of the directory for
 * the name (a created, renamed or deleted entry is only durable once its directory is synced).
 */
import * as path from 'node:path';
import { storeFs } from './fs.js';

/** fsyncs a directory so that entries created, renamed or removed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  await storeFs().syncDir(dir);
}

/** Creates `dir` (and parents) and makes the new entries durable. */
export async function ensureDir(dir: string): Promise<void> {
  const made = await storeFs().mkdir(dir);
  if (made !== undefined) {
    // fsync every directory from the first one created up to the parent of that one
    let d = dir;
    const stop = path.dirname(made);
    while (d !== stop && d !== path.dirname(d)) {
      await fsyncDir(path.dirname(d));
      d = path.dirname(d);
    }
  }
}

/**
 * Writes `file` atomically: the bytes go to `tmp` (default `file.tmp-<pid>`, in the same directory), which
 * is fsync'd, renamed over `file`, and the directory fsync'd. A crash leaves either the old file or the new
 * one, never a mix.
 */
export async function writeFileAtomic(file: string, chunks: readonly Uint8Array[] | Uint8Array, tmp = `${file}.tmp-${process.pid}`): Promise<void> {
  const fs = storeFs();
  const fh = await fs.open(tmp, 'w');
  try {
    try {
      const list = chunks instanceof Uint8Array ? [chunks] : chunks;
      for (const c of list) {
        let off = 0;
        while (off < c.length) {
          const bytesWritten = await fh.write(c, off, c.length - off);
          if (!(bytesWritten > 0)) throw Object.assign(new Error(`short write: 0 bytes written to ${tmp}`), { code: 'EIO' });
          off += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // the temp file goes now if the disk lets it (else the next open's recovery removes it)
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fs.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** Removes files (missing ones are fine) and fsyncs their directory once. */
export async function unlinkDurable(dir: string, files: readonly string[]): Promise<void> {
  if (files.length === 0) return;
  for (const f of files) {
    try {
      await storeFs().unlink(path.join(dir, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await fsyncDir(dir);
}
