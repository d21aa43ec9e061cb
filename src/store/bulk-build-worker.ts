/**
 * The build thread of a bulk load: receives one shard's lanes at a time (src/store/bulk-build.ts, transferred,
 * not copied) and answers the shard file's bytes (transferred back) and meta. Pure computation: it writes
 * nothing, holds no key and sees no object store. Plain JS at run time (dist/src/store/bulk-build-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { buildBulkShard, bulkJobTransfer, type BulkShardJob } from './bulk-build.js';
import { collectGarbage } from './worker-gc.js';
import { LanePool } from './lane-pool.js';

/** `lanes`: the job's lane buffers, moved back for the loading thread's next job (src/store/lane-pool.ts). */
export type BulkBuildAnswer = { id: number } & ({ ok: true; bytes: Uint8Array; meta: ReturnType<typeof buildBulkShard>['meta']; lanes: ArrayBuffer[] } | { ok: false; error: string });

if (parentPort) {
  const port = parentPort;
  // the builds' sort keys, spare lanes and plate tables, kept from shard to shard
  const pool = new LanePool();
  port.on('message', (m: { id: number; job: BulkShardJob; files: ArrayBuffer[] }) => {
    // what the last build did not use goes; earlier answers' file buffers, sealed by now, come back
    pool.sweep();
    for (const b of m.files) pool.giveBuffer(b);
    let answer: BulkBuildAnswer;
    try {
      const lanes = bulkJobTransfer(m.job);
      const { bytes, meta } = buildBulkShard(m.job, collectGarbage, pool);
      answer = { id: m.id, ok: true, bytes, meta, lanes };
      port.postMessage(answer, [bytes.buffer as ArrayBuffer, ...lanes]);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: String((err as Error)?.stack ?? err) } satisfies BulkBuildAnswer);
    }
    // the build's transient arrays (the job's lanes, the sort keys, the plate table) are garbage now: let them
    // go before the next shard arrives, not when V8 next needs room (src/store/worker-gc.ts)
    collectGarbage();
  });
}
