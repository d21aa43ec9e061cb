/**
 * An exact plate whose reads fit in one page (issue 12, "busy exact plate, limit 1000": a vehicle read a
 * few hundred times, every read returned): its rows gathered into typed lanes and ordered by one native
 * sort, instead of one candidate object a row pushed through the merge's heap (TopK) and sorted again
 * by a JS comparator.
 *
 * When every row of the plate in the planned sources (the lengths of its postings runs, plus its live
 * chain) is at most `limit`, every row that passes the filter is a hit: there is no top-k to keep, only
 * an order to find. That order is (distance, ts desc, id) with distance 0 throughout, so the key of
 * gathered row k is (newest ts − ts) · 2^14 + k, exact in a double while the plate's reads span less
 * than 2^39 ms (17 years) and k < 2^14 (limit ≤ 10,000): a Float64Array sort, no callback
 * (src/query/answer-order.ts, which the TopK's kept rows use too). Rows with one
 * ts (rare: two cameras in the same millisecond) are then put in id order, (tenant ordinal, seq).
 *
 * Measured at 2M reads (bench/exact-cost.ts, bench/RESULTS.md "Busy exact plates as one page"): of a
 * 376-hit search's time, the heap pushes and `TopK.result`'s comparator sort were about a third, the
 * candidate objects a share of the garbage; building the 376 hits is what is left.
 *
 * A plate with more rows than `limit` (issue 12's heavy plates: the page fills with the newest shards
 * and older ones are counted from their run lengths) goes the executor's TopK way: undefined here.
 */
import type { HitSink } from '../model/hit-sink.js';
import type { Hit, SearchResult } from '../model/query.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { PreparedFilter } from './filter-plan.js';
import type { Source } from './sources.js';
import type { QueryBudget } from './budget.js';
import type { CandidateKey } from './executor.js';
import { rowPasses, shardMasks, type ShardMasks } from './executor.js';
import { postingsRun } from './postings-run.js';
import { liveRowTest } from './live-scan.js';
import { liveHit } from './live-hit.js';
import { ShardHits } from './shard-hits.js';
import { writeShardRow } from './kept-page.js';
import { answerOrder, kMaxOrderRows } from './answer-order.js';

/**
 * Entry `d`'s postings run in `shard`: one read of its run table when the shard has one (the tenant
 * dictionary's build makes it for every shard it covers, src/store/plate-runs.ts), else the lane's own
 * search. An all-time exact plate reads ~30 shards' runs; the table's read was ~0.5 µs a shard cheaper on
 * the server's main thread than postingsRun's dependent probes (bench/RESULTS.md, "Issue 12: exact plate
 * at 8 clients, all time"). A shard without a table does not get one here: no pass over its plate lane on
 * the request path, and no memory that was not there.
 */
export function plateRunOf(shard: LoadedShard, d: number): [number, number] {
  if (shard.hasPlateRuns) return shard.plateRuns().run(d, shard.postings, shard.plate);
  return postingsRun(shard.postings, shard.rows, shard.plate, shard.layout.dictCount, d);
}

/** plateRunOf's run into out[0] (start) and out[1] (end): no array a shard. */
function plateRunInto(shard: LoadedShard, d: number, out: Uint32Array): void {
  if (shard.hasPlateRuns) return shard.plateRuns().runInto(d, shard.postings, shard.plate, out, 0);
  const [start, end] = postingsRun(shard.postings, shard.rows, shard.plate, shard.layout.dictCount, d);
  out[0] = start;
  out[1] = end;
}

/** Searches answered here (tests: the path ran). */
export const platePages = { count: 0 };

/** One source's rows of the plate: a shard's postings run [start, end), or live rows. */
interface PlateRun {
  src: Source | null;
  p: PreparedFilter | null;
  masks: ShardMasks | null;
  start: number;
  end: number;
  live: number[] | null;
  liveTest: ((g: number, t: number) => boolean) | null;
}

