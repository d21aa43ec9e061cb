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
import { mergeTree } from './plate-id-map.js';
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

/** Byte order of slots `i` of `a` and `j` of `b` (the plates' string order: zero padding sorts first). */
function compare(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const x = i * kWords, y = j * kWords;
  for (let w = 0; w < kWords - 1; w++) {
    const u = a[x + w]!, v = b[y + w]!;
    if (u === v) continue;
    // little-endian words: the first differing byte decides
    for (let k = 0; k < 32; k += 8) {
      const c = ((u >>> k) & 0xff) - ((v >>> k) & 0xff);
      if (c !== 0) return c;
    }
  }
  return 0;
}

/** ORs the masks of slot `k` of `from` into plate `n` of `masks`. */
function orMask(masks: Uint32Array, n: number, from: Slots, k: number): void {
  const m = n * 2;
  if (from.masks !== null) {
    masks[m] = masks[m]! | from.masks[k * 2]!;
    masks[m + 1] = masks[m + 1]! | from.masks[k * 2 + 1]!;
  } else masks[m + (from.bucket >>> 5)] = masks[m + (from.bucket >>> 5)]! | (1 << (from.bucket & 31));
}

function copySlot(out: Uint32Array, n: number, from: Uint32Array, k: number): void {
  const s = k * kWords, d = n * kWords;
  out[d] = from[s]!;
  out[d + 1] = from[s + 1]!;
  out[d + 2] = from[s + 2]!;
  out[d + 3] = from[s + 3]!;
}

/**
 * The sorted union of two sorted, duplicate-free slot arrays; a plate in both gets both masks. With
 * `inA`/`inB` (a.count / b.count long), where each slot of `a` / `b` landed.
 */
function merge(a: Slots, b: Slots, inA?: Uint32Array, inB?: Uint32Array): Slots {
  const out = new Uint32Array((a.count + b.count) * kWords);
  const masks = new Uint32Array((a.count + b.count) * 2);
  let i = 0, j = 0, n = 0;
  while (i < a.count && j < b.count) {
    const c = compare(a.words, i, b.words, j);
    if (c <= 0) {
      copySlot(out, n, a.words, i);
      if (inA) inA[i] = n;
      orMask(masks, n, a, i++);
      if (c === 0) {
        if (inB) inB[j] = n;
        orMask(masks, n, b, j++);
      }
    } else {
      copySlot(out, n, b.words, j);
      if (inB) inB[j] = n;
      orMask(masks, n, b, j++);
    }
    n++;
  }
  for (; i < a.count; n++) {
    copySlot(out, n, a.words, i);
    if (inA) inA[i] = n;
    orMask(masks, n, a, i++);
  }
  for (; j < b.count; n++) {
    copySlot(out, n, b.words, j);
    if (inB) inB[j] = n;
    orMask(masks, n, b, j++);
  }
  return { words: out, count: n, masks, bucket: -1 };
}

/**
 * Merges many sorted slot arrays pairwise (a balanced tree of merges: O(total · log parts)); with `track`,
 * also each part's positions in the union (src/store/plate-id-map.ts, `mergeTree`).
 */
function mergeSlots(parts: readonly Slots[], track: boolean): { words: Uint32Array; count: number; masks: Uint32Array; ids?: Uint32Array[] } {
  if (parts.length === 0) return { words: new Uint32Array(0), count: 0, masks: new Uint32Array(0), ...(track ? { ids: [] } : {}) };
  // a lone part still needs its masks written out: merged with an empty one
  const padded = parts.length === 1 ? [parts[0]!, { words: new Uint32Array(0), count: 0, masks: null, bucket: 0 }] : parts;
  const { union, ids } = mergeTree(padded, merge, track);
  const m = union!;
  return { words: m.words.subarray(0, m.count * kWords), count: m.count, masks: m.masks!.subarray(0, m.count * 2), ...(ids ? { ids: ids.slice(0, parts.length) } : {}) };
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
  // trimmed copies: the merge tree's buffers are sized for the sum of the parts
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
