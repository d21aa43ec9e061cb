/**
 * Generated reads on their way from the generating thread to the encoding thread (see ndjson-writer.ts):
 * consecutive generator chunks copied into one set of columns whose buffers are transferred, not copied,
 * by postMessage. Plates travel only for misreads (a few percent); a correct read's plate is its
 * vehicle's, which the encoder already has.
 */
import type { ReadChunk } from './generator.js';

export interface ColumnBatch extends Omit<ReadChunk, 'plate'> {
  /** Rows (within the batch) that are misreads, and their plates as read. */
  misreadRows: Int32Array;
  misreadPlates: string[];
}

/** The buffers postMessage may move to the other thread. */
export function transferList(b: ColumnBatch): ArrayBuffer[] {
  return [b.tenant, b.vehicle, b.camera, b.ts, b.latE6, b.lonE6, b.confidenceE3, b.misread, b.edits, b.labels, b.misreadRows]
    .map((a) => a.buffer as ArrayBuffer);
}

/** A batch seen as a generator chunk, for the line encoder (plates filled in for misread rows only). */
export function asReadChunk(b: ColumnBatch): ReadChunk {
  const plate = new Array<string>(b.count);
  for (let k = 0; k < b.misreadRows.length; k++) plate[b.misreadRows[k]!] = b.misreadPlates[k]!;
  return {
    first: b.first, count: b.count, tenant: b.tenant, vehicle: b.vehicle, camera: b.camera, ts: b.ts,
    latE6: b.latE6, lonE6: b.lonE6, confidenceE3: b.confidenceE3, plate, misread: b.misread, edits: b.edits, labels: b.labels,
  };
}

/** Gathers chunk rows into batches of up to `capacity` reads. */
export class ColumnBatchBuilder {
  private batch: ColumnBatch;
  private readonly misreadRows: number[] = [];

  constructor(private readonly capacity: number, first: number) {
    this.batch = this.fresh(first);
  }

  get count(): number {
    return this.batch.count;
  }

  /** Copies rows `from`… of `chunk` until the batch is full; returns the next row not copied. */
  add(chunk: ReadChunk, from: number): number {
    const b = this.batch;
    const n = Math.min(chunk.count - from, this.capacity - b.count);
    const at = b.count;
    const to = from + n;
    b.tenant.set(chunk.tenant.subarray(from, to), at);
    b.vehicle.set(chunk.vehicle.subarray(from, to), at);
    b.camera.set(chunk.camera.subarray(from, to), at);
    b.ts.set(chunk.ts.subarray(from, to), at);
    b.latE6.set(chunk.latE6.subarray(from, to), at);
    b.lonE6.set(chunk.lonE6.subarray(from, to), at);
    b.confidenceE3.set(chunk.confidenceE3.subarray(from, to), at);
    b.misread.set(chunk.misread.subarray(from, to), at);
    b.edits.set(chunk.edits.subarray(from, to), at);
    b.labels.set(chunk.labels.subarray(from, to), at);
    for (let i = from; i < to; i++) {
      if (chunk.misread[i] !== 0) {
        this.misreadRows.push(at + i - from);
        b.misreadPlates.push(chunk.plate[i]!);
      }
    }
    b.count += n;
    return to;
  }

  /** The batch so far, trimmed; the builder goes on with an empty one. */
  take(): ColumnBatch {
    const b = this.batch;
    const n = b.count;
    const rows = Int32Array.from(this.misreadRows);
    // a full batch goes as it is (its buffers are transferred away); only the last one is trimmed
    const out: ColumnBatch = n === this.capacity ? { ...b, misreadRows: rows } : {
      first: b.first, count: n,
      tenant: b.tenant.slice(0, n), vehicle: b.vehicle.slice(0, n), camera: b.camera.slice(0, n),
      ts: b.ts.slice(0, n), latE6: b.latE6.slice(0, n), lonE6: b.lonE6.slice(0, n), confidenceE3: b.confidenceE3.slice(0, n),
      misread: b.misread.slice(0, n), edits: b.edits.slice(0, n), labels: b.labels.slice(0, n),
      misreadRows: rows, misreadPlates: b.misreadPlates,
    };
    this.misreadRows.length = 0;
    this.batch = this.fresh(b.first + n);
    return out;
  }

  private fresh(first: number): ColumnBatch {
    const c = this.capacity;
    return {
      first, count: 0,
      tenant: new Int32Array(c), vehicle: new Int32Array(c), camera: new Int32Array(c),
      ts: new Float64Array(c), latE6: new Int32Array(c), lonE6: new Int32Array(c), confidenceE3: new Uint16Array(c),
      misread: new Uint8Array(c), edits: new Uint8Array(c), labels: new Uint8Array(c),
      misreadRows: new Int32Array(0), misreadPlates: [],
    };
  }
}
