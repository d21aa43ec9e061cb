/**
 * Hot-list search (`/v1/search/hotlist`): up to 1,000,000 entries, each answered exactly as a separate
 * search would be, but matched against each source's distinct plates once for all entries:
 *
 *   exact (no OCR)          binary search of the entry in the sorted dictionary (a hash of the live plates)
 *   exact with OCR          a per-shard map from OCR-mapped plate to entries of the dictionary
 *   fuzzy (k ≤ 2, ±OCR/OSA) symmetric-delete keys (Garbe, SymSpell, 2012): every entry gives its strings
 *                           with up to k characters deleted; every dictionary plate probes with its own
 *                           deletes (up to the largest k). Lev or OSA distance ≤ k implies a shared key, so
 *                           no match is missed; every candidate is verified with the exact distance.
 *   wildcard                the entry's matcher over the dictionary
 *
 * Matching dictionary entries give rows through the plate → rows index; rows then pass the filter and
 * feed the entry's own top-k (limitPerPlate) with an exact total.
 */
import { QueryBudget } from './budget.js';
import { ocrMap } from '../model/plate.js';
import type { HotlistQuery, HotlistResult, PlateMatch } from '../model/query.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { materialise, rowPasses, shardMasks, TopK, type Candidate } from './executor.js';
import { liveRowTest } from './live-scan.js';
import { kLiveBlockRows } from '../store/live-columns.js';
import { liveTimeRange, prevPlateRow, windowPlates } from '../store/live-plate-chain.js';
import { prepareFilter } from './filter-plan.js';
import { boundedDistance, compilePlateMatch, type PlateMatcher } from './plate-matcher.js';
import type { Source } from './sources.js';
import { PackedKeyIndex } from './key-index.js';

/**
 * Symmetric-delete keys as exact integers instead of strings: a plate (≤ 10 characters of 36 symbols)
 * in base 37 with digits 1–36 is < 37^10 ≈ 4.8e15 < 2^53, and no two strings (of any lengths) share a
 * number. Deleting characters is skipping digits, so no strings are made on the dictionary side.
 */
const kDigit: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = c - 47; // '0'–'9' → 1–10
  for (let c = 65; c <= 90; c++) t[c] = c - 54; // 'A'–'Z' → 11–36
  return t;
})();
const kOcrBytes: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) t[c] = ocrMap(String.fromCharCode(c)).charCodeAt(0);
  return t;
})();

/** The key of `codes[0..len)` without positions `skip1` and `skip2`. */
function packKey(codes: Uint8Array, len: number, skip1: number, skip2: number): number {
  let v = 0;
  for (let j = 0; j < len; j++) if (j !== skip1 && j !== skip2) v = v * 37 + kDigit[codes[j]!]!;
  return v;
}

/** Calls `visit` with every key of `codes` with up to `k` (≤ 2) deletions (duplicates possible). */
function forEachDeleteKey(codes: Uint8Array, len: number, k: number, visit: (key: number) => void): void {
  visit(packKey(codes, len, -1, -1));
  if (k < 1) return;
  for (let i = 0; i < len; i++) {
    if (i > 0 && codes[i] === codes[i - 1]) continue; // deleting either of two equal neighbours gives the same key
    visit(packKey(codes, len, i, -1));
  }
  if (k < 2) return;
  for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) visit(packKey(codes, len, i, j));
}

interface FuzzyIndex {
  ocr: boolean;
  maxK: number;
  keys: PackedKeyIndex;
}

const kLiveShift = Math.log2(kLiveBlockRows);
const kLiveMask = kLiveBlockRows - 1;

/** Plans built once per query: which entries use which method. */
export class HotlistPlan {
  readonly exact: number[] = [];
  /** Exact entries by packed key: [plain, OCR-mapped]; a dictionary probes with its own keys. */
  readonly exactKeys: [PackedKeyIndex, PackedKeyIndex];
  readonly fuzzy: FuzzyIndex[] = [];
  readonly wildcard: Array<{ entry: number; matcher: PlateMatcher }> = [];

  /** `budget` is ticked per entry: a million fuzzy entries (k = 2, ~55 delete keys each) take seconds. */
  /** `only`: the entries this plan serves (the rest are left to the hot-list join, src/query/hotlist-join.ts). */
  constructor(readonly entries: readonly PlateMatch[], budget?: QueryBudget, only?: (e: PlateMatch) => boolean) {
    this.exactKeys = [new PackedKeyIndex(entries.length), new PackedKeyIndex(16)];
    const fuzzyBy = [new PackedKeyIndex(16), new PackedKeyIndex(16)];
    const codes = new Uint8Array(16);
    const maxK = [0, 0];
    entries.forEach((e, i) => {
      budget?.tick();
      if (only && !only(e)) return;
      if (e.mode === 'exact' || (e.mode === 'fuzzy' && e.maxEdits === 0 && !e.transpositions)) {
        const p = e.ocr ? ocrMap(e.pattern) : e.pattern;
        for (let j = 0; j < p.length; j++) codes[j] = p.charCodeAt(j);
        this.exactKeys[e.ocr ? 1 : 0].add(packKey(codes, p.length, -1, -1), i);
        if (!e.ocr) this.exact.push(i);
      } else if (e.mode === 'fuzzy') {
        const o = e.ocr ? 1 : 0;
        const p = e.ocr ? ocrMap(e.pattern) : e.pattern;
        for (let j = 0; j < p.length; j++) codes[j] = p.charCodeAt(j);
        forEachDeleteKey(codes, p.length, e.maxEdits, (key) => fuzzyBy[o]!.add(key, i));
        maxK[o] = Math.max(maxK[o]!, e.maxEdits);
      } else {
        this.wildcard.push({ entry: i, matcher: compilePlateMatch(e) });
      }
    });
    for (const o of [0, 1]) if (fuzzyBy[o]!.size > 0) this.fuzzy.push({ ocr: o === 1, maxK: maxK[o]!, keys: fuzzyBy[o]! });
  }
}

