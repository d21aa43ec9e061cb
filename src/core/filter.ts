/**
 * Compiles a ReadFilter, for one segment, into the filter struct the scan kernel reads (abi.ts).
 *
 * Exactness: the reference compares `f64(v) / 1e7` with the query's degrees. v ↦ v / 1e7 is monotone,
 * so each bbox bound becomes an exact integer threshold on the stored i32 (found by nudging until the
 * division agrees), and the kernel compares integers, four rows per v128. Time bounds become integers
 * the same way (ts is integral). The radius test runs haversine in the kernel with a safety band:
 * clearly in, clearly out, or, within ~1e-7 relative of the radius, re-checked on the JS side with the
 * reference formula itself (libm may differ from V8's Math.sin/cos/asin in the last ulp). Polygons run
 * the reference's even-odd arithmetic verbatim in f64, which wasm evaluates bit-identically.
 */
import { foldedSet, foldLabel } from '../model/label.js';
import type { Near, ReadFilter } from '../model/query.js';
import { tripleMask, type LabelTriples } from './label-lanes.js';
import {
  F_COLOR_MASK, F_COLOR_MASK_LEN, F_MAKE_MASK, F_MAKE_MASK_LEN, kFilterColors, kFilterMakes,
  F_CAMERA_MASK, F_CAMERA_MASK_LEN, F_FLAGS, F_FROM, F_GEO_BOX, F_BBOX, F_NEAR_LAT, F_NEAR_LON, F_POLYGON,
  F_POLYGON_COUNT, F_RADIUS, F_RADIUS_HI, F_RADIUS_LO, F_REGION_MASK, F_REGION_MASK_LEN, F_TO, F_ZONE_BOX,
  F_ZONE_FROM, F_ZONE_TO, kFilterBBox, kFilterBytes, kFilterCameras, kFilterEmpty, kFilterNear, kFilterPolygon,
  kFilterRegions, kFilterTime,
} from './abi.js';

/** Mean Earth radius (API.md), as src/query/reference/geo.ts. */
const kEarthRadiusM = 6371008.8;
const kI32Min = -2147483648;
const kI32Max = 2147483647;
const kI64Min = -(2n ** 63n);
const kI64Max = 2n ** 63n - 1n;
/** Relative half-width of the band where the kernel defers the radius test to JS. */
const kRadiusRelBand = 1e-7;
/** Absolute half-width of that band in metres (covers radius 0 and tiny radii). */
const kRadiusAbsBand = 1e-3;

/** The segment's dictionaries that camera/region filters translate into masks. */
export interface SegmentDictionaries {
  /** Camera strings by camera id (the `camera` column's values). */
  cameras: readonly string[];
  /** Region strings by region id; id 0 means "no region" and never matches a `regions` filter. */
  regions: readonly string[];
  /**
   * Make and color strings by id, id 0 meaning "none" as for regions. Absent in segments without these
   * columns: a `makes`/`colors` filter then matches nothing there.
   */
  makes?: readonly string[];
  colors?: readonly string[];
  /**
   * The triple table of a segment whose region, make and color lanes are one labels lane (src/core/label-lanes.ts):
   * a regions / makes / colors filter then becomes one mask over the triples, in the region mask's slot.
   */
  triples?: LabelTriples;
}

/** The encoded filter: the struct, then masks and polygon, ready to copy into scratch. */
export interface EncodedFilter {
  bytes: Uint8Array;
  /** Byte offsets, inside `bytes`, of the camera mask, region mask and polygon (patched to pointers). */
  cameraMaskAt: number;
  regionMaskAt: number;
  makeMaskAt: number;
  colorMaskAt: number;
  polygonAt: number;
  flags: number;
  near: Near | undefined;
}

/** Smallest v with v / 1e7 ≥ deg (clamped to i32). */
export function e7AtLeast(deg: number): number {
  if (!(deg > -1e300)) return kI32Min;
  let v = Math.ceil(deg * 1e7);
  while (v - 1 >= kI32Min && (v - 1) / 1e7 >= deg) v--;
  while (v <= kI32Max && v / 1e7 < deg) v++;
  return Math.max(kI32Min, Math.min(v, kI32Max + 1));
}

