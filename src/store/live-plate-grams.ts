/**
 * N-gram indexes over a live generation's plate dictionary (src/store/live-columns.ts), the live
 * counterpart of the tenant index (src/store/plate-grams.ts, the same structure and builder): `contains`
 * and fuzzy patterns then verify the few plates that could match instead of a kernel pass over every live
 * plate (100,000 distinct plates at 1M live reads).
 *
 * One index per slot chunk (kSlotChunk plates; ids chunk-local, code = chunk · kSlotChunk + id), because
 * a chunk is a contiguous run of slots in arena memory, which both the builder and the candidates'
 * verification (src/query/gram-match.ts verifyCandidates) read, and because a full chunk never changes:
 * its index is built once. The last chunk keeps filling; its index covers the plates it held when built,
 * the ones after (the tail) go through the kernels, and it is rebuilt when the tail passes an eighth of it
 * (at least kMinTail plates): O(plates) per rebuild, amortised O(1) a plate, as the sorted plate order
 * (live-plate-order.ts). Built on first use: a generation that never sees such a pattern has none.
 * About 200 KB of offsets a chunk plus ~56 B a plate.
 */
import { kSlotChunk, type LiveColumns } from './live-columns.js';
import { PlateGrams } from './plate-grams.js';

/** Tail size (plates) below which the last chunk's index is not rebuilt. */
const kMinTail = 1024;

const indexes = new WeakMap<LiveColumns, PlateGrams[]>();

/**
 * The index of chunk `c` of `cols`, for a view holding `count` of its plates: it covers at least the first
 * `count − tail` of them (`plates` says how many; built by a later view it may cover more, plates this
 * view does not hold, which the caller drops).
 */
export function liveChunkGrams(cols: LiveColumns, c: number, count: number): PlateGrams {
  let list = indexes.get(cols);
  if (!list) indexes.set(cols, (list = []));
  const had = list[c];
  // a chunk the view sees full is indexed whole, once; a filling one keeps a tail up to an eighth
  if (had && (had.plates >= count || (count < kSlotChunk && count - had.plates <= Math.max(kMinTail, had.plates >>> 3)))) return had;
  const built = PlateGrams.build(cols.slotChunk(c), count);
  list[c] = built;
  return built;
}
