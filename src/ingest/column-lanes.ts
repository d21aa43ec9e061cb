/**
 * A parse worker's buffers for the columns of `POST /v1/reads` bodies (src/ingest/parse-body.ts) and of bulk
 * ingest's pieces (src/ingest/parse-chunk.ts), reused: a batch's columns are laid out in one buffer
 * (ReadColumnsBuilder on lanes, src/store/read-columns.ts), moved to the receiving thread with the answer, and
 * moved back once the batch is appended (ParsePool's `release`, src/ingest/pipeline.ts), to be filled by a
 * later one. For pieces this also spares a 2M load ~100 fresh allocations of ~1 MiB of zeroed pages a worker
 * (bench/RESULTS.md "Bulk load: lines found once …").
 *
 * Why (issue 11, RSS of HTTP ingest): a body's columns as arrays of their own were malloc'd on the worker
 * and freed on the server's thread when its garbage collector got to them, which under steady ingest was
 * after they had been promoted: tens of MiB of dead batches waited for a full collection, and the worker's
 * glibc arena grew to hold them (17–26 MiB each at 2M reads). Reused, a worker holds a few buffers for
 * the process's life, however many reads arrive.
 */
import { columnLaneBytes } from '../store/read-columns.js';

/** Rows a buffer is sized in steps of (a 1,000-read body's capacity is 1,001: one step of 1,024). */
const kRowStep = 1024;
/** Buffers kept for reuse; more come back only while more bodies than this were in flight at once. */
const kKept = 8;

export class ColumnLanes {
  private readonly free: ArrayBuffer[] = [];
  /** Buffers made (for tests: reuse keeps it at the bodies in flight at once). */
  made = 0;

  /** A buffer for the lanes of `capacity` rows: a kept one that fits, else a new one. */
  take(capacity: number): ArrayBuffer {
    const need = columnLaneBytes(capacity);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i]!.byteLength;
      if (len >= need && (best < 0 || len < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    this.made++;
    return new ArrayBuffer(columnLaneBytes(Math.ceil(capacity / kRowStep) * kRowStep));
  }

  /** Takes a buffer back (one this pool made, moved back to this thread, or one a parse did not use). */
  give(lanes: ArrayBuffer): void {
    if (lanes.byteLength === 0) return; // detached: not ours any more
    if (this.free.length < kKept) this.free.push(lanes);
    else {
      // keep the biggest: a big body's buffer serves every smaller one
      let least = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[least]!.byteLength) least = i;
      if (this.free[least]!.byteLength < lanes.byteLength) this.free[least] = lanes;
    }
  }

  /** Buffers kept now. */
  get kept(): number {
    return this.free.length;
  }
}
