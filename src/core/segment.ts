/**
 * The column layout of a segment (a sealed shard or a live block) resident in an arena: the seam
 * between the store (which writes and loads these bytes, src/store) and the kernels (which scan them,
 * assembly/ via src/core). All pointers are byte offsets into the arena's shared WebAssembly.Memory,
 * aligned to 16 bytes (64 where the shard file aligns them).
 *
 *   rows i = 0 … rows-1, sorted by time bucket then place, so blocks have tight zone maps
 *   ┌──────────┬────────────────────────────────────────────────────────────────────┐
 *   │ ts       │ i64[rows]  epoch ms                                                │
 *   │ lat, lon │ i32[rows]  degrees × 1e7, rounded (API.md: ≥ 1e-7° precision);     │
 *   │          │            filters compare f64(v) / 1e7 so boundaries agree with   │
 *   │          │            the reference on the stored value                       │
 *   │ plate    │ u32[rows]  index into the plate dictionary                         │
 *   │ camera   │ u32[rows]  index into the segment's camera dictionary              │
 *   │ region   │ u32[rows]  index into the region dictionary; 0 = no region         │
 *   ├──────────┼────────────────────────────────────────────────────────────────────┤
 *   │ dict     │ distinct plates, 16-byte slots: bytes 0–9 the characters (A–Z0–9), │
 *   │          │ zero padded; byte 15 the length (1–10). One v128 per plate.        │
 *   │ zones    │ per block of kBlockRows rows: f64 minTs, maxTs, minLat, maxLat,    │
 *   │          │ minLon, maxLon (degrees), 48 bytes a block                         │
 *   └──────────┴────────────────────────────────────────────────────────────────────┘
 * Everything else a hit needs (id, camera/region strings, confidence, make, color) is materialised
 * only for the rows a query returns, on the JS side.
 *
 * What the kernels (src/core/kernels.ts) rely on:
 * - zone maps hold the exact extremes of the stored values (ts, and f64(v) / 1e7 for lat/lon), or
 *   wider bounds: the scan skips a block on them, and drops the time test for a block inside the window;
 *   `zones` = 0 (or `blocks` = 0) turns pruning off;
 * - every id in the camera/region columns is < the length of the dictionary given to compileFilter;
 * - dictionary slots are zero beyond the plate's length (bytes length–14): exact match compares all 16.
 */

// power of two; one block's zone map covers this many rows
export const kBlockRows = 8192;
/** Bytes per plate-dictionary slot: 10 characters, padding, length in the last byte. */
export const kPlateSlotBytes = 16;
/** Bytes of one block's zone map: six f64. */
export const kZoneBytes = 48;
/** Fixed-point scale of stored coordinates. */
export const kCoordScale = 1e7;

export interface SegmentLayout {
  /** Index of the arena (shared WebAssembly.Memory) holding every column below. */
  arena: number;
  rows: number;
  ts: number;
  lat: number;
  lon: number;
  plate: number;
  camera: number;
  region: number;
  dict: number;
  dictCount: number;
  zones: number;
  blocks: number;
  /**
   * u32[rows] make and color ids (index into the segment's make/color dictionaries; 0 = none), for the
   * `makes`/`colors` filters. Absent (0) in segments without these columns: a filter naming makes or
   * colors is then empty for the segment (src/core/filter.ts), so the kernel never reads them.
   */
  make?: number;
  color?: number;
}
