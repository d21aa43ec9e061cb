/**
 * The binary interface between src/core (TypeScript) and assembly/ (the WebAssembly kernels): the
 * structs that the TypeScript side writes into an arena before it calls a kernel. Every offset here
 * has a twin in assembly/abi.ts; change both together and bump kAbiVersion.
 *
 * Plate query (`PQ_*`, 1152 bytes, 16-aligned), built once per pattern by src/core/plate-query.ts:
 *
 *   0    v128 pattern        slot-format pattern (OCR-mapped when ocr), zero padded, byte 15 = length
 *   16   v128 mask           0xFF where a slot byte must equal `pattern` (exact: all 16 bytes,
 *                            wildcard without `*`: the non-`?` positions and byte 15)
 *   32   i32  maxEdits       fuzzy: 0–2
 *   36   i32  flags          bit 0 ocr, bit 1 transpositions (OSA), bit 2 decided (wildcard: no Shift-And)
 *   40   i32  m              fuzzy: pattern length; wildcard: number of non-`*` tokens
 *   44   i32  minLen         shortest plate that can match (length filter)
 *   48   i32  maxLen         longest plate that can match
 *   52   i32  starMask       wildcard Shift-And: bit i set when state i loops on any character
 *   56   i32  needleCount    wildcard: literals of the star-free piece checked by SIMD before Shift-And
 *   64   v128 prefix         wildcard: the tokens before the first `*` (SIMD pre-filter)
 *   80   v128 prefixMask
 *   96   3×v128 peqLo        Myers Peq, low byte, indexed by (char − 48): chars 48–63, 64–79, 80–95
 *   144  3×v128 peqHi        Myers Peq, high byte, same indexing
 *   192  u16[256] shiftAnd   wildcard Shift-And table: bit i+1 set when token i accepts the char
 *   704  3×v128 ocr          OCR class map indexed by (char − 48), as peqLo
 *   768  384 bytes temp       fuzzy: the kernel's per-group Eq vectors (so a compiled query belongs to
 *                            one Kernels instance, i.e. one thread); wildcard: per needle literal,
 *                            v128 splat(char) and v128 swizzle indices [off, off+1, …] (32 bytes each)
 *
 * Filter (`F_*`, 192 bytes + masks + polygon), built per (query, segment) by src/core/filter.ts:
 *
 *   0    i32  flags          kFilter* bits
 *   4    i32  polygonCount   vertices in the ring (as given; a repeated closing point is kept)
 *   8    i64  from           inclusive, integer epoch ms
 *   16   i64  to             exclusive
 *   24   i32×4 bbox          latMin, latMax, lonMin, lonMax in 1e-7°, inclusive, exact: v/1e7 ≥ minLat ⇔ v ≥ latMin
 *   40   i32×4 geoBox        conservative box (1e-7°) around near ∩ polygon: cheap pre-filter only
 *   56   f64  nearLat, nearLon, radiusM
 *   80   f64  radiusLo, radiusHi   kernel haversine ≤ lo: in; > hi: out; between: ask JS (exact reference)
 *   96   u32  cameraMask ptr, cameraMask length, regionMask ptr, regionMask length, polygon ptr
 *   120  f64  zone box: minLat, maxLat, minLon, maxLon (degrees, for zone-map pruning)
 *   152  f64  fromF, toF (for zone-map pruning on f64 minTs/maxTs)
 *   168  u32  makeMask ptr, makeMask length, colorMask ptr, colorMask length (ABI 4: `makes`/`colors`;
 *             the masks are over the segment's make/color dictionaries, folded case-insensitively)
 *   184  8 bytes padding (the masks that follow start 16-aligned)
 *
 * Segment descriptor (`S_*`, 64 bytes): SegmentLayout's columns as u32, written before each call
 * (ABI 4 added make and color at 44 and 48; 0 when a segment has no such column). ABI 5 added the lane
 * widths (SegmentLayout's *Width fields) and the ts base:
 *
 *   52   u32  widths   log2 of bytes per value, 2 bits each: bits 0–1 ts (2 = u32 offsets from tsBase,
 *                      3 = i64 epoch ms), 2–3 plate, 4–5 camera, 6–7 region, 8–9 make, 10–11 color
 *                      (0 = u8, 1 = u16, 2 = u32)
 *   56   i64  tsBase   epoch ms added to u32 ts values
 *
 * ABI 7 (u24 lanes, src/core/base-lanes.ts): bits 12, 13, 14 of `widths` mark the ts, lat and lon lanes as u24
 * offsets from per-run bases (ts then also relative to tsBase), and the descriptor grows to 80 bytes:
 *
 *   64   u32  bases    i32 [ts, lat, lon, 0] per run of kBaseRows rows; 0 when no lane is u24
 *   68   12 bytes padding
 *
 * ABI 8: each run's bases are 32 bytes, the minima above then the maxima (i32 tsMax, latMax, lonMax, 0): the
 * kernel skips a run whose extents miss the filter's window or box (ts extents read only on u32 / u24 lanes).
 *
 * ABI 9: the plate field of `widths` (bits 2–3) may be 3: a u24 lane of plate codes (3 B a row, little-endian,
 * no bases; the lane padded by kU24Pad bytes so a u32 or v128 load of its last row stays inside it). A loaded
 * shard narrows a u32 plate lane to it (src/store/shard-u24.ts; docs/storage-v2.md, "Step 5e built").
 */

