/**
 * The hot-list matcher: an index built once from a list's entries that tells, for each plate of a
 * batch, which entries match it and at what distance, with exactly the semantics of
 * `plateDistance` in src/query/reference/search.ts (tested differentially against it).
 *
 * - Entries without `?`/`*` take the list's mode: `exact` (a hash probe) or `fuzzy` with k ≤ 2
 *   (symmetric-delete candidates verified by the bounded Levenshtein/OSA distance): DeletionIndex.
 * - Entries with `?`/`*` are wildcard patterns (distance 0): WildcardIndex.
 * - `ocr`: entries and plates are both mapped through the confusion classes before anything else, so
 *   the distance is measured on the mapped strings, as API.md says.
 * - An entry whose `expires` (epoch ms) is ≤ the `now` of a probe never matches.
 *
 * Free of HTTP and of storage, so the engine's `/v1/search/hotlist` can use it over a shard's distinct
 * plates as well. Probes are synchronous and allocation-free; the matcher is immutable once built
 * (replacing a list builds a new matcher and swaps the reference).
 */
import type { PlateMatch } from '../model/query.js';
import { hasWildcard, kMaxPlateLength } from '../model/plate.js';
import { DeletionIndex, kSlot } from './deletion-index.js';
import { writePlateBytes } from './plate-bytes.js';
import { compilePattern, WildcardIndex } from './wildcard-index.js';

/** List-level matching options (the `match`, `maxEdits`, `ocr`, `transpositions` of a hot list). */
export interface MatchSpec {
  /** Mode of the entries without wildcards. */
  mode: 'exact' | 'fuzzy';
  /** 0–2; used only with `fuzzy`. */
  maxEdits: number;
  ocr: boolean;
  /** Optimal string alignment instead of Levenshtein; used only with `fuzzy`. */
  transpositions: boolean;
}

/** Called once per (plate, matching entry); `entry` indexes the patterns the matcher was built from. */
export type MatchCallback = (plate: number, entry: number, distance: number) => void;

// longest compiled wildcard pattern: 10 literals or `?` with a collapsed `*` around each
const kMaxCompiledPattern = 2 * kMaxPlateLength + 1;

export class HotlistMatcher {
  private readonly scratch = new Uint8Array(64);
  private batchBytes = new Uint8Array(0);
  private batchLens = new Uint8Array(0);
  private plateIndex = 0;
  private now = 0;
  private onMatch: MatchCallback = () => {};
  private readonly onPlain: (e: number, d: number) => void;
  private readonly onWild: (e: number) => void;

  private constructor(
    readonly spec: MatchSpec,
    readonly size: number,
    private readonly plain: DeletionIndex,
    private readonly plainIds: Uint32Array,
    private readonly wild: WildcardIndex,
    private readonly wildIds: Uint32Array,
    private readonly expires: Float64Array | undefined,
  ) {
    // bound once, so probing allocates no closures
    this.onPlain = (e, d) => {
      const entry = this.plainIds[e]!;
      if (this.expires === undefined || this.now < this.expires[entry]!) this.onMatch(this.plateIndex, entry, d);
    };
    this.onWild = (e) => {
      const entry = this.wildIds[e]!;
      if (this.expires === undefined || this.now < this.expires[entry]!) this.onMatch(this.plateIndex, entry, 0);
    };
  }

  /**
   * Builds the index. `patterns` are normalised (src/model/plate.ts) and valid (≤ 10 characters besides
   * `*`); `expires[i]` is entry i's expiry in epoch ms (`Infinity` for none), or omit it for no expiries.
   */
  static build(patterns: readonly string[], spec: MatchSpec, expires?: Float64Array): HotlistMatcher {
    const n = patterns.length;
    let wildCount = 0;
    for (let i = 0; i < n; i++) if (hasWildcard(patterns[i]!)) wildCount++;
    const plainCount = n - wildCount;

    const chars = new Uint8Array(plainCount * kSlot);
    const lens = new Uint8Array(plainCount);
    const plainIds = new Uint32Array(plainCount);
    const wildIds = new Uint32Array(wildCount);
    const offsets = new Uint32Array(wildCount + 1);
    let pool = new Uint8Array(Math.max(16, wildCount * 8));
    const mapped = new Uint8Array(256);
    let p = 0, w = 0, poolEnd = 0;
    for (let i = 0; i < n; i++) {
      const pattern = patterns[i]!;
      if (hasWildcard(pattern)) {
        const len = writePlateBytes(pattern, spec.ocr, mapped, 0);
        if (poolEnd + kMaxCompiledPattern > pool.length) {
          const grown = new Uint8Array(pool.length * 2 + kMaxCompiledPattern);
          grown.set(pool.subarray(0, poolEnd));
          pool = grown;
        }
        poolEnd = compilePattern(mapped, len, pool, poolEnd);
        wildIds[w] = i;
        offsets[++w] = poolEnd;
      } else {
        lens[p] = writePlateBytes(pattern, spec.ocr, chars, p * kSlot);
        plainIds[p++] = i;
      }
    }
    const k = spec.mode === 'fuzzy' ? spec.maxEdits : 0;
    const plain = new DeletionIndex(chars, lens, k, spec.mode === 'fuzzy' && spec.transpositions);
    const wild = new WildcardIndex(pool.slice(0, poolEnd), offsets);
    return new HotlistMatcher({ ...spec }, n, plain, plainIds, wild, wildIds, expires);
  }