/** Distinct plates of a source, with the rows of each. */
interface PlateDictionary {
  count: number;
  /** Writes entry `d`'s characters into `out`; returns its length. */
  codes(d: number, out: Uint8Array): number;
  plateAt(d: number): string;
  plates: readonly string[];
  find(plate: string): number;
  rows(d: number): ArrayLike<number>;
}

function shardDictionary(s: LoadedShard): PlateDictionary {
  return {
    count: s.layout.dictCount,
    codes: (d, out) => s.plateChars(d, out),
    plateAt: (d) => s.plateAt(d),
    get plates() {
      return s.plates();
    },
    find: (p) => s.findPlate(p),
    rows: (d) => s.rowsOfPlate(d),
  };
}

/**
 * The live plates with a row in [gLo, gHi) (codes in first-seen order), as a dictionary, and where each one's
 * walk starts (its newest row below gHi). A generation's dictionary holds every plate of its rows, so a 7-day
 * window over 28 days of live rows reaches a fifth of its plates; the shards outside the window are skipped
 * whole, and probing every live plate with its delete keys was most of a live fuzzy hot list.
 */
function liveDictionary(src: Source & { kind: 'live' }, gLo: number, gHi: number): { dict: PlateDictionary; start: Int32Array } {
  const view = src.view;
  const names = view.cols.plates;
  const count = view.plateCount;
  const { codes: code, starts: start } = windowPlates(view, gLo, gHi);
  const n = code.length;
  let indexOf: Int32Array | undefined; // code → entry, for lookups of a few exact entries
  let plates: string[] | undefined;
  const dict: PlateDictionary = {
    count: n,
    // the slot's bytes are the plate's characters (at most 10): read from the string, no view per plate
    codes: (d, out) => {
      const plate = names[code[d]!]!;
      const len = Math.min(plate.length, 10);
      for (let j = 0; j < len; j++) out[j] = plate.charCodeAt(j);
      return len;
    },
    plateAt: (d) => names[code[d]!]!,
    get plates() {
      return (plates ??= Array.from(code, (c) => names[c]!));
    },
    find: (pl) => {
      const c = view.findPlate(pl);
      if (c < 0) return -1;
      if (!indexOf) {
        indexOf = new Int32Array(count).fill(-1);
        code.forEach((x, i) => (indexOf![x] = i));
      }
      return indexOf[c]!;
    },
    rows: (d) => view.rowsOfPlate(code[d]!),
  };
  return { dict, start };
}

/** Calls `hit(entry, dictEntry, distance)` for every (entry, distinct plate) pair that matches. */
function matchEntries(plan: HotlistPlan, dict: PlateDictionary, hit: (entry: number, d: number, distance: number) => void, budget?: QueryBudget): void {
  const entries = plan.entries;
  // exact: few entries → a binary search each; many → every dictionary plate probes the entries' keys
  const probePlain = plan.exact.length * 2 >= dict.count; // ~300 ns a binary search vs ~125 ns a probe
  if (!probePlain) {
    for (const i of plan.exact) {
      const d = dict.find(entries[i]!.pattern);
      if (d >= 0) hit(i, d, 0);
    }
  }
  const plain = probePlain && plan.exactKeys[0].size > 0 ? plan.exactKeys[0] : undefined;
  const ocr = plan.exactKeys[1].size > 0 ? plan.exactKeys[1] : undefined;
  if (plain || ocr) {
    const buf = new Uint8Array(16);
    for (let d = 0; d < dict.count; d++) {
      budget?.tick();
      const len = dict.codes(d, buf);
      if (plain) plain.forEach(packKey(buf, len, -1, -1), (i) => hit(i, d, 0));
      if (ocr) {
        for (let j = 0; j < len; j++) buf[j] = kOcrBytes[buf[j]!]!;
        ocr.forEach(packKey(buf, len, -1, -1), (i) => hit(i, d, 0));
      }
    }
  }
  const codes = new Uint8Array(16);
  for (const idx of plan.fuzzy) {
    // seen[i] === d + 1: entry i was already verified against dictionary entry d
    const seen = new Int32Array(entries.length);
    for (let d = 0; d < dict.count; d++) {
      budget?.tick();
      const len = dict.codes(d, codes);
      if (idx.ocr) for (let j = 0; j < len; j++) codes[j] = kOcrBytes[codes[j]!]!;
      let probe: string | undefined;
      forEachDeleteKey(codes, len, idx.maxK, (key) => {
        idx.keys.forEach(key, (i) => {
          if (seen[i] === d + 1) return;
          seen[i] = d + 1;
          const e = entries[i]!;
          probe ??= idx.ocr ? ocrMap(dict.plateAt(d)) : dict.plateAt(d);
          const pattern = e.ocr ? ocrMap(e.pattern) : e.pattern;
          const dist = boundedDistance(pattern, probe, e.maxEdits, e.transpositions);
          if (dist <= e.maxEdits) hit(i, d, dist);
        });
      });
    }
  }
  for (const { entry, matcher } of plan.wildcard) {
    dict.plates.forEach((plate, d) => {
      budget?.tick();
      if (matcher(plate) >= 0) hit(entry, d, 0);
    });
  }
}