/**
 * The runs of the search under way, kept from search to search (a search is synchronous here): an all-time
 * plate has ~30 of them, and their objects were a tenth of the engine's young bytes a search. `runCount` of them
 * are this search's; their references are dropped when it ends (`releaseRuns`), so no shard is kept reachable.
 */
const runPool: PlateRun[] = [];
let runCount = 0;
const runBounds = new Uint32Array(2);

function takeRun(src: Source, p: PreparedFilter, masks: ShardMasks | null, start: number, end: number,
  live: number[] | null, liveTest: ((g: number, t: number) => boolean) | null): void {
  let run = runPool[runCount];
  if (!run) runPool.push((run = { src: null, p: null, masks: null, start: 0, end: 0, live: null, liveTest: null }));
  run.src = src;
  run.p = p;
  run.masks = masks;
  run.start = start;
  run.end = end;
  run.live = live;
  run.liveTest = liveTest;
  runCount++;
}

function releaseRuns(): void {
  for (let r = 0; r < runCount; r++) {
    const run = runPool[r]!;
    run.src = null;
    run.p = null;
    run.masks = null;
    run.live = null;
    run.liveTest = null;
  }
  runCount = 0;
}

/**
 * The answer of exact plate `plate` over `sources` when all of its rows there number at most `limit`;
 * undefined otherwise (the caller's TopK path answers). `preparedFor` gives the filter under a retention floor.
 * With a `sink`, the hits are written to it as their rows are read, not built (`written`; the page is whole).
 */
export function plateAsOnePage(
  sources: readonly Source[], plate: string, limit: number, preparedFor: (minTs: number) => PreparedFilter,
  after: CandidateKey | undefined, budget: QueryBudget | undefined, sink?: HitSink,
): SearchResult | undefined {
  if (limit <= 0 || limit > kMaxOrderRows) return undefined;
  releaseRuns(); // none are left (every search releases its own), but a pool is never trusted blindly
  try {
    return onePage(sources, plate, limit, preparedFor, after, budget, sink);
  } finally {
    releaseRuns();
  }
}

function onePage(
  sources: readonly Source[], plate: string, limit: number, preparedFor: (minTs: number) => PreparedFilter,
  after: CandidateKey | undefined, budget: QueryBudget | undefined, sink?: HitSink,
): SearchResult | undefined {
  // 1. the plate's run in every source, as scanShard / scanLive find them; too many rows: not one page
  const runs = runPool;
  let rows = 0;
  for (const src of sources) {
    budget?.tick();
    const p = preparedFor(src.minTs);
    if (p.empty) continue;
    if (src.kind === 'live') {
      const test = liveRowTest(src.view, p);
      const code = test ? src.view.findPlate(plate) : -1;
      if (code < 0) continue;
      const live = src.view.rowsOfPlate(code);
      rows += live.length;
      takeRun(src, p, null, 0, live.length, live, test);
    } else {
      const shard = src.shard;
      if (shard.rows === 0 || shard.meta.maxTs < p.lo || shard.meta.minTs >= p.hi) continue;
      const masks = shardMasks(shard, p);
      if (masks.none) continue;
      const d = shard.findPlate(plate);
      if (d < 0) continue;
      plateRunInto(shard, d, runBounds);
      const start = runBounds[0]!, end = runBounds[1]!;
      rows += end - start;
      takeRun(src, p, masks, start, end, null, null);
    }
    if (rows > limit) return undefined;
  }
  platePages.count++;

  // 2. the rows that pass the filter, as lanes; those after the page boundary (`after`) are kept
  const { ts, seq, row, runOf } = lanesFor(rows);
  let total = 0, kept = 0;
  for (let r = 0; r < runCount; r++) {
    const run = runs[r]!;
    const ordinal = run.src!.ordinal;
    for (let j = run.start; j < run.end; j++) {
      budget?.tick();
      let i: number, t: number, s: number;
      if (run.live) {
        const view = (run.src as Source & { kind: 'live' }).view;
        i = run.live[j]!;
        t = view.ts(i);
        if (!run.liveTest!(i, t)) continue;
        s = view.seq(i);
      } else {
        const shard: LoadedShard = (run.src as Source & { kind: 'shard' }).shard;
        i = shard.postings(j);
        t = shard.tsAt(i);
        if (!rowPasses(shard, i, run.p!, t, run.masks!)) continue;
        s = shard.seqAt(i);
      }
      total++;
      if (after && !sortsAfter(t, ordinal, s, after)) continue;
      ts[kept] = t;
      seq[kept] = s;
      row[kept] = i;
      runOf[kept] = r;
      kept++;
    }
  }

  // 3. their order, then their hits
  const order = pageOrder(ts, seq, runOf, runs, kept);
  if (sink) {
    writePage(sink, runs, plate, order, ts, seq, row, runOf, kept, budget);
    return { hits: [], total, truncated: false, written: true };
  }
  const hits = new Array<Hit>(kept);
  const byRun = new Array<ShardHits | undefined>(runCount);
  for (let j = 0; j < kept; j++) {
    budget?.tick();
    const k = order[j]!;
    const run = runs[runOf[k]!]!;
    const src = run.src!;
    if (src.kind === 'live') {
      hits[j] = liveHit(src.view, src.tenant, src.ordinal, row[k]!, 0);
      continue;
    }
    const h = (byRun[runOf[k]!] ??= new ShardHits(src.shard, src.tenant, src.ordinal));
    hits[j] = h.hit(row[k]!, ts[k]!, seq[k]!, 0, plate);
  }
  return { hits, total, truncated: false };
}

