/**
 * The encoding thread of `platesearch gen` (see ndjson-writer.ts, encoder-thread.ts): turns column
 * batches into NDJSON lines and writes them to the data file itself, in the order they arrive, then
 * reports each batch's truth entries back. The line tables (the constant pieces per camera and
 * vehicle) come first, from the generating thread.
 *
 * Writes are asynchronous (libuv's thread pool does the copying into the page cache, ~0.8 GB/s here)
 * while encoding goes on in another of a few rotating buffers: a synchronous write made this thread
 * the slower of the two.
 */
import { write } from 'node:fs';
import { promisify } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { asReadChunk, type ColumnBatch } from './column-batch.js';
import { LineEncoder } from './line-encoder.js';
import { NdjsonLines, type LineTables } from './ndjson-lines.js';

export interface EncodeWorkerData {
  /** Open file descriptor of the data file (descriptors are shared by every thread of the process). */
  fd: number;
  flushBytes: number;
  maxLineBytes: number;
}

export type EncodeRequest = { kind: 'tables'; tables: LineTables } | { kind: 'batch'; batch: ColumnBatch } | { kind: 'end' };

export type EncodeReply =
  | { kind: 'tables' }
  | { kind: 'batch'; last: number; bytes: number; truth: string }
  | { kind: 'end'; counts: NdjsonLines['counts']; bytes: number }
  | { kind: 'error'; message: string };

// 1 MiB buffers being written while the next one fills: the writes run on libuv's pool, which shares the
// two cores with both threads, so it falls behind in bursts; 8 rode them out (3: 0.97-1.12M reads/s, 8: 1.08-1.18M).
const kWritesInFlight = 8;
const writeAsync = promisify(write);

const data = workerData as EncodeWorkerData;
let lines: NdjsonLines | undefined;
const enc = new LineEncoder(data.flushBytes + data.maxLineBytes);
const port = parentPort!;
const free: Uint8Array[] = [];
let inFlight = 0;
let written: Promise<void> = Promise.resolve();

async function writeAll(bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; ) off += (await writeAsync(data.fd, bytes, off, bytes.length - off)).bytesWritten;
}

/** Queues the encoder's bytes for writing (after every earlier write) and gives it a free buffer. */
async function flush(): Promise<number> {
  const bytes = enc.pos;
  if (bytes === 0) return 0;
  const full = enc.buffer;
  const filled = enc.filled();
  enc.buffer = free.pop() ?? new Uint8Array(full.length);
  enc.clear();
  inFlight++;
  written = written.then(() => writeAll(filled)).finally(() => {
    inFlight--;
    free.push(full);
  });
  if (inFlight >= kWritesInFlight) await written;
  return bytes;
}

async function handle(msg: EncodeRequest): Promise<EncodeReply> {
  if (msg.kind === 'tables') {
    lines = new NdjsonLines(msg.tables);
    return { kind: 'tables' };
  }
  if (!lines) throw new Error('line tables not received');
  if (msg.kind === 'end') {
    const bytes = await flush();
    await written;
    return { kind: 'end', counts: lines.counts, bytes };
  }
  const chunk = asReadChunk(msg.batch);
  let bytes = 0;
  for (let i = 0; i < chunk.count; ) {
    i = lines.encode(chunk, i, enc, data.flushBytes);
    if (enc.pos >= data.flushBytes) bytes += await flush();
  }
  return { kind: 'batch', last: chunk.first + chunk.count, bytes, truth: lines.takeTruth() };
}

// one message at a time, in arrival order
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: EncodeRequest) => {
  queue = queue
    .then(() => handle(msg))
    .then((reply) => port.postMessage(reply), (err: unknown) => port.postMessage({ kind: 'error', message: (err as Error).message } satisfies EncodeReply));
});
