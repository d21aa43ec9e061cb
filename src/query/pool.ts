/**
 * The executor's worker pool (piscina). Shard scans are grouped into batches (a round trip costs
 * ~70 µs, so never one task per small shard), balanced by rows, one batch per worker and a few more;
 * each worker runs its batch's segment tasks with its own kernels instance per arena and returns local
 * top-k lists and exact counts, which the caller merges. An AbortSignal cancels queued batches.
 */
import { Piscina } from 'piscina';
import type { ArenaSet } from '../core/arena.js';
import { kernelModule } from '../core/module.js';
import { compiledWorkerPath } from '../core/worker-path.js';
import type { SegmentTask, SegmentTaskResult } from './segment-task.js';
import type { WorkerBatch, WorkerBatchResult } from './worker.js';

/** The compiled executor worker (see core/worker-path.ts). */
export function workerPath(): string {
  return compiledWorkerPath(import.meta.url, '../../dist/src/query/worker.js', './worker.js');
}

export class ExecutorPool {
  private readonly pool: Piscina;
  readonly threads: number;
  /** Per arena, one scratch slot per worker (the counter in workerData hands slots out). */
  private readonly slots = new Map<number, Array<{ ptr: number; bytes: number }>>();
  /** Slots per arena: workers may be replaced after a crash, so keep spares. */
  readonly slotCount: number;

  constructor(private readonly arenas: ArenaSet, threads: number) {
    this.threads = threads;
    this.slotCount = threads * 2;
    this.pool = new Piscina({
      filename: workerPath(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 2 ** 31 - 1,
      workerData: { module: kernelModule(), slotCounter: new Int32Array(new SharedArrayBuffer(4)) },
    });
  }

  /** Registers the worker scratch slots carved from a new arena. */
  addArena(index: number, slots: Array<{ ptr: number; bytes: number }>): void {
    this.slots.set(index, slots);
  }

  /**
   * Runs tasks on the pool; results in task order. A task the pool cannot run (no scratch room) comes
   * back as undefined and the caller runs it another way.
   */
  async run(tasks: readonly SegmentTask[], signal?: AbortSignal): Promise<Array<SegmentTaskResult | undefined>> {
    const order = tasks.map((t, i) => ({ t, i, rows: t.layout.rows })).sort((a, b) => b.rows - a.rows);
    const nBatches = Math.min(order.length, this.threads * 2);
    const batches: Array<{ idx: number[]; rows: number }> = Array.from({ length: nBatches }, () => ({ idx: [], rows: 0 }));
    for (const o of order) {
      // greedy: the biggest task goes to the lightest batch
      let best = batches[0]!;
      for (const b of batches) if (b.rows < best.rows) best = b;
      best.idx.push(o.i);
      best.rows += o.rows;
    }
    const out: Array<SegmentTaskResult | undefined> = new Array(tasks.length);
    await Promise.all(
      batches.map(async (b) => {
        const used = new Set(b.idx.map((i) => tasks[i]!.layout.arena));
        const batch: WorkerBatch = {
          arenas: [...used].map((index) => ({ index, memory: this.arenas.arena(index).memory, slots: this.slots.get(index) ?? [] })),
          tasks: b.idx.map((i) => tasks[i]!),
        };
        const res = (await this.pool.run(batch, signal ? { signal } : {})) as WorkerBatchResult;
        res.forEach((r, j) => {
          out[b.idx[j]!] = 'error' in r ? undefined : r;
        });
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
