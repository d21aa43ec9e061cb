/**
 * Lays rows out in an arena exactly as src/core/segment.ts describes, for kernel tests and benchmarks:
 * columns, a plate dictionary in 16-byte slots, camera/region dictionaries (region id 0 = none), and
 * one zone map per kBlockRows rows computed from the stored (quantised) values.
 */
import type { Arena } from '../../src/core/arena.js';
import { codeLane, kBlockRows, kCoordScale, kPlateSlotBytes, kZoneBytes, laneWidthFor, type LaneWidth, type SegmentLayout } from '../../src/core/segment.js';
import type { SegmentDictionaries } from '../../src/core/kernels.js';
import { u24LaneBytes, withU24Lanes } from '../../src/core/base-lanes.js';
import { bitsFor, packedLaneBytes, writePacked } from '../../src/core/packed-lanes.js';

/** A row as the tests generate it; lat/lon are quantised to 1e-7° by the builder. */
export interface SegmentRow {
  plate: string;
  ts: number;
  lat: number;
  lon: number;
  camera: string;
  region?: string;
}

export interface BuiltSegment {
  layout: SegmentLayout;
  dicts: SegmentDictionaries;
  /** Distinct plates by dictionary id. */
  plates: string[];
  /** The rows as stored: lat/lon are f64(latE7) / 1e7, what the kernels compare. */
  rows: SegmentRow[];
  /** Frees every region of the segment. */
  free(): void;
}

/** Rounds a coordinate the way the store does (to 1e-7°) and returns the stored i32. */
export function toE7(deg: number): number {
  return Math.round(deg * kCoordScale);
}

/**
 * `u24` (implies `narrow`): ts, lat and lon then as u24 lanes where they fit (src/core/base-lanes.ts).
 * `plateU24` (implies `narrow`): the plate lane as u24 codes (3 B a row, little-endian, padded by kU24Pad), as a
 * loaded shard holds a u32 one (src/store/shard-u24.ts), whatever the dictionary's size.
 * `plateBits` (implies `narrow`): the plate lane bit-packed (src/core/packed-lanes.ts), at the dictionary's exact bits
 * ('exact') or at a given count ≥ them, as a loaded shard packs a u32 one.
 * `narrow`: lanes as format 2 shards lay them out (src/store/shard-format.ts): u32 ts offsets from the
 * earliest read's UTC midnight, u8/u16/u32 codes by dictionary size, no region lane when no row has a region.
 */
