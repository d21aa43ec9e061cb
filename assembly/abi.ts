// Struct offsets shared with src/core/abi.ts (the TypeScript side writes these structs; the layouts are
// drawn there). Change both files together and bump kAbiVersion in both.

export const kAbiVersion: i32 = 12;

// Plate query.
export const PQ_PATTERN: usize = 0;
export const PQ_MASK: usize = 16;
export const PQ_MAX_EDITS: usize = 32;
export const PQ_FLAGS: usize = 36;
export const PQ_M: usize = 40;
export const PQ_MIN_LEN: usize = 44;
export const PQ_MAX_LEN: usize = 48;
export const PQ_STAR_MASK: usize = 52;
export const PQ_NEEDLE_COUNT: usize = 56;
export const PQ_PREFIX: usize = 64;
export const PQ_PREFIX_MASK: usize = 80;
export const PQ_PEQ_LO: usize = 96;
export const PQ_PEQ_HI: usize = 144;
export const PQ_SHIFT_AND: usize = 192;
export const PQ_OCR: usize = 704;
export const PQ_TEMP: usize = 768;
export const kPqOcr: i32 = 1;
export const kPqTranspositions: i32 = 2;
export const kPqDecided: i32 = 4;

// Filter.
export const F_FLAGS: usize = 0;
export const F_POLYGON_COUNT: usize = 4;
export const F_FROM: usize = 8;
export const F_TO: usize = 16;
export const F_BBOX: usize = 24;
export const F_GEO_BOX: usize = 40;
export const F_NEAR_LAT: usize = 56;
export const F_NEAR_LON: usize = 64;
export const F_RADIUS: usize = 72;
export const F_RADIUS_LO: usize = 80;
export const F_RADIUS_HI: usize = 88;
export const F_CAMERA_MASK: usize = 96;
export const F_CAMERA_MASK_LEN: usize = 100;
export const F_REGION_MASK: usize = 104;
export const F_REGION_MASK_LEN: usize = 108;
export const F_POLYGON: usize = 112;
export const F_ZONE_BOX: usize = 120;
export const F_ZONE_FROM: usize = 152;
export const F_ZONE_TO: usize = 160;
export const F_MAKE_MASK: usize = 168;
export const F_MAKE_MASK_LEN: usize = 172;
export const F_COLOR_MASK: usize = 176;
export const F_COLOR_MASK_LEN: usize = 180;

export const kFilterTime: i32 = 1;
export const kFilterBBox: i32 = 2;
export const kFilterNear: i32 = 4;
export const kFilterPolygon: i32 = 8;
export const kFilterCameras: i32 = 16;
export const kFilterRegions: i32 = 32;
export const kFilterEmpty: i32 = 64;
export const kFilterMakes: i32 = 128;
export const kFilterColors: i32 = 256;

// Segment descriptor.
export const S_ROWS: usize = 0;
export const S_TS: usize = 4;
export const S_LAT: usize = 8;
export const S_LON: usize = 12;
export const S_PLATE: usize = 16;
export const S_CAMERA: usize = 20;
export const S_REGION: usize = 24;
export const S_DICT: usize = 28;
export const S_DICT_COUNT: usize = 32;
export const S_ZONES: usize = 36;
export const S_BLOCKS: usize = 40;
export const S_MAKE: usize = 44;
export const S_COLOR: usize = 48;
export const S_WIDTHS: usize = 52;
export const S_TS_BASE: usize = 56;
export const S_BASES: usize = 64;
// ABI 10: the camera lane as u8 entries of run tables (camera field of S_WIDTHS = 3; src/core/camera-lane.ts)
export const S_CAMERA_RUNS: usize = 68;
export const S_CAMERA_TABLE: usize = 72;
// ABI 11: the labels lane (in the region slot) as u8 entries of run tables of u16 triple ids (region field of
// S_WIDTHS = 3; src/core/label-lanes.ts)
export const S_LABEL_RUNS: usize = 76;
export const S_LABEL_TABLE: usize = 80;
// entries below this are triple ids of their own, shared by every run
export const S_LABEL_SHARED: usize = 84;
export const W_TS: u32 = 0;
// ABI 9: the plate field's value 3 is a u24 lane of codes (3 B a row, little-endian, padded by 4 bytes)
export const W_PLATE: u32 = 2;
export const W_CAMERA: u32 = 4;
export const W_REGION: u32 = 6;
export const W_MAKE: u32 = 8;
export const W_COLOR: u32 = 10;
export const W_TS24: u32 = 12;
export const W_LAT24: u32 = 13;
export const W_LON24: u32 = 14;
// ABI 11: bits 16-20 of S_WIDTHS: a bit-packed plate lane's bits a code (1-24; 0 = not packed: the plate field
// above gives the width). See src/core/packed-lanes.ts.
export const W_PLATE_BITS: u32 = 16;
export const kPlateBitsMask: u32 = 31;

// Segment constants (src/core/segment.ts).
// power of two; one block's zone map covers this many rows
export const kBlockRows: u32 = 8192;
export const kBlockShift: u32 = 13;
// u24 lanes (src/core/base-lanes.ts): per kBaseRows rows 32 bytes (i32 ts, lat, lon minima, pad, then maxima)
export const kBaseRows: u32 = 1024;
export const kBaseShift: u32 = 10;
// lanes held as runs (src/core/run-lane.ts: the camera lane, the labels lane): at most 256 codes in a run of 256
// rows, so an entry is a u8
export const kRunShift: u32 = 8;
export const kZoneBytes: usize = 48;
export const kSlotBytes: usize = 16;

/** Distance of a dictionary entry that does not match. */
export const kNoMatch: u8 = 255;
