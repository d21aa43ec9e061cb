/**
 * One unit of executor work: one plate match + filter over one segment (a shard resident in an arena),
 * run with the WebAssembly kernels. It is a plain function of (Kernels, task) so that the same code runs
 * on the calling thread (`threads: 0`) and in piscina workers (src/query/worker.ts): tasks carry only
 * numbers and small strings, and the rows stay in shared memory.
 *
 *   1. dictionary: matchDictionary over the segment's distinct plates → u8 distance per entry (255 = no);
 *      or, given `dist` (the pattern matched once per query against the dictionary the plate lane codes
 *      into: a tenant's, src/query/plate-distances.ts), nothing to match
 *   2. few matching entries → their rows from the plate → rows index (`plate_rows`), tested in JS with
 *      the reference's own predicates; otherwise → scanSegment over row chunks (zone maps prune blocks)
 *   3. a bounded heap keeps the best `limit` rows by (distance, ts desc, seq) while every match is counted
 *      (src/query/row-top.ts); those rows and the exact count go back to the merger
 */
import type { Kernels, SegmentDictionaries } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import { labelReader } from '../core/label-lanes.js';
import { cameraReader } from '../core/camera-lane.js';
import { coordReader, kBlockRows, kCoordScale, plateCodeReader, rowsReader, segmentSeqReader, tsReader, type SegmentLayout } from '../core/segment.js';
import type { PlateMatch, ReadFilter } from '../model/query.js';
import type { QueryBudget } from './budget.js';
import { attributeMask, prepareFilter } from './filter-plan.js';
import { RowTop, type RowBound, type RowBoundary } from './row-top.js';
import { plateRowsAnswers } from './plate-rows.js';
import { fillOutside, matchPlates, type PlateDistances } from './plate-distances.js';

export interface SegmentTask {
  layout: SegmentLayout;
  /** Arena offsets of the shard's seq lane and plate → rows lane (widths and base: the layout's seq* / postings* fields). */
  seq: number;
  postings: number;
  plate?: PlateMatch;
  /** The query's filter with the tenant's retention floor folded into `from`. */
  filter: ReadFilter;
  cameras: readonly string[];
  regions: readonly string[];
  /** The make/color dictionaries, when the filter has `makes`/`colors` (else absent: tasks stay small). */
  makes?: readonly string[];
  colors?: readonly string[];
  limit: number;
  /**
   * A page boundary (v1.1 `after`): only rows sorting strictly after it are kept. `ordinal` is this
   * shard's tenant, `afterOrdinal` the boundary's: rows compare as (distance, ts desc, ordinal, seq).
   */
  after?: RowBoundary;
  /**
   * The (distance, ts) of the worst row of a full top-k of the same query elsewhere (the merge's heap, or an
   * earlier task of the same worker batch): rows sorting strictly after it are only counted, and whole
   * blocks older than it by the kernel's count alone (src/query/row-top.ts).
   */
  bound?: RowBound;
  /** The shard's newest read: a worker batch runs its tasks newest first, so bounds tighten early. */
  newest?: number;
  /**
   * The rows matching `plate` and `filter`, when the caller knew them without a pass (src/query/plate-rows.ts):
   * a task its bound beats then only adds them to the count, without matching the dictionary.
   */
  plateRows?: number;
  /**
   * `plate` already matched against the layout's dictionary (`layout.dict`, `dictCount`: the dictionary its
   * plate lane codes into), every entry written: one array per query and tenant, shared by the tasks of
   * that tenant's shards once their lanes hold tenant plate ids (src/query/plate-distances.ts). In the
   * layout's arena; read only, never written by the task.
   */
  dist?: PlateDistances;
}

export interface SegmentTaskResult {
  total: number;
  /** Rows after the page boundary (= total without one). */
  beyond: number;
  /** Best `limit` rows by (distance, ts desc, seq), in no particular order (the merge orders them). */
  rows: Uint32Array;
  distances: Uint8Array;
  ts: Float64Array;
  seqs: Float64Array;
  /** Of `total`, the rows the kernel counted without emitting them (whole blocks past the bound). */
  countedOnly?: number;
  /** The tighter of the task's worst kept row (when it kept `limit`) and its bound: a bound for later tasks. */
  cut?: RowBound;
}

