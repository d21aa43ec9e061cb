/**
 * The executor's calling-thread path: runs a search over the planner's sources and merges per API.md's
 * ordering (distance ascending, ts descending, id ascending) with an exact `total` and a top-k cut.
 *
 * Per shard, the plate pattern is matched against the plate dictionary (distinct plates), not rows
 * (DESIGN.md decision 5). Then:
 *   - an exact plate: only the shards holding it are planned (src/query/plate-shards.ts); in
 *     each, one binary search of the dictionary and the plate's run of the plate → rows index
 *     (src/query/plate-page.ts plateRunOf: its run table, else src/query/postings-run.ts), read newest first; once the page is full, older shards are counted
 *     from their runs' lengths; when all its rows fit the page, they are gathered as lanes and sorted
 *     natively instead (src/query/plate-page.ts);
 *   - few matching entries: their rows come from the plate → rows index (`plate_rows`);
 *   - otherwise: a block scan, skipping blocks whose zone maps miss the time window or the place.
 * Live rows are scanned with a per-query memo of plate distances.
 * Ids compare as (tenant ordinal, seq): the id is their fixed-width hex concatenation (src/store/ids.ts).
 */
import type { HitSink } from '../model/hit-sink.js';
import type { Hit, PlateMatch, ReadFilter, SearchKey, SearchResult } from '../model/query.js';
import { kBlockRows, kCoordScale } from '../core/segment.js';
import { parseReadId, readIdOf } from '../store/ids.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { attributeMask, prepareFilter, zoneMayMatch, type PreparedFilter } from './filter-plan.js';
import { compilePlateMatch, isLookup, type PlateMatcher } from './plate-matcher.js';
import type { Source } from './sources.js';
import type { Kernels } from '../core/kernels.js';
import { runSegmentTask, type SegmentTask, type SegmentTaskResult } from './segment-task.js';
import type { RowBound } from './row-top.js';
import { QueryBudget } from './budget.js';
import { kLiveBlockRows } from '../store/live-columns.js';
import { liveRowTest } from './live-scan.js';
import { liveHit } from './live-hit.js';
import { runLiveTask } from './live-task.js';
import { wholeShardPlateRows } from './plate-rows.js';
import { ShardHits } from './shard-hits.js';
import { plateRank } from '../store/plate-ranks.js';
import { plateAsOnePage, plateRunOf } from './plate-page.js';
import { KeptPage } from './kept-page.js';
import { answerOrder } from './answer-order.js';
import type { PlateRuns } from '../store/plate-runs.js';
import type { CoveredDistances } from './covered-distances.js';
import type { PlateDistances } from './plate-distances.js';

/** A matching row before materialisation. */
export interface Candidate {
  distance: number;
  ts: number;
  ordinal: number;
  seq: number;
  source: Source;
  row: number;
}

/** A candidate's sort key: (distance, ts desc, id) with the id as (tenant ordinal, seq) (src/store/ids.ts). */
export interface CandidateKey {
  distance: number;
  ts: number;
  ordinal: number;
  seq: number;
}

export function compareCandidates(a: CandidateKey, b: CandidateKey): number {
  return a.distance - b.distance || b.ts - a.ts || a.ordinal - b.ordinal || a.seq - b.seq;
}

/** The key of a cursor (src/query/cursor.ts) in candidate terms. */
export function candidateKeyOf(key: SearchKey): CandidateKey {
  const id = parseReadId(key.id);
  if (!id) throw new RangeError(`not a read id: ${key.id}`);
  return { distance: key.distance, ts: key.ts, ordinal: id.ordinal, seq: id.seq };
}

/** The kept candidates' distance and ts lanes for their order (TopK.result), grown as needed. */
let orderLanes = { distance: new Float64Array(0), ts: new Float64Array(0) };

/** Below this many kept candidates the comparator's sort is kept (a guess, not measured: a few compares a row). */
const kKeyedOrderRows = 32;

/**
 * Keeps the best `limit` candidates of an unbounded stream in a bounded max-heap (root = the worst kept),
 * and counts them all: a candidate that cannot beat the root costs one compare. With `after` (a page
 * boundary), only candidates sorting strictly after it are kept; `beyond` counts those. The merge of the
 * shard tasks' own top-k (src/query/row-top.ts) and the JS scans feed it.
 */
