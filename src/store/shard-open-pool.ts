/**
 * Worker threads that check and decrypt sealed shards while a data dir opens (issue 13: "AES-GCM on worker
 * threads where it matters"). Opening is the one time every stored byte is read, checked (CRC32C) and
 * decrypted (AES-256-GCM); on the opening thread that is a serial pass over the whole data set. Here the
 * opening thread reads each file into its arena region and hands the region to the least busy worker (the fewest
 * stored bytes in flight),
 * which checks it and opens the segments in place (the arena memory is shared); meanwhile the opening
 * thread parses and indexes the shards already opened (src/store/sealer.ts openShards). The workers live
 * only while a data dir opens.
 *
 * A worker's failure is a coded error like the opening thread's (PS_CORRUPT_FILE naming the file); a worker
 * that dies fails its jobs, and the caller reports the files as it would any other failure.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Cipher } from '../crypto/cipher.js';
import { PlatesearchError } from '../errors.js';
import type { OpenShardAnswer, OpenShardJob } from './shard-open-worker.js';
import { reencodeLimits, type ReencodeAnswer } from './shard-reencode.js';

function workerFile(): string | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/src/store/shard-open-worker.js', here) : new URL('./shard-open-worker.js', here);
  const file = fileURLToPath(url);
  return existsSync(file) ? file : undefined;
}

/** A sealed shard read into arena memory: `stored` bytes at `ptr`, checked and opened there in place. */
export interface ShardOpenRequest {
  file: string;
  stored: number;
  crc: number;
  key: Uint8Array;
  memory: WebAssembly.Memory;
  ptr: number;
  /** Re-encode the opened shard's lanes on the worker too (src/store/shard-reencode.ts): its plaintext's bytes. */
  reencodePlainBytes?: number;
}

export class ShardOpenPool {
  private readonly workers: Worker[] = [];
  /** Per worker, the stored bytes of the shards it holds (opening and queued): a 73 MB shard is twice a 35 MB one's work. */
  private readonly busy: number[] = [];
  private readonly waiting = new Map<number, { resolve: (r: ReencodeAnswer | undefined) => void; reject: (e: Error) => void; worker: number; bytes: number }>();
  private nextId = 0;

  private constructor(private readonly cipher: Cipher, file: string, threads: number) {
    for (let w = 0; w < threads; w++) {
      const worker = new Worker(file);
      worker.unref(); // a pool left open never keeps the process alive; close() ends it
      worker.on('message', (m: OpenShardAnswer) => {
        const p = this.waiting.get(m.id);
        if (!p) return;
        this.waiting.delete(m.id);
        this.busy[p.worker]! -= p.bytes;
        if (!m.error) p.resolve(m.reencoded);
        else if (m.error.code) p.reject(new PlatesearchError(m.error.code, 500, m.error.message, m.error.details));
        else p.reject(new Error(`shard-open worker: ${m.error.message}`));
      });
      const fail = (err: Error) => {
        for (const [id, p] of this.waiting) {
          if (p.worker !== w) continue;
          this.waiting.delete(id);
          p.reject(err);
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`shard-open worker exited with code ${code}`)));
      this.workers.push(worker);
      this.busy.push(0);
    }
  }

  /** A pool of `threads` workers; undefined with 0 threads or when the worker is not built (running from src/ without dist/). */
  static start(threads: number, cipher: Cipher): ShardOpenPool | undefined {
    const file = threads > 0 ? workerFile() : undefined;
    return file ? new ShardOpenPool(cipher, file, threads) : undefined;
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * Checks and opens one sealed shard in place, in `memory` at `ptr` (nothing is copied to the worker), and
   * re-encodes its lanes when asked: answers that re-encoding, or undefined (not asked, or its header did not parse).
   */
  open(r: ShardOpenRequest): Promise<ReencodeAnswer | undefined> {
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.busy[i]! < this.busy[w]!) w = i;
    const id = this.nextId++;
    this.busy[w]! += r.stored;
    const job: OpenShardJob = { id, file: r.file, stored: r.stored, crc: r.crc, key: r.key, memory: r.memory, ptr: r.ptr };
    if (this.cipher.workerModule !== undefined) job.cipherModule = this.cipher.workerModule;
    if (r.reencodePlainBytes !== undefined) job.reencode = { plainBytes: r.reencodePlainBytes, limits: reencodeLimits() };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker: w, bytes: r.stored });
      this.workers[w]!.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
