/**
 * The audit writer's thread (writer.ts): commits one batch of one log per job, in one wake-up of one
 * thread: the batch's lines at the end of the log, then its head marker slot. Both files are open with
 * O_DSYNC (fs.ts), so each `writeSync` returns once its bytes are durable: the marker is written only after
 * the lines it covers are on disk, and the answer goes back only after both are. A failed write stops the
 * batch there (no marker after lines that may not be durable) and is answered with its code; the trail
 * then rejects the batch and recovers (trail.ts). Jobs arrive through shared memory (writer-channel.ts):
 * the thread sleeps in Atomics.wait, never in its event loop. Plain JS at run time
 * (dist/src/server/audit/writer-worker.js).
 */
import { writeSync } from 'node:fs';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  kDone, kErrorLen, kHeadFailed, kHeadFd, kJob, kLinesByte, kLinesLen, kLogFailed, kLogFd, kMarkerLen, kNewData, kOk,
  kPosByte, kResult, type WriterThreadData,
} from './writer-channel.js';

/** Writes all of `buf` at `position`, looping over short writes; a write of 0 bytes is an error (as fs.ts writeFully). */
function writeAllSync(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = writeSync(fd, buf, done, buf.length - done, position + done);
    if (!(n > 0)) throw Object.assign(new Error('short write: 0 bytes written'), { code: 'EIO' });
    done += n;
  }
}

const shared = workerData as WriterThreadData;
const ctl = new Int32Array(shared.ctl);
const pos = new Float64Array(shared.ctl, kPosByte, 2);
let data = Buffer.from(shared.data);

let seen = 0;
for (;;) {
  Atomics.wait(ctl, kJob, seen);
  const job = Atomics.load(ctl, kJob);
  if (job === seen) continue;
  seen = job;
  if (ctl[kNewData] === 1) {
    data = Buffer.from(receiveMessageOnPort(shared.port)!.message as SharedArrayBuffer);
    ctl[kNewData] = 0;
  }
  let result = kLogFailed;
  try {
    writeAllSync(ctl[kLogFd]!, data.subarray(kLinesByte, kLinesByte + ctl[kLinesLen]!), pos[0]!);
    result = kHeadFailed;
    writeAllSync(ctl[kHeadFd]!, data.subarray(0, ctl[kMarkerLen]!), pos[1]!);
    result = kOk;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    ctl[kErrorLen] = data.write(`${e.code ?? ''}\n${e.message}`.slice(0, 1024), 0, 'utf8');
  }
  ctl[kResult] = result;
  Atomics.store(ctl, kDone, job);
  Atomics.notify(ctl, kDone);
}
