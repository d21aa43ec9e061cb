/**
 * A piscina worker of the executor. It instantiates the kernel module once per arena it sees (the
 * module arrives compiled in workerData; arenas' shared memories arrive with the tasks) and runs batches
 * of segment tasks (src/query/segment-task.ts). Each worker claims one scratch slot per arena at start
 * (an atomic counter in workerData), so no two threads ever share scratch.
 *
 * Plain JS at run time: the pool points at the compiled file in dist/ (src/query/pool.ts).
 */
import { workerData } from 'piscina';
import { Kernels } from '../core/kernels.js';
import { runSegmentTask, type SegmentTask, type SegmentTaskResult } from './segment-task.js';

interface WorkerInit {
  module: WebAssembly.Module;
  slotCounter: Int32Array;
}

export interface WorkerBatch {
  /** Per arena used by the batch: its memory and the scratch slots (ptr, bytes) of every worker. */
  arenas: Array<{ index: number; memory: WebAssembly.Memory; slots: Array<{ ptr: number; bytes: number }> }>;
  tasks: SegmentTask[];
}

export type WorkerBatchResult = Array<SegmentTaskResult | { error: 'scratch' }>;

const init = workerData as WorkerInit;
const slot = Atomics.add(init.slotCounter, 0, 1);
const instances = new Map<number, Kernels | null>();

function kernelsFor(a: WorkerBatch['arenas'][number]): Kernels | null {
  let k = instances.get(a.index);
  if (k === undefined) {
    const scratch = a.slots[slot];
    k = scratch ? new Kernels(init.module, a.memory, scratch) : null;
    instances.set(a.index, k);
  }
  return k;
}

export default function runBatch(batch: WorkerBatch): WorkerBatchResult {
  const byIndex = new Map(batch.arenas.map((a) => [a.index, a]));
  return batch.tasks.map((task) => {
    const k = kernelsFor(byIndex.get(task.layout.arena)!);
    if (!k) return { error: 'scratch' as const };
    try {
      return runSegmentTask(k, task);
    } catch (err) {
      if (err instanceof RangeError) return { error: 'scratch' as const };
      throw err;
    }
  });
}
