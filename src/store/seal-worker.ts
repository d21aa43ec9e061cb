/**
 * The seal worker: turns the rows of rotated WAL files into day shard files off the main thread, so
 * sealing never stalls ingest or searches. It re-reads the WAL files itself (the rows are exactly those
 * with fromSeq ≤ seq < toSeq in them), builds and writes the shards, and answers their manifest entries
 * and the row count; the main thread checks the count against its live rows, loads and commits.
 * Plain JS at run time (dist/src/store/seal-worker.js).
 *
 * One worker serves an engine's seals, compactions and retention rewrites for the engine's life
 * (src/store/seal-worker-host.ts): jobs arrive as messages `{id, job}` and are answered `{id, ok, …}`.
 * A job holds everything it needs (files, keys, the object store's spec), so nothing carries over from
 * one job to the next but loaded modules and ciphers; nothing it writes counts until the main thread
 * commits the manifest, so a worker that dies mid-job leaves orphans, as a crash does.
 */
import { parentPort } from 'node:worker_threads';
import { runSealJob, type SealAnswer, type SealJob } from './seal-job.js';
import { collectGarbage } from './worker-gc.js';

export type { JobKey, SealAnswer, SealJob } from './seal-job.js';

if (parentPort) {
  const port = parentPort;
  let inFlight = 0;
  port.on('message', (m: { id: number; job: SealJob }) => {
    inFlight++;
    runSealJob(m.job).then(
      (res) => port.postMessage({ id: m.id, ok: true, ...res } satisfies SealAnswer),
      (err: Error) => port.postMessage({ id: m.id, ok: false, error: String(err?.stack ?? err) } satisfies SealAnswer),
    ).finally(() => {
      // idle: the job's garbage goes now, not when the next job needs room (src/store/worker-gc.ts)
      if (--inFlight === 0) setImmediate(() => inFlight === 0 && collectGarbage());
    });
  });
}
