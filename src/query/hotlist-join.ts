/**
 * Hot-list search as a join (issue 12): the entries are indexed once per query (src/query/hotlist-index.ts),
 * and every shard in scope probes that index with its distinct plates in a task of its own
 * (src/query/hotlist-task.ts), on the executor's workers when the work is big enough, else here; so do
 * slices of each live view's plates in the window (src/query/live-hotlist-task.ts: the live rows are in
 * arena memory too). A task returns per matched entry its exact count and its best limitPerPlate rows; this
 * keeps those typed arrays as they came, adds any wildcard entries (src/query/hotlist.ts, the per-dictionary
 * matcher, into per-entry TopKs), sorts each entry's few kept rows and materialises only the best.
 *
 *   entries ──► index (once) ─┬─► shard task ─► (entry, count, top rows) ─┐
 *                             ├─► live task (a slice of a view's plates) ─┤
 *                             ├─► …                                       ├─► per entry: sort, cut ─► hits
 *   wildcard entries, live views not in one arena, failed tasks ─► hotlist.ts ─┘
 */
import { availableParallelism } from 'node:os';
import { QueryBudget } from './budget.js';
import type { Hit, HotlistQuery, HotlistResult } from '../model/query.js';
import { materialise, type Candidate, type TopK } from './executor.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { buildHotlistIndex, indexedEntry, type HotlistIndex } from './hotlist-index.js';
import { runHotlistTask, type HotlistTask, type HotlistTaskResult, type KeptFields } from './hotlist-task.js';
import { isLiveHotlistTask, runLiveHotlistTask, type LiveHotlistTask } from './live-hotlist-task.js';
import { liveHit } from './live-hit.js';
import { liveScansWithKernels } from './analytics/live-row-scan.js';
import { liveRegions } from '../store/live-columns.js';
import { liveTimeRange, windowPlates } from '../store/live-plate-chain.js';
import { prepareFilter } from './filter-plan.js';
import { collectHotlist, HotlistPlan } from './hotlist.js';
import type { Source } from './sources.js';
import { ShardHits } from './shard-hits.js';
import { CoveredProbes } from './covered-probes.js';
import { RunningTops, type RunSet } from './running-tops.js';
import { KeptHitWriter } from './kept-hit-writer.js';
import type { HotlistSink } from '../model/hotlist-sink.js';

type ShardSource = Source & { kind: 'shard' };
type LiveSource = Source & { kind: 'live' };

/**
 * Runs tasks elsewhere (the executor pool); a task it could not run comes back undefined. `onResult(i, r)`,
 * when given, has task i's result as soon as it is back, while other tasks may still run (EarlyHits).
 */
export type HotlistTaskRunner = (
  tasks: ReadonlyArray<HotlistTask | LiveHotlistTask>, signal?: AbortSignal, onResult?: (task: number, r: HotlistTaskResult) => void,
) => Promise<Array<HotlistTaskResult | undefined>>;

