/**
 * Big buffers of a bulk load's shard builds, kept and handed out again instead of allocated fresh for every
 * shard (src/store/bulk-load.ts, src/store/bulk-build.ts):
 *
 *   loading thread                       build thread
 *   pool ─take─► job lanes ─transfer─►   buildBulkShard ◄─take/give─► pool (sort keys, spare lanes, plate table …)
 *        ◄─give── lanes ◄──transfer──    answer (the file's bytes + the job's lane buffers, moved back)
 *
 * Why: a bulk shard is up to 1M rows (2M before stop 35), so its lanes are 4–8 MiB each and its build's transient arrays
 * as big; a fresh one is fresh memory from the allocator (a mapping of its own above glibc's 32 MiB mmap
 * limit, or heap grown again after a trim), and each of its pages faults in once more, zeroed by the kernel.
 * A 20M load took ~650k minor faults, over half of them in the shard builds and the job's lane copies on the
 * loading thread (bench/RESULTS.md "Bulk load: the shard builds' buffers reused").
 *
 * A buffer taken holds stale bytes from its last use: callers write every element they read (the plate hash
 * table, which needs zeros, clears itself). Buffers are matched by size only (the smallest kept one that fits),
 * so one used for a Float64Array may come back as a Uint32Array's; a new one is rounded up (to 1/16 of the
 * power of two at or above it) so that shards of nearby sizes reuse each other's.
 */

/** Buffers kept at most: a 2M-row build holds ~25 at once (its job's 10 lanes, sort keys, plate arrays). */
const kKept = 40;
/** Below this a buffer comes from the allocator's reused small blocks anyway: not worth keeping. */
const kMinPooledBytes = 64 << 10;

/** Where a build takes its big arrays from and gives them back to. */
export interface LaneSource {
  f64(n: number): Float64Array;
  i32(n: number): Int32Array;
  u32(n: number): Uint32Array;
  u8(n: number): Uint8Array;
  /** n zero bytes (a shard file's buffer: its padding is never written). */
  u8Zero(n: number): Uint8Array;
  /** Gives the arrays' buffers back (the arrays must not be used after). */
  give(...arrays: ArrayBufferView[]): void;
}

/** Fresh arrays every time (zeroed), nothing kept: the default for callers outside a bulk load. */
export const freshLanes: LaneSource = {
  f64: (n) => new Float64Array(n),
  i32: (n) => new Int32Array(n),
  u32: (n) => new Uint32Array(n),
  u8: (n) => new Uint8Array(n),
  u8Zero: (n) => new Uint8Array(n),
  give: () => undefined,
};

export class LanePool implements LaneSource {
  /** `minBytes`: smaller buffers are neither kept nor rounded up (tests lower it to reuse small ones). */
  constructor(private readonly minBytes = kMinPooledBytes) {}

  private readonly free: ArrayBuffer[] = [];
  /**
   * Buffers taken or given since the last sweep (given too: a buffer moved back from another thread is a new
   * ArrayBuffer object, though the memory is the one taken).
   */
  private used = new WeakSet<ArrayBuffer>();
  /** Buffers made (tests and measurement: reuse keeps it near the arrays a build holds at once). */
  made = 0;
  /** Bytes of the buffers made. */
  madeBytes = 0;

  /** A buffer of at least `bytes` (contents undefined): the smallest kept one that fits, else a new one. */
  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i]!.byteLength;
      if (len >= bytes && (best < 0 || len < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) {
      const buf = this.free[best]!;
      this.free[best] = this.free[this.free.length - 1]!;
      this.free.pop();
      this.used.add(buf);
      return buf;
    }
    const size = bytes < this.minBytes ? bytes : roundUpSize(bytes);
    this.made++;
    this.madeBytes += size;
    const buf = new ArrayBuffer(size);
    this.used.add(buf);
    return buf;
  }

  /**
   * Drops the kept buffers not used since the last sweep (to the garbage collector), once a shard: what is
   * kept follows the last shard's needs, not every size met (shards grow: a day's first is cut off at the
   * load's start, later ones fill the accumulator).
   */
  sweep(): void {
    for (let i = this.free.length - 1; i >= 0; i--) {
      if (this.used.has(this.free[i]!)) continue;
      this.free[i] = this.free[this.free.length - 1]!;
      this.free.pop();
    }
    this.used = new WeakSet();
  }

  f64(n: number): Float64Array {
    return new Float64Array(this.take(n * 8), 0, n);
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.take(n * 4), 0, n);
  }

  u32(n: number): Uint32Array {
    return new Uint32Array(this.take(n * 4), 0, n);
  }

  u8(n: number): Uint8Array {
    return new Uint8Array(this.take(n), 0, n);
  }

  u8Zero(n: number): Uint8Array {
    return this.u8(n).fill(0);
  }

  give(...arrays: ArrayBufferView[]): void {
    for (const a of arrays) this.giveBuffer(a.buffer as ArrayBuffer);
  }

  /** Takes a buffer back (a detached one, or one too small to keep, is dropped). */
  giveBuffer(buf: ArrayBuffer): void {
    if (buf.byteLength < this.minBytes || buf.byteLength === 0 || this.free.includes(buf)) return;
    this.used.add(buf);
    if (this.free.length < kKept) {
      this.free.push(buf);
      return;
    }
    // full: keep the bigger buffers (a big one serves every smaller need)
    let least = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[least]!.byteLength) least = i;
    if (this.free[least]!.byteLength < buf.byteLength) this.free[least] = buf;
  }

  /** Buffers kept now. */
  get kept(): number {
    return this.free.length;
  }
}

/** `bytes` rounded up to a multiple of 1/16 of the power of two at or above it (≤ 6.25 % more). */
function roundUpSize(bytes: number): number {
  const step = 2 ** Math.ceil(Math.log2(bytes)) / 16;
  return Math.ceil(bytes / step) * step;
}
