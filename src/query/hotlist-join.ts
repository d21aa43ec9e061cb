/**
 * Hot-list search as a join (issue 12): the entries are indexed once per query (src/query/hotlist-index.ts),
 * and every shard in scope probes that index with its distinct plates in a task of its own
 * (src/query/hotlist-task.ts), on the executor's workers when the work is big enough, else here. A task
 * returns per matched entry its exact count and its best limitPerPlate rows; this keeps those typed arrays
 * as they came, adds the live rows and any wildcard entries (src/query/hotlist.ts, the per-dictionary
 * matcher, into per-entry TopKs), sorts each entry's few kept rows and materialises only the best.
 *
 *   entries ──► index (once) ─┬─► shard task ─► (entry, count, top rows) ─┐
 *                             ├─► shard task ─► …                         ├─► per entry: sort, cut ─► hits
 *   live rows, wildcard entries, tasks no worker could run ─► hotlist.ts ─┘
 */
import { QueryBudget } from './budget.js';
import type { Hit, HotlistQuery, HotlistResult } from '../model/query.js';
import { materialise, type Candidate, type TopK } from './executor.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { buildHotlistIndex, indexedEntry, type HotlistIndex } from './hotlist-index.js';
import { IntList, runHotlistTask, type HotlistTask, type HotlistTaskResult } from './hotlist-task.js';
import { collectHotlist, HotlistPlan } from './hotlist.js';
import type { Source } from './sources.js';

type ShardSource = Source & { kind: 'shard' };

/** Runs tasks elsewhere (the executor pool); a task it could not run comes back undefined. */
export type HotlistTaskRunner = (tasks: readonly HotlistTask[], signal?: AbortSignal) => Promise<Array<HotlistTaskResult | undefined>>;

/** The task of one shard source (the retention floor folded into the filter). */
export function hotlistTask(src: ShardSource, query: HotlistQuery, index: HotlistIndex): HotlistTask {
  const s = src.shard;
  const from = Math.max(query.filter.from ?? -Infinity, src.minTs);
  const filter = Number.isFinite(from) ? { ...query.filter, from } : query.filter;
  const task: HotlistTask = {
    layout: s.layout, seq: s.seqPtr, postings: s.postingsPtr, filter, cameras: s.cameras, regions: s.regions,
    limit: query.limitPerPlate, index,
  };
  if (filter.makes || filter.colors) {
    const a = s.attributes();
    task.makes = a.makes;
    task.colors = a.colors;
  }
  return task;
}

/** Whether a shard source can hold a match at all (rows, and time range against the filter and retention). */
function inScope(src: ShardSource, query: HotlistQuery): boolean {
  const s = src.shard;
  const lo = Math.max(query.filter.from ?? -Infinity, src.minTs);
  const hi = query.filter.to ?? Infinity;
  return s.rows > 0 && s.layout.dictCount > 0 && lo < hi && s.meta.maxTs >= lo && s.meta.minTs < hi;
}

/**
 * The task results of a query, kept as they came (typed arrays), indexed by entry: merging costs no
 * object per row. Per task result, each matched entry is one segment (its count and its kept rows).
 */
class TaskRows {
  readonly results: HotlistTaskResult[] = [];
  readonly sources: ShardSource[] = [];
  private readonly segEntry = new IntList();
  private readonly segTask = new IntList();
  private readonly segAt = new IntList();

  add(src: ShardSource, r: HotlistTaskResult): void {
    const t = this.results.length;
    this.results.push(r);
    this.sources.push(src);
    for (let j = 0; j < r.entries.length; j++) {
      this.segEntry.push(r.entries[j]!);
      this.segTask.push(t);
      this.segAt.push(j);
    }
  }

  /** Segments grouped by entry: [entries ascending, first segment of each, segment order]. */
  byEntry(): { entry: Int32Array; first: Int32Array; order: Int32Array } {
    const n = this.segEntry.n;
    const E = this.segEntry.a;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((x, y) => E[x]! - E[y]! || x - y);
    const entry = new IntList(), first = new IntList();
    for (let q = 0; q < n; q++) {
      if (q === 0 || E[order[q]!] !== E[order[q - 1]!]) {
        entry.push(E[order[q]!]!);
        first.push(q);
      }
    }
    first.push(n);
    return { entry: entry.a.subarray(0, entry.n), first: first.a.subarray(0, first.n), order };
  }

  segTaskOf(s: number): number {
    return this.segTask.a[s]!;
  }

  segIndexOf(s: number): number {
    return this.segAt.a[s]!;
  }
}

/**
 * The answer: per entry (query order) its count from every task and TopK, and its best limitPerPlate rows
 * sorted by (distance, ts desc, ordinal, seq), materialised through one reused candidate (no object per
 * kept row but the hit itself: a big list keeps ~100,000 rows, and each short-lived object there cost as
 * much as the hit once the young generation filled with them).
 */
