/**
 * A lock file naming the process that holds it: `<pid> <owner>\n`. Used for the data dir's engine lock
 * (data-dir-lock.ts) and the audit logs' writer lock (audit/inbox.ts). A lock whose process is gone (kill -9)
 * is taken over.
 *
 * The file appears with its holder already in it: written aside, then hard-linked into place (link fails
 * with EEXIST when the lock is held, like O_EXCL). Created empty and written after, a new lock could be read
 * by a second taker in between, look abandoned (no live pid), and be taken over: two holders.
 */
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export interface PidLock {
  /** Removes the lock if this process still holds it; idempotent. */
  release(): void;
}

export interface PidLockHolder {
  pid: number;
  owner: string;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of the lock at `path`, if any. */
export function pidLockHolder(path: string): PidLockHolder | undefined {
  try {
    const [pid, ...rest] = readFileSync(path, 'utf8').trim().split(' ');
    const n = Number(pid);
    return pidAlive(n) ? { pid: n, owner: rest.join(' ') } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock at `path` for `owner`, taking over one whose holder is gone. `reentrant`: a lock held by this
 * very process is taken over too (an in-process restart); otherwise it counts as held. `afterCreate` runs once
 * the lock exists (e.g. fsync of its directory). Returns the lock, or the live holder that keeps it.
 */
export function takePidLock(
  path: string, owner: string, options: { reentrant: boolean; afterCreate?: () => void },
): { lock: PidLock } | { holder: PidLockHolder | undefined } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const aside = `${path}.${process.pid}.${attempt}`;
      const fd = openSync(aside, 'w', 0o600);
      try {
        writeSync(fd, `${process.pid} ${owner}\n`);
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(aside, path);
      } finally {
        unlinkSync(aside);
      }
      options.afterCreate?.();
      let released = false;
      return {
        lock: {
          release() {
            if (released) return;
            released = true;
            try {
              if (Number(readFileSync(path, 'utf8').split(' ')[0]) === process.pid) unlinkSync(path);
            } catch {
              // already gone
            }
          },
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = pidLockHolder(path);
      if (holder && !(options.reentrant && holder.pid === process.pid)) return { holder };
      try {
        unlinkSync(path); // its holder is gone (or is this process, when reentrant): take it over
      } catch {
        // raced with another taker; retry
      }
    }
  }
  return { holder: pidLockHolder(path) };
}
