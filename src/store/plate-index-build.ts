/**
 * Building a tenant's plate dictionary, shard masks and n-gram index (src/store/tenant-plates.ts) from
 * slots in arena memory: the merge of sorted 16-byte slot arrays and PlateGrams.build; and the merged-in
 * shards' run tables (src/store/plate-runs.ts) from their plate lanes, so no search makes them. Pure and
 * thread-agnostic: the plate-index worker (src/store/plate-index-worker.ts) runs it off the engine's
 * thread; without a worker the engine runs it inline.
 *
 * The slots are read where they are (arena memories are shared `WebAssembly.Memory`s, so a worker reads
 * them in place); the caller keeps them alive until the build answers (shards pinned, the old dictionary
 * not freed). The answer is plain typed arrays the caller copies into an arena and installs.
 */
import { kPlateSlotBytes, plateCodeReader, type CodeAt, type PlateWidth } from '../core/segment.js';
import { PlateGrams } from './plate-grams.js';
import { buildPlateRanks } from './plate-ranks.js';
import { buildPlateRuns, type PlateRunArrays } from './plate-runs.js';

const kWords = kPlateSlotBytes / 4;

/** Slots to merge: `count` slots at `ptr` of arena `arena`; each slot's masks, or the one bucket they all have. */
export interface SlotPart {
  arena: number;
  ptr: number;
  count: number;
  /** Per slot two mask words (the current dictionary's masks), or null: every slot has `bucket` only. */
  masks: Uint32Array | null;
  bucket: number;
  /**
   * A shard's plate lane (row → code, `width` bytes a row, `rows` rows at `ptr` of the same arena) whose run
   * table (src/store/plate-runs.ts) the build makes too; absent for the current dictionary and for shards
   * that have one.
   */
  plate?: { ptr: number; width: PlateWidth; rows: number };
}

export interface PlateIndexJob {
  parts: SlotPart[];
  /** Build the n-gram index (false: the engine runs without one). */
  grams: boolean;
  /** Plates in the current dictionary when it is among the parts: a merge to this many keeps its index. */
  sameCount: number;
  /**
   * Also answer where each part's slots landed in the merged dictionary (`PlateIndexBuilt.ids`): what the
   * install remaps covered shards' plate lanes with (docs/storage-v2.md, "Round 4", step 4).
   */
  ids?: boolean;
}

export interface PlateIndexBuilt {
  /** The merged slots, `count · 4` words. */
  words: Uint32Array;
  count: number;
  /** Two words a plate (buckets 0–31, 32–63). */
  masks: Uint32Array;
  /** The masks' rank counts (src/store/plate-ranks.ts): a plate's code in a shard without searching it. */
  ranks: Uint32Array;
  /** The n-gram index's arrays; undefined when not asked for or when the current one stays (`same`). */
  grams?: { offsets: Uint32Array; postings: Uint32Array };
  /** The merge added no plate to the current dictionary: slot for slot equal, its index still right. */
  same: boolean;
  /** Per part (in the job's order), the run table of its plate lane, when it gave one. */
  runs: Array<PlateRunArrays | undefined>;
  /**
   * With `job.ids`: per part of the job (in its order), the position in `words` of each of the part's slots
   * (monotone, src/store/plate-id-map.ts). A shard's part gives its code → tenant id map; the current
   * dictionary's part gives the growth map of its ids (`idsIn(old, new)`), which remaps lanes already in ids.
   */
  ids?: Uint32Array[];
}

interface Slots {
  words: Uint32Array;
  count: number;
  masks: Uint32Array | null;
  bucket: number;
}

/** Word w of a slot as an unsigned number ordered as its 4 bytes are (little-endian storage). */
function be(u: number): number {
  return (((u & 0xff) << 24) | ((u & 0xff00) << 8) | ((u >>> 8) & 0xff00) | (u >>> 24)) >>> 0;
}

/**
 * The sorted union of many sorted, duplicate-free slot arrays in one pass (a k-way merge over a binary heap
 * of the parts' next slots), a plate in several parts getting all their masks; with `track`, each part's
 * positions in the union. Written straight into its outputs: the union's words and masks (sized for the sum
 * of the parts, of which only the union's pages are ever touched: a large typed array is fresh zero pages
 * until written) and the parts' ids.
 *
 *   parts   AB1 CX9 ZZ4 │ AB1 AB7 │ CX9 DA2      heap: the part whose next slot is lowest on top
 *   union   AB1 AB7 CX9 DA2 ZZ4                   a slot equal to the last one written joins it (masks ORed)
 *
 * Why not pairwise: a balanced tree of two-way merges (what this was) allocated every level afresh, each
 * sized for the sum of its inputs (16 + 8 B of slot and masks plus 8 B of positions a slot), so a 20M open's
 * build (14 shards, 5.6M slots, a 1.0M-plate union) wrote ~4 × 180 MB of intermediate arrays on the worker:
 * 200 MiB of the process's peak RSS once the dictionary was installed (docs/storage-v2.md, "The tenant
 * dictionary's build in one pass"). Each slot is now read once and written at most once.
 */
