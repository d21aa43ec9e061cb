/**
 * Per hot-list entry, the best `limit` rows of the shard results back so far (issue 12): which rows of a
 * result can still be among the entry's hits, decided before the last result is in.
 *
 * A hot list's hits are built as the pool's batches come back (src/query/hotlist-join.ts `EarlyHits`), while
 * other shards still run. Every shard keeps up to `limit` (limitPerPlate) rows an entry, and the answer keeps
 * the best `limit` of all shards' rows, so an entry read in many shards has far more kept rows than hits:
 * bench:peers' "10k exact, 5 heavy plates" list (all time, 36 shards) kept 170,763 rows for 101,127 hits,
 * and building the other 69,636 early was most of that row's time. Which ones are left out depends on the
 * shards still running; what is known is the rows already back: a row that `limit` rows already back beat
 * cannot be a hit, whatever comes later (later rows only push it further down). So a row is built early
 * only when it enters its entry's running top-`limit`: every hit is built early (no hit is left to the
 * merge, after the workers are done), and a row is built for nothing only when rows that come back after it
 * push it out.
 *
 *   entry's rows back so far ≤ limit      counted only (an Int32Array slot): all of a run enters. The common
 *                                         entry (a few reads) never gets further; the 100k list's 30,857
 *                                         entries cost one add each
 *   past limit                            its running top as key columns (distance, ts, ordinal, seq),
 *                                         `limit` rows sorted best first; a new run (sorted best first by
 *                                         its task) is merged with it: the run's rows that enter are a
 *                                         prefix of the run (a row better than one that entered enters too)
 *
 * Order: (distance, ts desc, ordinal, seq), as the answer's merge (hotlist-join.ts `RunMerge`), so every
 * row of the final answer entered its running top when it came back: the rows back before it are a
 * subset of all rows, and fewer than `limit` of all beat it.
 */

import { lowerBound } from '../core/sorted-search.js';

/**
 * A shard result's runs and their sort keys: per matched entry j (`entries` ascending, as a task returns
 * them) its rows [offsets[j], offsets[j + 1]) of the key columns, sorted best first; `ordinal` its source's.
 */
export interface RunSet {
  entries: Int32Array;
  offsets: Int32Array;
  distances: Uint8Array;
  ts: Float64Array;
  seqs: Float64Array;
  ordinal: number;
}

/** An entry's best rows so far, best first: key columns of `limit` slots, `n` of them filled. */
interface Top {
  d: Uint8Array;
  ts: Float64Array;
  ord: Int32Array;
  seq: Float64Array;
  n: number;
}

export class RunningTops {
  /** Rows offered per entry (all runs so far). */
  private readonly seen: Int32Array;
  /** Entries past `limit`: their running top. */
  private readonly tops = new Map<number, Top>();
  /**
   * The run sets offered so far: an entry passing `limit` finds its earlier runs in them (a binary search
   * of each set's entries), so the entries that never pass it cost nothing but their count.
   */
  private readonly sets: RunSet[] = [];
  /** The merge's output, swapped with the top it replaces (made when a first entry passes `limit`). */
  private scratch: Top | undefined;

  constructor(entryCount: number, private readonly limit: number) {
    this.seen = new Int32Array(entryCount);
  }

  /**
   * Offers every run of `set` (each sorted best first), in order; `ends[j]` becomes the end of run j's first
   * rows that are in its entry's best `limit` of every run offered so far (this one included): those can
   * still be hits, the rest cannot. A set is offered once.
   */
  admitRuns(set: RunSet, ends: Int32Array): void {
    this.sets.push(set);
    const { entries, offsets } = set;
    const seen = this.seen, limit = this.limit;
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j]!;
      const from = offsets[j]!, to = offsets[j + 1]!;
      const was = seen[e]!;
      seen[e] = was + to - from;
      // no more rows than `limit` so far: no top yet, every row enters (the common entry's only cost)
      ends[j] = was + to - from <= limit ? to : from + this.admitPast(e, was, set, from, to);
    }
  }

  /** How many of run [from, to) of `set` enter entry e's top, which it passes or has passed (`was` rows before it). */
  private admitPast(e: number, was: number, set: RunSet, from: number, to: number): number {
    let top = this.tops.get(e);
    if (!top) {
      // passing `limit` now: its earlier runs (`was` ≤ limit rows, every one in the top) merged into a top first
      top = this.newTop();
      for (let s = 0; s < this.sets.length - 1 && top.n < was; s++) {
        const other = this.sets[s]!;
        const at = runOf(other.entries, e);
        if (at >= 0) top = this.merge(top, other, other.offsets[at]!, other.offsets[at + 1]!).top;
      }
    }
    const { top: merged, taken } = this.merge(top, set, from, to);
    this.tops.set(e, merged);
    return taken;
  }

  private newTop(): Top {
    const l = this.limit;
    return { d: new Uint8Array(l), ts: new Float64Array(l), ord: new Int32Array(l), seq: new Float64Array(l), n: 0 };
  }

  /**
   * The best `limit` of `top` and run [from, to) of `keys`, both sorted best first, into the scratch top
   * (which becomes the result; `top` becomes the scratch), and how many of them came from the run.
   */
  private merge(top: Top, keys: RunSet, from: number, to: number): { top: Top; taken: number } {
    const out = this.scratch ?? this.newTop();
    const { distances, ts, seqs, ordinal } = keys;
    let i = 0, p = from, k = 0;
    const cap = this.limit;
    while (k < cap && (i < top.n || p < to)) {
      let fromRun: boolean;
      if (i >= top.n) fromRun = true;
      else if (p >= to) fromRun = false;
      else {
        // run row p before top row i? (distance, ts desc, ordinal, seq)
        const dr = distances[p]!, dt = top.d[i]!;
        if (dr !== dt) fromRun = dr < dt;
        else {
          const tr = ts[p]!, tt = top.ts[i]!;
          if (tr !== tt) fromRun = tr > tt;
          else if (ordinal !== top.ord[i]!) fromRun = ordinal < top.ord[i]!;
          else fromRun = seqs[p]! < top.seq[i]!;
        }
      }
      if (fromRun) {
        out.d[k] = distances[p]!;
        out.ts[k] = ts[p]!;
        out.ord[k] = ordinal;
        out.seq[k] = seqs[p]!;
        p++;
      } else {
        out.d[k] = top.d[i]!;
        out.ts[k] = top.ts[i]!;
        out.ord[k] = top.ord[i]!;
        out.seq[k] = top.seq[i]!;
        i++;
      }
      k++;
    }
    out.n = k;
    this.scratch = top;
    return { top: out, taken: p - from };
  }
}

/** Where `entry` is in ascending `entries`, or -1. */
function runOf(entries: Int32Array, entry: number): number {
  const at = lowerBound(entries, entry);
  return at < entries.length && entries[at] === entry ? at : -1;
}
