/**
 * A piscina worker of the executor. It instantiates the kernel module once per arena it sees (the
 * module arrives compiled in workerData; arenas' shared memories arrive with the tasks) and runs batches
 * of segment tasks (src/query/segment-task.ts). Each worker claims one scratch slot at its first batch
 * by writing its threadId into the slot's owner cell (compare-and-swap on shared memory), so no two
 * threads ever share scratch; the pool frees the cells of workers that are gone (src/query/pool.ts).
 *
 * A batch carries its query's shared budget (src/query/budget.ts): a task that finds it spent stops at its
 * next check, and it and the batch's remaining tasks come back as `{ error: 'cancelled' }`.
 *
 * Plain JS at run time: the pool points at the compiled file in dist/ (src/query/pool.ts).
 */
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { Kernels } from '../core/kernels.js';
import { BudgetSpent, QueryBudget, type SharedBudget } from './budget.js';
import { runSegmentTask, type SegmentTask, type SegmentTaskResult } from './segment-task.js';
import { tighterBound, type RowBound } from './row-top.js';
import { runRowScanTask, type RowScanResult, type RowScanTask } from './analytics/row-scan-task.js';
import { runHotlistTask, type HotlistTask, type HotlistTaskResult } from './hotlist-task.js';
import { isLiveHotlistTask, runLiveHotlistTask, type LiveHotlistTask } from './live-hotlist-task.js';
import { movedResults } from './moved-results.js';
import { runClonedTask, type ClonedTask, type ClonedTaskResult } from './analytics/cloned-task.js';

interface WorkerInit {
  module: WebAssembly.Module;
  /** Per scratch slot, the threadId of the worker that holds it (0: free). */
  slotOwners: Int32Array;
}

export interface WorkerBatch {
  /** Per arena used by the batch: its memory and the scratch slots (ptr, bytes) of every worker. */
  arenas: Array<{ index: number; memory: WebAssembly.Memory; slots: Array<{ ptr: number; bytes: number }> }>;
  tasks: SegmentTask[];
  budget?: SharedBudget;
}

/** Per task: its result, or why it did not run here (no scratch: the caller runs it; cancelled: the query is over). */
export type WorkerBatchResult = Array<SegmentTaskResult | { error: 'scratch' | 'cancelled' }>;

const init = workerData as WorkerInit;
/** This worker's scratch slot; -1 until one is free. */
let slot = -1;
const instances = new Map<number, Kernels | null>();

function claimSlot(): number {
  for (let i = 0; slot < 0 && i < init.slotOwners.length; i++) {
    if (Atomics.compareExchange(init.slotOwners, i, 0, threadId) === 0) slot = i;
  }
  return slot;
}

function kernelsFor(a: WorkerBatch['arenas'][number]): Kernels | null {
  if (claimSlot() < 0) return null; // every slot held: the caller runs the task; a later batch may find one
  let k = instances.get(a.index);
  if (k === undefined) {
    const scratch = a.slots[slot];
    k = scratch ? new Kernels(init.module, a.memory, scratch) : null;
    instances.set(a.index, k);
  }
  return k;
}

/**
 * A batch's segment tasks (all of one query) run newest shard first, and each task is bounded by the
 * tighter of its own bound and the cuts of the tasks before it (src/query/row-top.ts): once one task kept
 * `limit` rows, the older shards' rows are mostly only counted. Results come back in the batch's order.
 */
export default function runBatch(batch: WorkerBatch): WorkerBatchResult {
  const order = batch.tasks.map((_, i) => i).sort((a, b) => (batch.tasks[b]!.newest ?? Infinity) - (batch.tasks[a]!.newest ?? Infinity));
  let bound: RowBound | undefined;
  const ordered = runTasks({ ...batch, tasks: order.map((i) => batch.tasks[i]!) }, (k, task, budget) => {
    const b = tighterBound(task.bound, bound);
    const r = runSegmentTask(k, b ? { ...task, bound: b } : task, budget);
    bound = tighterBound(bound, r.cut);
    return r;
  });
  const out: WorkerBatchResult = new Array(ordered.length);
  order.forEach((i, j) => (out[i] = ordered[j]!));
  return out;
}

/** The analytics' row scans (src/query/analytics/row-scan-task.ts), by piscina's `name` option. */
export function runRowScanBatch(batch: RowScanBatch): RowScanBatchResult {
  return runTasks(batch, runRowScanTask);
}

/** The hot-list join's shard and live tasks (src/query/hotlist-task.ts, live-hotlist-task.ts), by piscina's `name` option. */
export function runHotlistBatch(batch: HotlistBatch): HotlistBatchResult {
  // the results' buffers are transferred, not copied (src/query/moved-results.ts)
  return movedResults(runTasks(batch, (k, task: HotlistTask | LiveHotlistTask, budget) =>
    isLiveHotlistTask(task) ? runLiveHotlistTask(k.memory.buffer, task, budget) : runHotlistTask(k.memory.buffer, task, budget)));
}

/** The cloned-plates analysis' tasks (src/query/analytics/cloned-task.ts): kernels over each arena a task's shards are in. */
export function runClonedBatch(batch: ClonedBatch): ClonedBatchResult {
  const byIndex = new Map(batch.arenas.map((a) => [a.index, a]));
  return runTasks(batch, (_k, task: ClonedTask, budget) => runClonedTask((arena) => kernelsFor(byIndex.get(arena)!) ?? undefined, task, budget));
}

export interface ClonedBatch extends Omit<WorkerBatch, 'tasks'> {
  tasks: ClonedTask[];
}
export type ClonedBatchResult = Array<ClonedTaskResult | { error: 'scratch' | 'cancelled' }>;

export interface HotlistBatch extends Omit<WorkerBatch, 'tasks'> {
  tasks: Array<HotlistTask | LiveHotlistTask>;
}
export type HotlistBatchResult = Array<HotlistTaskResult | { error: 'scratch' | 'cancelled' }>;

export interface RowScanBatch extends Omit<WorkerBatch, 'tasks'> {
  tasks: RowScanTask[];
}
export type RowScanBatchResult = Array<RowScanResult | { error: 'scratch' | 'cancelled' }>;

function runTasks<T extends { layout: { arena: number } }, R>(
  batch: Omit<WorkerBatch, 'tasks'> & { tasks: T[] }, run: (k: Kernels, task: T, budget?: QueryBudget) => R,
): Array<R | { error: 'scratch' | 'cancelled' }> {
  const byIndex = new Map(batch.arenas.map((a) => [a.index, a]));
  const budget = QueryBudget.ofShared(batch.budget);
  let cancelled = false;
  return batch.tasks.map((task) => {
    if (cancelled) return { error: 'cancelled' as const };
    const k = kernelsFor(byIndex.get(task.layout.arena)!);
    if (!k) return { error: 'scratch' as const };
    try {
      budget?.check();
      return run(k, task, budget);
    } catch (err) {
      if (err instanceof RangeError) return { error: 'scratch' as const };
      if (err instanceof BudgetSpent) {
        cancelled = true;
        return { error: 'cancelled' as const };
      }
      throw err;
    }
  });
}
