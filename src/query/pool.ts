/**
 * The executor's worker pool (piscina). Shard scans are grouped into batches (a round trip costs
 * ~70 µs, so never one task per small shard), balanced by rows, one batch per worker and a few more;
 * each worker runs its batch's segment tasks with its own kernels instance per arena and returns local
 * top-k lists and exact counts, which the caller merges.
 *
 * Cancellation is cooperative: the query's signal is not handed to piscina, which would terminate the
 * worker of a running batch (and the replacement would find no free scratch slot: a few timed-out queries
 * used to leave every later search on the calling thread). The batches carry the query's shared budget
 * instead (src/query/budget.ts); a worker stops at its next check (between kernel calls, every 256 rows in
 * JS), and `run` waits for every batch to settle before it throws, so no worker still reads the shards
 * the caller has pinned for it when they are unpinned.
 */
import { Piscina } from 'piscina';
import type { ArenaSet } from '../core/arena.js';
import { kernelModule } from '../core/module.js';
import { compiledWorkerPath } from '../core/worker-path.js';
import { QueryBudget, shareBudget } from './budget.js';
import type { SegmentTask, SegmentTaskResult } from './segment-task.js';
import type { WorkerBatch } from './worker.js';
import type { RowScanResult, RowScanTask } from './analytics/row-scan-task.js';
import type { HotlistTask, HotlistTaskResult } from './hotlist-task.js';
import type { LiveHotlistTask } from './live-hotlist-task.js';
import type { ClonedTask, ClonedTaskResult } from './analytics/cloned-task.js';

/** The compiled executor worker (see core/worker-path.ts). */
export function workerPath(): string {
  return compiledWorkerPath(import.meta.url, '../../dist/src/query/worker.js', './worker.js');
}

/**
 * Batches a worker a hot list's tasks are cut into when its caller builds hits as they come back (runHotlists):
 * a 7-day list at 20M reads has ~10 shard tasks, so about one a batch.
 */
export const kHotlistBatchesPerThread = 8;

export class ExecutorPool {
  private readonly pool: Piscina;
  readonly threads: number;
  /** Per arena, one scratch slot per worker (`slotOwners` says which worker holds which). */
  private readonly slots = new Map<number, Array<{ ptr: number; bytes: number }>>();
  /**
   * Slots per arena, one a worker (no spares): a crashed worker's slot is freed at the next run's start
   * (`freeSlotsOfGoneWorkers`); until then its replacement finds none and its tasks come back to the caller.
   */
  readonly slotCount: number;
  /** Per slot, the threadId of the worker holding it (0: free); see worker.ts. */
  private readonly slotOwners: Int32Array;

