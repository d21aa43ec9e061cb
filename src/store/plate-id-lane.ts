/**
 * A covered shard's code → tenant id map in arena memory (LoadedShard.readThrough, docs/storage-v2.md "Round 4",
 * step 4 as built): `ids[d]` is shard code d's position in its tenant's sorted dictionary, ascending in d. It
 * replaces the shard's 16-byte slots, and was a plain u32 a code: 1.12 B/read of the 26.5 resident at 20M
 * (bench/resident-breakdown.ts). It is stored in the smallest of three forms:
 *
 *   width 0 (Elias–Fano)
 *   ┌───────────────┬──────────────────────┬─────────────────────────────┬───────────────────────────┐
 *   │ head u32 × 4  │ samples u32 × S      │ high  u32 × W               │ low   L bits × n + pad     │
 *   │ L, W, S, 0    │ S = ceil(n / 64):    │ bit (ids[d] >> L) + d set,  │ ids[d] & (2^L − 1), packed │
 *   │               │ the bit of code 64 s │ for every d (n ones)        │ (src/core/packed-lanes.ts) │
 *   └───────────────┴──────────────────────┴─────────────────────────────┴───────────────────────────┘
 *
 *   width 2 (blocked)                                            width 4
 *   ┌──────────────────────────────┬──────────────────────────┐  ┌──────────────────┐
 *   │ base[b] = ids[256b]  u32 × B │ ids[d] − base[d >> 8]    │  │ ids[d]   u32 × n │
 *   │ B = ceil(n / 256)            │ u16 × n                  │  └──────────────────┘
 *   └──────────────────────────────┴──────────────────────────┘
 *
 * Elias–Fano (P. Elias, "Efficient storage and retrieval by content and address of static files", JACM 1974; R. Fano,
 * 1971; as in S. Vigna, "Quasi-succinct indices", WSDM 2013): with L = floor(log2(U / n)) for ids below U, each id's
 * low L bits are stored as they are and its high bits in unary, as the gaps between ones of a bitmap of
 * n + U / 2^L bits: at most 2 + L bits a code, whatever the ids. A shard holding one plate in r of its tenant's takes
 * ~2 + log2(r) bits a code: on bench:peers' data (3 tenants × 28 days; a shard holds ~1 in 8 of its tenant's plates)
 * ~5.5 bits with the samples against the blocked form's 16.1 (−0.9 B/read; bench/RESULTS.md). Code d's id is
 * ((position of the d-th one) − d) · 2^L + low[d]: the sample of d's group of 64 gives the position of its first
 * one, and the words after it are counted a popcount at a time (~2 words on those maps). A reader reading the
 * code after its last takes the next one instead, and gatherById decodes a range of codes in one pass.
 *
 * The walk (`plateIdsInto`: the hot list's covered probe over every code of a shard, plateIdArray) decodes a block of
 * codes into a scratch array, one loop per form over the map's arrays, instead of a reader call a code:
 *
 *   Elias–Fano   code lo's one by a select (its sample, a popcount a word), then word by word: w holds the bits of
 *                word wi not yet taken; code c's one is its lowest, at 32·wi + ctz(w), so its high part is that less
 *                c (kept as hc = 32·wi − c: +32 a word, −1 a code); its low L bits by one unaligned u32 load at bit
 *                c·L of the packed lane, in the same loop (no closure)
 *   blocked      the block's base once, then its u16 offsets
 *   u32          a copy
 *
 * The probe then reads its slots from that array, one typed-array load a code: on a 400k-code map like a 20M
 * tenant-day shard's, every code costs 2.0 ms of CPU this way against 3.8 through the reader (blocked: 0.6 and 1.0;
 * bench/plate-id-reads.ts). A lower bound does not select: v's high part h = v >> L is the
 * count of zeros before the ones of the codes whose ids share it, so it skips to the h-th zero (`efSeek`), and a
 * query's ascending lookups in one map continue from the last one's bit (`idCursor`). The blocked form stays for
 * maps where it is smaller (a shard holding most of its tenant's plates, ids nearly consecutive: L = 0), u32 where
 * neither is.
 *
 * The blocked form: 2 + 4/256 B a shard plate instead of 4 when every block's ids span < 2^16 (the ids of
 * consecutive codes are close: a tenant-day shard holds a large share of its tenant's plates). The bases come first
 * so both arrays are aligned in a 16-aligned region. Every reader goes through `plateIdReader` (the loader, covered
 * distances and probes, the hot-list and cloned tasks on the pool's workers, the install's growth remap), which
 * hands back one closure per form, as `rowsReader` does for the postings lane; a searched map goes through
 * `idLowerBound` (or an `idCursor`, for a query's ascending lookups), a range of codes of a broad pattern through
 * `gatherById`.
 */
