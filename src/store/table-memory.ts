/**
 * Where the live generation's JS-side tables live (src/store/live-columns.ts: the plate key → code table,
 * `heads`, `plateRows`, a copy's code map): regions of the engine's arenas, given back the moment they are
 * replaced (a grown table) or their generation is freed.
 *
 * Why not typed arrays of their own: an ArrayBuffer's malloc'd memory is freed only when the collector reaches
 * the buffer, and a generation's tables are big (12 B a plate slot, 8 B a plate; ~40 MiB at 1M plates) and
 * short-lived: each seal retires a generation and copies the rows that stay into a new one, whose tables grow
 * by doubling. After 5M reads over HTTP the main thread held ~60 MiB of such garbage when the ingest had
 * drained (the retired generation's tables and the grown-out ones), which only a full collection seconds
 * later freed, after the idle release had trimmed malloc (bench/RESULTS.md, "Issue 11: HTTP ingest RSS, the
 * live tables in the arena"). In the arena a freed region is reused by the next allocation at once (the next
 * generation's tables take the holes of the last one's) and, once idle, released (src/core/idle-release.ts).
 *
 * The contract is the arena's: a region is freed only when nothing reads it, so a table must be freed only
 * when no reader can hold it; LiveColumns frees a grown-out table at once (its readers read `cols.heads` and
 * the key table anew at each call, on the main thread, never across an await) and the rest when its
 * generation is freed (the last pin gone). Arrays from here are not zeroed.
 */
import type { ArenaSet, Region } from '../core/arena.js';

export type TableArray = Int32Array | Float64Array;

/** Makes and frees typed arrays of tables (JS memory by default: `new`, and freeing is the collector's). */
export interface TableMemory {
  int32(length: number): Int32Array;
  float64(length: number): Float64Array;
  /** Gives `a` (from this memory) back: nothing may read it after. */
  free(a: TableArray): void;
}

/** Plain typed arrays: for tables of a thread without an arena (the seal worker's rows). */
export const jsTables: TableMemory = {
  int32: (length) => new Int32Array(length),
  float64: (length) => new Float64Array(length),
  free: () => {},
};

/**
 * Tables in regions of an ArenaSet; a table no arena can hold (tests run with arenas of a few hundred KiB) is
 * a plain typed array, left to the collector.
 */
export class ArenaTables implements TableMemory {
  private readonly regions = new Map<TableArray, Region>();

  constructor(private readonly arenas: ArenaSet) {}

  int32(length: number): Int32Array {
    return this.make(length, Int32Array);
  }

  float64(length: number): Float64Array {
    return this.make(length, Float64Array);
  }

  free(a: TableArray): void {
    const r = this.regions.get(a);
    if (!r) return;
    this.regions.delete(a);
    this.arenas.free(r);
  }

  /** Frees every table still held. */
  freeAll(): void {
    for (const a of [...this.regions.keys()]) this.free(a);
  }

  /** The regions of the tables held. */
  held(): Region[] {
    return [...this.regions.values()];
  }

  /** Bytes of the tables held in arenas. */
  get bytes(): number {
    let n = 0;
    for (const r of this.regions.values()) n += r.bytes;
    return n;
  }

  /** An array of `length` in a region of the arenas, or a plain one when no arena can hold it. */
  private make<T extends TableArray>(length: number, Kind: TableKind<T>): T {
    let r: Region;
    try {
      r = this.arenas.alloc(Math.max(16, length * Kind.BYTES_PER_ELEMENT), 16);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return new Kind(length);
    }
    const a = new Kind(this.arenas.arena(r.arena).memory.buffer, r.ptr, length);
    this.regions.set(a, r);
    return a;
  }
}

interface TableKind<T extends TableArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}
