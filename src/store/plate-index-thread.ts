/**
 * The engine's plate-index thread: one worker (src/store/plate-index-worker.ts), started on first need,
 * that runs TenantPlates builds one after another, so a seal, compaction or retention that changes a
 * tenant's plates never stalls searches and appends for the merge and the n-gram build (seconds for a
 * tenant of 750k plates). Its answers are installed on the engine's thread (TenantPlates.refresh).
 */
import type { ArenaSet } from '../core/arena.js';
import { KeptWorker } from '../core/kept-worker.js';
import { builtWorkerPath } from '../core/worker-path.js';
import type { PlateIndexBuilt, PlateIndexJob } from './plate-index-build.js';
import type { PlateIndexRequest } from './plate-index-worker.js';

/** The compiled worker, or undefined when not built (running from src/ without dist/). */
function workerPath(): string | undefined {
  return builtWorkerPath(import.meta.url, '../../dist/src/store/plate-index-worker.js', './plate-index-worker.js');
}

/** Whether the worker can be started here (built). */
export function plateIndexWorkerAvailable(): boolean {
  return workerPath() !== undefined;
}

export class PlateIndexThread {
  private readonly worker = new KeptWorker<Omit<PlateIndexRequest, 'id'>, { id: number; built?: PlateIndexBuilt; error?: string }>('plate-index worker', workerPath);

  constructor(private readonly arenas: ArenaSet) {}

  /**
   * Runs `job` on the worker. Undefined once the thread is closed (the engine is closing: nothing to
   * install); rejects when it cannot run it (not built, the worker failed).
   */
  async build(job: PlateIndexJob): Promise<PlateIndexBuilt | undefined> {
    const memories: Record<number, WebAssembly.Memory> = {};
    for (const p of job.parts) memories[p.arena] = this.arenas.arena(p.arena).memory;
    const m = await this.worker.call({ job, memories });
    if (!m) return undefined;
    if (m.built) return m.built;
    throw new Error(m.error ?? 'plate-index build failed');
  }

  /** Stops the worker; builds in flight answer undefined (nothing is installed). */
  close(): Promise<void> {
    return this.worker.close();
  }
}
