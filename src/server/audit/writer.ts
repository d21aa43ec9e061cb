/**
 * The audit writer: commits a batch of one log (its lines, then its head marker) with one hop off the main
 * thread. Through the thread pool the same commit took two round trips (a FileHandle write of the lines,
 * then one of the marker), each waking a pool thread and then the main thread again; here one kept worker
 * thread (writer-worker.ts) does both O_DSYNC writes in order and answers once.
 *
 * Files that are not plain O_DSYNC descriptors (the fault-injecting file systems of the tests, a disk
 * without durable writes) are committed here, through their AuditFile: lines, sync, marker, sync. Either
 * way the contract is the same: resolves once the lines and then the marker are durable; rejects if either
 * write failed (the marker is then not written after lines that failed), and the caller recovers the log.
 */
import { KeptWorker } from '../../core/kept-worker.js';
import { builtWorkerPath } from '../../core/worker-path.js';
import { type AuditFile, writeFully } from './fs.js';
import type { WriterAnswer, WriterRequest } from './writer-worker.js';

export interface BatchWrite {
  /**
   * The batch's lines as text, written (UTF-8) at `linesAt` (the log's durable end). Text, not bytes: a
   * string crosses to the thread as one copy of itself, where a Buffer from Buffer.from(string) would drag
   * its whole 8 KiB pool slab through the structured clone (40 % of the main thread's samples in
   * bench/audit-commit.ts at one appender); and the UTF-8 encoding then happens on the writer's thread.
   */
  lines: string;
  linesAt: number;
  /** The head marker slot covering them (head.ts encodeHeadSlot), written at `markerAt`. */
  marker: Uint8Array;
  markerAt: number;
}

function workerPath(): string | undefined {
  return builtWorkerPath(import.meta.url, '../../../dist/src/server/audit/writer-worker.js', './writer-worker.js');
}

export class AuditWriter {
  private readonly worker = new KeptWorker<Omit<WriterRequest, 'id'>, WriterAnswer>('audit writer', workerPath);
  private readonly threadAvailable = workerPath() !== undefined;
  /** Batches committed, and how many of them on the writer thread (tests count the hops). */
  readonly stats = { commits: 0, threadCommits: 0 };

  /** Writes the lines and then the marker durably; rejects with the first write's error. */
  async commit(log: AuditFile, head: AuditFile, b: BatchWrite): Promise<void> {
    this.stats.commits++;
    if (this.threadAvailable && log.fd !== undefined && head.fd !== undefined && log.durableWrites && head.durableWrites) {
      this.stats.threadCommits++;
      const a = await this.worker.call({ logFd: log.fd, lines: b.lines, linesAt: b.linesAt, headFd: head.fd, marker: b.marker, markerAt: b.markerAt });
      if (!a) throw new Error('audit writer closed');
      if (a.error) throw Object.assign(new Error(`${a.error.file}: ${a.error.message}`), { code: a.error.code });
      return;
    }
    await writeFully(log, Buffer.from(b.lines, 'utf8'), b.linesAt);
    if (!log.durableWrites) await log.sync();
    await writeFully(head, b.marker, b.markerAt);
    if (!head.durableWrites) await head.sync();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
