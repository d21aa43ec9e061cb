/**
 * Scratch: a bump allocator inside one region of an arena, for per-query structures (compiled
 * patterns and filters, per-dictionary distance arrays, row outputs). Workers cannot call the arena's
 * allocator (it lives on the main thread), so each (worker, arena) pair is handed one scratch region up
 * front and carves it per query: `const m = scratch.mark(); … scratch.release(m)`.
 *
 * The regions are small (1 MiB: a shard dictionary's distances and one chunk's output), because every
 * one of them is resident for the life of the arena (issue 11: 5 × 16 MiB was 4 B a read at 20M reads).
 * What does not fit throws RangeError: a worker's task then runs on the calling thread, whose scratch has
 * an `overflow` — regions of the arena allocated for the one request (a tenant-wide dictionary of a few
 * million plates) and freed by the `release` that ends it.
 */

/** Allocates a region of the scratch's arena (ptr, or -1 when it has no room) and frees it. */
export interface ScratchOverflow {
  alloc(bytes: number, align: number): number;
  free(ptr: number): void;
}

// a mark is top + (overflow regions held) × this: both restored by release
const kMarkStride = 2 ** 32;

export class Scratch {
  readonly base: number;
  readonly bytes: number;
  private top: number;
  /** Overflow regions held, oldest first (a stack, like the marks). */
  private readonly spilled: number[] = [];

  constructor(base: number, bytes: number, private readonly overflow?: ScratchOverflow) {
    if (base % 16 !== 0) throw new RangeError('scratch base must be 16-aligned');
    this.base = base;
    this.bytes = bytes;
    this.top = base;
  }

  /** Allocates `bytes` aligned to `align` (power of two, default 16). Throws RangeError when full. */
  alloc(bytes: number, align = 16): number {
    const ptr = Math.ceil(this.top / align) * align;
    if (ptr + bytes > this.base + this.bytes) {
      const spill = this.overflow ? this.overflow.alloc(Math.max(16, bytes), Math.max(16, align)) : -1;
      if (spill < 0) throw new RangeError(`scratch full: ${bytes} bytes wanted, ${this.base + this.bytes - ptr} left`);
      this.spilled.push(spill);
      return spill;
    }
    this.top = ptr + bytes;
    return ptr;
  }

  /** Bytes still free (ignoring alignment and overflow). */
  get available(): number {
    return this.base + this.bytes - this.top;
  }

  /** An opaque position: `release` frees everything allocated after it. */
  mark(): number {
    return this.top + this.spilled.length * kMarkStride;
  }

  /** Frees everything allocated since `mark`. */
  release(mark: number): void {
    const top = mark % kMarkStride, held = Math.floor(mark / kMarkStride);
    if (top < this.base || top > this.top || held > this.spilled.length) throw new RangeError('bad scratch mark');
    while (this.spilled.length > held) this.overflow!.free(this.spilled.pop()!);
    this.top = top;
  }

  reset(): void {
    while (this.spilled.length > 0) this.overflow!.free(this.spilled.pop()!);
    this.top = this.base;
  }
}