/** The task of one shard source (the retention floor folded into the filter). */
export function hotlistTask(src: ShardSource, query: HotlistQuery, index: HotlistIndex): HotlistTask {
  const s = src.shard;
  const from = Math.max(query.filter.from ?? -Infinity, src.minTs);
  const filter = Number.isFinite(from) ? { ...query.filter, from } : query.filter;
  // a shard's camera and region names go to its task only when the filter names some (labelMasks): they are
  // copied into the worker with every task, and most hot lists filter neither
  const task: HotlistTask = {
    layout: s.layout, seq: s.seqPtr, postings: s.postingsPtr, filter,
    cameras: filter.cameras ? s.cameras : [], regions: filter.regions ? s.regions : [],
    limit: query.limitPerPlate, index,
  };
  const conf = s.view.confidenceAt();
  if (conf) task.confidence = conf;
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
 * A live view's plates in the window, cut into tasks (src/query/live-hotlist-task.ts); undefined when the
 * view cannot go to a task (no row can pass, or its regions are not all in one arena: the plain path serves).
 */
function liveTasks(src: LiveSource, query: HotlistQuery, index: HotlistIndex, parts: number): LiveHotlistTask[] | undefined {
  const view = src.view;
  if (!liveScansWithKernels(view)) return undefined;
  const from = Math.max(query.filter.from ?? -Infinity, src.minTs);
  const filter = Number.isFinite(from) ? { ...query.filter, from } : query.filter;
  const p = prepareFilter(filter, -Infinity);
  if (p.empty) return [];
  const [gLo, gHi] = liveTimeRange(view, p.lo, p.hi);
  if (gLo >= gHi) return [];
  const { codes, starts } = windowPlates(view, gLo, gHi);
  const n = codes.length;
  if (n === 0) return [];
  const { blocks, slotChunks } = liveRegions(view);
  const cols = view.cols;
  const labels = {
    cameras: filter.cameras ? cols.cameras.values : [], regions: filter.regions ? cols.regions.values : [],
    ...(filter.makes || filter.colors ? { makes: cols.makes.values, colors: cols.colors.values } : {}),
  };
  // slices of at least kLivePlatesPerTask plates (a pool round trip is worth ~0.1 ms of probing)
  const k = Math.max(1, Math.min(parts, Math.floor(n / kLivePlatesPerTask)));
  const rowsPerPlate = (gHi - gLo) / n;
  const tasks: LiveHotlistTask[] = [];
  for (let t = 0; t < k; t++) {
    const a = Math.floor((t * n) / k), b = Math.floor(((t + 1) * n) / k);
    tasks.push({
      layout: { arena: cols.arena, rows: Math.ceil((b - a) * rowsPerPlate) }, live: true, blocks, slotChunks,
      codes: codes.subarray(a, b), starts: starts.subarray(a, b), gLo, filter, ...labels, limit: query.limitPerPlate, index,
    });
  }
  return tasks;
}

/** Plates of a live view's window below which it is one task (probing them costs ~20–50 ns each). */
const kLivePlatesPerTask = 4096;

/** The hits of one task's rows: a shard's (ShardHits), or a live view's (liveHit). */
interface TaskHits {
  plateOf(row: number): string;
  hit(row: number, ts: number, seq: number, distance: number, plate: string): Hit;
}

function liveTaskHits(src: LiveSource): TaskHits {
  const view = src.view;
  return {
    plateOf: (row) => view.plate(row),
    hit: (row, _ts, _seq, distance) => liveHit(view, src.tenant, src.ordinal, row, distance),
  };
}

/**
 * The task results of a query, kept as they came (typed arrays), indexed by entry: merging costs no
 * object per row. Per task result, each matched entry is one segment: its count and its kept rows, a run
 * sorted best first.
 */
class TaskRows {
  readonly results: HotlistTaskResult[] = [];
  readonly sources: Source[] = [];
  /** Per task, its hit builder, made on the first hit from it. */
  readonly hits: Array<TaskHits | undefined> = [];
  /** Per task, the hits of its kept rows built before the merge (`early`; holes for rows that could not be hits), else undefined. */
  readonly built: Array<Hit[] | undefined> = [];
  /** Per shard task, what hands its kept rows to a sink, made on the first written. */
  private readonly writers: Array<KeptHitWriter | undefined> = [];

  add(src: Source, r: HotlistTaskResult, early?: EarlyHits): void {
    this.results.push(r);
    this.sources.push(src);
    const e = early?.of(r);
    this.hits.push(e?.builder);
    this.built.push(e?.hits);
  }

  hitsOf(t: number): TaskHits {
    let h = this.hits[t];
    if (!h) {
      const src = this.sources[t]!;
      this.hits[t] = h = src.kind === 'shard' ? new ShardHits(src.shard, src.tenant, src.ordinal) : liveTaskHits(src);
    }
    return h;
  }

  writerOf(t: number): KeptHitWriter {
    let w = this.writers[t];
    if (!w) {
      const src = this.sources[t] as ShardSource;
      this.writers[t] = w = new KeptHitWriter(src.shard, src.tenant, src.ordinal);
    }
    return w;
  }

  /**
   * Segments grouped by entry, by counting (entries are dense, 0..entryCount): segments of entry e are
   * [first[e], first[e + 1]) of `task` and `at` (index into that task's entries), tasks in order.
   */
  byEntry(entryCount: number): { first: Int32Array; task: Int32Array; at: Int32Array } {
    const first = new Int32Array(entryCount + 1);
    for (const r of this.results) for (let j = 0; j < r.entries.length; j++) first[r.entries[j]! + 1]++;
    for (let e = 0; e < entryCount; e++) first[e + 1] += first[e]!;
    const n = first[entryCount]!;
    const task = new Int32Array(n), at = new Int32Array(n);
    const fill = first.slice(0, entryCount);
    this.results.forEach((r, t) => {
      for (let j = 0; j < r.entries.length; j++) {
        const q = fill[r.entries[j]!]!++;
        task[q] = t;
        at[q] = j;
      }
    });
    return { first, task, at };
  }
}

/**
 * Hits built while the pool still runs other tasks of the query: the answer's hits are most of a big hot
 * list's main-thread time (~317,000 of them at 20M reads, bench:peers "hot list 100k exact"), and without
 * this the calling thread waits idle for every task, then builds them all while the workers are idle. The
 * pool hands each shard result over as its batch comes back (HotlistTaskRunner `onResult`), and the kept
 * rows of it that can still be hits become hits right then: per entry, those that enter the best
 * limitPerPlate of the rows back so far (src/query/running-tops.ts). A task keeps up to limitPerPlate rows
 * an entry, so an entry read in many shards keeps far more rows than it has hits; building all of them was
 * most of the time of a list with busy plates (bench:peers "5 heavy plates": 170,763 kept rows, 101,127
 * hits). The rule leaves no hit to the merge; a row built here goes unused only when rows back after it
 * push it out. The hits are those `answer` would build (same builder, same plate rule), by result.
 */
class EarlyHits {
  private readonly byResult = new Map<HotlistTaskResult, { builder: ShardHits; hits: Hit[] }>();
  /** Made with the first result (a query on the calling thread has none). */
  private tops: RunningTops | undefined;
  /** Rows of the shards back so far, and the rows their tasks kept. */
  private rowsBack = 0;
  private keptBack = 0;

  /**
   * `spareCore`: the calling thread has a core no worker uses, so building hits beside the workers costs them
   * nothing and every result's hits are built as it comes back; otherwise only while the results back are
   * dense in kept rows (kEarlyKeptPerShardRow). A result not built here is not offered to the running tops
   * either: they then hold a subset of the rows back, so they admit more rows than the exact rule would, never
   * fewer than the hits (running-tops.ts), and `answer` builds the hits of the results left to it.
   */
  constructor(private readonly spareCore: boolean) {}

  of(r: HotlistTaskResult): { builder: ShardHits; hits: Hit[] } | undefined {
    return this.byResult.get(r);
  }

  /**
   * Builds the hits of shard task result `r` of `src` that can still be hits (a result without its fields is
   * left to `answer`); the others stay holes, and `answer` builds any it keeps after all.
   */
  build(src: ShardSource, r: HotlistTaskResult, query: HotlistQuery, patterns: EntryPatterns, budget: QueryBudget | undefined): void {
    this.rowsBack += src.shard.rows;
    this.keptBack += r.rows.length;
    if (!r.fields || r.rows.length === 0) return;
    if (!this.spareCore && this.keptBack < kEarlyKeptPerShardRow * this.rowsBack) return; // `answer` builds them
    const withFields = r as HotlistTaskResult & { fields: KeptFields };
    const runs: RunSet = { ...r, ordinal: src.ordinal };
    const tops = (this.tops ??= new RunningTops(query.entries.length, query.limitPerPlate));
    const ends = new Int32Array(r.entries.length);
    tops.admitRuns(runs, ends);
    const builder = new ShardHits(src.shard, src.tenant, src.ordinal);
    const hits = new Array<Hit>(r.rows.length);
    for (let j = 0; j < r.entries.length; j++) {
      const from = r.offsets[j]!, end = ends[j]!;
      const plainPlate = patterns.plain[r.entries[j]!];
      for (let p = from; p < end; p++) {
        budget?.tick();
        const distance = r.distances[p]!;
        hits[p] = builder.hitOf(withFields, p, distance, hitPlate(plainPlate, distance));
      }
    }
    this.byResult.set(r, { builder, hits });
  }
}

/**
 * Kept rows a shard row back (over the results back so far) from which the calling thread builds hits while
 * the workers run, when it has no core of its own. Beside two busy workers on two cores, building a hit costs
 * the calling thread more than after they are done (bench:peers' "5 heavy plates" list at 20M: ~110,000
 * hits built early took it ~160 ms of CPU, 101,127 built after the tasks ~100 ms) and slows the workers,
 * which read memory too; it pays only when the hits are so many that the calling thread, not the workers, is
 * the longer thread. At 20M reads the 100k exact list over 7 days keeps ~0.11 rows a shard row (316,875 kept,
 * 2.87M rows; built early: ~0.9× the time) and the 10k list with 5 heavy plates over all time ~0.015
 * (170,763 kept, 11.5M rows; built early: 1.2–1.4× the time). A hit takes ~1 µs to build and the two
 * workers go through a shard row of such lists in ~0.01–0.08 µs of wall time, so the crossover lies between
 * those densities; 1/32 is about their geometric mean. A measured crossover of this machine, not a law.
 */
const kEarlyKeptPerShardRow = 1 / 32;

/**
 * Per entry, its pattern and the plate of its distance-0 hits when a match at distance 0 is equality (no OCR
 * classes: the hits' plate is then the entry itself; undefined: read it from the shard), in two dense arrays.
 * Every result back reads them for each of its matched entries (~31,000 of 100,000 entries, 10 results, in
 * bench:peers' "hot list 100k exact"), and reading them from the entry objects cost a scattered object load
 * each on the calling thread, its critical path; so they are read from the entries once, while the calling
 * thread waits for the first results (executeHotlistJoin).
 */
interface EntryPatterns {
  pattern: string[];
  plain: Array<string | undefined>;
}

function entryPatterns(entries: HotlistQuery['entries']): EntryPatterns {
  const n = entries.length;
  const pattern = new Array<string>(n), plain = new Array<string | undefined>(n);
  for (let e = 0; e < n; e++) {
    const entry = entries[e]!;
    pattern[e] = entry.pattern;
    plain[e] = entry.ocr ? undefined : entry.pattern;
  }
  return { pattern, plain };
}

/** The plate a hit at `distance` takes from its entry (undefined: read it from the shard). */
function hitPlate(plainPlate: string | undefined, distance: number): string | undefined {
  return distance === 0 && plainPlate !== undefined ? plainPlate : undefined;
}

/**
 * One entry's sorted runs merged best first: the tasks' runs (each sorted by the task) and the TopK's
 * candidates (sorted by `result()`), through a binary heap of the runs' heads by (distance, ts desc,
 * ordinal, seq). Taking `limit` rows out of k runs costs O(limit · log k) compares, however many rows the
 * runs hold, and no object per row. Reused across entries.
 */
class RunMerge {
  private cap = 0;
  /** Per run: its task (-1: the TopK candidates), next and end position, head key. */
  private task = new Int32Array(0);
  private pos = new Int32Array(0);
  private end = new Int32Array(0);
  private hd = new Uint8Array(0);
  private hts = new Float64Array(0);
  private hord = new Int32Array(0);
  private hseq = new Float64Array(0);
  /** Heap of run indexes, best head at the root. */
  private heap = new Int32Array(0);
  /** The runs by their heads, when they follow one another (`inOrder`). */
  private ordered = new Int32Array(0);
  private size = 0;
  private runs = 0;
  private kept: Candidate[] = [];

  constructor(private readonly rows: TaskRows) {}

  reset(runs: number, kept: Candidate[]): void {
    if (runs > this.cap) {
      this.cap = Math.max(runs, 2 * this.cap, 16);
      this.task = new Int32Array(this.cap);
      this.pos = new Int32Array(this.cap);
      this.end = new Int32Array(this.cap);
      this.hd = new Uint8Array(this.cap);
      this.hts = new Float64Array(this.cap);
      this.hord = new Int32Array(this.cap);
      this.hseq = new Float64Array(this.cap);
      this.heap = new Int32Array(this.cap);
      this.ordered = new Int32Array(this.cap);
    }
    this.size = 0;
    this.runs = 0;
    this.kept = kept;
  }

  /** Adds run [from, to) of task `t`'s columns (t = -1: of the TopK candidates). */
  addRun(t: number, from: number, to: number): void {
    if (from >= to) return;
    const r = this.runs++;
    this.task[r] = t;
    this.pos[r] = from;
    this.end[r] = to;
    this.load(r);
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(r, this.heap[parent]!)) break;
      this.heap[i] = this.heap[parent]!;
      i = parent;
    }
    this.heap[i] = r;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  /**
   * Whether the runs follow one another: ordered by their heads, each one's last row sorts before the next one's
   * first. Then the merge is the runs one after the other (`orderedRun(0..runCount)`), no heap step a row. An exact
   * entry's runs are its plate's rows in each day shard of the window, whose times do not overlap: in bench:peers'
   * "hot list 100k exact" every entry's runs follow one another, ~10 hits of ~3–7 runs each.
   */
  inOrder(): boolean {
    const k = this.runs, o = this.ordered;
    for (let i = 0; i < k; i++) {
      let j = i;
      for (; j > 0 && this.before(i, o[j - 1]!); j--) o[j] = o[j - 1]!;
      o[j] = i;
    }
    for (let i = 0; i + 1 < k; i++) {
      const a = o[i]!, b = o[i + 1]!;
      if (!this.rowBefore(this.task[a]!, this.end[a]! - 1, this.task[b]!, this.pos[b]!)) return false;
    }
    return true;
  }

  get runCount(): number {
    return this.runs;
  }

  /** The i-th run by its head, after `inOrder` said true. */
  orderedRun(i: number): number {
    return this.ordered[i]!;
  }

  endOf(r: number): number {
    return this.end[r]!;
  }

  /** The best head's run (its task and position: `taskOf`, `posOf`); `advance` moves past it. */
  top(): number {
    return this.heap[0]!;
  }

  taskOf(r: number): number {
    return this.task[r]!;
  }

  posOf(r: number): number {
    return this.pos[r]!;
  }

  /** Moves the root run to its next row (or drops it) and restores the heap. */
  advance(): void {
    const r = this.heap[0]!;
    if (++this.pos[r]! < this.end[r]!) this.load(r);
    else {
      const last = this.heap[--this.size]!;
      if (this.size === 0) return;
      this.heap[0] = last;
    }
    const x = this.heap[0]!;
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(this.heap[child + 1]!, this.heap[child]!)) child++;
      if (!this.before(this.heap[child]!, x)) break;
      this.heap[i] = this.heap[child]!;
      i = child;
    }
    this.heap[i] = x;
  }

  private load(r: number): void {
    const t = this.task[r]!, p = this.pos[r]!;
    if (t < 0) {
      const c = this.kept[p]!;
      this.hd[r] = c.distance;
      this.hts[r] = c.ts;
      this.hord[r] = c.ordinal;
      this.hseq[r] = c.seq;
      return;
    }
    const res = this.rows.results[t]!;
    this.hd[r] = res.distances[p]!;
    this.hts[r] = res.ts[p]!;
    this.hord[r] = this.rows.sources[t]!.ordinal;
    this.hseq[r] = res.seqs[p]!;
  }

  /** Whether row pa of task ta (-1: the TopK candidates) sorts before row pb of task tb, by (distance, ts desc, ordinal, seq). */
  private rowBefore(ta: number, pa: number, tb: number, pb: number): boolean {
    const da = this.distanceAt(ta, pa), db = this.distanceAt(tb, pb);
    if (da !== db) return da < db;
    const xa = this.tsAt(ta, pa), xb = this.tsAt(tb, pb);
    if (xa !== xb) return xa > xb;
    const oa = this.ordinalAt(ta, pa), ob = this.ordinalAt(tb, pb);
    if (oa !== ob) return oa < ob;
    return this.seqAt(ta, pa) < this.seqAt(tb, pb);
  }

  private distanceAt(t: number, p: number): number {
    return t < 0 ? this.kept[p]!.distance : this.rows.results[t]!.distances[p]!;
  }

  private tsAt(t: number, p: number): number {
    return t < 0 ? this.kept[p]!.ts : this.rows.results[t]!.ts[p]!;
  }

  private ordinalAt(t: number, p: number): number {
    return t < 0 ? this.kept[p]!.ordinal : this.rows.sources[t]!.ordinal;
  }

  private seqAt(t: number, p: number): number {
    return t < 0 ? this.kept[p]!.seq : this.rows.results[t]!.seqs[p]!;
  }

  /** Whether run a's head sorts before run b's. */
  private before(a: number, b: number): boolean {
    const da = this.hd[a]!, db = this.hd[b]!;
    if (da !== db) return da < db;
    const ta = this.hts[a]!, tb = this.hts[b]!;
    if (ta !== tb) return ta > tb;
    const oa = this.hord[a]!, ob = this.hord[b]!;
    if (oa !== ob) return oa < ob;
    return this.hseq[a]! < this.hseq[b]!;
  }
}

