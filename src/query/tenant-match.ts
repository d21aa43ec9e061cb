/**
 * Matching a plate pattern against a tenant's whole dictionary at once (src/store/tenant-plates.ts):
 * the SIMD kernel over the tenant's distinct plates, on the calling thread, instead of over each day
 * shard's dictionary. Worth it only when few plates match, since each matching plate is then looked up
 * in every shard of the tenant; a broad pattern (`A*`) goes the per-shard way.
 *
 * When the tenant's n-gram index (src/store/plate-grams.ts) names fewer candidate plates than the pass
 * would read, only those are verified (src/query/gram-match.ts): `contains` and fuzzy patterns then cost
 * by the plates they could match, not by the tenant's distinct plates.
 */
import type { Kernels } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import { kPlateSlotBytes, type SegmentLayout } from '../core/segment.js';
import type { PlateMatch } from '../model/query.js';
import type { PlateEpoch } from '../store/plate-epoch.js';
import type { TenantMatches } from './executor.js';
import { compiledPlate, prefixRange } from './plate-distances.js';
import { planGrams } from './gram-plan.js';
import { gramCandidates, verifyCandidates } from './gram-match.js';

const kWords = kPlateSlotBytes / 4;

/**
 * Most matching plates read by plate: each costs a binary search (~0.3 µs) in each of a tenant's ~30
 * shards, so at this many the lookups cost about what one kernel pass over every shard would.
 */
export const kMaxTenantMatches = 2048;

/**
 * The n-gram path is taken when its candidates are at most this share of the plates the kernel pass
 * would read: a candidate costs a posting read, a merge step and a 16-byte copy in JS (~5–10 ns), a plate
 * of the pass a few ns of SIMD.
 */
const kGramShare = 1 / 8;

/** What a match reads of a tenant's dictionary: an epoch (pinned by the search, src/store/plate-epoch.ts) or its TenantPlates. */
type TenantDictionary = Pick<PlateEpoch, 'region' | 'count' | 'grams' | 'masks' | 'ranks' | 'buckets' | 'bytes' | 'plateAt'>;

/** How tenant-wide matches were answered since the process started (for tests and benchmarks). */
export const tenantMatchCounts = { grams: 0, pass: 0 };

/** Four kNoMatch bytes read as one 32-bit word. */
const kNoMatchWord = (kNoMatch * 0x01010101) >>> 0;

/** The tenant's plates matching `match` with their distances, or undefined when there are too many (or no room). */
export function matchTenantPlates(plates: TenantDictionary, match: PlateMatch, k: Kernels): TenantMatches | undefined {
  const region = plates.region;
  const buckets = plates.buckets();
  const none: TenantMatches = { slots: new Uint32Array(0), distances: new Uint8Array(0), ids: new Uint32Array(0), shardMasks: new Uint32Array(0), shardBuckets: buckets };
  if (!region || plates.count === 0) return none;
  const mark = k.scratch.mark();
  try {
    // the kernels read only the dictionary of a layout
    const dict = { dict: region.ptr, dictCount: plates.count } as SegmentLayout;
    // a fixed prefix narrows the sorted dictionary to a range, as in a shard (segment-task.ts)
    const [lo, hi] = prefixRange(k, dict, match);
    if (hi <= lo) return none;
    const viaGrams = plates.grams ? matchByGrams(plates, match, k, region.ptr, Math.floor((hi - lo) * kGramShare)) : undefined;
    if (viaGrams !== undefined) {
      tenantMatchCounts.grams++;
      return viaGrams ?? undefined;
    }
    tenantMatchCounts.pass++;
    const dist = k.scratch.alloc(Math.max(16, hi - lo), 16);
    const n = matchUpTo(k, region.ptr, lo, hi, match, dist, kMaxTenantMatches);
    if (n > kMaxTenantMatches) return undefined;
    const count = hi - lo;
    const ds = new Uint8Array(k.memory.buffer, dist, count);
    // a million plates, a few hundred matches: skip four non-matches at a time (dist is 16-byte aligned, and
    // a byte-by-byte walk was a third of a contains search's time)
    const words = new Uint32Array(k.memory.buffer, dist, count >>> 2);
    const out = matchesOf(plates);
    const take = (d: number): void => {
      const v = ds[d]!;
      if (v === kNoMatch) return;
      out.add(lo + d, v);
    };
    for (let w = 0; w < words.length && out.count < n; w++) {
      if (words[w] === kNoMatchWord) continue;
      for (let d = w * 4; d < w * 4 + 4; d++) take(d);
    }
    for (let d = words.length * 4; d < count; d++) take(d);
    return out.done();
  } catch (err) {
    if (err instanceof RangeError) return undefined; // scratch too small for this dictionary
    throw err;
  } finally {
    k.scratch.release(mark);
  }
}

