/**
 * Hot-list search as a join (issue 12): the entries are indexed once per query (src/query/hotlist-index.ts),
 * and every shard in scope probes that index with its distinct plates in a task of its own
 * (src/query/hotlist-task.ts), on the executor's workers when the work is big enough, else here. A task
 * returns per matched entry its exact count and its best limitPerPlate rows; this merges them per entry
 * (the same TopK as a search), adds the live rows and any wildcard entries (src/query/hotlist.ts, the
 * per-dictionary matcher), and materialises only the kept rows.
 *
 *   entries ──► index (once) ─┬─► shard task ─► (entry, count, top rows) ─┐
 *                             ├─► shard task ─► …                         ├─► per-entry TopK ─► hits
 *   live rows, wildcard entries, tasks no worker could run ─► hotlist.ts ─┘
 */
import { QueryBudget } from './budget.js';
import type { HotlistQuery, HotlistResult } from '../model/query.js';
import type { TopK } from './executor.js';
import { buildHotlistIndex, indexedEntry, type HotlistIndex } from './hotlist-index.js';
import { runHotlistTask, type HotlistTask, type HotlistTaskResult } from './hotlist-task.js';
import { collectHotlist, entryTop, HotlistPlan, hotlistAnswer } from './hotlist.js';
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

/** Feeds one task's result into the per-entry TopKs. */
function mergeTask(tops: Map<number, TopK>, limit: number, src: ShardSource, r: HotlistTaskResult): void {
  for (let j = 0; j < r.entries.length; j++) {
    const top = entryTop(tops, r.entries[j]!, limit);
    const a = r.offsets[j]!, b = r.offsets[j + 1]!;
    for (let x = a; x < b; x++) {
      const distance = r.distances[x]!, ts = r.ts[x]!;
      if (top.wants(distance, ts)) top.push({ distance, ts, ordinal: src.ordinal, seq: r.seqs[x]!, source: src, row: r.rows[x]! });
      else top.skipWorse();
    }
    const rest = r.totals[j]! - (b - a);
    top.countOnly(rest, rest);
  }
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
    mergeTask(tops, query.limitPerPlate, src, r);
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
  return hotlistAnswer(query, tops, budget);
}
