/**
 * Bulk ingest as a pipeline (`platesearch ingest`):
 *
 *   read file (1 thread) ─► cut into pieces at line/record boundaries (src/ingest/chunker.ts)
 *        ─► parse + validate on worker threads (src/ingest/parse-worker.ts), pieces in flight ≤ 10 a worker
 *        ─► results taken back in file order ─► rejected lines reported, accepted reads (columns) to the
 *           sink (src/store/bulk-load.ts: accumulate columnar, cut day shards, put them)
 *
 * Memory is bounded by the pieces in flight (≈ pieceBytes each) and the sink's accumulator, not by the file.
 * Rejected lines are reported in file order with their file line numbers, exactly as the line-at-a-time
 * ingest reported them. Without a built worker (running from src/), pieces are parsed on this thread.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CsvReader } from '../server/export/csv-reader.js';
import type { ReadColumns } from '../store/read-columns.js';
import { hasBom, PieceCutter } from './chunker.js';
import { parseChunk, type IngestFormat, type ParseJob, type ParseResult } from './parse-chunk.js';
import { parseBody, type BodyJob, type BodyResult } from './parse-body.js';

/** Bytes a piece aims at: ~20k NDJSON reads; big enough to amortise a message, small next to the heap. */
export const kPieceBytes = 4 << 20;
// a block holds the previous block's unfinished last line, then pieceBytes: room for a tail this long keeps
// a block reusable (a longer line gets a block of its own)
const kTailRoom = 64 << 10;
// piece buffers kept for the next reads: they come back about as fast as blocks are read
const kSpareBlocks = 4;
// pieces queued a worker: enough that the workers keep parsing while this thread builds a day's shards
// (seconds at 20M: with 3 they ran dry; 10 kept 1.66 cores busy against 1.60, wall −2 to −7 % at 20M, peak
// +10 to +27 MiB, bench/RESULTS.md "Bulk load of 20M after this session's changes")
const kInFlightPerWorker = 10;

export interface PipelineSink {
  /**
   * Accepted reads of one piece, in file order. The columns are readable only until the returned promise
   * settles: they may be views of a parse worker's buffer, given back to it then (src/ingest/column-lanes.ts).
   */
  add(columns: ReadColumns): Promise<void>;
  /** A rejected line (file line number, 1-based), in file order. */
  reject(file: string, line: number, error: string): void;
  /** Rejected lines past a piece's reporting limit: counted only (the command prints the first 100 in all). */
  rejectUnreported(count: number): void;
}

function workerFile(): string | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/src/ingest/parse-worker.js', here) : new URL('./parse-worker.js', here);
  const file = fileURLToPath(url);
  return existsSync(file) ? file : undefined;
}

/**
 * Parse workers, each answering its jobs in order: pieces of a file (bulk ingest) or whole request bodies
 * (`POST /v1/reads`, src/ingest/parse-body.ts).
 */