/*
 * ABI 10: the camera field of `widths` (bits 4–5) may be 3: u8 entries into a table per run of kCameraRunRows rows
 * (src/core/camera-lane.ts; a loaded shard packs its u16 lane so: src/store/shard-cameras.ts), the tables in the
 * descriptor's padding:
 *
 *   68   u32  cameraRuns   u32 × (runs + 1): where each run's entries start in cameraTable
 *   72   u32  cameraTable  u16 camera codes (ids into the segment's camera dictionary), each run's ascending
 *   76   4 bytes padding
 */

/*
 * ABI 11: the region field of `widths` (bits 6–7) may be 3: the labels lane (which takes the region lane's slot) as u8
 * entries into a table per run of kRunRows rows of u16 triple ids (src/core/label-lanes.ts, a lane held as runs:
 * src/core/run-lane.ts; a loaded shard of more than 256 triples packs so: src/store/shard-labels.ts). The region mask
 * is over triples, as for any labels lane. The descriptor grows to 96 bytes:
 *
 *   76   u32  labelRuns    u32 × (runs + 1): where each run's table starts in labelTable
 *   80   u32  labelTable   u16 triple ids, each run's ascending
 *   84   u32  labelShared  entries below this are triple ids of their own (the shard's most frequent triples,
 *                          numbered first), shared by every run; an entry e ≥ it is labelTable[run's start + e − it]
 *   88   8 bytes padding
 *
 * ABI 11: bits 16–20 of `widths` (W_PLATE_BITS) give a bit-packed plate lane's bits a code, 1–24 (src/core/packed-lanes.ts:
 * code r is bits r·w … r·w + w − 1 of the lane, read as one unaligned u32 load at byte r·w >> 3, shifted by r·w & 7
 * and masked; the lane padded by kPackedPad bytes). 0 = not packed: the plate field (bits 2–3) gives the width; when
 * nonzero the plate field is 0 and ignored. A loaded shard packs a u32 plate lane whose codes fit fewer than 24 bits
 * (src/store/shard-u24.ts; docs/storage-v2.md, "Plate and postings lanes at their exact bits"). No struct grows.
 */

/**
 * ABI 12: the exports `gatherSlots` and `unionSorted` (assembly/candidates.ts): no struct changes; bumped so a
 * module without them is refused at instantiation instead of failing at the first n-gram search.
 */

/** Bumped whenever a struct below changes; assembly/index.ts abiVersion() must agree. */
export const kAbiVersion = 12;

