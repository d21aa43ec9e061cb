/**
 * The audit writer: makes and commits a batch of one log with one hop off the main thread. The main thread
 * hands over the batch's input (batch.ts BatchInput: the records' fields as JSON, the log's durable head,
 * the data key and its counters); one kept thread (writer-worker.ts) seals and chains the records in their
 * order, writes the lines and then the head marker (both O_DSYNC) and answers once, with each record's hash
 * and line offset. The hop is shared memory and Atomics (writer-channel.ts), not a message: one job on the
 * thread at a time, the next queued here (the thread wrote one batch after another anyway); batches of
 * different logs go in the order they came.
 *
 * When the caller has nothing else to run until the batch is durable (the server with one request in flight)
 * and the thread is idle, the batch is sealed and chained here before the hand-off instead: the seal then
 * runs on the caller's warm thread in time it would spend waiting, not on the writer thread just woken from
 * its sleep (cold caches, and on a shared box a core to win first), and the thread only writes
 * (writer-channel.ts kMade). A busy server keeps the seal off the main thread.
 *
 * Such a caller may also watch for the answer on its own thread once it has made its answer's text (`settle`):
 * it polls the job's done word for a bounded time instead of going to sleep and learning of the answer
 * through Atomics.waitAsync and the event loop. On the project's 2-core VM a thread that sleeps there gives up
 * its virtual CPU, and the way back (the writer's notify, the loop's wake-up, the answer's task) took 77–120 µs
 * in bench:http's one-client timelines, 9 µs polled; one-client overhead p50 fell in 65 of 72 kind-pairs, the
 * hot list's 1.67–3.10 → 1.43–1.98 ms (bench/RESULTS.md, "Issue 12: the one-client record path"). The job is
 * answered by the same `answered` either way; whoever sees the done word first answers it, the other finds it
 * answered.
 *
 * Files that are not plain O_DSYNC descriptors (the fault-injecting file systems of the tests, a disk
 * without durable writes), and a cipher other than AES-256-GCM (the benchmarks' stand-in, which the thread
 * does not have), are made here with the same chainBatch and committed through their AuditFile: lines,
 * sync, marker, sync. Either way the contract is the same: resolves once the lines and then the marker are
 * durable; rejects if a step failed (the marker is then not written after lines that failed), and the
 * caller recovers the log.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { aesGcm, type Cipher } from '../../crypto/cipher.js';
import { builtWorkerPath } from '../../core/worker-path.js';
import { type BatchInput, type BatchLines, type BatchOutput, chainBatch } from './batch.js';
import { type AuditFile, writeFully } from './fs.js';
import {
  kCount, kCtlBytes, kDone, kErrorLen, kHeadFd, kInitialDataBytes, kInputByte, kInputLen, kJob, kKeyBytes, kLogFailed, kLogFd,
  kMade, kMarkerAt, kMarkerLen, kNewData, kNewline, kOk, kOutByte, kOutBytesPerRecord, kPosByte, kPrimedTakes, kPrimedWakes, kResult, kSealFailed,
  type WriterThreadData,
} from './writer-channel.js';

interface Job {
  logFd: number;
  headFd: number;
  batch: BatchInput;
  /** The batch sealed and chained already (on the main thread): the thread only writes it. */
  made: BatchLines | undefined;
  /** Its number on the thread (writer-channel.ts kJob) once posted, else 0. */
  number: number;
  resolve(out: BatchOutput): void;
  reject(err: Error): void;
}

// Atomics.waitAsync (ES2024, in V8 since Node 16) is not in this project's TypeScript lib
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

function workerPath(): string | undefined {
  return builtWorkerPath(import.meta.url, '../../../dist/src/server/audit/writer-worker.js', './writer-worker.js');
}

/** The kept thread and the memory shared with it; replaced by a new one if it dies. */
class WriterThread {
  readonly ctl = new Int32Array(new SharedArrayBuffer(kCtlBytes));
  readonly pos = new Float64Array(this.ctl.buffer, kPosByte, 4);
  data = Buffer.from(new SharedArrayBuffer(kInitialDataBytes));
  readonly worker: Worker;
  private readonly port: MessagePort;
  jobs = 0;

  constructor(file: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: WriterThreadData = { ctl: this.ctl.buffer as SharedArrayBuffer, data: this.data.buffer as SharedArrayBuffer, port: port2 };
    this.worker = new Worker(file, { workerData, transferList: [port2] });
    this.worker.unref();
  }