/**
 * The page's hits written to `sink` in answer order, each from its shard's lanes and dictionaries
 * (src/query/kept-page.ts writeShardRow), with no object, id string or boxed coordinate a hit (a live row's hit is built).
 */
function writePage(
  sink: HitSink, runs: readonly PlateRun[], plate: string, order: Uint32Array, ts: Float64Array, seq: Float64Array,
  row: Uint32Array, runOf: Uint32Array, n: number, budget: QueryBudget | undefined,
): void {
  sink.begin(n);
  for (let j = 0; j < n; j++) {
    budget?.tick();
    const k = order[j]!;
    const src = runs[runOf[k]!]!.src!;
    const i = row[k]!;
    if (src.kind === 'live') {
      sink.hit(liveHit(src.view, src.tenant, src.ordinal, i, 0));
      continue;
    }
    writeShardRow(sink, src, i, ts[k]!, seq[k]!, plate, 0);
  }
}

/**
 * The lanes of the gathered rows, kept between searches and grown by doubling: a search is synchronous
 * here, and fresh typed arrays of a few KB each (off the V8 heap) per search cost more than filling them.
 */
let scratch = { ts: new Float64Array(0), seq: new Float64Array(0), row: new Uint32Array(0), runOf: new Uint32Array(0) };

function lanesFor(n: number): typeof scratch {
  if (scratch.ts.length < n) {
    const m = Math.max(64, 2 ** Math.ceil(Math.log2(n)));
    scratch = { ts: new Float64Array(m), seq: new Float64Array(m), row: new Uint32Array(m), runOf: new Uint32Array(m) };
  }
  return scratch;
}

/** Does the row (distance 0, ts `t`, id (ordinal, seq)) sort strictly after the page boundary `a`? */
function sortsAfter(t: number, ordinal: number, seq: number, a: CandidateKey): boolean {
  if (a.distance !== 0) return a.distance < 0;
  return t < a.ts || (t === a.ts && (ordinal > a.ordinal || (ordinal === a.ordinal && seq > a.seq)));
}

/** The gathered rows 0..n-1 in answer order (ts descending, then (tenant ordinal, seq) ascending; src/query/answer-order.ts). */
function pageOrder(ts: Float64Array, seq: Float64Array, runOf: Uint32Array, runs: readonly PlateRun[], n: number): Uint32Array {
  const ordinalOf = (k: number) => runs[runOf[k]!]!.src!.ordinal;
  return answerOrder(n, undefined, ts, (a, b) => ordinalOf(a) - ordinalOf(b) || seq[a]! - seq[b]!);
}