export const kPlateQueryBytes = 1152;
export const PQ_PATTERN = 0;
export const PQ_MASK = 16;
export const PQ_MAX_EDITS = 32;
export const PQ_FLAGS = 36;
export const PQ_M = 40;
export const PQ_MIN_LEN = 44;
export const PQ_MAX_LEN = 48;
export const PQ_STAR_MASK = 52;
export const PQ_NEEDLE_COUNT = 56;
export const PQ_PREFIX = 64;
export const PQ_PREFIX_MASK = 80;
export const PQ_PEQ_LO = 96;
export const PQ_PEQ_HI = 144;
export const PQ_SHIFT_AND = 192;
export const PQ_OCR = 704;
export const PQ_TEMP = 768;
export const kPqOcr = 1;
export const kPqTranspositions = 2;
/** Wildcard only: the prefix and needle tests alone decide (`*UE80*`, `7*`, `AB?12*`); no Shift-And. */
export const kPqDecided = 4;

export const kFilterBytes = 192;
export const F_FLAGS = 0;
export const F_POLYGON_COUNT = 4;
export const F_FROM = 8;
export const F_TO = 16;
export const F_BBOX = 24;
export const F_GEO_BOX = 40;
export const F_NEAR_LAT = 56;
export const F_NEAR_LON = 64;
export const F_RADIUS = 72;
export const F_RADIUS_LO = 80;
export const F_RADIUS_HI = 88;
export const F_CAMERA_MASK = 96;
export const F_CAMERA_MASK_LEN = 100;
export const F_REGION_MASK = 104;
export const F_REGION_MASK_LEN = 108;
export const F_POLYGON = 112;
export const F_ZONE_BOX = 120;
export const F_ZONE_FROM = 152;
export const F_ZONE_TO = 160;
export const F_MAKE_MASK = 168;
export const F_MAKE_MASK_LEN = 172;
export const F_COLOR_MASK = 176;
export const F_COLOR_MASK_LEN = 180;

export const kFilterTime = 1;
export const kFilterBBox = 2;
export const kFilterNear = 4;
export const kFilterPolygon = 8;
export const kFilterCameras = 16;
export const kFilterRegions = 32;
/** Set when the filter can match nothing (e.g. cameras absent from this segment): kernels return 0 at once. */
export const kFilterEmpty = 64;
export const kFilterMakes = 128;
export const kFilterColors = 256;

export const kSegmentDescBytes = 96;
export const S_ROWS = 0;
export const S_TS = 4;
export const S_LAT = 8;
export const S_LON = 12;
export const S_PLATE = 16;
export const S_CAMERA = 20;
export const S_REGION = 24;
export const S_DICT = 28;
export const S_DICT_COUNT = 32;
export const S_ZONES = 36;
export const S_BLOCKS = 40;
export const S_MAKE = 44;
export const S_COLOR = 48;
export const S_WIDTHS = 52;
export const S_TS_BASE = 56;
export const S_BASES = 64;
export const S_CAMERA_RUNS = 68;
export const S_CAMERA_TABLE = 72;
/** ABI 11: the labels lane's run tables (region field of S_WIDTHS = 3). */
export const S_LABEL_RUNS = 76;
export const S_LABEL_TABLE = 80;
export const S_LABEL_SHARED = 84;
/** Bit positions of each lane's log2 width in the S_WIDTHS word. */
export const W_TS = 0;
export const W_PLATE = 2;
export const W_CAMERA = 4;
export const W_REGION = 6;
export const W_MAKE = 8;
export const W_COLOR = 10;
/** ABI 7: one bit each, set when the lane holds u24 offsets from per-run bases (src/core/base-lanes.ts). */
export const W_TS24 = 12;
export const W_LAT24 = 13;
export const W_LON24 = 14;
/** ABI 11: bits 16–20, a bit-packed plate lane's bits a code (0 = not packed). */
export const W_PLATE_BITS = 16;
export const kPlateBitsMask = 31;

/** Distance written for a dictionary entry that does not match. */
export const kNoMatch = 255;
