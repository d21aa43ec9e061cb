/**
 * A search over a tenant's live rows (src/store/live-columns.ts) with the WebAssembly kernels, the live
 * counterpart of src/query/segment-task.ts: the same two steps, over a generation's blocks.
 *
 *   1. dictionary: matchDictionary over the generation's plate slots, chunk by chunk, into one u8 distance
 *      per plate code (255 = no match). Live codes are in first-seen order; a pattern with a fixed prefix
 *      is matched only against the plates in the prefix's range of the generation's sorted plate order
 *      (src/store/live-plate-order.ts) plus the unsorted tail of codes the order does not cover yet.
 *   2. few matching plates (a 64th of the dictionary) → their rows through the same-plate chains (newest first, bounded to the blocks
 *      the time window reaches: src/store/live-plate-chain.ts), tested in JS with the reference's
 *      predicates; otherwise → scanSegment over each block (a segment of its own, built by liveSegment),
 *      newest block first, zone maps pruning as for shards.
 *   3. the same bounded top-k (src/query/row-top.ts), rows as generation row indexes.
 *
 * Runs on the calling thread (the live rows' owner): a view is a prefix of rows that never change, so it
 * needs no copy; the filter's label masks are compiled once for the generation's dictionaries.
 */
import type { Kernels, SegmentDictionaries } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import { kLiveBlockRows, kSlotChunk, liveDictSegment, liveSegment, type LiveView } from '../store/live-columns.js';
import type { PlateMatch, ReadFilter } from '../model/query.js';
import type { QueryBudget } from './budget.js';
import { prepareFilter, zoneMayMatch, type PreparedFilter } from './filter-plan.js';
import { liveRowTest } from './live-scan.js';
import { RowTop, type RowBoundary } from './row-top.js';
import { kPlateSlotBytes } from '../core/segment.js';
import { int32List } from '../core/typed-list.js';
import { lowerBound } from '../core/sorted-search.js';
import { livePlateOrder, prefixSpan } from '../store/live-plate-order.js';
import { liveTimeRange, plateRowBelow, plateRowsInView, prevPlateRow } from '../store/live-plate-chain.js';
import { compilePlateMatch, prefixThenStars } from './plate-matcher.js';
import { liveChunkGrams } from '../store/live-plate-grams.js';
import type { PlateGrams } from '../store/plate-grams.js';
import { planGrams } from './gram-plan.js';
import { gramCandidates, verifyCandidates } from './gram-match.js';

/**
 * How live plate patterns were matched since the process started (for tests and benchmarks); `counted`:
 * searches whose older blocks were counted from the per-plate counts (restCounter).
 */
export const liveMatchCounts = { prefix: 0, grams: 0, pass: 0, counted: 0 };

const kShift = Math.log2(kLiveBlockRows);
const kMask = kLiveBlockRows - 1;
import type { SegmentTaskResult } from './segment-task.js';

/**
 * Runs `match` (or none) and `filter` (retention floor folded in) over `view`, keeping the best `limit`
 * rows; throws RangeError when the kernels' scratch cannot hold it (the caller falls back to the JS scan).
 */
