/**
 * The audit writer's thread (writer.ts): commits one batch of one log per message, in one wake-up of one
 * thread: the batch's lines at the end of the log, then its head marker slot. Both files are open with
 * O_DSYNC (fs.ts), so each `writeSync` returns once its bytes are durable: the marker is written only after
 * the lines it covers are on disk, and the answer goes back only after both are. A failed write stops the
 * batch there (no marker after lines that may not be durable) and is answered with its code; the trail
 * then rejects the batch and recovers (trail.ts). Plain JS at run time (dist/src/server/audit/writer-worker.js).
 */
import { writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export interface WriterRequest {
  id: number;
  logFd: number;
  /** The lines as text (writer.ts BatchWrite says why). */
  lines: string;
  linesAt: number;
  headFd: number;
  marker: Uint8Array;
  markerAt: number;
}

export interface WriterAnswer {
  id: number;
  /** Set when a write failed: which file, the message and the errno code. */
  error?: { file: 'log' | 'head'; message: string; code?: string };
}

/** Writes all of `buf` at `position`, looping over short writes; a write of 0 bytes is an error (as fs.ts writeFully). */
function writeAllSync(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = writeSync(fd, buf, done, buf.length - done, position + done);
    if (!(n > 0)) throw Object.assign(new Error('short write: 0 bytes written'), { code: 'EIO' });
    done += n;
  }
}

parentPort!.on('message', (m: WriterRequest) => {
  let file: 'log' | 'head' = 'log';
  try {
    writeAllSync(m.logFd, Buffer.from(m.lines, 'utf8'), m.linesAt);
    file = 'head';
    writeAllSync(m.headFd, m.marker, m.markerAt);
    parentPort!.postMessage({ id: m.id } satisfies WriterAnswer);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: m.id, error: { file, message: e.message, code: e.code } } satisfies WriterAnswer);
  }
});