  /**
   * For callers holding `PlateMatch`es (the engine's hot-list search): every non-wildcard entry must share
   * one mode/maxEdits/ocr/transpositions, as `/v1/search/hotlist` guarantees; wildcard entries must share `ocr`.
   */
  static fromPlateMatches(entries: readonly PlateMatch[]): HotlistMatcher {
    const first = entries.find((e) => e.mode !== 'wildcard') ?? entries[0];
    const spec: MatchSpec = {
      mode: first?.mode === 'fuzzy' ? 'fuzzy' : 'exact',
      maxEdits: first?.mode === 'fuzzy' ? first.maxEdits : 0,
      ocr: first?.ocr ?? false,
      transpositions: first?.mode === 'fuzzy' ? first.transpositions : false,
    };
    for (const e of entries) {
      const ok = e.ocr === spec.ocr && (e.mode === 'wildcard'
        || (e.mode === spec.mode && e.maxEdits === spec.maxEdits && e.transpositions === spec.transpositions));
      if (!ok) throw new Error('HotlistMatcher.fromPlateMatches: entries must share their match options');
    }
    return HotlistMatcher.build(entries.map((e) => e.pattern), spec);
  }

  /** Calls `onMatch(0, entry, distance)` for every live entry matching `plate` (normalised). */
  match(plate: string, now: number, onMatch: MatchCallback): void {
    this.probe(plate, 0, now, onMatch);
  }

  /**
   * Calls `onMatch(i, entry, distance)` for every (plate i, live matching entry) of the batch: first the
   * exact/fuzzy entries for the whole batch (DeletionIndex.probeBatch), then the wildcard entries.
   */
  matchBatch(plates: readonly string[], now: number, onMatch: MatchCallback): void {
    const n = plates.length;
    if (this.plain.entries > 0) {
      if (this.batchBytes.length < n * kSlot) {
        this.batchBytes = new Uint8Array(n * kSlot * 2);
        this.batchLens = new Uint8Array(n * 2);
      }
      // plates outside 1–10 characters cannot match; they are probed as empty plates of length 0 and skipped
      for (let i = 0; i < n; i++) {
        const p = plates[i]!;
        this.batchLens[i] = p.length >= 1 && p.length <= kMaxPlateLength ? writePlateBytes(p, this.spec.ocr, this.batchBytes, i * kSlot) : 0;
      }
      const expires = this.expires, plainIds = this.plainIds, lens = this.batchLens;
      this.plain.probeBatch(this.batchBytes, lens, n, (i, e, d) => {
        if (lens[i] === 0) return;
        const entry = plainIds[e]!;
        if (expires === undefined || now < expires[entry]!) onMatch(i, entry, d);
      });
    }
    if (this.wild.entries > 0) {
      this.now = now;
      this.onMatch = onMatch;
      for (let i = 0; i < n; i++) {
        const p = plates[i]!;
        if (p.length === 0 || p.length > kMaxPlateLength) continue;
        const len = writePlateBytes(p, this.spec.ocr, this.scratch, 0);
        this.plateIndex = i;
        this.wild.probe(this.scratch, len, this.onWild);
      }
    }
  }

  private probe(plate: string, index: number, now: number, onMatch: MatchCallback): void {
    if (plate.length === 0 || plate.length > kMaxPlateLength) return;
    const len = writePlateBytes(plate, this.spec.ocr, this.scratch, 0);
    this.plateIndex = index;
    this.now = now;
    this.onMatch = onMatch;
    if (this.plain.entries > 0) this.plain.probe(this.scratch, len, this.onPlain);
    if (this.wild.entries > 0) this.wild.probe(this.scratch, len, this.onWild);
  }

  /** Bytes held by the index's typed arrays. */
  get bytes(): number {
    return this.plain.bytes + this.wild.bytes + (this.expires?.byteLength ?? 0);
  }
}