export function runLiveTask(
  k: Kernels, view: LiveView, match: PlateMatch | undefined, filter: ReadFilter, limit: number, after: RowBoundary | undefined, budget?: QueryBudget,
): SegmentTaskResult {
  const top = new RowTop(limit, after);
  const empty = (): SegmentTaskResult => ({ total: 0, beyond: 0, rows: new Uint32Array(0), distances: new Uint8Array(0), ts: new Float64Array(0), seqs: new Float64Array(0) });
  if (view.length === 0) return empty();
  const cols = view.cols;
  const seqOf = (g: number) => view.seq(g);
  const mark = k.scratch.mark();
  try {
    let dist = 0;
    // the matched codes when the prefix or the n-grams narrowed the match (else every code's distance is in `dist`)
    let codes: Int32Array | undefined;
    if (match) {
      const count = view.plateCount;
      dist = k.scratch.alloc(Math.max(16, count), 16);
      const compiled = k.compilePlateMatch(match);
      codes = matchByPrefix(k, view, match, compiled, dist, budget) ?? matchByGrams(k, view, match, compiled, dist, budget);
      let matched = codes ? codes.length : 0;
      if (!codes) {
        liveMatchCounts.pass++;
        for (let c = 0; c * kSlotChunk < count; c++) {
          budget?.check();
          matched += k.matchDictionary(liveDictSegment(cols, c, count), compiled, dist + c * kSlotChunk);
        }
      }
      if (matched === 0) return empty();
      // few plates: walk their chains (the JS row test is the reference's own). A chain step is a scattered
      // read, some 20–50 times a kernel row, so at about rows / plates rows a plate the walk pays only for a
      // 64th of the dictionary; past that the block scan below, which also bounds a limit by counting
      // whole older blocks, is cheaper (a shard's postings are contiguous runs: it walks up to an 8th)
      if (matched * 64 <= count) {
        const p = prepareFilter(filter, -Infinity);
        if (p.empty) return empty();
        const test = liveRowTest(view, p);
        if (!test) return empty();
        const [gLo, gHi] = liveTimeRange(view, p.lo, p.hi);
        if (gLo >= gHi) return empty();
        const ds = new Uint8Array(k.memory.buffer, dist, count);
        const walk = (code: number) => {
          const distance = ds[code]!;
          for (let g = plateRowBelow(view, code, gHi); g >= gLo; g = prevPlateRow(view, g)) {
            budget?.tick();
            const t = cols.blocks[g >>> kShift]!.tsAt(g & kMask);
            if (test(g, t)) top.offer(distance, t, g, seqOf);
          }
        };
        if (codes) {
          for (const code of codes) walk(code);
        } else {
          for (let code = 0, left = matched; code < count && left > 0; code++) {
            if (ds[code] === kNoMatch) continue;
            left--;
            walk(code);
          }
        }
        return finish(top);
      }
    }
    const dicts: SegmentDictionaries = { cameras: cols.cameras.values, regions: cols.regions.values, makes: cols.makes.values, colors: cols.colors.values };
    const compiled = k.compileFilter(filter, dicts);
    if (compiled.empty) return empty();
    const out = k.allocOutput(kLiveBlockRows);
    // blocks whose zone map the window or place misses, skipped before the kernel call: a call costs a
    // segment written into wasm memory and the filter's set-up, some 25 µs, which over a month of blocks was
    // most of a 2-hour radius search (the kernel's own zone test comes after that cost)
    const meets = prepareFilter(filter, -Infinity);
    const rest = dist === 0 ? undefined : restCounter(view, meets, codes, () => new Uint8Array(k.memory.buffer, dist, view.plateCount));
    // rows per kernel call: a block, or fewer under a big polygon (~1 ns an edge a row; see segment-task.ts)
    const edges = filter.polygon?.length ?? 0;
    const step = edges <= 64 ? kLiveBlockRows : Math.max(256, Math.min(kLiveBlockRows, Math.floor((65536 * 64) / edges)));
    for (let b = view.blockCount() - 1; b >= 0; b--) {
      budget?.check();
      const rowsIn = view.rowsInBlock(b);
      const block = cols.blocks[b]!;
      const z = block.zone;
      if (!zoneMayMatch(meets, z[0]!, z[1]!, z[2]!, z[3]!, z[4]!, z[5]!)) continue;
      const seg = liveSegment(cols, b, rowsIn);
      if (top.full() && top.worstDistance() === 0 && block.zone[1]! < top.worstTs()) {
        // this block and every older one only counted, and every row passes the filter: their count is the
        // view's matched rows less those met in the newer blocks (the per-plate counts), not a kernel call each
        if (rest && rest.newestUpTo[b]! < top.worstTs()) {
          top.countWorse(rest.matchedRows() - top.total);
          liveMatchCounts.counted++;
          break;
        }
        top.countWorse(k.countSegment(seg, compiled, dist === 0 ? null : dist));
        continue;
      }
      const base = b * kLiveBlockRows;
      // newest rows first, in pieces small enough that the budget is checked often under a big polygon
      for (let start = Math.floor((rowsIn - 1) / step) * step; start >= 0; start -= step) {
        if (start + step < rowsIn) budget?.check();
        const n = k.scanSegment(seg, compiled, dist === 0 ? null : dist, out, { start, end: Math.min(rowsIn, start + step) });
        if (n === 0) continue;
        const rows = k.rows(out, n);
        const ds = dist === 0 ? null : k.distances(out, n);
        for (let j = n - 1; j >= 0; j--) {
          const r = rows[j]!;
          top.offer(ds ? ds[j]! : 0, block.tsAt(r), base + r, seqOf);
        }
      }
    }
    return finish(top);
  } finally {
    k.scratch.release(mark);
  }
}