import { kPackedMaxBits, packedLaneBytes, packedReader, writePacked } from '../core/packed-lanes.js';
import { gallopFrom } from '../core/sorted-search.js';

/** Codes per base: a power of two, so a code's base is `d >>> kIdBlockShift`. */
export const kIdBlockShift = 8;
const kIdBlock = 1 << kIdBlockShift;
/** Codes per sample of an Elias–Fano map: a power of two; 64 keeps a select to ~2 words at ~2 bits a code of bitmap. */
export const kEfSampleShift = 6;
const kEfHeadBytes = 16;

/** The forms of a map: 0 (Elias–Fano), 2 (u16 offsets from per-block u32 bases) or 4 (u32). */
export type PlateIdWidth = 0 | 2 | 4;

/**
 * The largest span of ids a block of width 2 may hold (2^16 − 1), and whether a map may take the Elias–Fano form.
 * Knobs for tests, which lower the span so that maps of small test data take the u32 fallback too.
 *
 * Elias–Fano is off by default. With it, bench:peers' 20M data is 23.12 B/read instead of 24.07. Lookups go by the
 * high parts (`efSeek`) and one query's ascending ones through a cursor (`idCursor`; docs/storage-v2.md, "The
 * Elias–Fano maps read through a cursor"); the hot list's covered probe walks the map a block of 256 codes at a time
 * (`plateIdsInto`), where a reader call a code cost ~4× the blocked form's. With the walk, the 100k exact hot list at
 * 20M still took +3 % to +15 % CPU with Elias–Fano in alternated rounds in one process (the fuzzy and heavy lists and
 * contains less), and bench:peers' pair at 20M had it under 2× DuckDB with either form (bench/RESULTS.md, "Issue 11/12:
 * the hot list's covered probe walks its map a block at a time"): not shown no slower, so still off.
 */
export const plateIdSpan = { max: 0xffff, eliasFano: false };

/** A map as stored: its region's bytes (a view of arena memory, shared with the pool's workers), codes and width. */
export interface PlateIdLane {
  bytes: Uint8Array;
  count: number;
  width: PlateIdWidth;
}

/** Code d's tenant id. */
export type IdAt = (d: number) => number;

/** An Elias–Fano map's parts: low bits a code, bitmap words, samples. */
interface EfShape {
  low: number;
  words: number;
  samples: number;
}

function efShape(n: number, max: number): EfShape {
  const low = max + 1 > n ? Math.min(kPackedMaxBits, 31 - Math.clz32(Math.min(0xffffffff, Math.floor((max + 1) / n)))) : 0;
  return { low, words: Math.ceil((n + Math.floor(max / 2 ** low) + 1) / 32), samples: Math.ceil(n / (1 << kEfSampleShift)) };
}

function efBytes(n: number, e: EfShape): number {
  return kEfHeadBytes + 4 * e.samples + 4 * e.words + (e.low > 0 ? packedLaneBytes(n, e.low) : 0);
}

/** The width `ids` (ascending) is stored at, and the bytes it then takes (≥ 16: an arena region's least). */
export function plateIdLayout(ids: ArrayLike<number>): { width: PlateIdWidth; bytes: number } {
  const n = ids.length, blocks = Math.ceil(n / kIdBlock);
  let blocked = n > 0;
  for (let b = 0; b < blocks && blocked; b++) {
    const first = b * kIdBlock, last = Math.min(n, first + kIdBlock) - 1;
    if (ids[last]! - ids[first]! > plateIdSpan.max) blocked = false;
  }
  let width: PlateIdWidth = blocked ? 2 : 4;
  let bytes = blocked ? 4 * blocks + 2 * n : 4 * n;
  if (n > 0 && plateIdSpan.eliasFano) {
    const ef = efBytes(n, efShape(n, ids[n - 1]!));
    if (ef < bytes) {
      width = 0;
      bytes = ef;
    }
  }
  return { width, bytes: Math.max(16, bytes) };
}

