/**
 * A typed array filled one value at a time, grown by doubling: how worker tasks collect row numbers,
 * probe results and flat result tuples without a JS array of boxed numbers, then hand the filled part
 * over as one transferable typed array.
 */

type GrowableArray = Float64Array | Uint32Array | Int32Array;

export class TypedList<A extends GrowableArray> {
  /** The backing array; only `[0, length)` is filled. */
  items: A;
  length = 0;

  constructor(private readonly make: (capacity: number) => A, capacity = 1024) {
    this.items = make(capacity);
  }

  push(v: number): void {
    if (this.length === this.items.length) {
      // (a list made with capacity 0 allocates on its first push: most row lists of an analysis stay empty)
      const next = this.make(Math.max(16, this.items.length * 2));
      next.set(this.items);
      this.items = next;
    }
    this.items[this.length++] = v;
  }

  /** The filled part, as an array of exactly that length (a copy: the backing array may be larger). */
  done(): A {
    return this.items.slice(0, this.length) as A;
  }
}

export const float64List = (capacity?: number) => new TypedList((n) => new Float64Array(n), capacity);
export const uint32List = (capacity?: number) => new TypedList((n) => new Uint32Array(n), capacity);
export const int32List = (capacity?: number) => new TypedList((n) => new Int32Array(n), capacity);
