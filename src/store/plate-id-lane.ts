/**
 * A covered shard's code → tenant id map in arena memory (LoadedShard.readThrough, docs/storage-v2.md "Round 4",
 * step 4 as built): `ids[d]` is shard code d's position in its tenant's sorted dictionary, ascending in d. It
 * replaces the shard's 16-byte slots, and was a plain u32 a code: 1.12 B/read of the 26.5 resident at 20M
 * (bench/resident-breakdown.ts). Here it is stored as u16 offsets from a u32 base per block of 256 codes
 * wherever every block's ids span < 2^16 (the ids of consecutive codes are close: a tenant-day shard holds a
 * large share of its tenant's plates), u32 otherwise:
 *
 *   width 2 (blocked)                                            width 4
 *   ┌──────────────────────────────┬──────────────────────────┐  ┌──────────────────┐
 *   │ base[b] = ids[256b]  u32 × B │ ids[d] − base[d >> 8]    │  │ ids[d]   u32 × n │
 *   │ B = ceil(n / 256)            │ u16 × n                  │  └──────────────────┘
 *   └──────────────────────────────┴──────────────────────────┘
 *
 * 2 + 4/256 B a shard plate instead of 4 (−0.56 B/read at 20M). The bases come first so both arrays are
 * aligned in a 16-aligned region. Every reader goes through `plateIdReader` (the loader, covered distances and
 * probes, the hot-list and cloned tasks on the pool's workers, the install's growth remap), which hands back
 * one closure per width, as `rowsReader` does for the postings lane; a searched map goes through `idLowerBound`.
 */

/** Codes per base: a power of two, so a code's base is `d >>> kIdBlockShift`. */
export const kIdBlockShift = 8;
const kIdBlock = 1 << kIdBlockShift;

/** The widths of a map: 2 (u16 offsets from per-block u32 bases) or 4 (u32). */
export type PlateIdWidth = 2 | 4;

/**
 * The largest span of ids a block of width 2 may hold (2^16 − 1). A knob for tests, which lower it so that
 * maps of small test data take the u32 fallback too.
 */
export const plateIdSpan = { max: 0xffff };

/** A map as stored: its region's bytes (a view of arena memory, shared with the pool's workers), codes and width. */
export interface PlateIdLane {
  bytes: Uint8Array;
  count: number;
  width: PlateIdWidth;
}

/** Code d's tenant id. */
export type IdAt = (d: number) => number;

/** The width `ids` (ascending) is stored at, and the bytes it then takes (≥ 16: an arena region's least). */
export function plateIdLayout(ids: ArrayLike<number>): { width: PlateIdWidth; bytes: number } {
  const n = ids.length, blocks = Math.ceil(n / kIdBlock);
  let width: PlateIdWidth = n > 0 ? 2 : 4;
  for (let b = 0; b < blocks && width === 2; b++) {
    const first = b * kIdBlock, last = Math.min(n, first + kIdBlock) - 1;
    if (ids[last]! - ids[first]! > plateIdSpan.max) width = 4;
  }
  const bytes = width === 2 ? 4 * blocks + 2 * n : 4 * n;
  return { width, bytes: Math.max(16, bytes) };
}

/** Writes `ids` (ascending) into `out` (16-aligned in its buffer, ≥ plateIdLayout's bytes) at `width`. */
export function writePlateIds(ids: ArrayLike<number>, out: Uint8Array, width: PlateIdWidth): PlateIdLane {
  const n = ids.length;
  if (width === 4) {
    new Uint32Array(out.buffer, out.byteOffset, n).set(ids);
    return { bytes: out, count: n, width };
  }
  const blocks = Math.ceil(n / kIdBlock);
  const bases = new Uint32Array(out.buffer, out.byteOffset, blocks);
  const offsets = new Uint16Array(out.buffer, out.byteOffset + 4 * blocks, n);
  for (let b = 0; b < blocks; b++) bases[b] = ids[b * kIdBlock]!;
  for (let d = 0; d < n; d++) offsets[d] = ids[d]! - bases[d >>> kIdBlockShift]!;
  return { bytes: out, count: n, width };
}

/** The map of `count` codes at `width` stored at `ptr` of `buffer` (a worker's view of the arena). */
export function plateIdLaneAt(buffer: ArrayBufferLike, ptr: number, count: number, width: PlateIdWidth): PlateIdLane {
  const bytes = width === 2 ? 4 * Math.ceil(count / kIdBlock) + 2 * count : 4 * count;
  return { bytes: new Uint8Array(buffer, ptr, bytes), count, width };
}

/** Reads a stored map: code d → its tenant id. */
export function plateIdReader(lane: PlateIdLane): IdAt {
  const { bytes, count: n } = lane;
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
 * 20M shard's ~400k codes took ~40 % more CPU through `plateIdReader` than the u32 map's indexed loop.
 */
export function gatherById(lane: PlateIdLane, lo: number, hi: number, byId: Uint8Array, out: Uint8Array, skip: number): number {
  const { bytes, count: n } = lane;
  let differ = 0;
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

/** The first code in [lo, n) whose id is ≥ v (n when none): a binary search of an ascending map. */
export function idLowerBound(at: IdAt, n: number, v: number, lo = 0): number {
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every id of a stored map, in code order (the install's growth remap; tests). */
export function plateIdArray(lane: PlateIdLane): Uint32Array {
  const at = plateIdReader(lane), out = new Uint32Array(lane.count);
  for (let d = 0; d < out.length; d++) out[d] = at(d);
  return out;
}
