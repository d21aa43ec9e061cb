/**
 * Runs an n-gram plan (src/query/gram-plan.ts) over a tenant's gram index (src/store/plate-grams.ts):
 * the candidate plates, then their verification by the dictionary kernel itself.
 *
 *   candidates: per alternative, the postings of its smallest group, narrowed by the next-smallest groups
 *               (binary search of each candidate in their lists) until few are left; the alternatives'
 *               candidates merged. Sorted dictionary ids, each once.
 *   verify:     the candidates' 16-byte slots copied side by side into kernel scratch, and the very
 *               kernel call that matches a whole dictionary (Kernels.matchDictionary) run over that
 *               small dictionary: the distances are the kernel's, not an approximation of them.
 */
import type { Kernels } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import { kPlateSlotBytes, type SegmentLayout } from '../core/segment.js';
import type { PlateMatch } from '../model/query.js';
import type { PlateGrams } from '../store/plate-grams.js';
import type { GramGroup, GramPlan } from './gram-plan.js';
import { compiledPlate } from './plate-distances.js';

/**
 * Below this many candidates an alternative is not narrowed further: checking each of them against the
 * next group's lists costs about what verifying them in the kernel does.
 */
const kFewCandidates = 32;

/** Is `x` in the ascending list `a`? */
function contains(a: Uint32Array, x: number): boolean {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** The sorted union of two ascending, duplicate-free lists. */
function union2(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint32Array(a.length + b.length);
  let i = 0, j = 0, n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!, y = b[j]!;
    if (x <= y) {
      out[n++] = x;
      i++;
      if (x === y) j++;
    } else {
      out[n++] = y;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return out.subarray(0, n);
}

/**
 * The sorted union of many ascending lists, merged pairwise (a balanced tree of merges). With `k`, the
 * merges run in its scratch by the union kernel (assembly/candidates.ts), at the same cost from a process's
 * first search; a RangeError when scratch cannot hold the lists.
 */
export function unionAll(lists: readonly Uint32Array[], k?: Kernels): Uint32Array {
  let level = lists.filter((l) => l.length > 0);
  if (level.length === 0) return new Uint32Array(0);
  if (level.length === 1) return level[0]!;
  if (k) return unionInScratch(level, k);
  while (level.length > 1) {
    const next: Uint32Array[] = [];
    for (let j = 0; j < level.length; j += 2) next.push(j + 1 < level.length ? union2(level[j]!, level[j + 1]!) : level[j]!);
    level = next;
  }
  return level[0]!;
}

/** unionAll's merges in `k`'s scratch: the lists copied in (natively), merged pairwise by the kernel, the union copied out. */
function unionInScratch(lists: readonly Uint32Array[], k: Kernels): Uint32Array {
  const mark = k.scratch.mark();
  try {
    let level = lists.map((l) => {
      const ptr = k.scratch.alloc(l.length * 4, 16);
      new Uint32Array(k.memory.buffer, ptr, l.length).set(l);
      return { ptr, n: l.length };
    });
    while (level.length > 1) {
      const next: Array<{ ptr: number; n: number }> = [];
      for (let j = 0; j < level.length; j += 2) {
        const a = level[j]!, b = level[j + 1];
        if (!b) {
          next.push(a);
          continue;
        }
        const ptr = k.scratch.alloc((a.n + b.n) * 4, 16);
        next.push({ ptr, n: k.unionSorted(a.ptr, a.n, b.ptr, b.n, ptr) });
      }
      level = next;
    }
    return new Uint32Array(k.memory.buffer, level[0]!.ptr, level[0]!.n).slice();
  } finally {
    k.scratch.release(mark);
  }
}

function groupSize(grams: PlateGrams, g: GramGroup): number {
  let n = 0;
  for (const key of g) n += grams.sizeOf(key);
  return n;
}

/** The candidates of one alternative (an AND of groups). */
function alternativeCandidates(grams: PlateGrams, groups: readonly GramGroup[], k?: Kernels): Uint32Array {
  const bySize = groups.map((g) => ({ g, size: groupSize(grams, g) })).sort((a, b) => a.size - b.size);
  let cand = unionAll(bySize[0]!.g.map((key) => grams.postingsOf(key)), k);
  for (let j = 1; j < bySize.length && cand.length > kFewCandidates; j++) {
    const lists = bySize[j]!.g.map((key) => grams.postingsOf(key)).filter((l) => l.length > 0);
    let n = 0;
    const kept = new Uint32Array(cand.length);
    for (let i = 0; i < cand.length; i++) {
      const x = cand[i]!;
      for (const l of lists) {
        if (contains(l, x)) {
          kept[n++] = x;
          break;
        }
      }
    }
    cand = kept.subarray(0, n);
  }
  return cand;
}

/**
 * The dictionary ids `plan` admits (ascending, each once): a superset of the plates the pattern matches.
 * Undefined when there would be more than `max` (the caller scans instead). With `k`, the unions run in
 * its scratch (unionAll); a RangeError when scratch cannot hold them.
 */
export function gramCandidates(grams: PlateGrams, plan: GramPlan, max: number, k?: Kernels): Uint32Array | undefined {
  if (plan.estimate > max * plan.alternatives.length) return undefined;
  const parts = plan.alternatives.map((groups) => alternativeCandidates(grams, groups, k));
  const out = unionAll(parts, k);
  return out.length > max ? undefined : out;
}

/** Four kNoMatch bytes read as one 32-bit word. */
const kNoMatchWord = (kNoMatch * 0x01010101) >>> 0;

/**
 * Verifies `candidates` (ids into the dictionary at `dict`, `count` slots, in the kernels' arena) with
 * the dictionary kernel; calls `take(id, distance)` for each match, in id order. Returns the matches, or
 * -1 when they exceed `max` (the caller then goes the way it would for a broad pattern). Throws
 * RangeError when scratch cannot hold the candidates.
 *
 * Every per-candidate step is native or wasm (the ids copied by `set`, the slots gathered by a kernel,
 * the distances read four at a time): a fuzzy k=2 OCR pattern names ~60,000 candidates at 20M reads, and
 * a loop over them in JS ran in V8's baseline tiers for the first ~30 searches of a process, so the
 * search's time moved 2–3× with how long the process had been warm (bench/RESULTS.md, peers-steady).
 */
export function verifyCandidates(
  k: Kernels, dict: number, candidates: Uint32Array, match: PlateMatch, max: number, take: (id: number, distance: number) => void,
): number {
  const n = candidates.length;
  if (n === 0) return 0;
  const mark = k.scratch.mark();
  try {
    // 16-byte slots side by side; both buffers rounded up to whole 16-byte vectors for the SIMD kernels
    const padded = Math.ceil(n / 16) * 16;
    const ids = k.scratch.alloc(n * 4, 16);
    const slots = k.scratch.alloc(padded * kPlateSlotBytes, 16);
    const dist = k.scratch.alloc(padded, 16);
    new Uint32Array(k.memory.buffer, ids, n).set(candidates);
    k.gatherSlots(dict, ids, n, slots);
    // the pattern encoded once per query and thread (segment-task.ts), not once per call
    const matched = k.matchDictionary({ dict: slots, dictCount: n } as SegmentLayout, compiledPlate(k, match), dist);
    if (matched > max) return -1;
    // tens of matches among tens of thousands of candidates: four non-matches skipped a word at a time
    const ds = new Uint8Array(k.memory.buffer, dist, n);
    const words = new Uint32Array(k.memory.buffer, dist, n >>> 2);
    let seen = 0;
    for (let w = 0; w < words.length && seen < matched; w++) {
      if (words[w] === kNoMatchWord) continue;
      for (let i = w * 4; i < w * 4 + 4; i++) {
        if (ds[i] === kNoMatch) continue;
        take(candidates[i]!, ds[i]!);
        seen++;
      }
    }
    for (let i = words.length * 4; i < n; i++) if (ds[i] !== kNoMatch) take(candidates[i]!, ds[i]!);
    return matched;
  } finally {
    k.scratch.release(mark);
  }
}