export class TopK {
  total = 0;
  /** Candidates after the page boundary (all of them without one): more than `limit` means truncated. */
  beyond = 0;
  private readonly heap: Candidate[] = [];
  constructor(readonly limit: number, private readonly after?: CandidateKey) {}

  /** Counts matches that were never candidates (a task's rows beyond its own top-k). */
  countOnly(n: number, beyond = n): void {
    this.total += n;
    this.beyond += beyond;
  }

  push(c: Candidate): void {
    this.total++;
    if (this.after && compareCandidates(c, this.after) <= 0) return;
    this.beyond++;
    const h = this.heap;
    if (this.limit <= 0) return;
    if (h.length < this.limit) {
      // sift up: parents sort no earlier than their children
      let i = h.length;
      h.push(c);
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (compareCandidates(h[parent]!, c) >= 0) break;
        h[i] = h[parent]!;
        i = parent;
      }
      h[i] = c;
      return;
    }
    if (compareCandidates(c, h[0]!) >= 0) return;
    // replace the root and sift down
    const n = h.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && compareCandidates(h[child + 1]!, h[child]!) > 0) child++;
      if (compareCandidates(h[child]!, c) <= 0) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = c;
  }

  /**
   * Could a candidate with this distance and ts be kept? False only when the heap is full and it sorts
   * strictly after the worst kept one on (distance, ts) alone: the scans then count it (skipWorse) without
   * building the candidate or reading its seq. Such a candidate also sorts after any page boundary.
   */
  wants(distance: number, ts: number): boolean {
    if (this.heap.length < this.limit || this.limit <= 0) return true;
    const root = this.heap[0]!;
    return distance < root.distance || (distance === root.distance && ts >= root.ts);
  }

  /**
   * When the heap is full: the (distance, ts) of its worst candidate, a bound for shard tasks run after
   * this point (rows sorting strictly after it on (distance, ts) cannot enter; src/query/row-top.ts).
   */
  cut(): RowBound | undefined {
    if (this.limit <= 0 || this.heap.length < this.limit) return undefined;
    const root = this.heap[0]!;
    return { distance: root.distance, ts: root.ts };
  }

  /** Counts a candidate `wants` turned away. */
  skipWorse(): void {
    this.total++;
    this.beyond++;
  }

  /** The kept candidates in answer order (by one native sort of keys: src/query/answer-order.ts). */
  result(): Candidate[] {
    const h = this.heap, n = h.length;
    if (n < kKeyedOrderRows) return [...h].sort(compareCandidates);
    if (orderLanes.ts.length < n) orderLanes = { distance: new Float64Array(2 * n), ts: new Float64Array(2 * n) };
    const { distance, ts } = orderLanes;
    for (let k = 0; k < n; k++) {
      const c = h[k]!;
      distance[k] = c.distance;
      ts[k] = c.ts;
    }
    const order = answerOrder(n, distance, ts, (a, b) => h[a]!.ordinal - h[b]!.ordinal || h[a]!.seq - h[b]!.seq);
    const out = new Array<Candidate>(n);
    for (let j = 0; j < n; j++) out[j] = h[order[j]!]!;
    return out;
  }
}

/** Distances of a shard's dictionary entries under a matcher: Int8Array, -1 = no match. */
function dictionaryDistances(shard: LoadedShard, matcher: PlateMatcher, budget?: QueryBudget): { dist: Int8Array; matched: number[] } {
  const matched: number[] = [];
  const plates = shard.plates();
  const dist = new Int8Array(plates.length);
  for (let i = 0; i < plates.length; i++) {
    budget?.tick();
    const d = matcher(plates[i]!);
    dist[i] = d;
    if (d >= 0) matched.push(i);
  }
  return { dist, matched };
}

/** A shard's label tests (camera, region, make, color) as byte masks by dictionary id; null = no such filter. */
export interface ShardMasks {
  camera: Uint8Array | null;
  region: Uint8Array | null;
  make: Uint8Array | null;
  color: Uint8Array | null;
  /** Some listed label is absent from the shard: no row can pass. */
  none: boolean;
}

