/**
 * The engine's plate-index thread: one worker (src/store/plate-index-worker.ts), started on first need,
 * that runs TenantPlates builds one after another, so a seal, compaction or retention that changes a
 * tenant's plates never stalls searches and appends for the merge and the n-gram build (seconds for a
 * tenant of 750k plates). Its answers are installed on the engine's thread (TenantPlates.refresh).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ArenaSet } from '../core/arena.js';
import type { PlateIndexBuilt, PlateIndexJob } from './plate-index-build.js';
import type { PlateIndexRequest } from './plate-index-worker.js';

/** The compiled worker, or undefined when not built (running from src/ without dist/). */
function workerPath(): string | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/src/store/plate-index-worker.js', here) : new URL('./plate-index-worker.js', here);
  const file = fileURLToPath(url);
  return existsSync(file) ? file : undefined;
}

/** Whether the worker can be started here (built). */
export function plateIndexWorkerAvailable(): boolean {
  return workerPath() !== undefined;
}

export class PlateIndexThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (b: PlateIndexBuilt | undefined) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(private readonly arenas: ArenaSet) {}

  /**
   * Runs `job` on the worker. Undefined once the thread is closed (the engine is closing: nothing to
   * install); rejects when it cannot run it (not built, the worker failed).
   */
  build(job: PlateIndexJob): Promise<PlateIndexBuilt | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const w = this.start();
    if (!w) return Promise.reject(new Error('plate-index worker not built'));
    const id = this.nextId++;
    const memories: Record<number, WebAssembly.Memory> = {};
    for (const p of job.parts) memories[p.arena] = this.arenas.arena(p.arena).memory;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref(); // a build in flight keeps the process alive; an idle worker does not
      w.postMessage({ id, job, memories } satisfies PlateIndexRequest);
    });
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    const file = workerPath();
    if (!file) return undefined;
    const w = new Worker(file);
    w.unref();
    w.on('message', (m: { id: number; built?: PlateIndexBuilt; error?: string }) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) w.unref();
      if (m.built) p.resolve(m.built);
      else p.reject(new Error(m.error ?? 'plate-index build failed'));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.waiting.values()) {
        if (this.closed) p.resolve(undefined);
        else p.reject(err);
      }
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', () => fail(new Error('plate-index worker exited')));
    this.worker = w;
    return w;
  }

  /** Stops the worker; builds in flight answer undefined (nothing is installed). */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
