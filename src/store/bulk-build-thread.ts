/**
 * Where a bulk load's shards are built (src/store/bulk-build.ts): on a thread of their own when the worker is
 * built and the shard is big enough to pay for the hand-off, else on the calling thread. Off the loading
 * thread, a day's build (sort, plate and label coding, the file: seconds at 20M reads) no longer holds the
 * event loop, so the parse workers stay fed while it runs (bench/RESULTS.md "Shard builds on a build thread").
 * The lanes are transferred both ways, never copied: the job's lanes move to the worker and the file's bytes
 * come back.
 */
import { KeptWorker } from '../core/kept-worker.js';
import { builtWorkerPath } from '../core/worker-path.js';
import { buildBulkShard, bulkJobTransfer, type BulkShardJob } from './bulk-build.js';
import type { BulkBuildAnswer } from './bulk-build-worker.js';
import type { ShardMeta } from './shard-format.js';
import type { LanePool } from './lane-pool.js';

/** Rows from which a shard is built on the build thread: below, a message round trip is not worth it. */
export const kOffThreadRows = 1 << 16;
/** File buffers held for the build thread's next job: a file is given back once sealed, before the next job. */
const kFilesHeld = 1;

export class BulkBuildThread {
  /** The compiled worker script; undefined when not built (running from src/ without dist/). */
  private readonly script = builtWorkerPath(import.meta.url, '../../dist/src/store/bulk-build-worker.js', './bulk-build-worker.js');
  private readonly worker = new KeptWorker<{ job: BulkShardJob; files: ArrayBuffer[] }, BulkBuildAnswer>('bulk build worker', () => this.script);
  /** Buffers of built files given back (sealed and put): moved to the build thread with its next job. */
  private files: ArrayBuffer[] = [];

  /** `offThreadRows`: shards of at least this many rows go to the thread (0: every one; tests). */
  constructor(private readonly offThreadRows = kOffThreadRows) {}

  /**
   * Builds the job's shard. The job's lane buffers go back to `lanes` once built (here, or moved back from the
   * build thread), and a build here takes its big arrays from it too.
   */
  async build(job: BulkShardJob, lanes: LanePool): Promise<{ bytes: Uint8Array; meta: ShardMeta }> {
    const buffers = bulkJobTransfer(job);
    if (job.ts.length < this.offThreadRows || !this.script) {
      const built = buildBulkShard(job, undefined, lanes);
      for (const b of buffers) lanes.giveBuffer(b);
      return built;
    }
    const files = this.files;
    this.files = [];
    const answer = await this.worker.call({ job, files }, [...buffers, ...files]);
    if (!answer) throw new Error('bulk build worker closed');
    if (!answer.ok) throw new Error(`bulk build worker: ${answer.error}`);
    for (const b of answer.lanes) lanes.giveBuffer(b);
    return { bytes: answer.bytes, meta: answer.meta };
  }

  /**
   * A built file's bytes are no longer needed (sealed): its buffer goes to the build thread with the
   * next job (where files are built), or to `lanes` without one or when a few wait already (small shards, built here).
   */
  giveBack(bytes: Uint8Array, lanes: LanePool): void {
    const buf = bytes.buffer as ArrayBuffer;
    if (!this.script || this.files.length >= kFilesHeld) lanes.giveBuffer(buf);
    else if (!this.files.includes(buf)) this.files.push(buf);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