/**
 * When the filter passes every row of `view` (no place or label test, a window holding every block's zone),
 * the count of a pattern's rows in the blocks not yet scanned: per block, the newest time of it and every
 * older block (they can be counted together once it is older than the worst kept row), and the view's rows
 * of the matched plates from the generation's per-plate counts. Undefined otherwise: the kernel counts.
 */
function restCounter(view: LiveView, p: PreparedFilter, codes: Int32Array | undefined, distances: () => Uint8Array): { newestUpTo: Float64Array; matchedRows: () => number } | undefined {
  if (p.geo || p.cameras || p.regions || p.makes || p.colors) return undefined;
  const blocks = view.cols.blocks;
  const n = view.blockCount();
  const newestUpTo = new Float64Array(n);
  for (let b = 0, newest = -Infinity; b < n; b++) {
    const z = blocks[b]!.zone;
    if (z[0]! < p.lo || z[1]! >= p.hi) return undefined; // a row of this block may fall outside the window
    newestUpTo[b] = newest = Math.max(newest, z[1]!);
  }
  const matchedRows = () => {
    let rows = 0;
    if (codes) for (const c of codes) rows += plateRowsInView(view, c);
    else {
      const ds = distances();
      for (let c = 0; c < ds.length; c++) if (ds[c] !== kNoMatch) rows += plateRowsInView(view, c);
    }
    return rows;
  };
  return { newestUpTo, matchedRows };
}

/** The characters of `match` before its first `?` or `*`, when they narrow it ('' for fuzzy or OCR patterns). */
function fixedPrefix(match: PlateMatch): string {
  if (match.ocr || match.mode === 'fuzzy') return '';
  const m = /^[^?*]*/.exec(match.pattern)!;
  return m[0];
}

/**
 * Matches `match` against the plates of `view` through the prefix's range of the sorted plate order (the JS
 * matcher, the reference's own, on each) and the kernels over the tail the order does not cover, writing
 * every code's distance (kNoMatch elsewhere) at `dist`: the matched codes. Undefined when the pattern has
 * no fixed prefix or the range is not much smaller than the dictionary (one kernel pass is then as cheap).
 */
function matchByPrefix(k: Kernels, view: LiveView, match: PlateMatch, compiled: ReturnType<Kernels['compilePlateMatch']>, dist: number, budget?: QueryBudget): Int32Array | undefined {
  const prefix = fixedPrefix(match);
  if (prefix.length === 0) return undefined;
  const cols = view.cols;
  const count = view.plateCount;
  const order = livePlateOrder(cols);
  const [lo, hi] = prefixSpan(cols, order, prefix);
  const tailFrom = Math.min(order.covered, count);
  if ((hi - lo) + (count - tailFrom) > count / 4) return undefined;
  liveMatchCounts.prefix++;
  new Uint8Array(k.memory.buffer, dist, count).fill(kNoMatch);
  const out = int32List();
  const matcher = compilePlateMatch(match);
  // `9*`: every plate of the span matches, at distance 0 (the matcher's regex on each of thousands of plates
  // was most of such a search)
  const whole = prefixThenStars(match) !== undefined;
  const ds = new Uint8Array(k.memory.buffer, dist, count);
  for (let i = lo; i < hi; i++) {
    const code = order.sorted[i]!;
    if (code >= count) continue; // a plate first seen after this view
    const d = whole ? 0 : matcher(cols.plates[code]!);
    if (d < 0) continue;
    ds[code] = d;
    out.push(code);
  }
  for (let from = tailFrom; from < count; ) {
    budget?.check();
    const c = Math.floor(from / kSlotChunk);
    const end = Math.min(count, (c + 1) * kSlotChunk);
    const seg = liveDictSegment(cols, c, count);
    k.matchDictionary({ ...seg, dict: seg.dict + (from - c * kSlotChunk) * kPlateSlotBytes, dictCount: end - from }, compiled, dist + from);
    const after = new Uint8Array(k.memory.buffer, dist, count);
    for (let code = from; code < end; code++) if (after[code] !== kNoMatch) out.push(code);
    from = end;
  }
  return out.done();
}