function mergeSlots(parts: readonly Slots[], track: boolean): { words: Uint32Array; count: number; masks: Uint32Array; ids?: Uint32Array[] } {
  const k = parts.length;
  let total = 0;
  for (const p of parts) total += p.count;
  const words = new Uint32Array(total * kWords);
  const masks = new Uint32Array(total * 2);
  const ids = track ? parts.map((p) => new Uint32Array(p.count)) : undefined;
  // per part: the next slot's position, and its first three words in byte order (bytes 0–11: the plate; its
  // length byte follows from them)
  const at = new Uint32Array(k);
  const key = new Uint32Array(k * 3);
  const load = (q: number) => {
    const w = parts[q]!.words, s = at[q]! * kWords;
    key[q * 3] = be(w[s]!);
    key[q * 3 + 1] = be(w[s + 1]!);
    key[q * 3 + 2] = be(w[s + 2]!);
  };
  const below = (a: number, b: number) => {
    const x = a * 3, y = b * 3;
    if (key[x] !== key[y]) return key[x]! < key[y]!;
    if (key[x + 1] !== key[y + 1]) return key[x + 1]! < key[y + 1]!;
    if (key[x + 2] !== key[y + 2]) return key[x + 2]! < key[y + 2]!;
    return a < b;
  };
  const heap = new Int32Array(k);
  let size = 0;
  const siftDown = (i: number) => {
    const q = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && below(heap[c + 1]!, heap[c]!)) c++;
      if (!below(heap[c]!, q)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = q;
  };
  for (let q = 0; q < k; q++) {
    if (parts[q]!.count === 0) continue;
    load(q);
    heap[size++] = q;
  }
  for (let i = (size >>> 1) - 1; i >= 0; i--) siftDown(i);
  let n = 0;
  while (size > 0) {
    const q = heap[0]!, from = parts[q]!, c = at[q]!, s = c * kWords;
    const w = from.words;
    // the lowest slot left: the same plate as the last one written (a word compare: equal bytes), or the
    // union's next plate
    const last = (n - 1) * kWords;
    let d: number;
    if (n > 0 && words[last] === w[s] && words[last + 1] === w[s + 1] && words[last + 2] === w[s + 2]) d = n - 1;
    else {
      d = n++;
      const o = d * kWords;
      words[o] = w[s]!;
      words[o + 1] = w[s + 1]!;
      words[o + 2] = w[s + 2]!;
      words[o + 3] = w[s + 3]!;
    }
    if (from.masks !== null) {
      masks[2 * d] = masks[2 * d]! | from.masks[c * 2]!;
      masks[2 * d + 1] = masks[2 * d + 1]! | from.masks[c * 2 + 1]!;
    } else masks[2 * d + (from.bucket >>> 5)] = masks[2 * d + (from.bucket >>> 5)]! | (1 << (from.bucket & 31));
    if (ids) ids[q]![c] = d;
    if (c + 1 < from.count) {
      at[q] = c + 1;
      load(q);
    } else heap[0] = heap[--size]!;
    siftDown(0);
  }
  return { words: words.subarray(0, n * kWords), count: n, masks: masks.subarray(0, n * 2), ...(ids ? { ids } : {}) };
}

/** A plate lane read in place. */
function laneOf(memory: WebAssembly.Memory, lane: NonNullable<SlotPart['plate']>): CodeAt {
  return plateCodeReader(memory.buffer as ArrayBuffer, lane.ptr, lane.width, lane.rows); // shared between threads
}

/** Runs a job over the arenas' memories (by arena index). */
export function buildPlateIndex(job: PlateIndexJob, memoryOf: (arena: number) => WebAssembly.Memory): PlateIndexBuilt {
  const nonEmpty = job.parts.filter((p) => p.count > 0);
  const parts = nonEmpty.map((p): Slots => ({
    words: new Uint32Array(memoryOf(p.arena).buffer, p.ptr, p.count * kWords), count: p.count, masks: p.masks, bucket: p.bucket,
  }));
  const merged = mergeSlots(parts, job.ids ?? false);
  // per job part, empty ones included
  const ids = merged.ids && job.parts.map((p) => (p.count > 0 ? merged.ids![nonEmpty.indexOf(p)]! : new Uint32Array(0)));
  // trimmed copies: the merge's buffers are sized for the sum of the parts
  const words = merged.words.slice();
  const masks = merged.masks.slice();
  const ranks = buildPlateRanks(masks, merged.count);
  const same = job.sameCount > 0 && merged.count === job.sameCount;
  const runs = job.parts.map((p) => (p.plate ? buildPlateRuns(laneOf(memoryOf(p.arena), p.plate), p.plate.rows, p.count) : undefined));
  const built: PlateIndexBuilt = { words, count: merged.count, masks, ranks, same, runs, ...(ids ? { ids } : {}) };
  if (!job.grams || same || merged.count === 0) return built;
  const g = PlateGrams.build(new Uint8Array(words.buffer, 0, merged.count * kPlateSlotBytes), merged.count);
  return { ...built, grams: { offsets: g.offsets, postings: g.postings } };
}