/** The masks of a filter without label tests (most searches): nothing to build per shard. */
const kNoMasks: ShardMasks = Object.freeze({ camera: null, region: null, make: null, color: null, none: false });

export function shardMasks(shard: LoadedShard, p: PreparedFilter): ShardMasks {
  if (!p.cameras && !p.regions && !p.makes && !p.colors) return kNoMasks;
  const camera = dictMask(shard.cameras, p.cameras, false);
  const region = dictMask(shard.regions, p.regions, true);
  const attrs = p.makes || p.colors ? shard.attributes() : undefined;
  const make = attrs ? attributeMask(attrs.makes, p.makes) : null;
  const color = attrs ? attributeMask(attrs.colors, p.colors) : null;
  const none = [camera, region, make, color].some((m) => m !== null && !m.includes(1));
  return { camera, region, make, color, none };
}

export function rowPasses(shard: LoadedShard, i: number, p: PreparedFilter, t: number, m: ShardMasks): boolean {
  if (t < p.lo || t >= p.hi) return false;
  if (p.geo && !p.geo(shard.latE7(i) / kCoordScale, shard.lonE7(i) / kCoordScale)) return false;
  if (m.camera && !m.camera[shard.camera(i)]) return false;
  if (m.region && !m.region[shard.regionAt(i)]) return false;
  if (m.make && !m.make[shard.makeAt(i)]) return false;
  if (m.color && !m.color[shard.colorAt(i)]) return false;
  return true;
}

function dictMask(values: readonly string[], wanted: Set<string> | null, skipZero: boolean): Uint8Array | null {
  if (!wanted) return null;
  const m = new Uint8Array(values.length);
  for (let i = skipZero ? 1 : 0; i < values.length; i++) if (wanted.has(values[i]!)) m[i] = 1;
  return m;
}

/**
 * Where the scans put matching rows: a function (export takes them all), or a TopK, which may turn a row
 * away before its candidate is built (TopK.wants).
 */
export type CandidateSink = ((c: Candidate) => void) | TopK;

function emitterOf(sink: CandidateSink): (distance: number, ts: number, ordinal: number, seqOf: () => number, source: Source, row: number) => void {
  if (!(sink instanceof TopK)) return (distance, ts, ordinal, seqOf, source, row) => sink({ distance, ts, ordinal, seq: seqOf(), source, row });
  return (distance, ts, ordinal, seqOf, source, row) => {
    if (sink.wants(distance, ts)) sink.push({ distance, ts, ordinal, seq: seqOf(), source, row });
    else sink.skipWorse();
  };
}

/** Runs one plate match (or none) with one filter over a shard, feeding `sink`. */
export function scanShard(src: Source & { kind: 'shard' }, match: PlateMatch | undefined, matcher: PlateMatcher | undefined, filter: ReadFilter, sink: CandidateSink, prepared?: PreparedFilter, budget?: QueryBudget): void {
  const shard = src.shard;
  const p = prepared ?? prepareFilter(filter, src.minTs);
  if (p.empty || shard.rows === 0) return;
  const m = shard.meta;
  if (m.maxTs < p.lo || m.minTs >= p.hi) return;
  const masks = shardMasks(shard, p);
  if (masks.none) return;
  if (match && isLookup(match)) {
    const d = shard.findPlate(match.pattern);
    if (d >= 0) scanPlateRows(src, d, p, masks, sink, budget);
    return;
  }
  const out = emitterOf(sink);
  const emit = (i: number, t: number, distance: number) => out(distance, t, src.ordinal, () => shard.seqAt(i), src, i);
  const passes = (i: number, t: number): boolean => {
    budget?.tick();
    return rowPasses(shard, i, p, t, masks);
  };

  if (match && matcher) {
    const { dist, matched } = dictionaryDistances(shard, matcher, budget);
    if (matched.length === 0) return;
    if (matched.length * 8 <= shard.layout.dictCount) {
      for (const d of matched) {
        const distance = dist[d]!;
        for (const i of shard.rowsOfPlate(d)) {
          const t = shard.tsAt(i);
          if (passes(i, t)) emit(i, t, distance);
        }
      }
      return;
    }
    scanBlocks(shard, p, (i, t) => {
      const distance = dist[shard.plate(i)]!;
      if (distance >= 0 && passes(i, t)) emit(i, t, distance);
    });
    return;
  }
  scanBlocks(shard, p, (i, t) => {
    if (passes(i, t)) emit(i, t, 0);
  });
}

