/**
 * Audit records from other processes: how a command-line action on a data dir (`token create`, `token
 * revoke`, `ingest`, `export`, …) reaches the hash-chained logs, also while a server runs on the same dir.
 *
 * The trail (trail.ts) keeps each log's head (seq, hash, length) in memory and appends without re-reading
 * the file, so two processes appending to one log would fork its chain. Hence one writer at a time, named
 * by the writer lock, and an inbox through which every other process hands its records to that writer:
 *
 *   D/audit/writer.lock              "<pid> <owner>\n", created O_EXCL; the server holds it while it runs,
 *                                    a CLI command for the milliseconds of its own append. A lock whose
 *                                    process is gone (kill -9) is taken over.
 *   D/audit/inbox/<ms>-<pid>-<rand>.json
 *                                    {"v":1,"logs":["_system","pd-a"],"fields":{…record without seq/prev/hash}}
 *                                    written durably (temp + fsync + rename + fsync dir) before anyone
 *                                    appends it, so a record handed over is never lost.
 *
 * A CLI command (recordFromProcess): writes its entry, then either takes the lock itself (no server) and
 * drains the whole inbox into the logs, or, while a live server holds the lock, waits until the server has
 * drained it (the server looks every kInboxPollMs). Draining appends the entry to each of its logs, in
 * file-name (= time) order, through the same group-committed, fail-closed trail, and then deletes it.
 *
 * Delivery is at least once: a crash after the append and before the delete appends the entry again at
 * the next drain (same `requestId`, visible as such in the log); never zero times. The chain stays valid
 * either way, and its order is the order in which the writer appended.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditUnavailable, StorageUnavailable } from '../../errors.js';
import { fsyncDirSync, writeFileDurable } from '../tenancy/durable-file.js';
import { pidLockHolder, takePidLock, type PidLockHolder } from '../tenancy/pid-lock.js';
import type { AuditFields } from './record.js';
import type { DataKeys } from '../../crypto/data-keys.js';
import { type AuditTrail, isAuditLogName } from './trail.js';

/** How often a running server looks into the inbox; a CLI command waits about this long for its record. */
export const kInboxPollMs = 100;
/** How long a CLI command waits for a running server to take its record before it gives up (exit 1). */
export const kInboxWaitMs = 15_000;
const kInboxVersion = 1;

export interface InboxEntry {
  v: number;
  /** The logs the record goes to, in order (`_system` first for CLI actions). */
  logs: string[];
  fields: AuditFields;
}

export function inboxDir(dataDir: string): string {
  return join(dataDir, 'audit', 'inbox');
}

function writerLockPath(dataDir: string): string {
  return join(dataDir, 'audit', 'writer.lock');
}

/** The live holder of the writer lock, if any. */
export function auditWriter(dataDir: string): PidLockHolder | undefined {
  return pidLockHolder(writerLockPath(dataDir));
}

export interface AuditWriterLock {
  release(): void;
}

/**
 * Takes the writer lock for `owner`, or returns undefined while a live process holds it (this one too: a
 * server running in this process is then the writer, and a second trail on the same logs would fork them).
 */
export function tryAcquireAuditWriter(dataDir: string, owner: string): AuditWriterLock | undefined {
  mkdirSync(join(dataDir, 'audit'), { recursive: true });
  const taken = takePidLock(writerLockPath(dataDir), owner, { reentrant: false });
  return 'lock' in taken ? taken.lock : undefined;
}

/** Takes the writer lock, waiting up to `waitMs` for a short-lived holder (a CLI append) to finish. */
export async function acquireAuditWriter(dataDir: string, owner: string, waitMs = kInboxWaitMs): Promise<AuditWriterLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lock = tryAcquireAuditWriter(dataDir, owner);
    if (lock) return lock;
    const holder = auditWriter(dataDir);
    // a server holds it for its lifetime: waiting is pointless (a CLI append holds it for milliseconds)
    if (holder?.owner === 'server') {
      throw StorageUnavailable(`data dir ${dataDir} is in use by server (pid ${holder.pid}); stop it first`);
    }
    if (Date.now() > deadline) {
      const h = auditWriter(dataDir);
      throw AuditUnavailable(`the audit logs of ${dataDir} are held by ${h ? `${h.owner} (pid ${h.pid})` : 'another process'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes an entry durably into the inbox; returns its path. */
export async function putInInbox(dataDir: string, logs: readonly string[], fields: AuditFields): Promise<string> {
  const dir = inboxDir(dataDir);
  await mkdir(dir, { recursive: true });
  const name = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${randomBytes(6).toString('hex')}.json`;
  const entry: InboxEntry = { v: kInboxVersion, logs: [...logs], fields };
  const path = join(dir, name);
  await writeFileDurable(path, JSON.stringify(entry) + '\n');
  return path;
}

/**
 * Appends every entry of the inbox to its logs, oldest first, and deletes it. The caller holds the writer
 * lock. An entry that does not parse or names no valid log is moved aside (`.bad`), not lost, not retried
 * forever. Returns how many entries were appended. If a log cannot be written, stops and rethrows (the
 * entry stays for the next drain).
 */
export async function drainInbox(dataDir: string, trail: AuditTrail): Promise<number> {
  const dir = inboxDir(dataDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let n = 0;
  for (const name of names) {
    const path = join(dir, name);
    let entry: InboxEntry;
    try {
      entry = JSON.parse(await readFile(path, 'utf8')) as InboxEntry;
      if (entry.v !== kInboxVersion || !Array.isArray(entry.logs) || entry.logs.length === 0 || !entry.logs.every(isAuditLogName)) {
        throw new Error('not an inbox entry');
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // drained by another writer meanwhile
      const { rename } = await import('node:fs/promises');
      await rename(path, `${path}.bad`).catch(() => {});
      continue;
    }
    for (const log of entry.logs) await trail.append(log, { ...entry.fields, tenant: log });
    await unlink(path).catch(() => {});
    n++;
  }
  if (n > 0) fsyncDirSync(dir);
  return n;
}

/**
 * How a process other than the running server records an action: hand it over through the inbox and
 * return once it is in the logs, durably. Without a server, this process takes the writer lock and appends
 * itself; with one, the server appends it within kInboxPollMs. Throws AuditUnavailable when neither
 * happened within `waitMs` (the entry stays in the inbox and is appended by the next writer).
 */
export async function recordFromProcess(
  dataDir: string, logs: readonly string[], fields: AuditFields, owner: string, waitMs = kInboxWaitMs, keys?: DataKeys,
): Promise<void> {
  const path = await putInInbox(dataDir, logs, fields);
  const deadline = Date.now() + waitMs;
  const { AuditTrail } = await import('./trail.js');
  for (;;) {
    const lock = tryAcquireAuditWriter(dataDir, owner);
    if (lock) {
      try {
        const trail = await AuditTrail.open(dataDir, keys ? { keys } : {});
        try {
          await drainInbox(dataDir, trail);
        } finally {
          await trail.close();
        }
      } finally {
        lock.release();
      }
    }
    if (!(await exists(path))) return;
    if (Date.now() > deadline) {
      throw AuditUnavailable(`the audit record of this action is queued in ${path} but was not appended within ${waitMs} ms (is the server on this data dir stuck?)`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