/**
 * The answer: per entry (query order) its count from every task and TopK, and its best limitPerPlate rows
 * by (distance, ts desc, ordinal, seq), merged from the sorted runs (RunMerge); only those become hits,
 * built by each shard's ShardHits (src/query/shard-hits.ts) without an object per kept row but the hit,
 * from the fields its task read (KeptFields), so no shard lane is read here.
 * An exact entry without OCR is its hits' plate: its string is reused, not decoded per hit.
 * With a `sink`, each match and its hits are handed to it in the same order instead (src/model/hotlist-sink.ts):
 * a shard task's kept row as its fields (KeptHitWriter), any other hit as the object it is built as here.
 */
function answer(query: HotlistQuery, patterns: EntryPatterns, rows: TaskRows, tops: Map<number, TopK>, budget: QueryBudget | undefined, sink?: HotlistSink): HotlistResult {
  const limit = query.limitPerPlate;
  const entryCount = query.entries.length;
  const { first, task, at } = rows.byEntry(entryCount);
  const plates = new Map<LoadedShard, Map<number, string>>();
  const plateOf = (s: LoadedShard, d: number): string => {
    let m = plates.get(s);
    if (!m) plates.set(s, (m = new Map()));
    let p = m.get(d);
    if (p === undefined) m.set(d, (p = s.plateAt(d)));
    return p;
  };
  const merge = new RunMerge(rows);
  const noCandidates: Candidate[] = [];
  const matches: HotlistResult['matches'] = [];
  for (let e = 0; e < entryCount; e++) {
    const q0 = first[e]!, q1 = first[e + 1]!;
    const top = tops.size > 0 ? tops.get(e) : undefined;
    if (q0 === q1 && !top) continue;
    let total = top ? top.total : 0;
    const kept = top ? top.result() : noCandidates;
    merge.reset(q1 - q0 + 1, kept);
    let held = kept.length; // rows the runs hold: every one can be a hit
    for (let q = q0; q < q1; q++) {
      const t = task[q]!, j = at[q]!;
      const r = rows.results[t]!;
      total += r.totals[j]!;
      const from = r.offsets[j]!, to = r.offsets[j + 1]!;
      held += to - from;
      merge.addRun(t, from, to);
    }
    merge.addRun(-1, 0, kept.length);
    if (total === 0) continue;
    const pattern = patterns.pattern[e]!, plainPlate = patterns.plain[e];
    // made at its final size: pushing into [] gives the array a store of 17 slots at its first hit, then
    // grows and copies it (most entries have a few hits; the stores survive with the answer)
    const n = Math.min(limit, held);
    sink?.match(pattern, total, total > n, n);
    const hits = sink ? noHits : new Array<Hit>(n);
    // the hit of row p of task t (-1: the TopK candidates) as the answer's h-th of this entry
    const take = (t: number, p: number, h: number): void => {
      budget?.tick(); // a million entries' hits to build
      // compared with undefined, not tested for truth: testing an object reads its map, a cache miss per hit
      // here (the hits built early are ~63 MB a call at 20M reads, long out of cache)
      const early = t < 0 ? undefined : rows.built[t]?.[p];
      let hit: Hit | undefined;
      if (t < 0) {
        hit = materialise(kept[p]!, plateOf);
      } else if (early !== undefined) {
        hit = early;
      } else {
        const sh = rows.hitsOf(t);
        const r = rows.results[t]!;
        const distance = r.distances[p]!;
        const plate = hitPlate(plainPlate, distance);
        // a shard task's kept rows come with their fields: no lane of the shard is read here. Its ts, seq and
        // confidence go as column slots: a double handed to a call that is not inlined is boxed first
        if (r.fields && sh instanceof ShardHits) {
          const withFields = r as typeof r & { fields: KeptFields };
          if (sink) rows.writerOf(t).write(sink, withFields, p, distance, plate);
          else hit = sh.hitOf(withFields, p, distance, plate);
        } else {
          const row = r.rows[p]!;
          hit = sh.hit(row, r.ts[p]!, r.seqs[p]!, distance, plate ?? sh.plateOf(row));
        }
      }
      if (hit !== undefined) {
        if (sink) sink.hit(hit);
        else hits[h] = hit;
      }
    };
    let h = 0;
    if (merge.inOrder()) {
      for (let i = 0; i < merge.runCount && h < n; i++) {
        const run = merge.orderedRun(i), t = merge.taskOf(run);
        for (let p = merge.posOf(run), end = merge.endOf(run); p < end && h < n; p++) take(t, p, h++);
      }
    } else {
      for (; h < n; h++) {
        const run = merge.top();
        take(merge.taskOf(run), merge.posOf(run), h);
        merge.advance();
      }
    }
    if (!sink) matches.push({ entry: pattern, total, truncated: total > hits.length, hits });
  }
  return sink ? { matches, written: true } : { matches };
}