/** Shards whose rows of an exact plate were only counted, from their postings run (tests: the shortcut ran). */
export const plateRunsCounted = { shards: 0 };

/** Every row of the shard passes the filter's tests but the plate's (no need to look at a row to count it). */
function wholeShardPasses(shard: LoadedShard, p: PreparedFilter, m: ShardMasks): boolean {
  return p.lo <= shard.meta.minTs && shard.meta.maxTs < p.hi && !p.geo && !m.camera && !m.region && !m.make && !m.color;
}

/**
 * The rows of one plate (dictionary entry `d`, an exact lookup: distance 0) in a shard, newest first (rows
 * are stored by hour), so the page fills with rows later ones cannot beat. A shard older than a full
 * page's worst row, lying wholly in the window with no other test, only adds its rows to the count: the
 * length of its postings run, no row read (a plate read 10,000 times over 30 days: the newest few days
 * fill a page of 1,000, the rest are counted this way).
 */
function scanPlateRows(src: Source & { kind: 'shard' }, d: number, p: PreparedFilter, masks: ShardMasks, sink: CandidateSink, budget?: QueryBudget): void {
  const shard = src.shard;
  const post = shard.postings;
  const [start, end] = plateRunOf(shard, d);
  if (!(sink instanceof TopK)) {
    for (let j = start; j < end; j++) {
      budget?.tick();
      const i = post(j);
      const t = shard.tsAt(i);
      if (rowPasses(shard, i, p, t, masks)) sink({ distance: 0, ts: t, ordinal: src.ordinal, seq: shard.seqAt(i), source: src, row: i });
    }
    return;
  }
  const cut = sink.cut();
  // rows sorting strictly after the worst kept one also sort after any page boundary (TopK.wants)
  if (cut && cut.distance === 0 && shard.meta.maxTs < cut.ts && wholeShardPasses(shard, p, masks)) {
    sink.countOnly(end - start);
    plateRunsCounted.shards++;
    return;
  }
  for (let j = end - 1; j >= start; j--) {
    budget?.tick();
    const i = post(j);
    const t = shard.tsAt(i);
    if (!rowPasses(shard, i, p, t, masks)) continue;
    if (sink.wants(0, t)) sink.push({ distance: 0, ts: t, ordinal: src.ordinal, seq: shard.seqAt(i), source: src, row: i });
    else sink.skipWorse();
  }
}

/** Plates of a tenant that matched a pattern (src/store/tenant-plates.ts), with their distances. */
export interface TenantMatches {
  /**
   * The matched plates' 16-byte slots, four words a plate, in dictionary order (copied out of the tenant
   * dictionary, which a build may replace while the search awaits the pool).
   */
  slots: Uint32Array;
  distances: Uint8Array;
  /** The plates' ids in the tenant dictionary the masks and ranks below describe. */
  ids: Uint32Array;
  /**
   * Per plate, the buckets of the shards that may hold it (two words a plate: TenantPlates.masks), and a
   * shard's bucket (-1: the dictionary does not cover the shard; its rows are read the per-shard way).
   * Without them every shard is searched for every plate.
   */
  shardMasks?: Uint32Array;
  shardBuckets?: ReadonlyMap<LoadedShard, number>;
  /** The whole dictionary's masks and their rank counts (src/store/plate-ranks.ts): a plate's guessed code in a shard. */
  allMasks?: Uint32Array;
  ranks?: Uint32Array;
}

/** Are `shard`'s rows read through the tenant-wide matches (its plates are in the dictionary they came from)? */
export function readByPlate(matches: TenantMatches, shard: LoadedShard): boolean {
  return !matches.shardBuckets || matches.shardBuckets.has(shard);
}

