/**
 * A plate pattern matched against a sorted plate dictionary (16-byte slots, src/core/segment.ts): one u8
 * distance per entry (kNoMatch = no match), over the range of entries its fixed prefix allows.
 *
 * A segment task matches its shard's own dictionary (src/query/segment-task.ts). Once a shard's plate lane
 * holds ids into its tenant's dictionary (docs/storage-v2.md, "Round 4", step 4), the distances are made
 * once per query and tenant instead (`matchPlatesOnce`) and every task over that tenant's shards reads
 * `dist[plate[r]]` from the same array: a tenant's ~30 day shards repeat its vehicles ~4×, so that matches
 * fewer plates in all, and the kernel's scan is the same whatever the code space.
 */
import type { CompiledPlateMatch, Kernels } from '../core/kernels.js';
import { kNoMatch } from '../core/kernels.js';
import { encodePlateMatch, type EncodedPlateMatch } from '../core/plate-query.js';
import { kPlateSlotBytes, type SegmentLayout } from '../core/segment.js';
import type { PlateMatch } from '../model/query.js';

/**
 * The distances of a dictionary's entries under one pattern: `dictCount` u8 at `ptr` (in the arena of the
 * layout that reads them); only entries in [lo, hi) can match, `matched` of them do.
 */
export interface PlateDistances {
  ptr: number;
  lo: number;
  hi: number;
  matched: number;
}

/**
 * The last plate pattern encoded (src/core/plate-query.ts), by its canonical text: a query's tasks (one
 * per shard, on one thread) share the pattern, and encoding it was a few µs of JS per shard. The bytes
 * are copied into this task's scratch (released with it).
 */
let lastPlate: { key: string; enc: EncodedPlateMatch } | undefined;

export function compiledPlate(k: Kernels, match: PlateMatch): CompiledPlateMatch {
  const key = `${match.mode}|${match.maxEdits}|${match.ocr ? 1 : 0}|${match.transpositions ? 1 : 0}|${match.pattern}`;
  if (lastPlate?.key !== key) lastPlate = { key, enc: encodePlateMatch(match) };
  const enc = lastPlate.enc;
  const ptr = k.scratch.alloc(enc.bytes.length, 16);
  k.bytes(ptr, enc.bytes.length).set(enc.bytes);
  return { kind: 'plate', ptr, kernel: enc.kernel, match };
}

/**
 * Distances of the dictionary of `seg` (`dict`, `dictCount`) under `match` into u8[dictCount] at `dist`.
 * Entries outside the prefix range [lo, hi) are not written: a caller that reads them (the row scan) fills
 * them with kNoMatch (`fillOutside`), one that walks the range only (the postings path) need not.
 */
export function matchPlates(k: Kernels, seg: Pick<SegmentLayout, 'dict' | 'dictCount'>, match: PlateMatch, dist: number): PlateDistances {
  // a fixed prefix narrows the sorted dictionary to a range; entries outside it cannot match
  const [lo, hi] = prefixRange(k, seg, match);
  if (hi <= lo) return { ptr: dist, lo, hi: lo, matched: 0 };
  const pq = compiledPlate(k, match);
  const matched = k.matchDictionary({ dict: seg.dict + lo * kPlateSlotBytes, dictCount: hi - lo } as SegmentLayout, pq, dist + lo);
  return { ptr: dist, lo, hi, matched };
}

/** Sets the entries of `m`'s array outside [lo, hi) (of `count`) to kNoMatch. */
export function fillOutside(k: Kernels, m: PlateDistances, count: number): void {
  const all = new Uint8Array(k.memory.buffer, m.ptr, count);
  all.fill(kNoMatch, 0, m.lo);
  all.fill(kNoMatch, Math.max(m.lo, m.hi));
}

/**
 * The distances of a whole dictionary (a tenant's) under `match`, made once for every task of a query
 * that reads lanes coding into it: every entry written (kNoMatch outside the prefix range), into
 * u8[dict.dictCount] at `out` (an arena region the caller keeps alive until those tasks are done, in the
 * arena of the tasks' layouts).
 */
export function matchPlatesOnce(k: Kernels, dict: Pick<SegmentLayout, 'dict' | 'dictCount'>, match: PlateMatch, out: number): PlateDistances {
  const mark = k.scratch.mark();
  try {
    const m = matchPlates(k, dict, match, out);
    fillOutside(k, m, dict.dictCount);
    return m;
  } finally {
    k.scratch.release(mark);
  }
}

/**
 * The dictionary range [lo, hi) whose plates start with the pattern's fixed prefix (the characters
 * before the first `?` or `*`), by binary search over the sorted 16-byte slots. Whole dictionary when
 * there is no prefix, or with OCR (mapping breaks the order), or for fuzzy patterns.
 */
export function prefixRange(k: Kernels, seg: Pick<SegmentLayout, 'dict' | 'dictCount'>, match: PlateMatch): [number, number] {
  const all: [number, number] = [0, seg.dictCount];
  if (match.ocr || match.mode === 'fuzzy') return all;
  let len = 0;
  while (len < match.pattern.length && match.pattern[len] !== '?' && match.pattern[len] !== '*') len++;
  if (len === 0) return all;
  const slots = new Uint8Array(k.memory.buffer, seg.dict, seg.dictCount * kPlateSlotBytes);
  const cmp = (d: number) => {
    const base = d * kPlateSlotBytes;
    for (let j = 0; j < len; j++) {
      const c = slots[base + j]! - match.pattern.charCodeAt(j);
      if (c !== 0) return c;
    }
    return 0;
  };
  let lo = 0, hi = seg.dictCount;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(mid) < 0) lo = mid + 1;
    else hi = mid;
  }
  const start = lo;
  hi = seg.dictCount;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(mid) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return [start, lo];
}
