/**
 * A shard task's top-k (issue 12, "top-k inside the scan"): counts every matching row (`total` stays
 * exact) and keeps only the best `limit` by (distance, ts desc, seq) in a bounded binary heap whose root
 * is the worst row kept. A row that cannot beat the root is only counted: no object, no array growth, and
 * `seq` is not even read unless distance and ts tie with the root. So a task's cost follows the rows it
 * matches by a compare or two, and its memory the page it returns, not the matches.
 *
 *   heap slots 0 … size-1 (struct of arrays, no objects):
 *     d: u8 distance   ts: f64 epoch ms   seq: f64 append seq   row: u32 segment-relative row
 *   slot 0 = the worst kept row; the children of slot i are 2i+1 and 2i+2, and no child sorts after its
 *   parent (a max-heap by answer order).
 *
 * All rows of one task belong to one shard, hence one tenant ordinal: (distance, ts desc, seq) is the
 * answer's order (distance, ts desc, id) there. A page boundary (`after`, v1.1 paging) may name another
 * tenant's read, so it is compared with the ordinals (`ordinal` ours, `afterOrdinal` the boundary's).
 * The plain definition this is held to: sort every matching row and cut at `limit` (test/row-top.test.ts).
 */

export interface RowBoundary {
  distance: number;
  ts: number;
  seq: number;
  /** This task's tenant ordinal, and the boundary read's. */
  ordinal: number;
  afterOrdinal: number;
}

export class RowTop {
  /** Every matching row offered. */
  total = 0;
  /** Rows after the page boundary (all of them without one). */
  beyond = 0;
  size = 0;
  private readonly d: Uint8Array;
  private readonly ts: Float64Array;
  private readonly seq: Float64Array;
  private readonly row: Uint32Array;

  constructor(readonly limit: number, private readonly after?: RowBoundary) {
    // limit ≤ 10,000 (API.md): at most ~210 KB of slots, allocated once per task
    this.d = new Uint8Array(limit);
    this.ts = new Float64Array(limit);
    this.seq = new Float64Array(limit);
    this.row = new Uint32Array(limit);
  }

  /**
   * Offers row `row` with distance `d` and time `ts`; `seqOf(row)` is called only when needed (the
   * boundary or the root ties on distance and ts, or the heap is not full yet).
   */
  offer(d: number, ts: number, row: number, seqOf: (row: number) => number): void {
    this.total++;
    const a = this.after;
    let seq = -1;
    if (a) {
      const c = d - a.distance || a.ts - ts || a.ordinal - a.afterOrdinal;
      if (c < 0) return;
      if (c === 0 && (seq = seqOf(row)) <= a.seq) return;
    }
    this.beyond++;
    if (this.limit <= 0) return;
    if (this.size < this.limit) {
      this.siftUp(this.size++, d, ts, seq >= 0 ? seq : seqOf(row), row);
      return;
    }
    // full: keep the row only if it sorts before the root (the worst kept row)
    const rd = this.d[0]!, rts = this.ts[0]!;
    if (d > rd || (d === rd && ts < rts)) return;
    if (d === rd && ts === rts) {
      if (seq < 0) seq = seqOf(row);
      if (seq > this.seq[0]!) return;
    } else if (seq < 0) seq = seqOf(row);
    this.siftDown(0, d, ts, seq, row);
  }

  /** The heap holds `limit` rows: only rows better than the worst kept one can still enter. */
  full(): boolean {
    return this.limit > 0 && this.size >= this.limit;
  }

  /** Distance and ts of the worst kept row (call when full). */
  worstDistance(): number {
    return this.d[0]!;
  }

  worstTs(): number {
    return this.ts[0]!;
  }

  /**
   * Counts `n` matching rows known to sort strictly after the worst kept row (e.g. a block whose newest
   * read is older than it, when it has distance 0): they sort after any page boundary too.
   */
  countWorse(n: number): void {
    this.total += n;
    this.beyond += n;
  }

  /** Slot i's row sorts after (d, ts, seq): i is worse. */
  private worse(i: number, d: number, ts: number, seq: number): boolean {
    const di = this.d[i]!;
    if (di !== d) return di > d;
    const ti = this.ts[i]!;
    if (ti !== ts) return ti < ts;
    return this.seq[i]! > seq;
  }

  private put(i: number, d: number, ts: number, seq: number, row: number): void {
    this.d[i] = d;
    this.ts[i] = ts;
    this.seq[i] = seq;
    this.row[i] = row;
  }

  private move(to: number, from: number): void {
    this.put(to, this.d[from]!, this.ts[from]!, this.seq[from]!, this.row[from]!);
  }

  private siftUp(i: number, d: number, ts: number, seq: number, row: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.worse(parent, d, ts, seq)) break;
      this.move(i, parent);
      i = parent;
    }
    this.put(i, d, ts, seq, row);
  }

  private siftDown(i: number, d: number, ts: number, seq: number, row: number): void {
    const n = this.size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.worse(right, this.d[child]!, this.ts[child]!, this.seq[child]!)) child = right;
      if (!this.worse(child, d, ts, seq)) break;
      this.move(i, child);
      i = child;
    }
    this.put(i, d, ts, seq, row);
  }

  /**
   * The kept rows in heap order (the merge's own top-k orders them; sorting 1,000 rows per shard task was
   * a tenth of a broad search's time).
   */
  kept(): { rows: number[]; distances: number[]; ts: number[]; seqs: number[] } {
    const n = this.size;
    return {
      rows: Array.from(this.row.subarray(0, n)),
      distances: Array.from(this.d.subarray(0, n)),
      ts: Array.from(this.ts.subarray(0, n)),
      seqs: Array.from(this.seq.subarray(0, n)),
    };
  }

  /** The kept rows in answer order. */
  sorted(): { rows: number[]; distances: number[]; ts: number[]; seqs: number[] } {
    const order = Array.from({ length: this.size }, (_, i) => i);
    const { d, ts, seq } = this;
    order.sort((i, j) => d[i]! - d[j]! || ts[j]! - ts[i]! || seq[i]! - seq[j]!);
    return {
      rows: order.map((i) => this.row[i]!),
      distances: order.map((i) => d[i]!),
      ts: order.map((i) => ts[i]!),
      seqs: order.map((i) => seq[i]!),
    };
  }
}