/**
 * A shard's rows for plates already matched against the tenant's whole dictionary: each plate whose mask
 * has the shard's bucket is found in the shard's dictionary from its rank in that bucket (its code when
 * the bucket is the shard's alone; src/query/shard-plate-code.ts), and its rows read from its run of the
 * plate → rows index, found in the shard's run table (src/store/plate-runs.ts).
 */
export function scanShardPlates(src: Source & { kind: 'shard' }, matches: TenantMatches, filter: ReadFilter, sink: CandidateSink, budget?: QueryBudget, prepared?: PreparedFilter): void {
  const shard = src.shard;
  const p = prepared ?? prepareFilter(filter, src.minTs);
  if (p.empty || shard.rows === 0) return;
  if (shard.meta.maxTs < p.lo || shard.meta.minTs >= p.hi) return;
  const masks = shardMasks(shard, p);
  if (masks.none) return;
  // only the plates whose shard mask has this shard's bucket can be in it (the others would cost a search
  // each, for nothing: most matched plates are read on a few days of a tenant's ~30)
  const bucket = matches.shardBuckets ? matches.shardBuckets.get(shard) ?? -1 : -1;
  if (matches.shardBuckets && bucket < 0) throw new Error('shard not covered by the tenant matches'); // executeSearch routes those elsewhere
  const held = matches.shardMasks;
  const word = bucket >>> 5, bit = 1 << (bucket & 31);
  const ranks = bucket >= 0 && matches.ranks && matches.allMasks ? matches.ranks : undefined;
  const post = shard.postings, plate = shard.plate, ordinal = src.ordinal;
  // each plate's run in one read of the shard's run table, not a search of the lane (src/store/plate-runs.ts);
  // the table is made on the first plate the shard holds
  let runs: PlateRuns | undefined;
  const top = sink instanceof TopK ? sink : undefined;
  for (let k = 0; k < matches.distances.length; k++) {
    if (bucket >= 0 && held && (held[k * 2 + word]! & bit) === 0) continue;
    budget?.tick();
    const guess = ranks ? plateRank(ranks, matches.allMasks!, matches.allMasks!.length >>> 1, matches.ids[k]!, bucket) : -1;
    const d = shard.plateCodeOf(matches.slots, k, guess);
    if (d < 0) continue;
    const distance = matches.distances[k]!;
    const [start, end] = (runs ??= shard.plateRuns()).run(d, post, plate);
    for (let j = start; j < end; j++) {
      const i = post(j);
      const t = shard.tsAt(i);
      if (!rowPasses(shard, i, p, t, masks)) continue;
      if (!top) (sink as (c: Candidate) => void)({ distance, ts: t, ordinal, seq: shard.seqAt(i), source: src, row: i });
      else if (top.wants(distance, t)) top.push({ distance, ts: t, ordinal, seq: shard.seqAt(i), source: src, row: i });
      else top.skipWorse();
    }
  }
}

function scanBlocks(shard: LoadedShard, p: PreparedFilter, visit: (i: number, t: number) => void): void {
  const z = shard.zones;
  const blocks = z.length / 6;
  for (let b = 0; b < blocks; b++) {
    const o = b * 6;
    if (!zoneMayMatch(p, z[o]!, z[o + 1]!, z[o + 2]!, z[o + 3]!, z[o + 4]!, z[o + 5]!)) continue;
    for (let i = b * kBlockRows, end = Math.min(shard.rows, i + kBlockRows); i < end; i++) {
      const t = shard.tsAt(i);
      if (t < p.lo || t >= p.hi) continue;
      visit(i, t);
    }
  }
}

/**
 * Live rows (src/store/live-columns.ts): the same tests on the live columns in JS, newest block first,
 * blocks pruned by their zone maps; plate distances memoised per plate code. An exact plate walks its
 * same-plate chain instead of scanning.
 */
