/**
 * One worker thread that builds tenant plate dictionaries and their n-gram indexes (buildPlateSet,
 * src/store/tenant-plates.ts) off the opening thread. Opening a data dir used to merge every tenant's
 * shard dictionaries and index them before it returned (~40% of an open at 2M reads); now the engine
 * hands big tenants' builds to this thread and returns, and searches read by shard until a tenant's
 * dictionary is installed (the answers are the same either way: the dictionary only makes pattern
 * searches cheaper).
 *
 * The worker starts on first use and stays for the engine's life (unref'd: it never keeps a process
 * alive). Without a built worker (running from src/ without dist/), or after it failed, builds run on
 * the calling thread, as they did before.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildPlateSet, type PlateSetAnswer, type PlateSetJob } from './tenant-plates.js';

function workerFile(): string | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/src/store/tenant-plates-worker.js', here) : new URL('./tenant-plates-worker.js', here);
  const file = fileURLToPath(url);
  return existsSync(file) ? file : undefined;
}

export class PlateSetBuilder {
  private worker: Worker | undefined;
  private failed = false;
  private closed = false;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (a: PlateSetAnswer) => void; reject: (e: Error) => void }>();

  /** Builds `job` on the worker (or on this thread without one); the job's shards must stay loaded until it settles. */
  build(job: PlateSetJob): Promise<PlateSetAnswer> {
    if (this.closed) return Promise.reject(new Error('plate set builder closed'));
    const worker = this.workerOrUndefined();
    if (!worker) return new Promise((resolve) => resolve(buildPlateSet(job)));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...job });
    });
  }

  private workerOrUndefined(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    const file = workerFile();
    if (!file) {
      this.failed = true;
      return undefined;
    }
    const w = new Worker(file);
    w.unref();
    w.on('message', (m: PlateSetAnswer & { id: number; error?: string }) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`plate set builder: ${m.error}`));
      else p.resolve(m);
    });
    const fail = (err: Error) => {
      this.failed = true;
      this.worker = undefined;
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`plate set builder exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  /** Ends the worker; builds in flight reject. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    for (const p of this.waiting.values()) p.reject(new Error('plate set builder closed'));
    this.waiting.clear();
  }
}