  /** Copies `job` into the shared memory and wakes the thread; the number of the job. */
  post(job: Job): number {
    const b = job.batch;
    const made = job.made;
    const input = made ? made.lines : `${b.tenant}\n${b.ts}\n${b.key.id}\n${b.prev}\n${b.fields.join('\n')}`;
    const n = b.fields.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only when that bound does not fit
    const out = made ? made.marker.length : n * kOutBytesPerRecord;
    const room = (inputBytes: number): number => kInputByte + inputBytes + 8 + out;
    if (room(3 * input.length) > this.data.length) {
      const need = room(Buffer.byteLength(input, 'utf8'));
      if (need > this.data.length) this.grow(need);
    }
    const ctl = this.ctl;
    const inputLen = this.data.write(input, kInputByte, 'utf8');
    ctl[kInputLen] = inputLen;
    const outByte = (kInputByte + inputLen + 7) & ~7;
    ctl[kOutByte] = outByte;
    ctl[kCount] = n;
    ctl[kNewline] = b.newline ? 1 : 0;
    ctl[kLogFd] = job.logFd;
    ctl[kHeadFd] = job.headFd;
    this.pos[0] = b.linesAt;
    if (made) {
      // no key crosses over: the records are sealed already
      ctl[kMade] = 1;
      this.data.set(made.marker, outByte);
      ctl[kMarkerAt] = made.markerAt;
      ctl[kMarkerLen] = made.marker.length;
    } else {
      ctl[kMade] = 0;
      this.data.set(b.key.key.subarray(0, kKeyBytes), 0);
      this.pos[1] = b.seq;
      this.pos[2] = b.key.counter;
    }
    const number = ++this.jobs;
    Atomics.store(ctl, kJob, number);
    Atomics.notify(ctl, kJob, 1);
    return number;
  }

  /** The answered job's hashes, line offsets and the log's new length. */
  output(n: number): BatchOutput {
    const out = this.ctl[kOutByte]!;
    const offsets = Array.from(new Float64Array(this.data.buffer, out, n));
    const hashes = new Array<string>(n);
    for (let i = 0, at = out + 8 * n; i < n; i++, at += 64) hashes[i] = this.data.toString('latin1', at, at + 64);
    return { hashes, offsets, len: this.pos[3]! };
  }

  /** The failed job's error, as the thread wrote it. */
  error(): Error {
    const text = this.data.toString('utf8', 0, this.ctl[kErrorLen]);
    const nl = text.indexOf('\n');
    const result = this.ctl[kResult];
    const file = result === kSealFailed ? 'seal' : result === kLogFailed ? 'log' : 'head';
    const code = text.slice(0, nl);
    return Object.assign(new Error(`${file}: ${text.slice(nl + 1)}`), code ? { code } : {});
  }

  private grow(need: number): void {
    let size = this.data.length;
    while (size < need) size *= 2;
    const sab = new SharedArrayBuffer(size);
    this.data = Buffer.from(sab);
    this.port.postMessage(sab);
    this.ctl[kNewData] = 1;
  }
}

export class AuditWriter {
  private readonly threadFile = workerPath();
  private thread: WriterThread | undefined;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private closed = false;
  /**
   * Batches committed, how many of them on the writer thread (tests count the hops), of those how many sealed
   * before the hand-off, how many answers `settle` took on the calling thread, and how many times an idle thread
   * was primed.
   */
  readonly stats = { commits: 0, threadCommits: 0, madeHere: 0, settled: 0, primes: 0 };

  /**
   * Seals and chains the batch (batch.ts), writes its lines and then its marker durably; resolves with each
   * record's hash and line offset, rejects with the first failed step's error. `callerIdle`: the calling
   * thread has nothing else to run until the batch is durable (the server has no other request in flight).
   */
  async commit(log: AuditFile, head: AuditFile, b: BatchInput, cipher: Cipher, callerIdle = false): Promise<BatchOutput> {
    this.stats.commits++;
    if (this.threadFile !== undefined && cipher === aesGcm && log.fd !== undefined && head.fd !== undefined && log.durableWrites && head.durableWrites) {
      if (this.closed) throw new Error('audit writer closed');
      this.stats.threadCommits++;
      const logFd = log.fd, headFd = head.fd;
      // sealed here only when the caller has nothing else to do and the thread would start on it at once
      // (a busy server keeps the seal on the writer thread)
      const made = callerIdle && this.current === undefined ? chainBatch(b, cipher) : undefined;
      if (made) this.stats.madeHere++;
      return new Promise<BatchOutput>((resolve, reject) => {
        this.queue.push({ logFd, headFd, batch: b, made, number: 0, resolve, reject });
        if (!this.current) this.next();
      });
    }
    const made = chainBatch(b, cipher);
    await writeFully(log, Buffer.from(made.lines, 'utf8'), b.linesAt);
    if (!log.durableWrites) await log.sync();
    await writeFully(head, made.marker, made.markerAt);
    if (!head.durableWrites) await head.sync();
    return { hashes: made.hashes, offsets: made.offsets, len: made.len, bodies: made.bodies };
  }

