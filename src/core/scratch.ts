/**
 * Scratch: a bump allocator inside one region of an arena, for per-query structures (compiled
 * patterns and filters, per-dictionary distance arrays, row outputs). Workers cannot call the arena's
 * allocator (it lives on the main thread), so each (worker, arena) pair is handed one scratch region up
 * front and carves it per query: `const m = scratch.mark(); … scratch.release(m)`.
 */
export class Scratch {
  readonly base: number;
  readonly bytes: number;
  private top: number;

  constructor(base: number, bytes: number) {
    if (base % 16 !== 0) throw new RangeError('scratch base must be 16-aligned');
    this.base = base;
    this.bytes = bytes;
    this.top = base;
  }

  /** Allocates `bytes` aligned to `align` (power of two, default 16). Throws RangeError when full. */
  alloc(bytes: number, align = 16): number {
    const ptr = Math.ceil(this.top / align) * align;
    if (ptr + bytes > this.base + this.bytes) {
      throw new RangeError(`scratch full: ${bytes} bytes wanted, ${this.base + this.bytes - ptr} left`);
    }
    this.top = ptr + bytes;
    return ptr;
  }

  /** Bytes still free (ignoring alignment). */
  get available(): number {
    return this.base + this.bytes - this.top;
  }

  mark(): number {
    return this.top;
  }

  /** Frees everything allocated since `mark`. */
  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new RangeError('bad scratch mark');
    this.top = mark;
  }

  reset(): void {
    this.top = this.base;
  }
}