export function scanLive(src: Source & { kind: 'live' }, matcher: PlateMatcher | undefined, filter: ReadFilter, sink: CandidateSink, prepared?: PreparedFilter, match?: PlateMatch, budget?: QueryBudget): void {
  const p = prepared ?? prepareFilter(filter, src.minTs);
  if (p.empty) return;
  const view = src.view;
  const test = liveRowTest(view, p);
  if (!test) return;
  const out = emitterOf(sink);
  const seqOf = (g: number) => () => view.seq(g);
  if (match && isLookup(match)) {
    const code = view.findPlate(match.pattern);
    if (code < 0) return;
    for (const g of view.rowsOfPlate(code)) {
      budget?.tick();
      const t = view.ts(g);
      if (test(g, t)) out(0, t, src.ordinal, seqOf(g), src, g);
    }
    return;
  }
  // distance per plate code: -2 not yet computed, -1 no match
  const memo = matcher ? new Int8Array(view.plateCount).fill(-2) : null;
  const plates = view.cols.plates;
  const blocks = view.cols.blocks;
  for (let b = view.blockCount() - 1; b >= 0; b--) {
    const block = blocks[b]!;
    const z = block.zone;
    if (!zoneMayMatch(p, z[0]!, z[1]!, z[2]!, z[3]!, z[4]!, z[5]!)) continue;
    const base = b * kLiveBlockRows;
    for (let r = view.rowsInBlock(b) - 1; r >= 0; r--) {
      budget?.tick();
      const t = block.tsAt(r);
      if (t < p.lo || t >= p.hi) continue;
      let distance = 0;
      if (memo) {
        const code = block.plate[r]!;
        let d = memo[code]!;
        if (d === -2) memo[code] = d = matcher!(plates[code]!);
        if (d < 0) continue;
        distance = d;
      }
      const g = base + r;
      if (test(g, t)) out(distance, t, src.ordinal, seqOf(g), src, g);
    }
  }
}

/**
 * Builds the API hit of a candidate, its keys in the order of an append's stored reads
 * (columnsRowToStoredRead), so hits from shards and live rows serialise identically. `plateOf` may serve
 * plate strings from a cache (a hot list's hits repeat plates: decoding each from the dictionary slot was a
 * sixth of a big list's time).
 */
export function materialise(c: Candidate, plateOf?: (shard: LoadedShard, d: number) => string): Hit {
  const src = c.source;
  if (src.kind === 'live') return liveHit(src.view, src.tenant, src.ordinal, c.row, c.distance);
  const s = src.shard;
  const i = c.row;
  const d = s.plate(i);
  const hit = {
    id: readIdOf(src.ordinal, c.seq),
    tenant: src.tenant,
    plate: plateOf ? plateOf(s, d) : s.plateAt(d),
    ts: c.ts,
    lat: s.latE7(i) / kCoordScale,
    lon: s.lonE7(i) / kCoordScale,
    camera: s.cameras[s.camera(i)]!,
  } as Hit;
  const region = s.regionAt(i);
  if (region !== 0) hit.region = s.regions[region]!;
  const extras = s.extras(i);
  if (extras.confidence !== undefined) hit.confidence = extras.confidence;
  if (extras.make !== undefined) hit.make = extras.make;
  if (extras.color !== undefined) hit.color = extras.color;
  if (extras.readId !== undefined) hit.readId = extras.readId;
  hit.distance = c.distance;
  return hit;
}

/** `filter` with a retention floor folded into `from`. */
function withFloor(filter: ReadFilter, minTs: number): ReadFilter {
  const from = Math.max(filter.from ?? -Infinity, minTs);
  return Number.isFinite(from) ? { ...filter, from } : filter;
}

/**
 * Whether live rows are worth the kernels: not for an exact plate (its chain is walked), nor for a
 * generation whose regions straddle arenas (the kernels see one arena).
 */
export function liveWantsKernel(src: Source & { kind: 'live' }, match: PlateMatch | undefined): boolean {
  return src.view.length > 0 && src.view.cols.sameArena && !(match && isLookup(match));
}