// rows per scanSegment call: bounds the scratch a task needs (5 bytes a row) and the JS batch size
const kChunkRows = 65536;

/**
 * Rows per scanSegment call under a polygon: every row in its bounding box costs a point-in-polygon test
 * of every edge in the kernel, and a time budget (budget.ts) can only be checked between calls, so a big
 * polygon gets small chunks (~10 ms of work each at ~1 ns an edge).
 */
function chunkRowsFor(task: SegmentTask): number {
  const edges = task.filter.polygon?.length ?? 0;
  return edges <= 64 ? kChunkRows : Math.max(1024, Math.min(kChunkRows, Math.floor((kChunkRows * 64) / edges)));
}

/**
 * Runs one task; throws RangeError when the worker's scratch cannot hold it (the caller falls back).
 * `budget` (the signal's on the calling thread, the shared one in a worker) is checked between kernel
 * calls and in the JS row loops.
 */
export function runSegmentTask(k: Kernels, task: SegmentTask, budget?: QueryBudget): SegmentTaskResult {
  const seg = task.layout;
  const top = new RowTop(task.limit, task.after, task.bound);
  const empty = (): SegmentTaskResult => ({ total: 0, beyond: 0, rows: new Uint32Array(0), distances: new Uint8Array(0), ts: new Float64Array(0), seqs: new Float64Array(0) });
  if (seg.rows === 0) return empty();
  const buf = k.memory.buffer;
  const tsAt = tsReader(buf, seg);
  const seqAt = segmentSeqReader(buf, seg, task.seq);
  const mark = k.scratch.mark();
  try {
    let dist = 0;
    // A shard whose newest read sorts after a distance-0 bound can only add to the count: given it
    // (plateRows), there is nothing to match
    const beaten = task.bound !== undefined && task.bound.distance === 0 && task.newest !== undefined && task.newest < task.bound.ts;
    if (task.plate && beaten && task.plateRows !== undefined) {
      plateRowsAnswers.count++;
      const n = task.plateRows;
      const none = new Uint32Array(0);
      return { total: n, beyond: n, rows: none, distances: new Uint8Array(0), ts: new Float64Array(0), seqs: new Float64Array(0), countedOnly: n, cut: task.bound! };
    }
    if (task.plate) {
      const own = task.dist === undefined;
      const m = task.dist ?? matchPlates(k, seg, task.plate, k.scratch.alloc(Math.max(16, seg.dictCount), 16));
      dist = m.ptr;
      if (m.matched === 0) return empty();
      // a beaten shard is counted block by block below (one kernel pass over the plate column), cheaper
      // than the rows walk
      if (m.matched * 8 <= seg.dictCount && !beaten) {
        viaPostings(k, task, dist, m.matched, top, tsAt, seqAt, m.lo, m.hi, budget);
        return finish(top);
      }
      // the row scan reads every entry: those outside the range are no match (a shared array has them so)
      if (own && (m.lo > 0 || m.hi < seg.dictCount)) fillOutside(k, m, seg.dictCount);
    }
    const dicts: SegmentDictionaries = { cameras: task.cameras, regions: task.regions };
    if (task.makes) dicts.makes = task.makes;
    if (task.colors) dicts.colors = task.colors;
    const filter = k.compileFilter(task.filter, dicts, seg);
    if (filter.empty) return empty();
    // one zone-map block per call (or less under a big polygon), so whole blocks can be counted only
    const cap = Math.min(chunkRowsFor(task), kBlockRows, seg.rows);
    const out = k.allocOutput(cap);
    const zones = seg.zones !== 0 && seg.blocks > 0 ? new Float64Array(k.memory.buffer, seg.zones, seg.blocks * 6) : null;
    // Newest rows first: rows are stored by hour, so the last block holds the newest, and the answer
    // wants ts descending. Fed newest first, the heap fills with rows that most later ones cannot beat,
    // which then cost one compare each; fed oldest first, nearly every row would enter the heap. Once the
    // heap (or the bound from a full heap elsewhere) is full with distance-0 rows, a block whose newest read
    // is older than the worst such row can add nothing but its count: the kernel counts it without emitting
    // a row (SIMD popcounts).
    for (let start = Math.floor((seg.rows - 1) / cap) * cap; start >= 0; start -= cap) {
      budget?.check();
      const end = Math.min(seg.rows, start + cap);
      const cut = zones ? top.cut() : undefined;
      if (cut && cut.distance === 0) {
        let newest = -Infinity;
        for (let b = Math.floor(start / kBlockRows), last = Math.floor((end - 1) / kBlockRows); b <= last; b++) {
          newest = b < seg.blocks ? Math.max(newest, zones![b * 6 + 1]!) : Infinity; // no zone: no skipping
        }
        if (newest < cut.ts) {
          top.countWorse(k.countSegment(seg, filter, dist === 0 ? null : dist, { start, end }));
          continue;
        }
      }
      const n = k.scanSegment(seg, filter, dist === 0 ? null : dist, out, { start, end });
      if (n === 0) continue;
      const rows = k.rows(out, n);
      const ds = dist === 0 ? null : k.distances(out, n);
      for (let j = n - 1; j >= 0; j--) {
        const i = rows[j]!;
        top.offer(ds ? ds[j]! : 0, tsAt(i), i, seqAt);
      }
    }
    return finish(top);
  } finally {
    k.scratch.release(mark);
  }
}