/** Largest v with v / 1e7 ≤ deg (clamped to i32). */
export function e7AtMost(deg: number): number {
  if (!(deg < 1e300)) return kI32Max;
  let v = Math.floor(deg * 1e7);
  while (v + 1 <= kI32Max && (v + 1) / 1e7 <= deg) v++;
  while (v >= kI32Min && v / 1e7 > deg) v--;
  return Math.min(kI32Max, Math.max(v, kI32Min - 1));
}

function clampI32(v: number): number {
  return Math.max(kI32Min, Math.min(kI32Max, v));
}

/** Integer time bound: for integral ts, ts ≥ x ⇔ ts ≥ ceil(x) and ts < x ⇔ ts < ceil(x). */
function timeBound(x: number | undefined, dflt: bigint): bigint {
  if (x === undefined) return dflt;
  if (x === Infinity) return kI64Max;
  if (x === -Infinity) return kI64Min;
  const b = BigInt(Math.ceil(x));
  return b < kI64Min ? kI64Min : b > kI64Max ? kI64Max : b;
}

/**
 * A conservative lat/lon box (degrees) holding every point within `near.radiusM` by the reference
 * haversine: |Δφ| ≤ θ, and |sin(Δλ/2)| ≤ sin(θ/2) / cos(φmax). Unbounded sides are ±Infinity.
 */
export function nearBox(near: Near): [number, number, number, number] {
  const theta = near.radiusM / kEarthRadiusM;
  const box: [number, number, number, number] = [-Infinity, Infinity, -Infinity, Infinity]; // latMin, latMax, lonMin, lonMax
  if (!(theta < Math.PI / 2)) return box;
  const dLat = ((theta * 180) / Math.PI) * (1 + 1e-6) + 1e-6;
  box[0] = near.lat - dLat;
  box[1] = near.lat + dLat;
  const phiMax = Math.max(Math.abs(box[0]), Math.abs(box[1]));
  if (phiMax >= 89.9) return box;
  const s = Math.sin(theta / 2) / Math.cos((phiMax * Math.PI) / 180);
  if (s >= 0.99) return box;
  const dLon = ((2 * Math.asin(s) * 180) / Math.PI) * (1 + 1e-6) + 1e-6;
  // sin² is 2π-periodic: a box touching the antimeridian would miss wrapped points, so drop it there.
  if (near.lon - dLon <= -180 || near.lon + dLon >= 180) return box;
  box[2] = near.lon - dLon;
  box[3] = near.lon + dLon;
  return box;
}

/**
 * Encodes `filter` for a segment with dictionaries `dicts`. Camera and region names absent from the
 * segment simply match nothing; if no listed camera (or region) is present, the filter is flagged
 * empty and the kernels return 0 at once.
 */
