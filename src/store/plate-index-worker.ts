/**
 * The plate-index worker: builds tenant plate dictionaries and their n-gram indexes
 * (src/store/plate-index-build.ts) off the engine's thread. Jobs arrive with the shared memories of the
 * arenas their slots are in; the answer's arrays are transferred back, not copied.
 * Plain JS at run time (dist/src/store/plate-index-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { buildPlateIndex, type PlateIndexJob } from './plate-index-build.js';
import { collectGarbage } from './worker-gc.js';

export interface PlateIndexRequest {
  id: number;
  job: PlateIndexJob;
  /** Arena index → its memory, for every arena the job's parts are in. */
  memories: Record<number, WebAssembly.Memory>;
}

parentPort!.on('message', (m: PlateIndexRequest) => {
  try {
    const built = buildPlateIndex(m.job, (a) => {
      const memory = m.memories[a];
      if (!memory) throw new Error(`no memory for arena ${a}`);
      return memory;
    });
    const transfer: ArrayBuffer[] = [built.words.buffer as ArrayBuffer, built.masks.buffer as ArrayBuffer, built.ranks.buffer as ArrayBuffer];
    if (built.grams) transfer.push(built.grams.offsets.buffer as ArrayBuffer, built.grams.postings.buffer as ArrayBuffer);
    for (const r of built.runs) if (r) transfer.push(r.lengths.buffer as ArrayBuffer, r.starts.buffer as ArrayBuffer);
    for (const a of built.ids ?? []) transfer.push(a.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: m.id, built }, transfer);
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
  // a build's merge arrays are garbage once answered: give them back while the thread waits (worker-gc.ts)
  setImmediate(collectGarbage);
});