  /**
   * Watches, on this thread and for at most `maxMs`, for the answer of the job on the writer thread, and
   * answers it here if it comes (its commit then resolves or rejects in this turn's microtasks, as it would
   * have after the event loop's wake-up). For a caller with nothing else to run until its record is durable
   * (the server with one request in flight, its answer's text made): the thread keeps its core instead of
   * sleeping, and no event-loop turn stands between the marker written and the answer. Nothing is acknowledged
   * sooner: the done word is stored by the writer thread only after the lines and then the marker are durable
   * (writer-worker.ts). Does nothing when no job is on the thread; after `maxMs` the job is left to the event
   * loop's wait. Polls rather than blocks in Atomics.wait: a blocked thread gives up its core as the event
   * loop's sleep does, and the way back was no faster (bench/RESULTS.md, http-audit's `settle`).
   */
  settle(maxMs: number): void {
    const t = this.thread, job = this.current;
    if (t === undefined || job === undefined || job.number === 0) return;
    const until = performance.now() + maxMs;
    while (Atomics.load(t.ctl, kDone) !== job.number) {
      if (performance.now() >= until) return;
    }
    this.stats.settled++;
    this.answered(t, job);
  }

  /**
   * Wakes the writer thread, when it is idle, to watch for a batch about to be posted (for kPrimedWatchMs): for a
   * caller about to make a lone request's record (the server with one request in flight, its handler answered).
   * The thread's wake-up, 21–113 µs on this project's VM (bench/RESULTS.md, "Issue 12: the floor under the
   * one-client overhead, and the writer thread primed"), then overlaps the record's making instead of following
   * its post. Nothing else changes: the thread takes the job it would have taken, and sleeps again if none comes.
   */
  prime(): void {
    const t = this.thread;
    if (t === undefined || this.current !== undefined) return;
    this.stats.primes++;
    Atomics.notify(t.ctl, kJob, 1);
  }

  /** Jobs the current thread took while watching after a `prime` (tests). */
  get primedTakes(): number {
    return this.thread === undefined ? 0 : Atomics.load(this.thread.ctl, kPrimedTakes);
  }

  /** Wake-ups without a job after which the current thread watched for one (tests). */
  get primedWakes(): number {
    return this.thread === undefined ? 0 : Atomics.load(this.thread.ctl, kPrimedWakes);
  }

  async close(): Promise<void> {
    this.closed = true;
    const t = this.thread;
    this.thread = undefined;
    if (t) await t.worker.terminate();
    this.failAll(new Error('audit writer closed'));
  }

  /** Hands the next queued job to the thread (starting one if needed); the thread is referenced while busy. */
  private next(): void {
    const job = this.queue.shift();
    if (!job) {
      this.current = undefined;
      this.thread?.worker.unref();
      return;
    }
    const idle = this.current === undefined;
    this.current = job;
    const t = this.thread ?? this.start();
    if (idle) t.worker.ref();
    const n = t.post(job);
    job.number = n;
    const done = (): void => this.answered(t, job);
    const wait = waitAsync(t.ctl, kDone, n - 1);
    if (wait.async) void wait.value.then(done);
    else queueMicrotask(done);
  }

  private answered(t: WriterThread, job: Job): void {
    // the thread died meanwhile (already rejected), or `settle` answered the job first
    if (t !== this.thread || this.current !== job) return;
    const made = job.made;
    if (t.ctl[kResult] !== kOk) job.reject(t.error());
    else if (made) job.resolve({ hashes: made.hashes, offsets: made.offsets, len: made.len, bodies: made.bodies });
    else job.resolve(t.output(job.batch.fields.length));
    this.next();
  }

  private start(): WriterThread {
    const t = new WriterThread(this.threadFile!);
    const gone = (err: Error): void => {
      if (this.thread !== t) return;
      this.thread = undefined;
      // the job on the thread may or may not be durable: it fails, and the trail cuts back and recovers
      const job = this.current;
      this.current = undefined;
      job?.reject(err);
      if (this.queue.length > 0) this.next();
    };
    t.worker.on('error', gone);
    t.worker.on('exit', () => gone(new Error('audit writer thread exited')));
    this.thread = t;
    return t;
  }

  private failAll(err: Error): void {
    const jobs = this.current ? [this.current, ...this.queue.splice(0)] : this.queue.splice(0);
    this.current = undefined;
    for (const j of jobs) j.reject(err);
  }
}