export function executeHotlist(sources: readonly Source[], query: HotlistQuery, signal?: AbortSignal): HotlistResult {
  const budget = QueryBudget.of(signal);
  const plan = new HotlistPlan(query.entries, budget);
  const tops = new Map<number, TopK>();
  collectHotlist(sources, plan, query, budget, tops);
  return hotlistAnswer(query, tops, budget);
}

/** Each entry's TopK (limitPerPlate), made on first use. */
export function entryTop(tops: Map<number, TopK>, i: number, limit: number): TopK {
  let t = tops.get(i);
  if (!t) tops.set(i, (t = new TopK(limit)));
  return t;
}

/** Feeds every row of `sources` that matches an entry of `plan` into that entry's TopK in `tops`. */
export function collectHotlist(sources: readonly Source[], plan: HotlistPlan, query: HotlistQuery, budget: QueryBudget | undefined, tops: Map<number, TopK>): void {
  const topOf = (i: number) => entryTop(tops, i, query.limitPerPlate);
  for (const src of sources) {
    budget?.check();
    const p = prepareFilter(query.filter, src.minTs);
    if (p.empty) continue;
    if (src.kind === 'shard') {
      const s = src.shard;
      if (s.rows === 0 || s.meta.maxTs < p.lo || s.meta.minTs >= p.hi) continue;
      const masks = shardMasks(s, p);
      if (masks.none) continue;
      matchEntries(plan, shardDictionary(s), (entry, d, distance) => {
        for (const i of s.rowsOfPlate(d)) {
          budget?.tick();
          const t = s.tsAt(i);
          if (!rowPasses(s, i, p, t, masks)) continue;
          topOf(entry).push({ distance, ts: t, ordinal: src.ordinal, seq: s.seqAt(i), source: src, row: i });
        }
      }, budget);
    } else {
      const view = src.view;
      const test = liveRowTest(view, p);
      if (!test) continue;
      // only the blocks the window reaches can hold a passing row: each plate's chain walk is bounded to them
      const [gLo, gHi] = liveTimeRange(view, p.lo, p.hi);
      if (gLo >= gHi) continue;
      const { dict, start } = liveDictionary(src, gLo, gHi);
      const blocks = view.cols.blocks;
      matchEntries(plan, dict, (entry, d, distance) => {
        for (let g = start[d]!; g >= gLo; g = prevPlateRow(view, g)) {
          budget?.tick();
          const block = blocks[g >>> kLiveShift]!;
          const t = block.tsAt(g & kLiveMask);
          if (!test(g, t)) continue;
          const top = topOf(entry);
          // a row that cannot enter the entry's full heap is only counted: no candidate, no seq read
          if (!top.wants(distance, t)) top.countOnly(1);
          else top.push({ distance, ts: t, ordinal: src.ordinal, seq: block.seq[g & kLiveMask]!, source: src, row: g } satisfies Candidate);
        }
      }, budget);
    }
  }
}

/** The answer from each entry's TopK: entries in query order, hits materialised. */
export function hotlistAnswer(query: HotlistQuery, tops: Map<number, TopK>, budget: QueryBudget | undefined): HotlistResult {
  const matches: HotlistResult['matches'] = [];
  // plate strings per shard and dictionary entry, decoded once: an entry's hits share a plate or a few
  const plates = new Map<LoadedShard, Map<number, string>>();
  const plateOf = (s: LoadedShard, d: number): string => {
    let m = plates.get(s);
    if (!m) plates.set(s, (m = new Map()));
    let p = m.get(d);
    if (p === undefined) m.set(d, (p = s.plateAt(d)));
    return p;
  };
  query.entries.forEach((e, i) => {
    const top = tops.get(i);
    if (!top || top.total === 0) return;
    const hits = top.result().map((c) => {
      budget?.tick(); // a million entries' hits to build
      return materialise(c, plateOf);
    });
    matches.push({ entry: e.pattern, total: top.total, truncated: top.total > hits.length, hits });
  });
  return { matches };
}