/** Plates of the first chunk of a bounded pass; each later chunk doubles (16-byte multiples). */
const kFirstChunk = 4096;

/**
 * Distances of slots [lo, hi) of the dictionary at `dict` into `dist` (u8 per slot, from `dist`), in
 * growing chunks, stopping as soon as more than `max` plates matched: the answer is then thrown away
 * (the per-shard way serves the query), so a broad pattern (`*1*`, a third of a tenant's plates) costs a
 * few thousand plates here instead of the whole dictionary. Returns the matches counted: all of them
 * when there are ≤ max, else some number > max (the slots after the last chunk were not read).
 */
function matchUpTo(k: Kernels, dict: number, lo: number, hi: number, match: PlateMatch, dist: number, max: number): number {
  const compiled = compiledPlate(k, match); // encoded once per query and thread, shared with the shard tasks
  let n = 0;
  for (let at = lo, chunk = kFirstChunk; at < hi && n <= max; at += chunk, chunk *= 2) {
    const count = Math.min(chunk, hi - at);
    n += k.matchDictionary({ dict: dict + at * kPlateSlotBytes, dictCount: count } as SegmentLayout, compiled, dist + (at - lo));
  }
  return n;
}

/**
 * The plates matching `match` found through the gram index: the matches; null when they exceed
 * kMaxTenantMatches; undefined when the index does not narrow the pattern to ≤ `maxCandidates` plates.
 */
function matchByGrams(plates: TenantDictionary, match: PlateMatch, k: Kernels, dict: number, maxCandidates: number): TenantMatches | null | undefined {
  const plan = planGrams(match, plates.grams!);
  const candidates = plan && gramCandidates(plates.grams!, plan, maxCandidates, k);
  if (!candidates) return undefined;
  const out = matchesOf(plates);
  const n = verifyCandidates(k, dict, candidates, match, kMaxTenantMatches, (id, distance) => out.add(id, distance));
  return n < 0 ? null : out.done();
}

/**
 * Collects matched dictionary entries as TenantMatches: their slots (copied), distances, ids and shard
 * masks, with the dictionary's masks and rank counts as they are now (replaced, never changed, by a build).
 */
function matchesOf(plates: TenantDictionary): { add(id: number, distance: number): void; done(): TenantMatches; readonly count: number } {
  const ids: number[] = [], distances: number[] = [];
  return {
    get count() {
      return ids.length;
    },
    add(id, distance) {
      ids.push(id);
      distances.push(distance);
    },
    done() {
      const n = ids.length;
      const all = plates.masks;
      const slots = new Uint32Array(n * kWords), shardMasks = new Uint32Array(n * 2);
      const bytes = plates.bytes();
      const dict = new Uint32Array(bytes.buffer, bytes.byteOffset, plates.count * kWords);
      for (let k = 0; k < n; k++) {
        const id = ids[k]!;
        for (let w = 0; w < kWords; w++) slots[k * kWords + w] = dict[id * kWords + w]!;
        shardMasks[k * 2] = all[id * 2]!;
        shardMasks[k * 2 + 1] = all[id * 2 + 1]!;
      }
      return {
        slots, distances: Uint8Array.from(distances), ids: Uint32Array.from(ids), shardMasks,
        shardBuckets: plates.buckets(), allMasks: all, ranks: plates.ranks,
      };
    },
  };
}