/** The kernel task of one shard source (the retention floor folded into the filter). */
export function shardTask(src: Source & { kind: 'shard' }, match: PlateMatch | undefined, filter: ReadFilter, limit: number, after?: CandidateKey, bound?: RowBound, dist?: PlateDistances): SegmentTask {
  const s = src.shard;
  const f = withFloor(filter, src.minTs);
  const task: SegmentTask = { layout: s.layout, seq: s.seqPtr, postings: s.postingsPtr, filter: f, cameras: s.cameras, regions: s.regions, limit, newest: s.meta.maxTs };
  if (match) {
    task.plate = match;
    const rows = wholeShardPlateRows(s, match, f);
    if (rows !== undefined) task.plateRows = rows;
    if (dist) task.dist = dist;
  }
  if (bound) task.bound = bound;
  if (after) task.after = { ...after, ordinal: src.ordinal, afterOrdinal: after.ordinal };
  // the make/color dictionaries travel only when the filter needs them (tasks are posted to workers)
  if (filter.makes || filter.colors) {
    const a = s.attributes();
    task.makes = a.makes;
    task.colors = a.colors;
  }
  return task;
}

/** What a search's shard tasks did, summed (engine stats: how much of `total` cost no per-row work). */
export interface SearchStats {
  /** Matching rows the kernel counted without emitting them. */
  rowsCountedOnly: number;
}

/** Feeds a task's result (a shard's, or the live rows') into the merge. */
export function mergeTaskResult(top: TopK, src: Source, r: SegmentTaskResult, stats?: SearchStats): void {
  if (stats && r.countedOnly) stats.rowsCountedOnly += r.countedOnly;
  for (let j = 0; j < r.rows.length; j++) {
    const distance = r.distances[j]!, ts = r.ts[j]!;
    if (top.wants(distance, ts)) top.push({ distance, ts, ordinal: src.ordinal, seq: r.seqs[j]!, source: src, row: r.rows[j]! });
    else top.skipWorse();
  }
  top.countOnly(r.total - r.rows.length, r.beyond - r.rows.length);
}

/** Whether a shard source is worth a kernel task (an exact plate is two binary searches on the caller). */
export function wantsKernel(src: Source, match: PlateMatch | undefined): src is Source & { kind: 'shard' } {
  return src.kind === 'shard' && src.shard.rows > 0 && !(match && isLookup(match));
}

/**
 * Sources in the order the merge wants them: live rows (the newest reads), then shards by their newest
 * read, descending. The answer is ts descending within a distance, so the top-k fills with rows that most
 * later ones cannot beat (they are then counted with one compare, TopK.wants); the answer is the same in
 * any order.
 */
function newestFirst(sources: readonly Source[]): Source[] {
  const newest = (s: Source) => (s.kind === 'live' ? Infinity : s.shard.meta.maxTs);
  return [...sources].sort((a, b) => newest(b) - newest(a));
}

/**
 * One search over `sources` on the calling thread. `kernelsFor` gives the kernels of an arena (or
 * undefined: the JS scan runs instead, e.g. when an arena has no room for scratch). Shards already
 * scanned by the pool are in `done`; the shards of a tenant in `tenantMatches` are read by plate. `pageSink`
 * (src/model/hit-sink.ts): where the one-page exact plate writes its hits during the call; any other page
 * then comes back `pending`, its kept rows written to the caller's sink when it asks (src/query/kept-page.ts).
 */