export function buildSegment(arena: Arena, input: readonly SegmentRow[], options: { sortPlates?: boolean; narrow?: boolean; u24?: boolean; plateU24?: boolean; plateBits?: number | 'exact' } = {}): BuiltSegment {
  const n = input.length;
  const plateIds = new Map<string, number>();
  const plates: string[] = [];
  for (const r of input) if (!plateIds.has(r.plate)) plateIds.set(r.plate, plateIds.size), plates.push(r.plate);
  if (options.sortPlates) {
    plates.sort();
    plates.forEach((p, i) => plateIds.set(p, i));
  }
  const cameras: string[] = [];
  const cameraIds = new Map<string, number>();
  const regions: string[] = [''];
  const regionIds = new Map<string, number>();
  for (const r of input) {
    if (!cameraIds.has(r.camera)) cameraIds.set(r.camera, cameras.length), cameras.push(r.camera);
    if (r.region !== undefined && !regionIds.has(r.region)) regionIds.set(r.region, regions.length), regions.push(r.region);
  }

  const allocated: number[] = [];
  const alloc = (bytes: number) => {
    const ptr = arena.alloc(Math.max(bytes, 16), 64);
    if (ptr < 0) throw new RangeError('arena full');
    allocated.push(ptr);
    return ptr;
  };
  const blocks = Math.ceil(n / kBlockRows);
  const narrow = (options.narrow ?? false) || (options.u24 ?? false) || (options.plateU24 ?? false) || options.plateBits !== undefined;
  let minTs = Infinity, maxTs = -Infinity;
  for (const r of input) minTs = Math.min(minTs, r.ts), maxTs = Math.max(maxTs, r.ts);
  const tsBase = n === 0 ? 0 : Math.floor(minTs / 86_400_000) * 86_400_000;
  const narrowTs = narrow && (n === 0 || maxTs - tsBase < 0x7ffffffe);
  const hasRegion = input.some((r) => r.region !== undefined);
  const plateWidth = narrow ? laneWidthFor(plates.length) : 4;
  const cameraWidth = narrow ? laneWidthFor(cameras.length) : 4;
  const regionWidth = narrow ? laneWidthFor(regions.length) : 4;
  const layout: SegmentLayout = {
    arena: arena.index,
    rows: n,
    ts: alloc((narrowTs ? 4 : 8) * n),
    lat: alloc(4 * n),
    lon: alloc(4 * n),
    plate: alloc(plateWidth * n),
    camera: alloc(cameraWidth * n),
    region: narrow && !hasRegion ? 0 : alloc(regionWidth * n),
    dict: alloc(kPlateSlotBytes * plates.length),
    dictCount: plates.length,
    zones: alloc(kZoneBytes * blocks),
    blocks,
  };
  if (narrow) Object.assign(layout, { plateWidth, cameraWidth, regionWidth, ...(narrowTs ? { tsWidth: 4, tsBase } : {}) });
  const buf = arena.memory.buffer;
  const ts64 = narrowTs ? null : new BigInt64Array(buf, layout.ts, n);
  const ts32 = narrowTs ? new Uint32Array(buf, layout.ts, n) : null;
  const lat = new Int32Array(buf, layout.lat, n);
  const lon = new Int32Array(buf, layout.lon, n);
  const plate = codeLane(buf, layout.plate, layout.plateWidth as LaneWidth, n); // laid out u8 / u16 / u32 above
  const camera = codeLane(buf, layout.camera, layout.cameraWidth, n);
  const region = layout.region !== 0 ? codeLane(buf, layout.region, layout.regionWidth, n) : new Uint8Array(n);
  const rows: SegmentRow[] = [];
  input.forEach((r, i) => {
    if (ts32) ts32[i] = r.ts - tsBase;
    else ts64![i] = BigInt(r.ts);
    lat[i] = toE7(r.lat);
    lon[i] = toE7(r.lon);
    plate[i] = plateIds.get(r.plate)!;
    camera[i] = cameraIds.get(r.camera)!;
    region[i] = r.region === undefined ? 0 : regionIds.get(r.region)!;
    const stored: SegmentRow = { ...r, lat: lat[i]! / kCoordScale, lon: lon[i]! / kCoordScale };
    rows.push(stored);
  });
  const dict = new Uint8Array(buf, layout.dict, kPlateSlotBytes * plates.length);
  dict.fill(0);
  plates.forEach((p, id) => {
    for (let j = 0; j < p.length; j++) dict[id * kPlateSlotBytes + j] = p.charCodeAt(j);
    dict[id * kPlateSlotBytes + 15] = p.length;
  });
  const zones = new Float64Array(buf, layout.zones, 6 * blocks);
  for (let b = 0; b < blocks; b++) {
    let minTs = Infinity, maxTs = -Infinity, minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
    for (let i = b * kBlockRows; i < Math.min(n, (b + 1) * kBlockRows); i++) {
      const t = input[i]!.ts;
      minTs = Math.min(minTs, t);
      maxTs = Math.max(maxTs, t);
      minLat = Math.min(minLat, lat[i]! / kCoordScale);
      maxLat = Math.max(maxLat, lat[i]! / kCoordScale);
      minLon = Math.min(minLon, lon[i]! / kCoordScale);
      maxLon = Math.max(maxLon, lon[i]! / kCoordScale);
    }
    zones.set([minTs, maxTs, minLat, maxLat, minLon, maxLon], 6 * b);
  }
  if (options.plateU24) {
    const codes = Uint32Array.from(plate);
    const ptr = alloc(u24LaneBytes(n));
    const out = new Uint8Array(arena.memory.buffer, ptr, u24LaneBytes(n));
    codes.forEach((c, i) => out.set([c & 0xff, (c >>> 8) & 0xff, c >>> 16], 3 * i));
    Object.assign(layout, { plate: ptr, plateWidth: 3 });
  }
  if (options.plateBits !== undefined) {
    const bits = options.plateBits === 'exact' ? bitsFor(plates.length - 1) : options.plateBits;
    if (bits < bitsFor(plates.length - 1)) throw new RangeError(`${plates.length} plates need more than ${bits} bits`);
    const codes = Uint32Array.from(plate);
    const ptr = alloc(packedLaneBytes(n, bits));
    // the padding holds ones: a reader that does not mask a code reads them
    new Uint8Array(arena.memory.buffer, ptr, packedLaneBytes(n, bits)).fill(0xff);
    writePacked(new Uint8Array(arena.memory.buffer, ptr, packedLaneBytes(n, bits)), codes, n, bits);
    Object.assign(layout, { plate: ptr, plateWidth: 0, plateBits: bits });
  }
  return {
    // `u24`: ts / lat / lon also as loaded shards hold them, u24 offsets from per-run bases where every run fits
    layout: options.u24 ? withU24Lanes(arena.memory, layout, alloc) : layout,
    dicts: { cameras, regions },
    plates,
    rows,
    free: () => allocated.forEach((p) => arena.free(p)),
  };
}
