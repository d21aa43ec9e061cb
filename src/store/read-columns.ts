/**
 * Validated reads as columns, the unit bulk ingest moves between threads (src/ingest/parse-chunk.ts makes
 * them, src/store/bulk-load.ts stores them): typed arrays and per-batch string dictionaries, no object per
 * read. Every typed array can be transferred to another thread without a copy.
 *
 * Plates are numbers (src/store/plate-key.ts); the other strings are dictionary-coded within the batch:
 * `ids[i]` indexes `values`, -1 is an absent optional field.
 * Coordinates are already the stored fixed-point values (degrees × 1e7, src/core/segment.ts), so what a
 * parse worker computed is bit-identical to what an append computes (toE7).
 */
export interface StringColumn {
  ids: Int32Array;
  values: string[];
}

export interface ReadColumns {
  /** Rows in the batch. */
  length: number;
  ts: Float64Array;
  latE7: Int32Array;
  lonE7: Int32Array;
  /** NaN when absent (a present confidence is a finite number in [0, 1]). */
  confidence: Float64Array;
  /** Normalised plates as keys (src/store/plate-key.ts): no string per read crosses threads. */
  plate: Float64Array;
  camera: StringColumn;
  region: StringColumn;
  make: StringColumn;
  color: StringColumn;
  readId: StringColumn;
}

/**
 * A builder for one string column of a batch. `dedupe` (for columns of few distinct values: cameras,
 * labels) gives each distinct value one entry; without it (plates, readIds: nearly one value a row, where
 * a hash lookup per row costs more than it saves) every present value gets its own entry.
 */
export class StringColumnBuilder {
  readonly ids: Int32Array;
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  private last: string | undefined;
  private lastId = -1;

  constructor(capacity: number, private readonly dedupe = true) {
    this.ids = new Int32Array(capacity);
  }

  set(row: number, v: string | undefined): void {
    if (v === undefined) {
      this.ids[row] = -1;
      return;
    }
    if (!this.dedupe) {
      this.ids[row] = this.values.length;
      this.values.push(v);
      return;
    }
    if (v === this.last) {
      this.ids[row] = this.lastId;
      return;
    }
    let id = this.index.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.index.set(v, id);
    }
    this.last = v;
    this.lastId = id;
    this.ids[row] = id;
  }

  build(length: number): StringColumn {
    return { ids: this.ids.subarray(0, length), values: this.values };
  }
}

/** Typed arrays of a batch (for postMessage's transfer list). */
export function transferables(c: ReadColumns): ArrayBuffer[] {
  const list = [c.ts, c.latE7, c.lonE7, c.confidence, c.plate, c.camera.ids, c.region.ids, c.make.ids, c.color.ids, c.readId.ids];
  return [...new Set(list.map((a) => a.buffer as ArrayBuffer))];
}