export function encodeFilter(filter: ReadFilter, dicts: SegmentDictionaries): EncodedFilter {
  const cameraMaskLen = filter.cameras ? dicts.cameras.length : 0;
  // a labels lane: one mask over the segment's triples in the region mask's slot, no make / color mask
  const triples = dicts.triples && (filter.regions || filter.makes || filter.colors) ? dicts.triples : undefined;
  const regionMaskLen = triples ? triples.count : filter.regions ? dicts.regions.length : 0;
  const makeMaskLen = !triples && filter.makes ? (dicts.makes?.length ?? 0) : 0;
  const colorMaskLen = !triples && filter.colors ? (dicts.colors?.length ?? 0) : 0;
  const ring = filter.polygon ?? [];
  const cameraMaskAt = kFilterBytes;
  const regionMaskAt = cameraMaskAt + roundUp16(cameraMaskLen);
  const makeMaskAt = regionMaskAt + roundUp16(regionMaskLen);
  const colorMaskAt = makeMaskAt + roundUp16(makeMaskLen);
  const polygonAt = colorMaskAt + roundUp16(colorMaskLen);
  const bytes = new Uint8Array(polygonAt + ring.length * 16);
  const view = new DataView(bytes.buffer);
  let flags = 0;

  // Zone-map box (degrees): the intersection of every geo constraint, for block pruning.
  const zone = [-Infinity, Infinity, -Infinity, Infinity]; // minLat, maxLat, minLon, maxLon
  const geo = [kI32Min, kI32Max, kI32Min, kI32Max]; // conservative pre-filter box, 1e-7°
  const narrow = (latMin: number, latMax: number, lonMin: number, lonMax: number) => {
    zone[0] = Math.max(zone[0]!, latMin);
    zone[1] = Math.min(zone[1]!, latMax);
    zone[2] = Math.max(zone[2]!, lonMin);
    zone[3] = Math.min(zone[3]!, lonMax);
  };

  if (filter.from !== undefined || filter.to !== undefined) {
    flags |= kFilterTime;
    view.setBigInt64(F_FROM, timeBound(filter.from, kI64Min), true);
    view.setBigInt64(F_TO, timeBound(filter.to, kI64Max), true);
  }
  view.setFloat64(F_ZONE_FROM, filter.from ?? -Infinity, true);
  view.setFloat64(F_ZONE_TO, filter.to ?? Infinity, true);

  if (filter.bbox) {
    flags |= kFilterBBox;
    const [minLon, minLat, maxLon, maxLat] = filter.bbox;
    view.setInt32(F_BBOX, clampI32(e7AtLeast(minLat)), true);
    view.setInt32(F_BBOX + 4, clampI32(e7AtMost(maxLat)), true);
    view.setInt32(F_BBOX + 8, clampI32(e7AtLeast(minLon)), true);
    view.setInt32(F_BBOX + 12, clampI32(e7AtMost(maxLon)), true);
    if (e7AtLeast(minLat) > e7AtMost(maxLat) || e7AtLeast(minLon) > e7AtMost(maxLon)) flags |= kFilterEmpty;
    narrow(minLat, maxLat, minLon, maxLon);
  }

  if (filter.near) {
    flags |= kFilterNear;
    const n = filter.near;
    view.setFloat64(F_NEAR_LAT, n.lat, true);
    view.setFloat64(F_NEAR_LON, n.lon, true);
    view.setFloat64(F_RADIUS, n.radiusM, true);
    view.setFloat64(F_RADIUS_LO, n.radiusM * (1 - kRadiusRelBand) - kRadiusAbsBand, true);
    view.setFloat64(F_RADIUS_HI, n.radiusM * (1 + kRadiusRelBand) + kRadiusAbsBand, true);
    if (!(n.radiusM >= 0)) flags |= kFilterEmpty;
    const b = nearBox(n);
    narrow(b[0], b[1], b[2], b[3]);
  }

  if (filter.polygon) {
    flags |= kFilterPolygon;
    view.setInt32(F_POLYGON_COUNT, ring.length, true);
    let latMin = Infinity, latMax = -Infinity, lonMin = Infinity, lonMax = -Infinity;
    ring.forEach(([lon, lat], i) => {
      view.setFloat64(polygonAt + 16 * i, lon, true);
      view.setFloat64(polygonAt + 16 * i + 8, lat, true);
      latMin = Math.min(latMin, lat);
      latMax = Math.max(latMax, lat);
      lonMin = Math.min(lonMin, lon);
      lonMax = Math.max(lonMax, lon);
    });
    if (ring.length < 3) flags |= kFilterEmpty;
    // Interpolated crossings can land an ulp outside the vertices' box: widen by 1e-6°.
    else narrow(latMin - 1e-6, latMax + 1e-6, lonMin - 1e-6, lonMax + 1e-6);
  }

  if (filter.near || filter.polygon) {
    geo[0] = clampI32(Math.floor(zone[0]! * 1e7) - 1);
    geo[1] = clampI32(Math.ceil(zone[1]! * 1e7) + 1);
    geo[2] = clampI32(Math.floor(zone[2]! * 1e7) - 1);
    geo[3] = clampI32(Math.ceil(zone[3]! * 1e7) + 1);
    if (Number.isNaN(geo[0]!) || zone[0]! > zone[1]! || zone[2]! > zone[3]!) flags |= kFilterEmpty;
  }
  for (let i = 0; i < 4; i++) {
    view.setInt32(F_GEO_BOX + 4 * i, Number.isNaN(geo[i]!) ? 0 : geo[i]!, true);
    view.setFloat64(F_ZONE_BOX + 8 * i, zone[i]!, true);
  }

  if (filter.cameras) {
    flags |= kFilterCameras;
    const wanted = new Set(filter.cameras);
    let any = false;
    dicts.cameras.forEach((name, id) => {
      if (wanted.has(name)) {
        bytes[cameraMaskAt + id] = 1;
        any = true;
      }
    });
    if (!any) flags |= kFilterEmpty;
  }
  if (triples) {
    flags |= kFilterRegions;
    const region = filter.regions ? regionMask(filter.regions, dicts.regions) : null;
    const make = filter.makes ? attributeMask(filter.makes, dicts.makes) : null;
    const color = filter.colors ? attributeMask(filter.colors, dicts.colors) : null;
    if (!tripleMask(triples, region, make, color, bytes.subarray(regionMaskAt, regionMaskAt + triples.count)).any) flags |= kFilterEmpty;
  } else {
    // one byte mask per filtered field over its dictionary; a field none of whose entries passes empties the filter
    const field = (list: string[] | undefined, mask: (list: string[]) => Uint8Array, at: number, flag: number) => {
      if (!list) return;
      flags |= flag;
      const m = mask(list);
      bytes.set(m, at);
      if (!m.includes(1)) flags |= kFilterEmpty;
    };
    field(filter.regions, (l) => regionMask(l, dicts.regions), regionMaskAt, kFilterRegions);
    field(filter.makes, (l) => attributeMask(l, dicts.makes), makeMaskAt, kFilterMakes);
    field(filter.colors, (l) => attributeMask(l, dicts.colors), colorMaskAt, kFilterColors);
  }
  view.setInt32(F_FLAGS, flags, true);
  view.setUint32(F_CAMERA_MASK_LEN, cameraMaskLen, true);
  view.setUint32(F_REGION_MASK_LEN, regionMaskLen, true);
  view.setUint32(F_MAKE_MASK_LEN, makeMaskLen, true);
  view.setUint32(F_COLOR_MASK_LEN, colorMaskLen, true);
  return { bytes, cameraMaskAt, regionMaskAt, makeMaskAt, colorMaskAt, polygonAt, flags, near: filter.near };
}

