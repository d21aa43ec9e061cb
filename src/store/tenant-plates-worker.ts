/**
 * The tenant plate dictionary's builder thread (src/store/tenant-plates-builder.ts): merges the sorted
 * plate slots of a tenant's shards, read straight from the shared arena memory they were loaded into,
 * and indexes the result's n-grams (src/store/plate-grams.ts). The answer's arrays are transferred, not
 * copied. Plain JS at run time (dist/src/store/tenant-plates-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { buildPlateSet, type PlateSetJob, type PlateSetAnswer } from './tenant-plates.js';
import { collectGarbage } from './worker-gc.js';

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: PlateSetJob & { id: number }) => {
    let answer: PlateSetAnswer & { id: number };
    try {
      answer = { id: job.id, ...buildPlateSet(job) };
    } catch (err) {
      port.postMessage({ id: job.id, error: String((err as Error)?.stack ?? err) });
      return;
    }
    const transfer: ArrayBuffer[] = [answer.words.buffer as ArrayBuffer];
    if (answer.grams) transfer.push(answer.grams.offsets.buffer as ArrayBuffer, answer.grams.postings.buffer as ArrayBuffer);
    port.postMessage(answer, transfer);
    // the merge's intermediate arrays are garbage now (src/store/worker-gc.ts)
    setImmediate(collectGarbage);
  });
}