/** A written answer's matches hold no hits. */
const noHits: Hit[] = [];

/**
 * Dictionary entries of the shards in scope below which a hot list stays on the calling thread: probing
 * costs ~20–50 ns a distinct plate in JS against ~0.1 ms a pool round trip, so far less work than a
 * search's SIMD dictionary scan (src/engine/store-engine.ts poolMinRows) pays for the pool.
 */
export const kHotlistPoolMinPlates = 50_000;

export interface HotlistJoinOptions {
  /** Runs the shard and live tasks on the pool; absent: every task runs on this thread. */
  runTasks?: HotlistTaskRunner;
  /** Tasks a live view's plates are cut into for `runTasks` (as many as the pool's batches: every worker takes a share). */
  liveTaskParts?: number;
  /** Workers `runTasks` runs tasks on side by side (src/query/covered-probes.ts weighs its ways by it). */
  workers?: number;
  /** false: the tasks in one dispatch, every hit built after the last (EarlyHits; default true). */
  earlyHits?: boolean;
  /**
   * Where the matches are written instead of built (src/model/hotlist-sink.ts): no hit is built early, a
   * shard task's kept rows go to it as their fields.
   */
  sink?: HotlistSink;
}

/**
 * One hot-list search. Shard tasks and live tasks go to `runTasks` when given; the rest (wildcard entries,
 * live views not in one arena, tasks the pool could not run) is done here. Every task is planned before
 * the first await, so the live views are read as they were when the query was planned (the caller pins
 * them). The signal's budget is checked throughout (503 past it).
 */
