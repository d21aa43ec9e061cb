/**
 * Where each dictionary entry's rows start in a shard's plate → rows lane (`postings`: row indexes sorted by
 * plate code, then row), as a table read in one place instead of searched for.
 *
 * `postingsRun` (src/query/postings-run.ts) finds entry d's run by interpolation and galloping over the
 * lane itself: every probe reads `postings[j]`, then `plate[postings[j]]` at a random row, two dependent
 * reads. On the bench:peers 2M data (pd-metro, 30 shards of ~37,000 rows) that was 21 probes per run on
 * average (the guess is ~590 rows off: plates are not read evenly, and a heavy plate shifts every code
 * after it), a fifth of a 316-hit `contains` search; shards of 300,000 rows at 20M make it more. This table
 * answers with one read of a cache line:
 *
 *   lengths u8[dictCount]             rows of entry d, 255 meaning "255 or more"
 *   starts  u32[ceil(dictCount/32)+1] postings index of the first row of entry 32·b (then the end)
 *
 *   start(d) = starts[b] + Σ lengths[32·b .. d)            (b = d / 32)
 *            = starts[b + 1] − Σ lengths[d .. 32·b + 32)    (whichever sum is shorter: ≤ 16 bytes)
 *   end(d)   = start(d) + lengths[d]
 *
 * A block holding a run of 255 or more rows (a plate read hundreds of times in one shard) has no exact sum:
 * its entries are searched within the block's rows [starts[b], starts[b + 1]) by galloping, as before but
 * over a small range. 1.125 bytes per dictionary entry (~0.75 per row), made on first use from one pass
 * over the plate lane (sequential; the counts land in a dictCount-sized array), and kept with the shard:
 * on the plate-index worker when the tenant's dictionary merges the shard in (~3 ms of CPU for 300,000
 * rows on the shared machine), or on first use when a search finds none (LoadedShard.plateRuns).
 */
import type { CodeAt, RowAt } from '../core/segment.js';
import { gallopFrom } from '../core/sorted-search.js';

/** Entries per block of `starts`. */
const kRunBlock = 32;
const kRunShift = 5;
/** A length byte meaning "this many or more". */
const kLongRun = 255;

// run's answer before it is copied out (a search is synchronous on its thread)
const runScratch = new Uint32Array(2);

/** Tables made since the process started: by a tenant dictionary's build, or by a search that found none (tests). */
export const plateRunsMade = { byBuild: 0, bySearch: 0 };

/** The table's two arrays (what the plate-index worker transfers back). */
export interface PlateRunArrays {
  lengths: Uint8Array;
  starts: Uint32Array;
}

/** The table's arrays for a plate lane (row → dictionary entry, every code < `dictCount`). */
export function buildPlateRuns(plate: CodeAt, rows: number, dictCount: number): PlateRunArrays {
  const counts = new Uint32Array(dictCount);
  for (let i = 0; i < rows; i++) counts[plate(i)]!++;
  const lengths = new Uint8Array(dictCount);
  const blocks = Math.ceil(dictCount / kRunBlock);
  const starts = new Uint32Array(blocks + 1);
  let at = 0;
  for (let d = 0; d < dictCount; d++) {
    if ((d & (kRunBlock - 1)) === 0) starts[d >>> kRunShift] = at;
    const c = counts[d]!;
    lengths[d] = c < kLongRun ? c : kLongRun;
    at += c;
  }
  starts[blocks] = at;
  return { lengths, starts };
}

export class PlateRuns {
  private constructor(
    private readonly lengths: Uint8Array,
    private readonly starts: Uint32Array,
    readonly dictCount: number,
  ) {}

  /** The table of a shard's plate lane (row → dictionary entry, every code < `dictCount`). */
  static build(plate: CodeAt, rows: number, dictCount: number): PlateRuns {
    const { lengths, starts } = buildPlateRuns(plate, rows, dictCount);
    return new PlateRuns(lengths, starts, dictCount);
  }

  /** A table built elsewhere (the plate-index worker, src/store/plate-index-build.ts) from its two arrays. */
  static of(built: PlateRunArrays, dictCount: number): PlateRuns {
    return new PlateRuns(built.lengths, built.starts, dictCount);
  }

  /** Bytes held (kept with the shard while it is loaded). */
  get bytes(): number {
    return this.lengths.byteLength + this.starts.byteLength;
  }

  /**
   * The postings run [start, end) of entry `d` (0 ≤ d < dictCount); `postings` and `plate` are the lanes the
   * table was built from, read only in a block holding a long run.
   */
  run(d: number, postings: RowAt, plate: CodeAt): [number, number] {
    this.runInto(d, postings, plate, runScratch, 0);
    return [runScratch[0]!, runScratch[1]!];
  }

  /**
   * `run`'s answer written to out[at] (start) and out[at + 1] (end), no array made: an all-time exact plate reads
   * ~30 shards' runs a search (src/query/plate-page.ts).
   */
  runInto(d: number, postings: RowAt, plate: CodeAt, out: Uint32Array, at: number): void {
    const lengths = this.lengths, b = d >>> kRunShift;
    const first = b << kRunShift, last = Math.min(this.dictCount, first + kRunBlock);
    let long = lengths[d]! === kLongRun;
    let start: number;
    if (d - first <= last - d) {
      start = this.starts[b]!;
      for (let j = first; j < d; j++) {
        const n = lengths[j]!;
        start += n;
        if (n === kLongRun) long = true;
      }
    } else {
      start = this.starts[b + 1]!;
      for (let j = d; j < last; j++) {
        const n = lengths[j]!;
        start -= n;
        if (n === kLongRun) long = true;
      }
    }
    if (!long) {
      out[at] = start;
      out[at + 1] = start + lengths[d]!;
      return;
    }
    longRunInto(d, postings, plate, this.starts[b]!, this.starts[b + 1]!, out, at);
  }
}

/**
 * Entry d's run found among a block's rows [lo, hi) that holds a long run, by galloping. Its own function: the
 * closures' variables would otherwise make every `runInto` call allocate their context, long run or not (~100 B
 * a call, ~30 calls an all-time exact search).
 */
function longRunInto(d: number, postings: RowAt, plate: CodeAt, lo: number, hi: number, out: Uint32Array, at: number): void {
  const s = lo + gallopFrom(hi - lo, 0, (j) => plate(postings(lo + j)) < d);
  out[at] = s;
  out[at + 1] = s + gallopFrom(hi - s, 0, (j) => plate(postings(s + j)) <= d);
}
