/**
 * The probe side of the hot-list join over live rows (issue 11): the live counterpart of a shard task
 * (src/query/hotlist-task.ts), so the live part of a hot list runs on the pool's workers like the shards'
 * instead of on the calling thread while they work. A plain function of (memory, task): the live rows are
 * columnar in arena memory (src/store/live-columns.ts), so a worker holding the arena reads them in place.
 *
 * A task is a slice of the plates of one live view with a row in the query's window (windowPlates in
 * src/store/live-plate-chain.ts: codes, and each one's newest row below the window's end), made on the
 * calling thread when the query is planned, so the task never reads `heads` (JS memory, moved by appends):
 *
 *   1. probe   the slice's plate slots, gathered from the generation's slot chunks into one buffer, against
 *              the query's entry index, as a shard's dictionary is (unsorted: live codes are first-seen)
 *   2. rows    each matched plate's rows through the same-plate chain (`prev` lane), newest first, from its
 *              start down to the window's first row, tested against the filter with the shard task's masks
 *   3. top-k   per entry the shard task's bounded heap; rows are generation row indexes
 *
 * Every row a chain reaches is below the view's length: written before the task was posted and never
 * changed, while appends go on. The view is pinned by the caller until the results are merged.
 */
import { kCoordScale } from '../core/segment.js';
import { kLiveBlockRows, kLiveLanes, kSlotChunk } from '../store/live-columns.js';
import type { QueryBudget } from './budget.js';
import { prepareFilter } from './filter-plan.js';
import { collectByEntry, emptyHotlistResult, labelMasks, probeDictionary, type HotlistTask, type HotlistTaskResult } from './hotlist-task.js';

/** Filter (retention floor folded in), the generation's label dictionaries, limit and index: as a shard task's. */
export interface LiveHotlistTask extends Pick<HotlistTask, 'filter' | 'cameras' | 'regions' | 'makes' | 'colors' | 'limit' | 'index'> {
  /** The generation's arena, and the rows the task may walk (an estimate, for the pool's balancing). */
  layout: { arena: number; rows: number };
  live: true;
  /** Arena offsets of the view's block regions and plate slot chunks (liveRegions). */
  blocks: Int32Array;
  slotChunks: Int32Array;
  /** The task's plates (codes) and each one's newest row below the window's end (slices of windowPlates'). */
  codes: Int32Array;
  starts: Int32Array;
  /** The first row of the blocks the window reaches: a walk stops below it. */
  gLo: number;
}

export function isLiveHotlistTask(t: HotlistTask | LiveHotlistTask): t is LiveHotlistTask {
  return 'live' in t;
}

const kShift = Math.log2(kLiveBlockRows);
const kMask = kLiveBlockRows - 1;

/** Live tasks run on this thread since the process started (for tests: the pool's run in its workers). */
export const liveHotlistTaskRuns = { here: 0 };

/** Runs one live task: see the file comment. `buf` is the arena's memory buffer. */
export function runLiveHotlistTask(buf: ArrayBufferLike, task: LiveHotlistTask, budget?: QueryBudget): HotlistTaskResult {
  liveHotlistTaskRuns.here++;
  const n = task.codes.length;
  const p = prepareFilter(task.filter, -Infinity);
  if (p.empty || n === 0) return emptyHotlistResult();
  const masks = labelMasks(p, task);
  if (!masks) return emptyHotlistResult();
  const { camera: cameraOk, region: regionOk, make: makeOk, color: colorOk } = masks;

  // 1. the slice's plate slots, side by side (each is 4 words of a chunk: code → chunk, slot)
  const words = new Uint32Array(buf);
  const slots = new Uint32Array(4 * n);
  const codes = task.codes, chunks = task.slotChunks;
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    const w = (chunks[Math.floor(c / kSlotChunk)]! + (c % kSlotChunk) * 16) >>> 2;
    slots[4 * i] = words[w]!;
    slots[4 * i + 1] = words[w + 1]!;
    slots[4 * i + 2] = words[w + 2]!;
    slots[4 * i + 3] = words[w + 3]!;
  }
  const pairs = probeDictionary(task.index, slots.buffer, 0, n, budget, false);
  if (pairs.entries.length === 0) return emptyHotlistResult();

  // 2–3. lanes as whole-memory views, indexed by byte offset / width (a block's lanes are 64-byte aligned)
  const i32 = new Int32Array(buf);
  const f64 = new Float64Array(buf);
  const blocks = task.blocks;
  const { lo: tLo, hi: tHi, geo } = p;
  const gLo = task.gLo, starts = task.starts, D = pairs.plates;
  let base = 0; // the current row's block region
  const seqOf = (g: number) => f64[(blocks[g >>> kShift]! + kLiveLanes.seq + (g & kMask) * 8) >>> 3]!;
  return collectByEntry(pairs, task.limit, (pi, distance, top) => {
    for (let g = starts[D[pi]!]!; g >= gLo; ) {
      if ((g & 255) === 0) budget?.tick();
      base = blocks[g >>> kShift]!;
      const r = g & kMask;
      const tw = (base + kLiveLanes.ts + r * 8) >>> 2;
      const t = i32[tw + 1]! * 4294967296 + (i32[tw]! >>> 0);
      const row = g;
      g = i32[(base + kLiveLanes.prev + r * 4) >>> 2]!;
      if (t < tLo || t >= tHi) continue;
      if (geo && !geo(i32[(base + kLiveLanes.lat + r * 4) >>> 2]! / kCoordScale, i32[(base + kLiveLanes.lon + r * 4) >>> 2]! / kCoordScale)) continue;
      if (cameraOk && !cameraOk[i32[(base + kLiveLanes.camera + r * 4) >>> 2]!]) continue;
      if (regionOk && !regionOk[i32[(base + kLiveLanes.region + r * 4) >>> 2]!]) continue;
      if (makeOk && !makeOk[i32[(base + kLiveLanes.make + r * 4) >>> 2]!]) continue;
      if (colorOk && !colorOk[i32[(base + kLiveLanes.color + r * 4) >>> 2]!]) continue;
      top.offer(distance, t, row, seqOf);
    }
  });
}