function answer(query: HotlistQuery, rows: TaskRows, tops: Map<number, TopK>, budget: QueryBudget | undefined): HotlistResult {
  const limit = query.limitPerPlate;
  const { entry: segEntries, first, order } = rows.byEntry();
  const plates = new Map<LoadedShard, Map<number, string>>();
  const plateOf = (s: LoadedShard, d: number): string => {
    let m = plates.get(s);
    if (!m) plates.set(s, (m = new Map()));
    let p = m.get(d);
    if (p === undefined) m.set(d, (p = s.plateAt(d)));
    return p;
  };
  // one entry's items: task rows (task t, position x) or TopK candidates (task -1, index x)
  let cap = 1024;
  let iTask = new Int32Array(cap), iPos = new Int32Array(cap), iD = new Uint8Array(cap), iTs = new Float64Array(cap);
  let iOrd = new Int32Array(cap), iSeq = new Float64Array(cap);
  const grow = (n: number) => {
    if (n <= cap) return;
    while (cap < n) cap *= 2;
    const g = <T extends Int32Array | Uint8Array | Float64Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    iTask = g(iTask, Int32Array);
    iPos = g(iPos, Int32Array);
    iD = g(iD, Uint8Array);
    iTs = g(iTs, Float64Array);
    iOrd = g(iOrd, Int32Array);
    iSeq = g(iSeq, Float64Array);
  };
  const cand: Candidate = { distance: 0, ts: 0, ordinal: 0, seq: 0, source: undefined as unknown as Source, row: 0 };
  const matches: HotlistResult['matches'] = [];
  let g = 0; // next group of segEntries
  for (let e = 0; e < query.entries.length; e++) {
    while (g < segEntries.length && segEntries[g]! < e) g++;
    const fromTasks = g < segEntries.length && segEntries[g] === e;
    const top = tops.get(e);
    if (!fromTasks && !top) continue;
    let total = top ? top.total : 0;
    let n = 0;
    if (fromTasks) {
      for (let q = first[g]!; q < first[g + 1]!; q++) {
        const sg = order[q]!;
        const t = rows.segTaskOf(sg), j = rows.segIndexOf(sg);
        const r = rows.results[t]!;
        const ordinal = rows.sources[t]!.ordinal;
        total += r.totals[j]!;
        const a = r.offsets[j]!, b = r.offsets[j + 1]!;
        grow(n + b - a);
        for (let x = a; x < b; x++, n++) {
          iTask[n] = t;
          iPos[n] = x;
          iD[n] = r.distances[x]!;
          iTs[n] = r.ts[x]!;
          iOrd[n] = ordinal;
          iSeq[n] = r.seqs[x]!;
        }
      }
    }
    const kept = top ? top.result() : [];
    grow(n + kept.length);
    for (let x = 0; x < kept.length; x++, n++) {
      const c = kept[x]!;
      iTask[n] = -1;
      iPos[n] = x;
      iD[n] = c.distance;
      iTs[n] = c.ts;
      iOrd[n] = c.ordinal;
      iSeq[n] = c.seq;
    }
    if (total === 0) continue;
    const idx = Array.from({ length: n }, (_, x) => x);
    idx.sort((x, y) => iD[x]! - iD[y]! || iTs[y]! - iTs[x]! || iOrd[x]! - iOrd[y]! || iSeq[x]! - iSeq[y]!);
    const k = Math.min(limit, n);
    const hits = new Array<Hit>(k);
    for (let h = 0; h < k; h++) {
      budget?.tick(); // a million entries' hits to build
      const x = idx[h]!;
      const t = iTask[x]!;
      if (t < 0) {
        hits[h] = materialise(kept[iPos[x]!]!, plateOf);
        continue;
      }
      const r = rows.results[t]!;
      cand.distance = iD[x]!;
      cand.ts = iTs[x]!;
      cand.ordinal = iOrd[x]!;
      cand.seq = iSeq[x]!;
      cand.source = rows.sources[t]!;
      cand.row = r.rows[iPos[x]!]!;
      hits[h] = materialise(cand, plateOf);
    }
    matches.push({ entry: query.entries[e]!.pattern, total, truncated: total > k, hits });
  }
  return { matches };
}

/**
 * Dictionary entries of the shards in scope below which a hot list stays on the calling thread: probing
 * costs ~20–50 ns a distinct plate in JS against ~0.1 ms a pool round trip, so far less work than a
 * search's SIMD dictionary scan (src/engine/store-engine.ts poolMinRows) pays for the pool.
 */
export const kHotlistPoolMinPlates = 50_000;

export interface HotlistJoinOptions {
  /** Runs the shard tasks on the pool; absent: every task runs on this thread. */
  runTasks?: HotlistTaskRunner;
}

/**
 * One hot-list search. Shard tasks go to `runTasks` when given; the rest (live rows, wildcard entries,
 * tasks the pool could not run) is done here. The signal's budget is checked throughout (503 past it).
 */
export async function executeHotlistJoin(sources: readonly Source[], query: HotlistQuery, signal?: AbortSignal, options: HotlistJoinOptions = {}): Promise<HotlistResult> {
  const budget = QueryBudget.of(signal);
  const index = buildHotlistIndex(query.entries, budget);
  const shards = sources.filter((s): s is ShardSource => s.kind === 'shard' && inScope(s, query));
  const tasks = shards.map((s) => hotlistTask(s, query, index));
  const tops = new Map<number, TopK>();
  const rows = new TaskRows();
  const results: Array<HotlistTaskResult | undefined> = options.runTasks && tasks.length > 0 ? await options.runTasks(tasks, signal) : [];
  const missed: Source[] = [];
  shards.forEach((src, i) => {
    budget?.check();
    let r = results[i];
    if (!r) {
      try {
        r = runHotlistTask(src.shard.slots.buffer, tasks[i]!, budget);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        missed.push(src); // cannot happen short of a bug in the layout: the plain path answers instead
        return;
      }
    }
    rows.add(src, r);
  });
  // live rows (a hash map of their own plates), and shards whose task failed: every indexed entry
  const rest = [...sources.filter((s) => s.kind === 'live'), ...missed];
  if (rest.length > 0 && query.entries.some(indexedEntry)) {
    collectHotlist(rest, new HotlistPlan(query.entries, budget, indexedEntry), query, budget, tops);
  }
  // wildcard entries, every source: the entry's matcher over each dictionary
  if (query.entries.some((e) => !indexedEntry(e))) {
    collectHotlist(sources, new HotlistPlan(query.entries, budget, (e) => !indexedEntry(e)), query, budget, tops);
  }
  budget?.check();
  return answer(query, rows, tops, budget);
}
