/**
 * The generating thread's side of the encoding thread (encode-worker.ts): started before the generator
 * is built; handed the line tables made from the generator's set-up (so it need not build the fleet
 * again), then fed column batches, a few in flight, whose replies (truth entries, progress) are taken
 * in order.
 */
import { Worker } from 'node:worker_threads';
import { compiledWorkerPath } from '../core/worker-path.js';
import { ColumnBatchBuilder, transferList } from './column-batch.js';
import type { EncodeReply, EncodeRequest, EncodeWorkerData } from './encode-worker.js';
import type { ReadGenerator } from './generator.js';
import { lineTables, lineTablesTransferList } from './ndjson-lines.js';
import type { EncodeSink, Encoded } from './ndjson-writer.js';

// Reads per batch: a message costs tens of µs, a batch ~30 ms of encoding.
const kBatchReads = 65_536;
// Batches in flight: enough that neither thread waits for the other, few enough to keep memory flat (~3 MB each).
const kMaxBatchesInFlight = 4;

export class EncoderThread {
  private readonly worker: Worker;
  /** Replies arrive in request order; each request waits for its own. */
  private readonly waiting: Array<{ resolve(r: EncodeReply): void; reject(e: unknown): void }> = [];
  private failure: unknown;

  /** Starts the thread; it writes the data file through `fd` (shared by every thread of the process). */
  constructor(fd: number, flushBytes: number, maxLineBytes: number) {
    const workerData: EncodeWorkerData = { fd, flushBytes, maxLineBytes };
    this.worker = new Worker(compiledWorkerPath(import.meta.url, '../../dist/src/gen/encode-worker.js', './encode-worker.js'), { workerData });
    this.worker.on('message', (r: EncodeReply) => {
      if (r.kind === 'error') this.fail(new Error(`gen encoder: ${r.message}`));
      else this.waiting.shift()?.resolve(r);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`gen encoder exited (${code})`)));
  }

  /** Generates every read of `gen` here and has them encoded and written there. */
  async run(gen: ReadGenerator, sink: EncodeSink): Promise<Encoded> {
    let bytes = 0;
    const inFlight: Array<Promise<EncodeReply>> = [];
    // the oldest batch's reply: its truth entries, in order, and the progress it made
    const settleOldest = async () => {
      const r = await inFlight.shift()!;
      if (r.kind === 'tables') return;
      if (r.kind !== 'batch') throw new Error(`gen encoder: unexpected reply ${r.kind}`);
      bytes += r.bytes;
      if (r.truth.length > 0) await sink.truth(r.truth);
      sink.progress(r.last);
    };
    const tables = lineTables(gen);
    inFlight.push(this.request({ kind: 'tables', tables }, lineTablesTransferList(tables)));
    const builder = new ColumnBatchBuilder(kBatchReads, 0);
    const send = async () => {
      const batch = builder.take();
      inFlight.push(this.request({ kind: 'batch', batch }, transferList(batch)));
      if (inFlight.length >= kMaxBatchesInFlight) await settleOldest();
    };
    try {
      for (const chunk of gen.chunks()) {
        for (let i = 0; i < chunk.count; ) {
          i = builder.add(chunk, i);
          if (builder.count === kBatchReads) await send();
        }
      }
      if (builder.count > 0) await send();
      while (inFlight.length > 0) await settleOldest();
    } finally {
      // a failed run leaves no reply unobserved
      await Promise.allSettled(inFlight);
    }
    const end = await this.request({ kind: 'end' });
    if (end.kind !== 'end') throw new Error(`gen encoder: unexpected reply ${end.kind}`);
    return { counts: end.counts, bytes: bytes + end.bytes };
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private request(msg: EncodeRequest, transfer: ArrayBuffer[] = []): Promise<EncodeReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
