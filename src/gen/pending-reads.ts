/**
 * Reads drawn but not yet finished, as growable columns (local ts, vehicle, camera), and their time
 * order: a window's reads before they are sorted, and a day's commuter passes before they are dealt
 * out to the windows.
 *
 * Both orderings are stable (ties keep the order of insertion), so they give exactly the order of
 * sorting (ts, index) pairs, which is what makes the data set the same bytes on every run.
 */
export class PendingReads {
  count = 0;
  ts: Float64Array;
  vehicle: Int32Array;
  camera: Int32Array;
  /** Scratch of the orderings: integer keys, the order being built and the previous pass's, counts. */
  private keys: Uint32Array;
  private order: Int32Array;
  private spare: Int32Array;
  private counts = new Int32Array(256);

  constructor(capacity: number) {
    this.ts = new Float64Array(capacity);
    this.vehicle = new Int32Array(capacity);
    this.camera = new Int32Array(capacity);
    this.keys = new Uint32Array(capacity);
    this.order = new Int32Array(capacity);
    this.spare = new Int32Array(capacity);
  }

  clear(): void {
    this.count = 0;
  }

  push(ts: number, vehicle: number, camera: number): void {
    if (this.count === this.ts.length) this.grow();
    this.ts[this.count] = ts;
    this.vehicle[this.count] = vehicle;
    this.camera[this.count] = camera;
    this.count++;
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const ts = new Float64Array(n); ts.set(this.ts); this.ts = ts;
    const v = new Int32Array(n); v.set(this.vehicle); this.vehicle = v;
    const c = new Int32Array(n); c.set(this.camera); this.camera = c;
    this.keys = new Uint32Array(n);
    this.order = new Int32Array(n);
    this.spare = new Int32Array(n);
  }

  /**
   * Indexes in time order, ties in insertion order (a view of scratch, valid until the next call):
   * an LSD radix sort of the ms since the earliest read, a byte at a time (two passes for a minute's
   * window), at a fraction of the cost of the native sort of packed (ts, index) keys it replaced
   * (~100 ns a read, a sixth of generating one). Timestamps are whole ms; fractions, or a span of
   * 2^32 ms or more, take a comparison sort instead.
   */
  sortedOrder(): Int32Array {
    const n = this.count;
    const ts = this.ts;
    let min = Infinity;
    let max = -Infinity;
    let whole = true;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (t < min) min = t;
      if (t > max) max = t;
      if (t !== Math.floor(t)) whole = false;
    }
    if (!whole || max - min >= 2 ** 32) return this.comparisonOrder();
    const keys = this.keys;
    for (let i = 0; i < n; i++) keys[i] = ts[i]! - min;
    return this.radix(n, max - min);
  }

  /**
   * Indexes grouped by window — floor((ts − origin) / width) — in order of window, and in insertion
   * order within one (a view of scratch, valid until the next call). For a day's commuter passes: the
   * windows sort their own reads anyway, and a stable sort of the window's reads by ts puts passes
   * of equal ts in insertion order, as a sort of the whole day would have. One counting pass where
   * sorting the day's passes by ts took four radix passes over a few megabytes.
   */
  windowOrder(origin: number, width: number): Int32Array {
    const n = this.count;
    const ts = this.ts;
    const keys = this.keys;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = Math.floor((ts[i]! - origin) / width);
      if (w < min) min = w;
      if (w > max) max = w;
    }
    if (!(max - min < 2 ** 24)) return this.comparisonOrder();
    for (let i = 0; i < n; i++) keys[i] = Math.floor((ts[i]! - origin) / width) - min;
    const buckets = max - min + 1;
    if (this.counts.length < buckets) this.counts = new Int32Array(buckets);
    const counts = this.counts;
    counts.fill(0, 0, buckets);
    for (let i = 0; i < n; i++) counts[keys[i]!]++;
    for (let k = 0, sum = 0; k < buckets; k++) {
      const c = counts[k]!;
      counts[k] = sum;
      sum += c;
    }
    const order = this.order;
    for (let i = 0; i < n; i++) order[counts[keys[i]!]!++] = i;
    return order.subarray(0, n);
  }

  /** Stable LSD radix sort of indexes 0 … n−1 by keys[i] ≤ span, a byte a pass. */
  private radix(n: number, span: number): Int32Array {
    const keys = this.keys;
    const counts = this.counts;
    let from = this.order;
    let to = this.spare;
    for (let i = 0; i < n; i++) from[i] = i;
    for (let shift = 0; shift < 32 && span >>> shift > 0; shift += 8) {
      counts.fill(0, 0, 256);
      for (let i = 0; i < n; i++) counts[(keys[from[i]!]! >>> shift) & 0xff]++;
      for (let d = 0, sum = 0; d < 256; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const k = from[i]!;
        to[counts[(keys[k]! >>> shift) & 0xff]!++] = k;
      }
      const t = from;
      from = to;
      to = t;
    }
    return from.subarray(0, n);
  }

  private comparisonOrder(): Int32Array {
    const n = this.count;
    const ts = this.ts;
    const sorted = Array.from({ length: n }, (_, i) => i).sort((x, y) => ts[x]! - ts[y]! || x - y);
    const order = this.order.subarray(0, n);
    order.set(sorted);
    return order;
  }
}