/** Writes `ids` (ascending) into `out` (16-aligned in its buffer, ≥ plateIdLayout's bytes) at `width`. */
export function writePlateIds(ids: ArrayLike<number>, out: Uint8Array, width: PlateIdWidth): PlateIdLane {
  const n = ids.length;
  if (width === 4) {
    new Uint32Array(out.buffer, out.byteOffset, n).set(ids);
    return { bytes: out, count: n, width };
  }
  if (width === 0) {
    const e = efShape(n, ids[n - 1]!);
    const v = efViews(out.buffer, out.byteOffset, n, e);
    v.head.set([e.low, e.words, e.samples, 0]);
    v.high.fill(0);
    const lowMask = 2 ** e.low;
    const lows = e.low > 0 ? new Uint32Array(n) : null;
    for (let d = 0; d < n; d++) {
      const id = ids[d]!;
      const pos = Math.floor(id / lowMask) + d;
      v.high[pos >>> 5]! |= 1 << (pos & 31);
      if ((d & ((1 << kEfSampleShift) - 1)) === 0) v.samples[d >>> kEfSampleShift] = pos;
      if (lows) lows[d] = id % lowMask;
    }
    if (lows) writePacked(new Uint8Array(out.buffer, v.lowAt, packedLaneBytes(n, e.low)), lows, n, e.low);
    return { bytes: new Uint8Array(out.buffer, out.byteOffset, efBytes(n, e)), count: n, width };
  }
  const blocks = Math.ceil(n / kIdBlock);
  const bases = new Uint32Array(out.buffer, out.byteOffset, blocks);
  const offsets = new Uint16Array(out.buffer, out.byteOffset + 4 * blocks, n);
  for (let b = 0; b < blocks; b++) bases[b] = ids[b * kIdBlock]!;
  for (let d = 0; d < n; d++) offsets[d] = ids[d]! - bases[d >>> kIdBlockShift]!;
  return { bytes: out, count: n, width };
}

/** An Elias–Fano map's arrays at `ptr` of `buffer`. */
function efViews(buffer: ArrayBufferLike, ptr: number, n: number, e: EfShape): { head: Uint32Array; samples: Uint32Array; high: Uint32Array; lowAt: number } {
  const samplesAt = ptr + kEfHeadBytes, highAt = samplesAt + 4 * e.samples;
  return {
    head: new Uint32Array(buffer, ptr, 4), samples: new Uint32Array(buffer, samplesAt, e.samples),
    high: new Uint32Array(buffer, highAt, e.words), lowAt: highAt + 4 * e.words,
  };
}

/**
 * An Elias–Fano map's parts as its readers use them, made once a stored map (views and the low bits' reader: a
 * lower bound a shard and query would otherwise make five views and a closure each time).
 */
interface EfParts {
  shape: EfShape;
  samples: Uint32Array;
  high: Uint32Array;
  low: (d: number) => number;
  scale: number;
  /** The packed low bits (null when L = 0) and their mask: a walk reads them in its own loop. */
  lows: DataView | null;
  lowMask: number;
}
const efPartsMade = new WeakMap<PlateIdLane, EfParts>();

function efParts(lane: PlateIdLane): EfParts {
  let p = efPartsMade.get(lane);
  if (!p) {
    const { bytes, count: n } = lane;
    const shape = efShapeAt(bytes.buffer, bytes.byteOffset);
    const { samples, high, lowAt } = efViews(bytes.buffer, bytes.byteOffset, n, shape);
    p = {
      shape, samples, high, low: shape.low > 0 ? packedReader(bytes.buffer, lowAt, n, shape.low) : () => 0, scale: 2 ** shape.low,
      lows: shape.low > 0 ? new DataView(bytes.buffer, lowAt, packedLaneBytes(n, shape.low)) : null, lowMask: 2 ** shape.low - 1,
    };
    efPartsMade.set(lane, p);
  }
  return p;
}

function efShapeAt(buffer: ArrayBufferLike, ptr: number): EfShape {
  const head = new Uint32Array(buffer, ptr, 4);
  return { low: head[0]!, words: head[1]!, samples: head[2]! };
}

/** The map of `count` codes at `width` stored at `ptr` of `buffer` (a worker's view of the arena). */
export function plateIdLaneAt(buffer: ArrayBufferLike, ptr: number, count: number, width: PlateIdWidth): PlateIdLane {
  const bytes = width === 0 ? efBytes(count, efShapeAt(buffer, ptr)) : width === 2 ? 4 * Math.ceil(count / kIdBlock) + 2 * count : 4 * count;
  return { bytes: new Uint8Array(buffer, ptr, bytes), count, width };
}

