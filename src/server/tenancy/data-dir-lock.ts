/**
 * Who owns a data dir's engine: `D/control/engine.lock` holds `<pid> <owner>` of the one process that has the
 * engine open for writing, a server or a bulk `platesearch ingest`/`export`. Two engines on one dir would
 * each recover and append to the same logs, so a second owner is refused with a clear message. A lock
 * whose process is gone (kill -9) is taken over.
 *
 * The directory (`control/directory.json`) is not covered: it has its own lock and may change under a
 * running server (`token create`/`revoke`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StorageUnavailable } from '../../errors.js';
import { fsyncDirSync } from './durable-file.js';
import { pidLockHolder, takePidLock, type PidLock, type PidLockHolder } from './pid-lock.js';

export type DataDirLock = PidLock;

export function engineLockPath(dataDir: string): string {
  return join(dataDir, 'control', 'engine.lock');
}

/** The live owner of the lock, if any. */
export function engineLockOwner(dataDir: string): PidLockHolder | undefined {
  return pidLockHolder(engineLockPath(dataDir));
}

/**
 * Takes the engine lock for `owner` (e.g. "server", "ingest"), or throws StorageUnavailable naming the
 * process that holds it. The same process may take it again (in-process restarts).
 */
export function acquireEngineLock(dataDir: string, owner: string): DataDirLock {
  const path = engineLockPath(dataDir);
  const control = join(dataDir, 'control');
  mkdirSync(control, { recursive: true });
  const taken = takePidLock(path, owner, { reentrant: true, afterCreate: () => fsyncDirSync(control) });
  if ('lock' in taken) return taken.lock;
  const { holder } = taken;
  if (!holder) throw StorageUnavailable(`could not take the lock ${path}`);
  throw StorageUnavailable(
    `data dir ${dataDir} is in use by ${holder.owner || 'another process'} (pid ${holder.pid}); ` +
      (owner === 'server' ? 'stop it first' : 'use the server\'s HTTP API, or stop the server first'),
  );
}
