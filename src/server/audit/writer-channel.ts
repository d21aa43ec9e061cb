/**
 * The shared memory between the audit writer (writer.ts, main thread) and its thread (writer-worker.ts):
 * one job at a time, handed over and answered by Atomics instead of messages. A MessagePort round trip
 * costs the main thread a structured clone and a 'message' event per batch (its native postMessage was
 * the largest single item of the main thread's profile under `bench:http`); here the main thread copies
 * the batch's input (its records' fields as JSON, the log's head, the data key) into `data`, stores the job's number and wakes the thread (Atomics.notify), and learns of the
 * answer from Atomics.waitAsync on `kDone`. Both sides import only these constants.
 *
 * `ctl` (Int32Array over `kCtlBytes`): the words below; Float64 at `kPosByte` (a log may pass 2 GiB): the
 * log's durable length, its last durable seq, the batch's first key counter, and (answered) the log's length
 * after the batch. `data`: the data key at 0 (zeroed by the thread once it has taken it); the job's input
 * text at `kInputByte`; the answer at `kOutByte` (8-aligned, after the input): one Float64 line offset a
 * record, then one 64-character hex hash a record. After a failed job, the error's `code\nmessage` at 0. The
 * main thread writes a job's fields, then stores `kJob` (seq-cst: the thread that loads the new number sees
 * them); the thread writes the answer, then stores `kDone`.
 *
 * The input text (UTF-8), one line a field, then one line a record's fields as JSON (JSON.stringify writes
 * no raw newline):
 *
 *   <tenant>\n<default ts>\n<key id>\n<prev hash>\n<fields JSON of record 1>\n…\n<fields JSON of record n>
 *
 * A batch made already (`kMade` 1: sealed and chained on the main thread, when it had nothing else to do; see
 * writer.ts) comes as its bytes instead: no key, no answer; the lines' UTF-8 at `kInputByte` (`kInputLen`
 * bytes, written at the log's durable length), the marker slot's `kMarkerLen` bytes at `kOutByte` (written at
 * `kMarkerAt` of the head file). The thread only writes them, lines then marker, as for any batch.
 */
import type { MessagePort } from 'node:worker_threads';

/** Job number, bumped by the main thread per job (the thread waits on it). */
export const kJob = 0;
/** Number of the last job answered (the main thread waits on it). */
export const kDone = 1;
/** The answer: kOk, or which step failed. */
export const kResult = 2;
export const kLogFd = 3;
export const kHeadFd = 4;
/** Bytes of the input text at kInputByte. */
export const kInputLen = 5;
/** Records in the batch. */
export const kCount = 6;
/** 1: a larger `data` buffer waits on the message port; take it before reading this job. */
export const kNewData = 7;
/** Bytes of the error text in `data` after a failed job. */
export const kErrorLen = 8;
/** Where the answer starts in `data`. */
export const kOutByte = 9;
/** 1: the log does not end in a newline; the lines start with one. */
export const kNewline = 10;
/** 1: the job is a batch made already (its lines and marker slot), 0: the records' fields to seal and chain. */
export const kMade = 11;
/** A made batch: where its marker slot goes in the head file, and its bytes at kOutByte. */
export const kMarkerAt = 12;
export const kMarkerLen = 13;
/**
 * Jobs the thread took while watching for them after a wake-up without a job (writer.ts `prime`), counted by the
 * thread (tests and the writer's stats).
 */
export const kPrimedTakes = 14;
/** Wake-ups without a job (a `prime`'s) after which the thread watched for one, counted by the thread (tests). */
export const kPrimedWakes = 15;
/**
 * How long a thread woken without a job (writer.ts `prime`) watches for one before it sleeps again: the making of a
 * lone request's record, from its handler's answer to the post, took 0.07–0.35 ms in bench:http's timelines.
 */
export const kPrimedWatchMs = 1;

export const kOk = 0;
/** Sealing or chaining failed (nothing was written). */
export const kSealFailed = 1;
export const kLogFailed = 2;
export const kHeadFailed = 3;

export const kCtlBytes = 128;
/** Float64 index 0: linesAt, 1: seq, 2: counter, 3: the log's length after the batch (answer). */
export const kPosByte = 64;
/** The data key's bytes at 0 (crypto/aead.ts kKeyBytes); the input after it, past room for an error text. */
export const kKeyBytes = 32;
export const kInputByte = 1024;
/** Answer bytes a record: a Float64 offset and a hex SHA-256. */
export const kOutBytesPerRecord = 8 + 64;
/** `data` to start with; a larger batch replaces it (double until it fits). */
export const kInitialDataBytes = 1 << 20;

export interface WriterThreadData {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** Where a replacement `data` buffer is posted (kNewData). */
  port: MessagePort;
}