  constructor(private readonly arenas: ArenaSet, threads: number) {
    this.threads = threads;
    this.slotCount = threads;
    this.slotOwners = new Int32Array(new SharedArrayBuffer(4 * this.slotCount));
    this.pool = new Piscina({
      filename: workerPath(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 2 ** 31 - 1,
      workerData: { module: kernelModule(), slotOwners: this.slotOwners },
    });
  }

  /** Registers the worker scratch slots carved from a new arena. */
  addArena(index: number, slots: Array<{ ptr: number; bytes: number }>): void {
    this.slots.set(index, slots);
  }

  /**
   * Runs tasks on the pool; results in task order. A task the pool cannot run (no scratch room) comes
   * back as undefined and the caller runs it another way. When `signal`'s budget is spent (or the signal
   * aborts), the workers stop and this throws the signal's reason (or the deadline's error) once every
   * batch has settled.
   */
  async run(tasks: readonly SegmentTask[], signal?: AbortSignal): Promise<Array<SegmentTaskResult | undefined>> {
    return this.dispatch<SegmentTask, SegmentTaskResult>(tasks, signal);
  }

  /** The analytics' row scans (src/query/analytics/row-scan-task.ts), with `run`'s batching, budget and fallbacks. */
  async runRowScans(tasks: readonly RowScanTask[], signal?: AbortSignal): Promise<Array<RowScanResult | undefined>> {
    return this.dispatch<RowScanTask, RowScanResult>(tasks, signal, 'runRowScanBatch');
  }

  /**
   * The hot-list join's shard and live tasks (src/query/hotlist-task.ts, live-hotlist-task.ts), with `run`'s
   * batching, budget and fallbacks. `onResult(i, r)`: task i's result, as soon as its batch is back (other
   * batches may still run: src/query/hotlist-join.ts builds hits meanwhile).
   */
  async runHotlists(tasks: ReadonlyArray<HotlistTask | LiveHotlistTask>, signal?: AbortSignal, onResult?: (task: number, r: HotlistTaskResult) => void): Promise<Array<HotlistTaskResult | undefined>> {
    // with `onResult`, smaller batches (up to kHotlistBatchesPerThread a worker, biggest first): the caller builds
    // a batch's hits as it comes back, so it starts sooner and has fewer left to build after the last batch
    return this.dispatch<HotlistTask | LiveHotlistTask, HotlistTaskResult>(tasks, signal, 'runHotlistBatch', onResult, onResult ? this.threads * kHotlistBatchesPerThread : undefined);
  }

  /** The cloned-plates analysis' tasks (src/query/analytics/cloned-task.ts), each over shards of several arenas. */
  async runCloned(tasks: readonly ClonedTask[], signal?: AbortSignal): Promise<Array<ClonedTaskResult | undefined>> {
    return this.dispatch<ClonedTask, ClonedTaskResult>(tasks, signal, 'runClonedBatch');
  }

  /**
   * `name`: the worker module's export that runs a batch (piscina's `name`; default its default export). A
   * task reads the arena of its layout, or (`arenas`) each of several. `batchCount`: how many batches to cut the
   * tasks into (default 2 a worker), sent biggest first.
   */
  private async dispatch<T extends { layout: { rows: number; arena: number }; arenas?: readonly number[] }, R>(
    tasks: readonly T[], signal: AbortSignal | undefined, name?: string, onResult?: (task: number, r: R) => void, batchCount?: number,
  ): Promise<Array<R | undefined>> {
    signal?.throwIfAborted();
    this.freeSlotsOfGoneWorkers();
    const order = tasks.map((t, i) => ({ t, i, rows: t.layout.rows })).sort((a, b) => b.rows - a.rows);
    const nBatches = Math.min(order.length, batchCount ?? this.threads * 2);
    const batches: Array<{ idx: number[]; rows: number }> = Array.from({ length: nBatches }, () => ({ idx: [], rows: 0 }));
    for (const o of order) {
      // greedy: the biggest task goes to the lightest batch
      let best = batches[0]!;
      for (const b of batches) if (b.rows < best.rows) best = b;
      best.idx.push(o.i);
      best.rows += o.rows;
    }
    const out: Array<R | undefined> = new Array(tasks.length);
    const shared = shareBudget(signal);
    let cancelled = false;
    try {
      const settled = await Promise.allSettled(
        batches.map(async (b) => {
          const used = new Set(b.idx.flatMap((i) => tasks[i]!.arenas ?? [tasks[i]!.layout.arena]));
          const batch: Omit<WorkerBatch, 'tasks'> & { tasks: T[] } = {
            arenas: [...used].map((index) => ({ index, memory: this.arenas.arena(index).memory, slots: this.slots.get(index) ?? [] })),
            tasks: b.idx.map((i) => tasks[i]!),
            budget: shared.budget,
          };
          const res = (await this.pool.run(batch, name ? { name } : undefined)) as Array<R | { error: 'scratch' | 'cancelled' }>;
          res.forEach((r, j) => {
            if (r && typeof r === 'object' && 'error' in r) cancelled ||= r.error === 'cancelled';
            else out[b.idx[j]!] = r as R;
          });
          // after the batch's results are in `out`: a throw here fails the dispatch like a failed batch
          if (onResult && !cancelled) for (const i of b.idx) if (out[i] !== undefined) onResult(i, out[i]!);
        }),
      );
      // only a budget can cancel a batch, and only a signal gives one
      if (cancelled) throw QueryBudget.of(signal)!.spentError();
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      return out;
    } finally {
      shared.release();
    }
  }

  /** Frees the scratch slots of workers that are gone (a crash), so their replacements find one. */
  private freeSlotsOfGoneWorkers(): void {
    const live = new Set(this.pool.threads.map((w) => w.threadId));
    for (let i = 0; i < this.slotOwners.length; i++) {
      const owner = Atomics.load(this.slotOwners, i);
      if (owner !== 0 && !live.has(owner)) Atomics.compareExchange(this.slotOwners, i, owner, 0);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
