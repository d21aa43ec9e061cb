/**
 * The shared memory between the audit writer (writer.ts, main thread) and its thread (writer-worker.ts):
 * one job at a time, handed over and answered by Atomics instead of messages. A MessagePort round trip
 * costs the main thread a structured clone and a 'message' event per batch (its native postMessage was
 * the largest single item of the main thread's profile under `bench:http`); here the main thread copies
 * the batch into `data`, stores the job's number and wakes the thread (Atomics.notify), and learns of the
 * answer from Atomics.waitAsync on `kDone`. Both sides import only these constants.
 *
 * `ctl` (Int32Array over `kCtlBytes`): the words below; positions as Float64 at `kPosByte` (a log may pass
 * 2 GiB). `data`: the marker slot at 0, the lines' UTF-8 at `kLinesByte`; after a failed job, the
 * error's `code\nmessage` at 0. The main thread writes a job's fields, then stores `kJob` (seq-cst: the
 * thread that loads the new number sees them); the thread writes the result, then stores `kDone`.
 */
import type { MessagePort } from 'node:worker_threads';

/** Job number, bumped by the main thread per job (the thread waits on it). */
export const kJob = 0;
/** Number of the last job answered (the main thread waits on it). */
export const kDone = 1;
/** The answer: kOk, or which write failed. */
export const kResult = 2;
export const kLogFd = 3;
export const kHeadFd = 4;
export const kLinesLen = 5;
export const kMarkerLen = 6;
/** 1: a larger `data` buffer waits on the message port; take it before reading this job. */
export const kNewData = 7;
/** Bytes of the error text in `data` after a failed job. */
export const kErrorLen = 8;

export const kOk = 0;
export const kLogFailed = 1;
export const kHeadFailed = 2;

export const kCtlBytes = 64;
/** Float64 index 0: linesAt, 1: markerAt. */
export const kPosByte = 48;
/** Where the lines start in `data` (after the marker slot, head.ts kHeadSlotBytes). */
export const kLinesByte = 256;
/** `data` to start with; a larger batch replaces it (double until it fits). */
export const kInitialDataBytes = 1 << 20;

export interface WriterThreadData {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** Where a replacement `data` buffer is posted (kNewData). */
  port: MessagePort;
}
