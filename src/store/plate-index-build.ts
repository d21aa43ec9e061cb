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
  plate?: { ptr: number; width: PlateWidth; rows: number; bits?: number };
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
  grams?: { offsets: Uint32Array; postings: Uint8Array };
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

/** Where a merge writes: the union's slots and masks (exactly its size) and, tracked, each part's positions. */
interface MergeOut {
  words: Uint32Array;
  masks: Uint32Array;
  ids: Uint32Array[] | undefined;
}

/**
 * The sorted union of many sorted, duplicate-free slot arrays (a k-way merge of the parts' next slots), a
 * plate in several parts getting all their masks; with `track`, each part's positions
 * in the union. Two passes of the same merge: the first only counts the union, the second writes it straight
 * into outputs of exactly its size, so nothing is allocated but what the build answers.
 *
 *   parts   AB1 CX9 ZZ4 │ AB1 AB7 │ CX9 DA2      the part whose next slot is lowest wins
 *   union   AB1 AB7 CX9 DA2 ZZ4                   a slot equal to the last one taken joins it (masks ORed)
 *
 * Why not pairwise: a balanced tree of two-way merges (what this was) allocated every level afresh, each
 * sized for the sum of its inputs (16 + 8 B of slot and masks plus 8 B of positions a slot), so a 20M open's
 * build (14 shards, 5.6M slots, a 1.0M-plate union) wrote ~4 × 180 MB of intermediate arrays on the worker:
 * ~200 MiB of the process's peak RSS while the dictionary was installed (docs/storage-v2.md, "Off the
 * memory-map lock; the tenant dictionary without a merge tree"). A count pass costs less than one tree level did.
 */
function mergeSlots(parts: readonly Slots[], track: boolean): { words: Uint32Array; count: number; masks: Uint32Array; ids?: Uint32Array[] } {
  const count = mergePass(parts, undefined);
  const out: MergeOut = { words: new Uint32Array(count * kWords), masks: new Uint32Array(count * 2), ids: track ? parts.map((p) => new Uint32Array(p.count)) : undefined };
  mergePass(parts, out);
  return { words: out.words, count, masks: out.masks, ...(out.ids ? { ids: out.ids } : {}) };
}

/**
 * One pass of the k-way merge: the union's size, and with `out` the union written there. The parts' next
 * slots meet in a tournament tree of losers (Knuth, TAOCP vol. 3, 5.4.1): taking the winner and replaying
 * its leaf's path costs log2(parts) comparisons, each of two numbers (bytes 0–5 and 6–11 of the plate in
 * byte order; the length byte follows from them), an exhausted part's key +∞.
 */
function mergePass(parts: readonly Slots[], out: MergeOut | undefined): number {
  const k = parts.length;
  let leaves = 1;
  while (leaves < k) leaves *= 2;
  const at = new Uint32Array(k);
  const hi = new Float64Array(leaves).fill(Infinity), lo = new Float64Array(leaves).fill(Infinity);
  const load = (q: number) => {
    const p = parts[q]!;
    if (at[q]! >= p.count) {
      hi[q] = Infinity;
      return;
    }
    const w = p.words, s = at[q]! * kWords;
    const b1 = be(w[s + 1]!);
    hi[q] = be(w[s]!) * 65536 + (b1 >>> 16);
    lo[q] = (b1 & 0xffff) * 4294967296 + be(w[s + 2]!);
  };
  // a before b: the lower plate, ties to the lower part (an exhausted part never wins)
  const before = (a: number, b: number) => hi[a]! < hi[b]! || (hi[a] === hi[b] && (lo[a]! < lo[b]! || (lo[a] === lo[b] && a < b)));
  for (let q = 0; q < k; q++) load(q);
  // losers[node] for the internal nodes 1 … leaves-1; the winner of the whole tree apart
  const losers = new Int32Array(Math.max(1, leaves));
  const winners = new Int32Array(2 * leaves);
  for (let q = 0; q < leaves; q++) winners[leaves + q] = q;
  for (let node = leaves - 1; node >= 1; node--) {
    const a = winners[2 * node]!, b = winners[2 * node + 1]!;
    const aWins = before(a, b);
    winners[node] = aWins ? a : b;
    losers[node] = aWins ? b : a;
  }
  let winner = winners[1]!;
  if (leaves === 1) winner = 0;
  // the last distinct slot taken: its words and where they start
  let prev: Uint32Array | undefined, ps = 0;
  let n = 0;
  while (k > 0 && hi[winner] !== Infinity) {
    const q = winner, from = parts[q]!, c = at[q]!, s = c * kWords;
    const w = from.words;
    // the lowest slot left: the same plate as the last one taken (a word compare: equal bytes), or the
    // union's next plate
    let d = n - 1;
    if (prev === undefined || prev[ps] !== w[s] || prev[ps + 1] !== w[s + 1] || prev[ps + 2] !== w[s + 2]) {
      d = n++;
      prev = w;
      ps = s;
      if (out) {
        const o = d * kWords;
        out.words[o] = w[s]!;
        out.words[o + 1] = w[s + 1]!;
        out.words[o + 2] = w[s + 2]!;
        out.words[o + 3] = w[s + 3]!;
      }
    }
    if (out) {
      const masks = out.masks;
      if (from.masks !== null) {
        masks[2 * d] = masks[2 * d]! | from.masks[c * 2]!;
        masks[2 * d + 1] = masks[2 * d + 1]! | from.masks[c * 2 + 1]!;
      } else masks[2 * d + (from.bucket >>> 5)] = masks[2 * d + (from.bucket >>> 5)]! | (1 << (from.bucket & 31));
      if (out.ids) out.ids[q]![c] = d;
    }
    at[q] = c + 1;
    load(q);
    // replay q's path to the root: at each node the one that loses stays, the other goes up
    let up = q;
    for (let node = (leaves + q) >>> 1; node >= 1; node >>>= 1) {
      const other = losers[node]!;
      if (before(other, up)) {
        losers[node] = up;
        up = other;
      }
    }
    winner = up;
  }
  return n;
}

/** A plate lane read in place. */
function laneOf(memory: WebAssembly.Memory, lane: NonNullable<SlotPart['plate']>): CodeAt {
  return plateCodeReader(memory.buffer as ArrayBuffer, lane.ptr, lane.width, lane.rows, lane.bits); // shared between threads
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
  const { words, masks } = merged;
  const ranks = buildPlateRanks(masks, merged.count);
  const same = job.sameCount > 0 && merged.count === job.sameCount;
  const runs = job.parts.map((p) => (p.plate ? buildPlateRuns(laneOf(memoryOf(p.arena), p.plate), p.plate.rows, p.count) : undefined));
  const built: PlateIndexBuilt = { words, count: merged.count, masks, ranks, same, runs, ...(ids ? { ids } : {}) };
  if (!job.grams || same || merged.count === 0) return built;
  const g = PlateGrams.build(new Uint8Array(words.buffer, 0, merged.count * kPlateSlotBytes), merged.count);
  return { ...built, grams: { offsets: g.offsets, postings: g.postings } };
}
