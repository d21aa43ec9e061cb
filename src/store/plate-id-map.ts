/**
 * Where the plates of one sorted dictionary sit in a bigger sorted dictionary that holds them all: the
 * mapping that turns a shard's plate codes into ids of its tenant's plate dictionary
 * (src/store/tenant-plates.ts), and a tenant dictionary's old ids into its ids after new plates were merged
 * in. Both dictionaries are 16-byte slots (src/core/segment.ts) in string order, so the mapping is
 * monotone (code c < c' ⇒ id(c) < id(c')): a shard's plate → rows index, ordered by code, stays ordered
 * by id, and a remapped lane needs no re-sorting (docs/storage-v2.md, "Round 4: plates as tenant ids").
 *
 *   small (shard)   AB1 ─────────┐  CX9 ──────────────┐      ZZ4 ──┐
 *   big (tenant)    AA0  AB1  AB7  CX9  DA2  DA3 … YB1  ZZ4
 *   id                    1              3                    n-1
 *
 * One pass over the small dictionary, galloping through the big one from the last position found:
 * O(small × log(big / small)) slot comparisons (a 240k-row tenant-day shard holds ~176k of its tenant's
 * ~1.3M plates at 20M reads: ~3 probes a plate instead of ~7 for a linear merge).
 */
import { kPlateSlotBytes, type CodeLane } from '../core/segment.js';

const kWords = kPlateSlotBytes / 4;

/** Word w of a slot as an unsigned number whose order is the order of its 4 bytes (little-endian storage). */
function be(u: number): number {
  return (((u & 0xff) << 24) | ((u & 0xff00) << 8) | ((u >>> 8) & 0xff00) | (u >>> 24)) >>> 0;
}

/** Sign of slot `i` of `a` minus slot `j` of `b`, in string order (bytes 0–11; the length byte follows from them). */
function compareSlots(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const x = i * kWords, y = j * kWords;
  for (let w = 0; w < kWords - 1; w++) {
    const u = a[x + w]!, v = b[y + w]!;
    if (u !== v) return be(u) < be(v) ? -1 : 1;
  }
  return 0;
}

/** The slots of a dictionary as 32-bit words (a view of the same bytes; `slots` must be 4-aligned). */
export function slotWords(slots: Uint8Array, count: number): Uint32Array {
  return new Uint32Array(slots.buffer, slots.byteOffset, count * kWords);
}

/**
 * The position in `big` of every slot of `small` (both sorted and duplicate-free, `smallCount` and
 * `bigCount` slots of 16 bytes as words). Throws a RangeError naming the first plate of `small` that
 * `big` does not hold: a caller maps only into a dictionary built from (a superset of) the same plates.
 */
export function idsIn(small: Uint32Array, smallCount: number, big: Uint32Array, bigCount: number): Uint32Array {
  const out = new Uint32Array(smallCount);
  let lo = 0;
  for (let c = 0; c < smallCount; c++) {
    // gallop: the first position at or after `lo` whose slot is not below small[c]
    let step = 1, hi = lo;
    while (hi < bigCount && compareSlots(big, hi, small, c) < 0) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    if (hi > bigCount) hi = bigCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareSlots(big, mid, small, c) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= bigCount || compareSlots(big, lo, small, c) !== 0 || big[lo * kWords + 3] !== small[c * kWords + 3]) {
      throw new RangeError(`plate slot ${c} of the smaller dictionary is not in the bigger one`);
    }
    out[c] = lo++;
  }
  return out;
}

/** A sorted, duplicate-free dictionary of `count` 16-byte slots, as words. */
export interface SlotDictionary {
  words: Uint32Array;
  count: number;
}

