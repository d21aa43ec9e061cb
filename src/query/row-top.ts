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
 * A bound (`RowBound`) is the (distance, ts) of the worst row of some other full top-k of the same query
 * (the merge's heap, or an earlier task of the same worker batch): a row sorting strictly after it on
 * (distance, ts) cannot be in the answer, since `limit` better rows exist elsewhere. Such rows are only
 * counted; they sort after any page boundary too (the other heap kept only rows after it).
 * The plain definition this is held to: sort every matching row and cut at `limit` (test/row-top.test.ts).
 */

/** (distance, ts) of the worst row of a full top-k elsewhere: rows sorting strictly after it are only counted. */
export interface RowBound {
  distance: number;
  ts: number;
}

/** The tighter of two bounds (the one sorting first on (distance, ts desc)). */
export function tighterBound(a: RowBound | undefined, b: RowBound | undefined): RowBound | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.distance < b.distance || (a.distance === b.distance && a.ts > b.ts) ? a : b;
}

export interface RowBoundary {
  distance: number;
  ts: number;
  seq: number;
  /** This task's tenant ordinal, and the boundary read's. */
  ordinal: number;
  afterOrdinal: number;
}

const kInitialSlots = 64;

export class RowTop {
  /** Every matching row offered. */
  total = 0;
  /** Rows after the page boundary (all of them without one). */
  beyond = 0;
  size = 0;
  /** Rows counted by the kernel alone (countWorse), never offered one by one. */
  countedOnly = 0;
  private d: Uint8Array;
  private ts: Float64Array;
  private seq: Float64Array;
  private row: Uint32Array;

  constructor(readonly limit: number, private readonly after?: RowBoundary, private readonly bound?: RowBound) {
    // limit ≤ 10,000 (API.md): up to ~210 KB of slots, grown by doubling as rows enter, so a task whose
    // rows a bound turns away (most older shards) allocates next to nothing
    const cap = Math.min(limit, kInitialSlots);
    this.d = new Uint8Array(cap);
    this.ts = new Float64Array(cap);
    this.seq = new Float64Array(cap);
    this.row = new Uint32Array(cap);
  }

  private grow(): void {
    const cap = Math.min(this.limit, this.d.length * 2);
    const d = new Uint8Array(cap), ts = new Float64Array(cap), seq = new Float64Array(cap), row = new Uint32Array(cap);
    d.set(this.d);
    ts.set(this.ts);
    seq.set(this.seq);
    row.set(this.row);
    this.d = d;
    this.ts = ts;
    this.seq = seq;
    this.row = row;
  }

  /**
   * Offers row `row` with distance `d` and time `ts`; `seqOf(row)` is called only when needed (the
   * boundary or the root ties on distance and ts, or the heap is not full yet).
   */
  offer(d: number, ts: number, row: number, seqOf: (row: number) => number): void {
    this.total++;
    const b = this.bound;
    if (b && (d > b.distance || (d === b.distance && ts < b.ts))) {
      this.beyond++;
      return;
    }
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
      if (this.size === this.d.length) this.grow();
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
   * The (distance, ts) a row must not sort strictly after to matter: the tighter of the worst kept row
   * (when full) and the bound from elsewhere; undefined while every row may still enter.
   */
  cut(): RowBound | undefined {
    return tighterBound(this.full() ? { distance: this.d[0]!, ts: this.ts[0]! } : undefined, this.bound);
  }

  /**
   * Counts `n` matching rows known to sort strictly after the worst kept row (e.g. a block whose newest
   * read is older than it, when it has distance 0): they sort after any page boundary too.
   */
  countWorse(n: number): void {
    this.total += n;
    this.beyond += n;
    this.countedOnly += n;
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
  kept(): { rows: Uint32Array; distances: Uint8Array; ts: Float64Array; seqs: Float64Array } {
    // compact copies (slice), not arrays of numbers: no per-row boxing, and a worker's result is cloned
    // as four buffers of exactly the kept rows
    const n = this.size;
    return { rows: this.row.slice(0, n), distances: this.d.slice(0, n), ts: this.ts.slice(0, n), seqs: this.seq.slice(0, n) };
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
