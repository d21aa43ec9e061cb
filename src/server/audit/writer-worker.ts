/**
 * The audit writer's thread (writer.ts): makes and commits one batch of one log per job, in one wake-up of
 * one thread. It seals and chains the batch's records in their order (batch.ts chainBatch: the sealed
 * fields, the canonical line, the SHA-256 chain), then writes the lines at the end of the log, then the head
 * marker slot, and answers with each record's hash and line offset. Both files are open with O_DSYNC
 * (fs.ts), so each `writeSync` returns once its bytes are durable: the marker is written only after the
 * lines it covers are on disk, and the answer goes back only after both are. A failed step stops the batch
 * there (nothing written after a failed seal, no marker after lines that may not be durable) and is
 * answered with its code; the trail then rejects the batch and recovers (trail.ts). Jobs arrive through
 * shared memory (writer-channel.ts): the thread sleeps in Atomics.wait, never in its event loop (woken without a
 * job, by writer.ts `prime`, it watches for one for kPrimedWatchMs before it sleeps again). A batch the
 * main thread made already (sealed there when it had nothing else to do: writer.ts) comes as its lines and
 * marker slot, and only the two writes run here, in the same order with the same failure steps. It seals
 * with AES-256-GCM only (writer.ts keeps other ciphers on the main thread) and keeps no data key after a
 * job. Plain JS at run time (dist/src/server/audit/writer-worker.js).
 */
import { writeSync } from 'node:fs';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { aesGcm } from '../../crypto/cipher.js';
import { type BatchLines, chainBatch } from './batch.js';
import {
  kCount, kDone, kErrorLen, kHeadFailed, kHeadFd, kInputByte, kInputLen, kJob, kKeyBytes, kLogFailed, kLogFd, kMade, kMarkerAt,
  kMarkerLen, kNewData, kNewline, kOk, kOutByte, kPosByte, kPrimedTakes, kPrimedWakes, kPrimedWatchMs, kResult, kSealFailed, type WriterThreadData,
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
const pos = new Float64Array(shared.ctl, kPosByte, 4);
let data = Buffer.from(shared.data);

/** The job's batch, sealed and chained; takes the data key out of the shared memory (zeroed there). */
function sealJob(): BatchLines {
  const key = Buffer.from(data.subarray(0, kKeyBytes));
  data.fill(0, 0, kKeyBytes);
  try {
    const text = data.toString('utf8', kInputByte, kInputByte + ctl[kInputLen]!);
    const head = text.split('\n', 4);
    let at = 0;
    for (const h of head) at += h.length + 1;
    const fields = text.slice(at).split('\n');
    if (head.length !== 4 || fields.length !== ctl[kCount]) throw new Error(`malformed batch: ${fields.length} records for ${ctl[kCount]}`);
    return chainBatch({
      tenant: head[0]!, ts: head[1]!, prev: head[3]!, seq: pos[1]!, linesAt: pos[0]!, newline: ctl[kNewline] === 1,
      key: { id: head[2]!, key, counter: pos[2]! }, fields,
    }, aesGcm);
  } finally {
    key.fill(0);
  }
}

let seen = 0;
for (;;) {
  Atomics.wait(ctl, kJob, seen);
  let job = Atomics.load(ctl, kJob);
  if (job === seen) {
    // woken without a job: one is being made (writer.ts prime). Watch for it rather than sleep again, so its
    // post finds this thread running; if none comes in time, sleep
    Atomics.add(ctl, kPrimedWakes, 1);
    const until = performance.now() + kPrimedWatchMs;
    while ((job = Atomics.load(ctl, kJob)) === seen && performance.now() < until);
    if (job === seen) continue;
    ctl[kPrimedTakes]!++;
  }
  seen = job;
  if (ctl[kNewData] === 1) {
    data = Buffer.from(receiveMessageOnPort(shared.port)!.message as SharedArrayBuffer);
    ctl[kNewData] = 0;
  }
  let result = kSealFailed;
  try {
    if (ctl[kMade] === 1) {
      // sealed and chained on the main thread (writer-channel.ts kMade): only the two writes, in the same order
      const out = ctl[kOutByte]!;
      result = kLogFailed;
      writeAllSync(ctl[kLogFd]!, data.subarray(kInputByte, kInputByte + ctl[kInputLen]!), pos[0]!);
      result = kHeadFailed;
      writeAllSync(ctl[kHeadFd]!, data.subarray(out, out + ctl[kMarkerLen]!), ctl[kMarkerAt]!);
    } else {
      const b = sealJob();
      result = kLogFailed;
      writeAllSync(ctl[kLogFd]!, Buffer.from(b.lines, 'utf8'), pos[0]!);
      result = kHeadFailed;
      writeAllSync(ctl[kHeadFd]!, b.marker, b.markerAt);
      const n = b.hashes.length;
      const out = ctl[kOutByte]!;
      new Float64Array(data.buffer, out, n).set(b.offsets);
      for (let i = 0; i < n; i++) data.write(b.hashes[i]!, out + 8 * n + 64 * i, 64, 'latin1');
      pos[3] = b.len;
    }
    result = kOk;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    ctl[kErrorLen] = data.write(`${e.code ?? ''}\n${e.message}`.slice(0, 300), 0, 'utf8');
  }
  ctl[kResult] = result;
  Atomics.store(ctl, kDone, job);
  Atomics.notify(ctl, kDone);
}