/**
 * Matches `match` through the generation's n-gram indexes (src/store/live-plate-grams.ts), chunk by chunk:
 * the candidates of a chunk's index verified by the dictionary kernel (gram-match.ts, as the tenant
 * dictionary's are), the chunk's plates past its index by a kernel pass, and a chunk whose index names more
 * than an eighth of its plates (tenant-match.ts's share) by a kernel pass too. The pattern is planned once,
 * on the first chunk's index; when that chunk already names too many, the whole dictionary goes through
 * the kernel pass (a fuzzy k=2 OCR pattern planned and verified chunk by chunk cost twice the pass). Writes
 * every code's distance (kNoMatch elsewhere) at `dist` and returns the matched codes; undefined when the
 * index cannot narrow the pattern.
 */
function matchByGrams(k: Kernels, view: LiveView, match: PlateMatch, compiled: ReturnType<Kernels['compilePlateMatch']>, dist: number, budget?: QueryBudget): Int32Array | undefined {
  const cols = view.cols;
  const count = view.plateCount;
  // one plan for every chunk (its gram groups hold for any index; the first chunk, the fullest, sizes it)
  const chunks = Math.ceil(count / kSlotChunk);
  const first = liveChunkGrams(cols, 0, Math.min(kSlotChunk, count));
  const plan = planGrams(match, first);
  if (!plan) return undefined;
  const candidatesOf = (grams: PlateGrams, covered: number) => gramCandidates(grams, plan, Math.floor(covered / 8));
  // the first chunk naming too many candidates: so do the rest, and one kernel pass is cheaper
  const firstCandidates = candidatesOf(first, Math.min(first.plates, kSlotChunk, count));
  if (!firstCandidates) return undefined;
  liveMatchCounts.grams++;
  new Uint8Array(k.memory.buffer, dist, count).fill(kNoMatch);
  const out = int32List();
  // codes [from, end) of chunk c through the kernel pass
  const pass = (c: number, from: number, end: number) => {
    const seg = liveDictSegment(cols, c, count);
    const at = c * kSlotChunk;
    k.matchDictionary({ ...seg, dict: seg.dict + (from - at) * kPlateSlotBytes, dictCount: end - from }, compiled, dist + from);
    const ds = new Uint8Array(k.memory.buffer, dist, count);
    for (let code = from; code < end; code++) if (ds[code] !== kNoMatch) out.push(code);
  };
  for (let c = 0; c < chunks; c++) {
    budget?.check();
    const at = c * kSlotChunk;
    const inChunk = Math.min(kSlotChunk, count - at);
    const grams = c === 0 ? first : liveChunkGrams(cols, c, inChunk);
    const covered = Math.min(grams.plates, inChunk);
    let candidates = c === 0 ? firstCandidates : candidatesOf(grams, covered);
    if (!candidates) {
      pass(c, at, at + inChunk);
      continue;
    }
    // ids past the view's plates (an index built by a later view) are not this view's
    if (grams.plates > inChunk) candidates = candidates.subarray(0, lowerBound(candidates, inChunk));
    verifyCandidates(k, cols.slotChunks[c]!.ptr, candidates, match, Infinity, (id, d) => {
      new Uint8Array(k.memory.buffer, dist, count)[at + id] = d;
      out.push(at + id);
    });
    if (covered < inChunk) pass(c, at + covered, at + inChunk);
  }
  return out.done();
}

function finish(top: RowTop): SegmentTaskResult {
  return { total: top.total, beyond: top.beyond, ...top.kept() };
}