export class ParsePool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly waiting = new Map<number, { resolve: (r: ParseResult | BodyResult) => void; reject: (e: Error) => void; worker: number }>();
  private nextId = 0;
  private failed: Error | undefined;

  /**
   * `threads` workers (default: one per core, at most 4); 0 parses on the calling thread. `unref`: the
   * workers alone do not keep the process alive (a server's pool: its sockets do, while it serves).
   */
  constructor(threads = Math.min(4, availableParallelism()), options: { unref?: boolean } = {}) {
    const file = threads > 0 ? workerFile() : undefined;
    if (!file) return;
    for (let w = 0; w < threads; w++) {
      // not unref'd by default: a piece awaited from a worker must keep the process alive; close() ends them
      const worker = new Worker(file);
      if (options.unref) worker.unref();
      worker.on('message', (m: { id: number; result?: ParseResult | BodyResult; error?: string }) => {
        const p = this.waiting.get(m.id);
        if (!p) return;
        this.waiting.delete(m.id);
        this.load[p.worker]!--;
        const lanes = m.result && 'lanes' in m.result ? m.result.lanes : undefined;
        if (lanes) {
          // a body's or a piece's columns came in the worker's reused buffer (src/ingest/column-lanes.ts): back to it once used
          let released = false;
          m.result!.release = () => {
            if (released) return;
            released = true;
            if (!this.failed) worker.postMessage({ release: lanes }, [lanes]);
          };
        }
        if (m.result) p.resolve(m.result);
        else p.reject(new Error(`ingest parse worker: ${m.error}`));
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`ingest parse worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Whether a worker failed (its jobs were rejected; later ones are too). */
  get broken(): boolean {
    return this.failed !== undefined;
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }

  /** Parses a piece (its bytes are transferred away when a worker takes it). */
  parse(job: ParseJob): Promise<ParseResult> {
    return this.run(job, parseChunk);
  }

  /** Parses a request body (its bytes are transferred away when a worker takes it). */
  parseBody(job: BodyJob): Promise<BodyResult> {
    return this.run(job, parseBody);
  }

  private run<J extends ParseJob | BodyJob, R extends ParseResult | BodyResult>(job: J, here: (job: J) => R): Promise<R> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(here(job));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[w]!) w = i;
    const id = this.nextId++;
    this.load[w]!++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: ParseResult | BodyResult) => void, reject, worker: w });
      // the job's memory moves to the worker (the caller gives every job a buffer of its own)
      this.workers[w]!.postMessage({ id, job }, [job.bytes.buffer as ArrayBuffer]);
    });
  }

  get inFlightLimit(): number {
    return Math.max(2, this.workers.length * kInFlightPerWorker);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The first CSV record of `bytes` (BOM already stripped): the header, or undefined when there is none yet. */
function csvHeaderOf(bytes: Uint8Array, atEof: boolean): string[] | undefined {
  const reader = new CsvReader({ skipBom: false });
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const records = reader.push(text);
  if (records.length === 0 && atEof) records.push(...reader.end());
  return records[0]?.fields.map((f) => f.trim());
}

/**
 * Streams one file through the pool into the sink. CSV: the header is read first; a header without a
 * "plate" column fails the file before any of its rows reach the sink.
 */
export async function ingestFile(file: string, format: IngestFormat, cutoff: number, pool: ParsePool, sink: PipelineSink, pieceBytes = kPieceBytes): Promise<void> {
  const fh = await open(file, 'r');
  const cutter = new PieceCutter(format);
  const inFlight: Array<Promise<ParseResult>> = [];
  // piece buffers moved back by the workers, read into again (each at least a block's usual size)
  const spare: ArrayBuffer[] = [];
  const blockSize = pieceBytes + kTailRoom;
  let nextLine = 1;
  let header: string[] | undefined;
  let headerPending = format === 'csv';
  let first = true;

  const drainOne = async () => {
    const result = await inFlight.shift()!;
    for (const r of result.reports) sink.reject(file, nextLine + r.line - 1, r.error);
    // reports stop at kMaxReportedPerPiece (≥ the command's 100) a piece; the rest are only counted
    if (result.rejected > result.reports.length) sink.rejectUnreported(result.rejected - result.reports.length);
    nextLine += result.breaks;
    if (result.piece && result.piece.byteLength >= blockSize && spare.length < kSpareBlocks) spare.push(result.piece);
    // the columns came in a worker's reused buffer: back to it once the sink has taken the rows (it copies them)
    if (result.columns.length > 0) await sink.add(result.columns);
    result.release?.();
  };
  const submit = async (bytes: Uint8Array) => {
    const job: ParseJob = { format, bytes, cutoff };
    if (format === 'csv') {
      job.header = header;
      if (first) job.skipHeader = true;
    }
    first = false;
    while (inFlight.length >= pool.inFlightLimit) await drainOne();
    inFlight.push(pool.parse(job));
  };

  try {
    // each block: the previous block's unfinished tail, then up to pieceBytes read from the file; the piece
    // cut from it owns the block's memory (transferred to a worker), the new tail is copied out first
    let tail: Buffer = Buffer.alloc(0);
    let tailScanned = 0; // bytes at the start of `tail` the cutter has seen
    let pos = 0;
    let firstRead = true;
    for (;;) {
      // the tail (the last line's start, short) and a full pieceBytes after it, as always: the same pieces
      const size = tail.length + pieceBytes;
      const reuse = size <= blockSize ? spare.pop() : undefined;
      const block = reuse ? Buffer.from(reuse, 0, size) : Buffer.allocUnsafeSlow(Math.max(size, blockSize));
      tail.copy(block, 0);
      const { bytesRead } = await fh.read(block, tail.length, pieceBytes, pos);
      pos += bytesRead;
      const eof = bytesRead === 0;
      let data = block.subarray(0, tail.length + bytesRead);
      const fresh = tailScanned;
      if (firstRead && hasBom(data)) data = data.subarray(3); // the file's own BOM only (nothing scanned yet)
      firstRead = false;
      if (headerPending) {
        header = csvHeaderOf(data, eof);
        if (header === undefined && !eof) {
          tail = Buffer.from(data);
          tailScanned = 0; // the cutter has not seen these bytes yet
          continue;
        }
        headerPending = false;
        if (header && !header.includes('plate')) throw new Error(`${file}: the CSV header has no "plate" column`);
      }
      if (eof) {
        if (data.length > 0) await submit(data);
        break;
      }
      const cut = cutter.cut(data, Math.min(fresh, data.length));
      if (cut < 0) {
        tail = Buffer.from(data);
        tailScanned = tail.length;
        continue;
      }
      tail = Buffer.from(data.subarray(cut));
      tailScanned = tail.length;
      await submit(data.subarray(0, cut));
    }
    while (inFlight.length > 0) await drainOne();
  } finally {
    // pieces still in flight after an error: let them settle unobserved
    for (const p of inFlight) p.catch(() => undefined);
    await fh.close();
  }
}