/** Few matching plates: walk their rows through the plate → rows index and test each row in JS. */
function viaPostings(
  k: Kernels, task: SegmentTask, dist: number, matched: number, top: RowTop, tsAt: (i: number) => number, seqAt: (i: number) => number,
  first: number, end: number, budget: QueryBudget | undefined,
): void {
  const seg = task.layout;
  const buf = k.memory.buffer;
  const ds = new Uint8Array(buf, dist, seg.dictCount);
  const plate = plateCodeReader(buf, seg.plate, seg.plateWidth, seg.rows, seg.plateBits);
  const post = rowsReader(buf, task.postings, seg.postingsWidth, seg.rows, seg.postingsBits);
  const lat = coordReader(buf, seg, 'lat');
  const lon = coordReader(buf, seg, 'lon');
  const camera = cameraReader(buf, seg);
  // region, make and color through the labels lane or their own lanes (absent: every row has none)
  const region = labelReader(buf, seg, 'region');
  const p = prepareFilter(task.filter, -Infinity);
  if (p.empty) return;
  const cameraOk = p.cameras ? task.cameras.map((c) => p.cameras!.has(c)) : null;
  const regionOk = p.regions ? task.regions.map((r, i) => i > 0 && p.regions!.has(r)) : null;
  const makeOk = p.makes ? attributeMask(task.makes ?? [], p.makes) : null;
  const colorOk = p.colors ? attributeMask(task.colors ?? [], p.colors) : null;
  if ((makeOk && !makeOk.includes(1)) || (colorOk && !colorOk.includes(1))) return;
  const make = labelReader(buf, seg, 'make');
  const color = labelReader(buf, seg, 'color');
  let left = matched;
  for (let d = first; d < end && left > 0; d++) {
    const distance = ds[d]!;
    if (distance === kNoMatch) continue;
    left--;
    let lo = 0, hi = seg.rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (plate(post(mid)) < d) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < seg.rows; j++) {
      const i = post(j);
      if (plate(i) !== d) break;
      budget?.tick();
      const t = tsAt(i);
      if (t < p.lo || t >= p.hi) continue;
      if (p.geo && !p.geo(lat(i) / kCoordScale, lon(i) / kCoordScale)) continue;
      if (cameraOk && !cameraOk[camera(i)]) continue;
      if (regionOk && !regionOk[region(i)]) continue;
      if (makeOk && !makeOk[make(i)]) continue;
      if (colorOk && !colorOk[color(i)]) continue;
      top.offer(distance, t, i, seqAt);
    }
  }
}

function finish(top: RowTop): SegmentTaskResult {
  const out: SegmentTaskResult = { total: top.total, beyond: top.beyond, ...top.kept() };
  const cut = top.cut();
  if (cut) out.cut = cut;
  if (top.countedOnly > 0) out.countedOnly = top.countedOnly;
  return out;
}