/** Patches the in-struct pointers once the encoded filter has been copied to `base`. */
export function patchFilterPointers(view: DataView, base: number, enc: EncodedFilter): void {
  view.setUint32(base + F_CAMERA_MASK, base + enc.cameraMaskAt, true);
  view.setUint32(base + F_REGION_MASK, base + enc.regionMaskAt, true);
  view.setUint32(base + F_MAKE_MASK, base + enc.makeMaskAt, true);
  view.setUint32(base + F_COLOR_MASK, base + enc.colorMaskAt, true);
  view.setUint32(base + F_POLYGON, base + enc.polygonAt, true);
}

/** A regions filter's mask over a region dictionary (id 0 = none never matches), as encodeFilter's region mask. */
function regionMask(wanted: readonly string[], regions: readonly string[]): Uint8Array {
  const set = new Set(wanted);
  return Uint8Array.from(regions, (name, id) => (id !== 0 && set.has(name) ? 1 : 0));
}

/** A makes / colors filter's mask over a dictionary (id 0 = none never matches; folded case-insensitively). */
function attributeMask(wanted: string[], dict: readonly string[] | undefined): Uint8Array {
  const set = foldedSet(wanted)!;
  return Uint8Array.from(dict ?? [], (name, id) => (id !== 0 && set.has(foldLabel(name)) ? 1 : 0));
}

function roundUp16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
