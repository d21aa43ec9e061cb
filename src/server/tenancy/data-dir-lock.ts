/**
 * Who owns a data dir's engine: `D/control/engine.lock` holds `<pid> <owner>` of the one process that has the
 * engine open for writing, a server or a bulk `platesearch ingest`/`export`. Two engines on one dir would
 * each recover and append to the same logs, so a second owner is refused with a clear message. A lock
 * whose process is gone (kill -9) is taken over.
 *
 * The directory (`control/directory.json`) is not covered: it has its own lock and may change under a
 * running server (`token create`/`revoke`).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StorageUnavailable } from '../../errors.js';
import { fsyncDirSync } from './durable-file.js';

export interface DataDirLock {
  release(): void;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function engineLockPath(dataDir: string): string {
  return join(dataDir, 'control', 'engine.lock');
}

/** The live owner of the lock, if any. */
export function engineLockOwner(dataDir: string): { pid: number; owner: string } | undefined {
  try {
    const [pid, ...rest] = readFileSync(engineLockPath(dataDir), 'utf8').trim().split(' ');
    const n = Number(pid);
    return pidAlive(n) ? { pid: n, owner: rest.join(' ') } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the engine lock for `owner` (e.g. "server", "ingest"), or throws StorageUnavailable naming the
 * process that holds it. The same process may take it again (in-process restarts).
 */
export function acquireEngineLock(dataDir: string, owner: string): DataDirLock {
  const path = engineLockPath(dataDir);
  mkdirSync(join(dataDir, 'control'), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid} ${owner}\n`);
      } finally {
        closeSync(fd);
      }
      fsyncDirSync(join(dataDir, 'control'));
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            const [pid] = readFileSync(path, 'utf8').split(' ');
            if (Number(pid) === process.pid) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = engineLockOwner(dataDir);
      if (holder && holder.pid !== process.pid) {
        throw StorageUnavailable(
          `data dir ${dataDir} is in use by ${holder.owner || 'another process'} (pid ${holder.pid}); ` +
            (owner === 'server' ? 'stop it first' : 'use the server\'s HTTP API, or stop the server first'),
        );
      }
      try {
        unlinkSync(path); // stale (owner gone) or our own: take it over
      } catch {
        // raced with another taker; retry
      }
    }
  }
  throw StorageUnavailable(`could not take the lock ${path}`);
}