/** Bits set in `w` (a u32). */
function popcount(w: number): number {
  w -= (w >>> 1) & 0x55555555;
  w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
  return (Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Index of the lowest bit set in `w` (≠ 0). */
const lowestBit = (w: number) => 31 - Math.clz32(w & -w);

/** Bits set in each byte, and `kByteSelect[b << 3 | r]`: the index of byte b's r-th set bit (r < its bits set). */
const kBytePop = new Uint8Array(256);
const kByteSelect = new Uint8Array(256 * 8);
for (let b = 0; b < 256; b++) {
  for (let i = 0; i < 8; i++) if (b & (1 << i)) kByteSelect[(b << 3) | kBytePop[b]!++] = i;
}

/**
 * Index of the r-th set bit (from 0) of `w` (r < popcount(w)): a byte at a time through the tables, ≤ 4 steps where
 * clearing the lowest bit r times took up to 31 (~8 on these maps' words, 16 ones a word).
 */
function selectInWord(w: number, r: number): number {
  for (let base = 0; ; base += 8, w >>>= 8) {
    const b = w & 0xff, c = kBytePop[b]!;
    if (r < c) return base + kByteSelect[(b << 3) | r]!;
    r -= c;
  }
}

/** Position of code d's one in an Elias–Fano map's bitmap: its group's sample, the words after it a popcount at a time. */
function efSelect(p: EfParts, d: number): number {
  const high = p.high;
  const pos = p.samples[d >>> kEfSampleShift]!;
  let r = d & ((1 << kEfSampleShift) - 1);
  let wi = pos >>> 5, w = high[wi]! & (-1 << (pos & 31));
  for (let c = popcount(w); r >= c; c = popcount(w)) {
    r -= c;
    w = high[++wi]!;
  }
  return wi * 32 + selectInWord(w, r);
}

/** Position of the first one at or after bit q of an Elias–Fano map's bitmap (one exists: q is at or before a code's). */
function efNextOne(high: Uint32Array, q: number): number {
  let wi = q >>> 5, w = high[wi]! & (-1 << (q & 31));
  while (w === 0) w = high[++wi]!;
  return wi * 32 + lowestBit(w);
}

/**
 * A place in an Elias–Fano map's bitmap for a lower bound to start from: bit `q`, with `d` ones before it (so
 * q − d zeros), every code before d of id < the value last searched for. (0, 0) is the start; a sample s gives
 * (samples[s] + 1, 64 s + 1) when code 64 s is below the value.
 */
interface EfPlace {
  q: number;
  d: number;
}

/**
 * The first code whose id is ≥ v (the map's count when none), from `at` (moved to the answer: bit q is then the
 * answer's one, or a zero before it). A code's id is h · 2^L + low with h its high part, the zeros before its one;
 * so the codes of ids ≥ v start among the ones right after the h-th zero, h = floor(v / 2^L), and only those ones
 * (the codes of high part h: ~1 on these maps) are compared by their low bits. The h-th zero is found by skipping
 * zeros a word at a time from `at`, after a binary search over the samples' high parts (no low bits read) when
 * the next sample is below v: each lookup costs ~log2(samples) loads and a few words, and a lookup after a close
 * one (ascending lookups from the same place: a cursor) only the words between them. Vigna's "next GEQ"
 * (Quasi-succinct indices, WSDM 2013, 3.3), with the samples of ones standing in for the zeros' skip pointers.
 */
function efSeek(p: EfParts, n: number, v: number, at: EfPlace): number {
  const { samples, high, low, scale } = p;
  const h = Math.floor(v / scale), vl = v - h * scale;
  let q = at.q, d = at.d;
  if (d >= n) return n;
  // past the next sample: the last sample below h, by its high part (its one's position less its code)
  const S = samples.length;
  let a = (d >>> kEfSampleShift) + 1;
  if (a < S && samples[a]! - (a << kEfSampleShift) < h) {
    let b = S - 1;
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if (samples[mid]! - (mid << kEfSampleShift) < h) a = mid;
      else b = mid - 1;
    }
    q = samples[a]! + 1;
    d = (a << kEfSampleShift) + 1;
  }
  // skip to just after the h-th zero (q − d zeros are before q already)
  let need = h - (q - d);
  if (need > 0) {
    const words = high.length;
    let wi = q >>> 5, w = ~high[wi]! & (-1 << (q & 31));
    for (let c = popcount(w); need > c; c = popcount(w)) {
      need -= c;
      if (++wi >= words) {
        at.q = words * 32;
        at.d = n;
        return n;
      }
      w = ~high[wi]!;
    }
    q = wi * 32 + selectInWord(w, need - 1) + 1;
    d = q - h;
  }
  // the ones from q on until a zero are the codes of high part h (none when need < 0: code d's is above h)
  if (need >= 0) {
    while (d < n && ((high[q >>> 5]! >>> (q & 31)) & 1) === 1 && low(d) < vl) {
      q++;
      d++;
    }
  }
  at.q = q;
  at.d = d;
  return d;
}

/**
 * An Elias–Fano map's reader: code d's one found from its group's sample (`efSelect`), or, for d one past the last
 * code read, as the next one after that code's.
 */
function efReader(lane: PlateIdLane): IdAt {
  const p = efParts(lane);
  const { high, low, scale } = p;
  let lastD = -2, lastPos = 0;
  return (d) => {
    const pos = d === lastD + 1 ? efNextOne(high, lastPos + 1) : d === lastD ? lastPos : efSelect(p, d);
    lastD = d;
    lastPos = pos;
    return (pos - d) * scale + low(d);
  };
}

/** Reads a stored map: code d → its tenant id. */
export function plateIdReader(lane: PlateIdLane): IdAt {
  const { bytes, count: n } = lane;
  if (lane.width === 0) return efReader(lane);
  if (lane.width === 4) {
    const ids = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    return (d) => ids[d]!;
  }
  const blocks = Math.ceil(n / kIdBlock);
  const bases = new Uint32Array(bytes.buffer, bytes.byteOffset, blocks);
  const offsets = new Uint16Array(bytes.buffer, bytes.byteOffset + 4 * blocks, n);
  return (d) => bases[d >>> kIdBlockShift]! + offsets[d]!;
}

/**
 * `out[c] = byId[id(c)]` for the codes c in [lo, hi) of a stored map, and how many of those differ from `skip`:
 * a covered shard's pattern distances gathered from its tenant's (src/query/covered-distances.ts), every code of
 * a broad pattern. One loop per width over the lane's arrays, not a reader call a code: per call, the gather of a
 * 20M shard's ~400k codes took ~40 % more CPU through `plateIdReader` than the u32 map's indexed loop. An
 * Elias–Fano map is decoded in one pass: code lo's one found once, then each next one in the bitmap's words.
 */
export function gatherById(lane: PlateIdLane, lo: number, hi: number, byId: Uint8Array, out: Uint8Array, skip: number): number {
  const { bytes, count: n } = lane;
  let differ = 0;
  if (lane.width === 0) {
    if (lo >= hi) return 0;
    const p = efParts(lane);
    const { high, low, scale } = p;
    // code lo's one, then every next one: w holds the bits of word wi not yet taken
    const first = efSelect(p, lo);
    let wi = first >>> 5, w = high[wi]! & (-1 << (first & 31));
    for (let c = lo; c < hi; c++) {
      while (w === 0) w = high[++wi]!;
      const pos = wi * 32 + lowestBit(w);
      w &= w - 1;
      const v = byId[(pos - c) * scale + low(c)]!;
      out[c] = v;
      if (v !== skip) differ++;
    }
    return differ;
  }
  if (lane.width === 4) {
    const ids = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    for (let c = lo; c < hi; c++) {
      const v = byId[ids[c]!]!;
      out[c] = v;
      if (v !== skip) differ++;
    }
    return differ;
  }
  const blocks = Math.ceil(n / kIdBlock);
  const bases = new Uint32Array(bytes.buffer, bytes.byteOffset, blocks);
  const offsets = new Uint16Array(bytes.buffer, bytes.byteOffset + 4 * blocks, n);
  for (let c = lo; c < hi;) {
    const b = c >>> kIdBlockShift, end = Math.min(hi, (b + 1) << kIdBlockShift);
    const base = bases[b]!;
    for (; c < end; c++) {
      const v = byId[base + offsets[c]!]!;
      out[c] = v;
      if (v !== skip) differ++;
    }
  }
  return differ;
}

/**
 * The first code in [lo, n) whose id is ≥ v (n when none) in the stored map `lane`, read through `at` (its reader).
 * Blocked and u32 maps: a binary search over `at`. An Elias–Fano map: `efSeek` from the start (the samples' high
 * parts, then the words to v's high part), the codes' ids ascending so that the answer from lo is the larger of lo
 * and the answer from 0.
 */
export function idLowerBound(lane: PlateIdLane, at: IdAt, v: number, lo = 0): number {
  const n = lane.count;
  if (lane.width === 0 && lo < n) return Math.max(lo, efSeek(efParts(lane), n, v, { q: 0, d: 0 }));
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A map read by one query in ascending lookups (the tenant pairs' plate ids against a shard's map: pairsInShard).
 * `atLeast(v)` is `idLowerBound(v)` from code 0, and `at` the reader; the cursor keeps its place, so a lookup after
 * a close one costs only the distance between them: an Elias–Fano map continues from the last answer's bit (the
 * words to v's high part, or the samples when past the next one); a blocked or u32 map gallops from the last
 * answer. A lookup below the last one starts again from code 0 (Elias–Fano) or gallops back (the others): any order
 * answers right, ascending is fast.
 */
export interface IdCursor {
  readonly count: number;
  /** The first code whose id is ≥ v (count when none). */
  atLeast(v: number): number;
  /** Code d's id (d < count). */
  at: IdAt;
}

export function idCursor(lane: PlateIdLane): IdCursor {
  const n = lane.count, read = plateIdReader(lane);
  if (lane.width === 0) {
    const p = efParts(lane), place: EfPlace = { q: 0, d: 0 };
    const { high, low, scale } = p;
    let last = -Infinity;
    return {
      count: n,
      // the last answer's id from its place (its one is the first at or after bit q), without a select
      at: (d) => (d === place.d ? (efNextOne(high, place.q) - d) * scale + low(d) : read(d)),
      atLeast(v) {
        if (v < last) place.q = place.d = 0;
        last = v;
        return efSeek(p, n, v, place);
      },
    };
  }
  let c = 0;
  return {
    count: n,
    at: read,
    atLeast(v) {
      if (n === 0) return 0;
      c = gallopFrom(n, Math.min(c, n - 1), (j) => read(j) < v);
      return c;
    },
  };
}

/**
 * Decodes codes lo, lo + 1, … of a stored map into `out` (as many as it holds, or up to the last code); returns how
 * many: a walk over a map's codes a block at a time (the covered hot-list probe over every code, `plateIdArray`), one
 * loop per form over the lane's arrays where the reader is a closure call a code. An Elias–Fano map in one pass over
 * its bitmap's ones from code lo's (one select a call), the low bits read in the same loop from the packed lane; a
 * blocked map a base a block of 256 and its u16 offsets; a u32 map a copy.
 */
export function plateIdsInto(lane: PlateIdLane, lo: number, out: Uint32Array): number {
  const m = Math.max(0, Math.min(out.length, lane.count - lo));
  if (m === 0) return 0;
  const { bytes, count: n } = lane;
  if (lane.width === 0) {
    const p = efParts(lane);
    const { high, scale, lows, lowMask } = p;
    const L = p.shape.low;
    const first = efSelect(p, lo);
    let wi = first >>> 5, w = high[wi]! & (-1 << (first & 31));
    // the one of code c is at bit 32 wi + (its index in w); its high part is that less c
    let hc = (wi << 5) - lo;
    if (L === 0) {
      for (let k = 0; k < m; k++) {
        while (w === 0) {
          w = high[++wi]!;
          hc += 32;
        }
        out[k] = hc + 31 - Math.clz32(w & -w);
        w &= w - 1;
        hc--;
      }
      return m;
    }
    for (let k = 0, bit = lo * L; k < m; k++, bit += L) {
      while (w === 0) {
        w = high[++wi]!;
        hc += 32;
      }
      out[k] = (hc + 31 - Math.clz32(w & -w)) * scale + ((lows!.getUint32(bit >>> 3, true) >>> (bit & 7)) & lowMask);
      w &= w - 1;
      hc--;
    }
    return m;
  }
  if (lane.width === 4) {
    out.set(new Uint32Array(bytes.buffer, bytes.byteOffset + 4 * lo, m));
    return m;
  }
  const blocks = Math.ceil(n / kIdBlock);
  const bases = new Uint32Array(bytes.buffer, bytes.byteOffset, blocks);
  const offsets = new Uint16Array(bytes.buffer, bytes.byteOffset + 4 * blocks, n);
  for (let k = 0, c = lo; k < m;) {
    const b = c >>> kIdBlockShift, end = Math.min(m, k + ((b + 1) << kIdBlockShift) - c);
    const base = bases[b]!;
    for (; k < end; k++, c++) out[k] = base + offsets[c]!;
  }
  return m;
}

/** Every id of a stored map, in code order (the install's growth remap; tests). */
export function plateIdArray(lane: PlateIdLane): Uint32Array {
  const out = new Uint32Array(lane.count);
  plateIdsInto(lane, 0, out);
  return out;
}
