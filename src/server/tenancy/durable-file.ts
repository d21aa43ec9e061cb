/**
 * Durable replacement of small control files, and an inter-process lock for read-modify-write.
 *
 * Writes go to a temp file in the same directory, which is fsync'd, renamed over the target, and the
 * directory is fsync'd, so after a crash a reader sees either the old or the new file, never a mix.
 */
import { closeSync, fsyncSync, openSync, constants as fsc } from 'node:fs';
import { open, readFile, rename, unlink, mkdir, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { pidAlive } from './pid-lock.js';

/** fsync of a directory, so a rename or a new file in it survives a crash. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, fsc.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `data` atomically and durably (temp + fsync + rename + fsync dir). */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  fsyncDirSync(dir);
}

// A lock is held for milliseconds (one read-modify-write of a small file); one older than this was
// left by a process that died holding it.
const kStaleLockMs = 10_000;
const kLockWaitMs = 10_000;

/**
 * Runs `fn` while holding the lock file `lockPath` (created with O_EXCL, holding `pid timestamp`).
 * Every writer of the guarded file, in any process, goes through here; readers do not need it
 * because writes are atomic renames. A lock whose owner is dead, or that is older than
 * kStaleLockMs, is broken.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + kLockWaitMs;
  let delay = 2;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      await fh.writeFile(`${process.pid} ${Date.now()}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockPath)) {
        await unlink(lockPath).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockPath}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => {});
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const pid = Number(text.split(' ')[0]);
    if (text.includes('\n') && !pidAlive(pid)) return true;
    return Date.now() - st.mtimeMs > kStaleLockMs;
  } catch {
    return false; // vanished between our attempts: just retry
  }
}