/** The sorted union of `a` and `b`; where each of their slots landed in it into `inA` / `inB` (when given). */
function mergeTwo(a: SlotDictionary, b: SlotDictionary, inA?: Uint32Array, inB?: Uint32Array): SlotDictionary {
  const out = new Uint32Array((a.count + b.count) * kWords);
  let i = 0, j = 0, n = 0;
  const take = (from: Uint32Array, k: number) => {
    const s = k * kWords, d = n * kWords;
    for (let w = 0; w < kWords; w++) out[d + w] = from[s + w]!;
  };
  while (i < a.count && j < b.count) {
    const c = compareSlots(a.words, i, b.words, j);
    if (c <= 0) {
      take(a.words, i);
      if (inA) inA[i] = n;
      i++;
      if (c === 0 && inB) inB[j] = n;
      if (c === 0) j++;
    } else {
      take(b.words, j);
      if (inB) inB[j] = n;
      j++;
    }
    n++;
  }
  for (; i < a.count; i++, n++) {
    take(a.words, i);
    if (inA) inA[i] = n;
  }
  for (; j < b.count; j++, n++) {
    take(b.words, j);
    if (inB) inB[j] = n;
  }
  return { words: out.subarray(0, n * kWords), count: n };
}

/**
 * Merges sorted dictionaries pairwise as a balanced tree with `merge` (which writes where each slot of its
 * two inputs landed into `inA` / `inB` when given): O(total · log parts) slot comparisons. With `track`, each
 * part's positions in the union too, composed through every merge above the part (one gather per level), so
 * no part is searched in the union afterwards. `mergeWithIds`'s; the plate-index build
 * (src/store/plate-index-build.ts) merges in one k-way pass instead, which allocates no level.
 */
export function mergeTree<T extends { count: number }>(
  parts: readonly T[], merge: (a: T, b: T, inA?: Uint32Array, inB?: Uint32Array) => T, track: boolean,
): { union: T | undefined; ids: Uint32Array[] | undefined } {
  const ids = track ? parts.map((p) => Uint32Array.from({ length: p.count }, (_, c) => c)) : undefined;
  // each node of the tree: its dictionary and the parts below it
  let level = parts.map((p, k) => ({ dict: p, members: [k] }));
  while (level.length > 1) {
    const next: typeof level = [];
    for (let k = 0; k < level.length; k += 2) {
      const x = level[k]!, y = level[k + 1];
      if (!y) {
        next.push(x);
        continue;
      }
      const inA = ids ? new Uint32Array(x.dict.count) : undefined, inB = ids ? new Uint32Array(y.dict.count) : undefined;
      const union = merge(x.dict, y.dict, inA, inB);
      if (ids) {
        for (const m of x.members) remapCodes(ids[m]!, inA!, ids[m]!);
        for (const m of y.members) remapCodes(ids[m]!, inB!, ids[m]!);
      }
      next.push({ dict: union, members: [...x.members, ...y.members] });
    }
    level = next;
  }
  return { union: level[0]?.dict, ids };
}

/**
 * The sorted union of many dictionaries (a tenant's shards) and, for each, the position of every one of its
 * slots in the union: what `idsIn` gives per part, found while merging (`mergeTree`).
 */
export function mergeWithIds(parts: readonly SlotDictionary[]): { union: SlotDictionary; ids: Uint32Array[] } {
  const { union, ids } = mergeTree(parts, mergeTwo, true);
  return { union: union ?? { words: new Uint32Array(0), count: 0 }, ids: ids! };
}

/**
 * Rewrites codes through `map`: out[i] = map[lane[i]] for i < `rows` (`out` may be `lane` itself when it is
 * as wide as the new values need). A shard's plate lane becomes tenant ids (map = idsIn(shard, tenant)), or
 * a lane of tenant ids follows its dictionary's growth (map = idsIn(old tenant, new tenant)).
 */
export function remapCodes(lane: CodeLane, map: Uint32Array, out: CodeLane, rows = lane.length): void {
  if (out.length < rows) throw new RangeError('the output lane is shorter than the rows to remap');
  for (let i = 0; i < rows; i++) out[i] = map[lane[i]!]!;
}