export function executeSearch(
  sources: readonly Source[], match: PlateMatch | undefined, filter: ReadFilter, limit: number, signal?: AbortSignal,
  kernelsFor?: (arena: number) => Kernels | undefined,
  done?: ReadonlyMap<Source, SegmentTaskResult>,
  tenantMatches?: ReadonlyMap<string, TenantMatches>,
  after?: CandidateKey,
  stats?: SearchStats,
  covered?: CoveredDistances,
  pageSink?: HitSink,
): SearchResult {
  // an exact lookup is a binary search in each shard (scanShard, scanLive): no matcher to compile
  const matcher = match && !isLookup(match) ? compilePlateMatch(match) : undefined;
  const top = new TopK(limit, after);
  const budget = QueryBudget.of(signal);
  const sink = top;
  // the filter prepared once per retention floor (a tenant's shards share it), not once per shard
  const prepared = new Map<number, PreparedFilter>();
  const preparedFor = (minTs: number): PreparedFilter => {
    let p = prepared.get(minTs);
    if (!p) prepared.set(minTs, (p = prepareFilter(filter, minTs)));
    return p;
  };
  // an exact plate with no more rows than the page: gathered and sorted as lanes (src/query/plate-page.ts)
  if (match && isLookup(match) && !done) {
    budget?.check();
    const page = plateAsOnePage(sources, match.pattern, limit, preparedFor, after, budget, pageSink);
    if (page) {
      budget?.check();
      return page;
    }
  }
  for (const src of newestFirst(sources)) {
    budget?.check();
    const pre = done?.get(src);
    if (pre && src.kind === 'shard') {
      mergeTaskResult(top, src, pre, stats);
      continue;
    }
    const matched = src.kind === 'shard' ? tenantMatches?.get(src.tenant) : undefined;
    // a shard the tenant's dictionary does not cover yet (sealed while its rebuild runs) goes the per-shard way
    if (matched && src.kind === 'shard' && readByPlate(matched, src.shard)) {
      scanShardPlates(src, matched, filter, sink, budget, preparedFor(src.minTs));
      continue;
    }
    if (src.kind === 'shard') {
      const k = kernelsFor && wantsKernel(src, match) ? kernelsFor(src.shard.layout.arena) : undefined;
      if (k) {
        const mark = k.scratch.mark();
        try {
          // a shard reading through its tenant's dictionary has no slots to match: its codes' distances
          // are gathered from the tenant's, matched once (src/query/covered-distances.ts)
          const dist = match && src.shard.readsThrough ? covered?.inScratch(src.shard, k) : undefined;
          if (!match || !src.shard.slotsDropped || dist) {
            // the merge's heap, once full, bounds the task: shards come newest first, so most of an older
            // shard's rows (whole blocks, by the zone maps) are only counted, in the kernel
            mergeTaskResult(top, src, runSegmentTask(k, shardTask(src, match, filter, limit, after, top.cut(), dist), budget), stats);
            continue;
          }
        } catch (err) {
          if (!(err instanceof RangeError)) throw err; // scratch too small: the JS scan below
        } finally {
          k.scratch.release(mark);
        }
      }
      scanShard(src, match, matcher, filter, sink, preparedFor(src.minTs), budget);
      continue;
    }
    const k = kernelsFor && liveWantsKernel(src, match) ? kernelsFor(src.view.cols.arena) : undefined;
    if (k) {
      try {
        mergeTaskResult(top, src, runLiveTask(k, src.view, match, withFloor(filter, src.minTs), limit, after && { ...after, ordinal: src.ordinal, afterOrdinal: after.ordinal }, budget));
        continue;
      } catch (err) {
        if (!(err instanceof RangeError)) throw err; // scratch too small: the JS scan below
      }
    }
    scanLive(src, matcher, filter, sink, preparedFor(src.minTs), match, budget);
  }
  budget?.check();
  const kept = top.result();
  const plate = match && isLookup(match) ? match.pattern : undefined;
  const truncated = top.beyond > kept.length;
  // with a sink, the page goes back as its kept rows, written when the caller asks (src/query/kept-page.ts)
  if (pageSink) return { hits: [], total: top.total, truncated, pending: new KeptPage(kept, plate) };
  return { hits: hitsOf(kept, plate, budget), total: top.total, truncated };
}

/**
 * The hits of the kept candidates, in their order: a shard's through ShardHits (its lanes looked up once,
 * each hit one object of its final shape; src/query/shard-hits.ts), a live row's through `materialise`.
 * `plate`: the plate every hit has (an exact lookup's), so none is decoded from a dictionary slot.
 */
function hitsOf(kept: readonly Candidate[], plate: string | undefined, budget?: QueryBudget): Hit[] {
  const byShard = new Map<Source, ShardHits>();
  const hits = new Array<Hit>(kept.length);
  for (let j = 0; j < kept.length; j++) {
    budget?.tick(); // up to 10,000 hits to build
    const c = kept[j]!;
    const src = c.source;
    if (src.kind === 'live') {
      hits[j] = materialise(c);
      continue;
    }
    let shard = byShard.get(src);
    if (!shard) byShard.set(src, (shard = new ShardHits(src.shard, src.tenant, src.ordinal)));
    hits[j] = shard.hit(c.row, c.ts, c.seq, c.distance, plate ?? shard.plateOf(c.row));
  }
  return hits;
}