export async function executeHotlistJoin(sources: readonly Source[], query: HotlistQuery, signal?: AbortSignal, options: HotlistJoinOptions = {}): Promise<HotlistResult> {
  const budget = QueryBudget.of(signal);
  const shards = sources.filter((s): s is ShardSource => s.kind === 'shard' && inScope(s, query));
  const lives = sources.filter((s): s is LiveSource => s.kind === 'live');
  const indexed = query.entries.some(indexedEntry);
  // the tasks' index, built once for every task (none when nothing is in scope)
  const index = indexed && (shards.length > 0 || lives.length > 0) ? buildHotlistIndex(query.entries, budget) : undefined;
  const tasks: Array<HotlistTask | LiveHotlistTask> = [];
  const owners: Source[] = [];
  // live views that cannot go to a task, covered shards without a tenant probe, and shards whose task
  // failed: the plain path, every indexed entry
  const rest: Source[] = [];
  // a shard reading through its tenant's dictionary has no slots of its own: its task probes its plates
  // through its code → id map, or maps the tenant dictionary's probe made once (src/query/covered-probes.ts)
  const covered = index && shards.some((s) => s.shard.readsThrough)
    ? new CoveredProbes(index, shards.map((s) => s.shard), options.runTasks ? options.workers ?? 1 : 1, budget)
    : undefined;
  const tops = new Map<number, TopK>();
  const rows = new TaskRows();
  for (const s of index ? shards : []) {
    const through = covered && s.shard.readsThrough ? covered.forShard(s.shard) : undefined;
    if (s.shard.slotsDropped && !through) {
      rest.push(s); // no tenant dictionary to probe: the plain path answers for it
      continue;
    }
    const task = hotlistTask(s, query, index!);
    if (through) task.through = through;
    tasks.push(task);
    owners.push(s);
  }
  const parts = options.runTasks ? options.liveTaskParts ?? 1 : 1;
  for (const src of lives) {
    const live = index ? liveTasks(src, query, index, parts) : [];
    if (!live) rest.push(src);
    for (const t of live ?? []) {
      tasks.push(t);
      owners.push(src);
    }
  }
  // shard results become hits as they come back, while other tasks still run (EarlyHits)
  const early = new EarlyHits(availableParallelism() > (options.workers ?? 1));
  // read once, on first use: below while the first tasks run, or by a result handed over sooner
  let patterns: EntryPatterns | undefined;
  const entryPatternsOnce = (): EntryPatterns => (patterns ??= entryPatterns(query.entries));
  const buildEarly = (i: number, r: HotlistTaskResult) => {
    if (!isLiveHotlistTask(tasks[i]!)) early.build(owners[i] as ShardSource, r, query, entryPatternsOnce(), budget);
  };
  const running = options.runTasks && tasks.length > 0
    ? options.runTasks(tasks, signal, options.earlyHits === false || options.sink ? undefined : buildEarly)
    : undefined;
  // read while the first tasks run: the pool has sent their batches, and no result is handed over before this
  // thread's event loop turns (the await below)
  entryPatternsOnce();
  const results: Array<HotlistTaskResult | undefined> = running ? await running : [];
  tasks.forEach((task, i) => {
    budget?.check();
    const src = owners[i]!;
    let r = results[i];
    if (!r && isLiveHotlistTask(task)) {
      // the arena's memory, as any of the view's lanes sees it
      r = runLiveHotlistTask((src as LiveSource).view.cols.blocks[0]!.seq.buffer, task, budget);
    } else if (!r) {
      try {
        r = runHotlistTask((src as ShardSource).shard.view.bytes.buffer, task as HotlistTask, budget);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        rest.push(src); // cannot happen short of a bug in the layout: the plain path answers instead
        return;
      }
    }
    rows.add(src, r, early);
  });
  if (rest.length > 0 && indexed) {
    collectHotlist(rest, new HotlistPlan(query.entries, budget, indexedEntry), query, budget, tops);
  }
  // wildcard entries, every source: the entry's matcher over each dictionary
  if (query.entries.some((e) => !indexedEntry(e))) {
    collectHotlist(sources, new HotlistPlan(query.entries, budget, (e) => !indexedEntry(e)), query, budget, tops);
  }
  budget?.check();
  return answer(query, entryPatternsOnce(), rows, tops, budget, options.sink);
}
