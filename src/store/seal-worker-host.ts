/**
 * The engine's seal worker (src/store/seal-worker.ts), one thread kept for the engine's life: seals,
 * compactions and retention rewrites go to it as messages. A fresh worker per job spent ~8% of its time
 * starting (loading the crypto, object store, WAL and hold modules) before reading a row.
 *
 * Crash safety is the sealer's and unchanged (src/store/sealer.ts): a job's shards count only once the
 * main thread commits the manifest. If the worker errors or exits, the jobs it held answer `undefined`
 * (the sealer then builds on its own thread, or skips a compaction, as when no worker is built) and the
 * next job starts a new worker. The worker is referenced only while a job is in flight, so an idle one
 * never keeps a process alive; `close` ends it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { storeFsIsReal } from './fs.js';
import type { ShardEntry } from './manifest.js';
import type { SealAnswer, SealJob } from './seal-worker.js';

/**
 * The compiled seal worker, or undefined when not built (running from src/ without dist/), or while a
 * test's file system is installed (src/store/fs.ts: a worker thread would write to the real disk).
 */
function sealWorkerPath(): string | undefined {
  if (!storeFsIsReal()) return undefined;
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/src/store/seal-worker.js', here) : new URL('./seal-worker.js', here);
  const file = fileURLToPath(url);
  return existsSync(file) ? file : undefined;
}

export class SealWorkerHost {
  private worker: Worker | undefined;
  private closed = false;
  private nextId = 0;
  private readonly waiting = new Map<number, (r: { rows: number; entries: ShardEntry[] } | undefined) => void>();
  /** Workers started (for tests: one per engine unless a worker died). */
  started = 0;

  /** Runs `job` on the worker; undefined when there is none or the job failed (the caller falls back). */
  run(job: SealJob): Promise<{ rows: number; entries: ShardEntry[] } | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const w = this.workerOrUndefined();
    if (!w) return Promise.resolve(undefined);
    const id = this.nextId++;
    if (this.waiting.size === 0) w.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      w.postMessage({ id, job });
    });
  }

  private workerOrUndefined(): Worker | undefined {
    if (this.worker) return this.worker;
    const file = sealWorkerPath();
    if (!file) return undefined;
    const w = new Worker(file);
    this.started++;
    w.unref();
    w.on('message', (m: SealAnswer) => {
      const resolve = this.waiting.get(m.id);
      if (!resolve) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) w.unref();
      resolve(m.ok ? { rows: m.rows, entries: m.entries } : undefined);
    });
    const gone = () => {
      if (this.worker === w) this.worker = undefined;
      for (const resolve of this.waiting.values()) resolve(undefined);
      this.waiting.clear();
    };
    w.on('error', gone);
    w.on('exit', gone);
    this.worker = w;
    return w;
  }

  /** Ends the worker (jobs in flight answer undefined). */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }
}
