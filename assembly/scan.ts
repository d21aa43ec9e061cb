// The row scan: which rows of a segment pass every filter, with their plate distance.
//
//   for each block of kBlockRows rows in [start, end):
//     zone map (minTs maxTs minLat maxLat minLon maxLon, f64) ──► skip the block, or drop the time
//                                                                  test when the block lies inside
//     rows ──► time ─► plate (dist[plate[r]] ≠ 255) ─► bbox ─► geo box ─► camera ─► region
//              ─► polygon (even-odd) ─► radius (haversine; boundary band → JS) ─► emit
//
// Cheap, selective tests run first; each is an integer compare on a column (time and bbox bounds are
// exact integer thresholds computed by src/core/filter.ts). Emitting writes the segment-relative row
// index (u32) and the distance (u8) while under `capacity`, and counts every passing row, so `total`
// is exact even when the output is cut (and with outRows = 0 nothing is written at all).
//
// Columns (src/core/segment.ts): ts i64, lat/lon i32 (1e-7°), plate/camera/region u32, zones 6×f64.
import {
  F_BBOX, F_CAMERA_MASK, F_CAMERA_MASK_LEN, F_FLAGS, F_FROM, F_GEO_BOX, F_NEAR_LAT, F_NEAR_LON, F_POLYGON,
  F_POLYGON_COUNT, F_RADIUS_HI, F_RADIUS_LO, F_REGION_MASK, F_REGION_MASK_LEN, F_TO, F_ZONE_BOX, F_ZONE_FROM,
  F_ZONE_TO, S_BLOCKS, S_CAMERA, S_LAT, S_LON, S_PLATE, S_REGION, S_TS, S_ZONES, kBlockRows, kBlockShift,
  kFilterBBox, kFilterCameras, kFilterEmpty, kFilterNear, kFilterPolygon, kFilterRegions, kFilterTime, kZoneBytes,
} from './abi';
import { haversineM, inPolygon } from './util/geo';

/** Decides a row whose kernel haversine lies within the band around the radius, with the reference formula. */
@external("env", "radiusRecheck")
declare function radiusRecheck(latE7: i32, lonE7: i32): i32;

const kGeo: i32 = kFilterBBox | kFilterNear | kFilterPolygon;

/**
 * Scans rows [start, end) of the segment described at `seg`; see the file comment. `filter` 0 = no
 * filter; `dist` 0 = no plate condition (distance 0). Returns the number of passing rows.
 */
export function scan(seg: usize, filter: usize, dist: usize, start: u32, end: u32, outRows: usize, outDist: usize, capacity: u32): u32 {
  const flags = filter != 0 ? load<i32>(filter, F_FLAGS) : 0;
  if ((flags & kFilterEmpty) != 0) return 0;
  const zones = load<u32>(seg, S_ZONES);
  const blocks = load<u32>(seg, S_BLOCKS);
  let zFrom: f64 = 0, zTo: f64 = 0, zLat0: f64 = 0, zLat1: f64 = 0, zLon0: f64 = 0, zLon1: f64 = 0;
  if (filter != 0) {
    zFrom = load<f64>(filter, F_ZONE_FROM);
    zTo = load<f64>(filter, F_ZONE_TO);
    zLat0 = load<f64>(filter, F_ZONE_BOX);
    zLat1 = load<f64>(filter, F_ZONE_BOX + 8);
    zLon0 = load<f64>(filter, F_ZONE_BOX + 16);
    zLon1 = load<f64>(filter, F_ZONE_BOX + 24);
  }
  let n: u32 = 0;
  let lo = start;
  let block = start >> kBlockShift;
  while (lo < end) {
    const hi = min(end, (block + 1) << kBlockShift);
    let blockFlags = flags;
    let skip = false;
    if (flags != 0 && zones != 0 && block < blocks) {
      const z = <usize>zones + (<usize>block) * kZoneBytes;
      const minTs = load<f64>(z), maxTs = load<f64>(z, 8);
      if ((flags & kFilterTime) != 0) {
        if (maxTs < zFrom || minTs >= zTo) skip = true;
        else if (minTs >= zFrom && maxTs < zTo) blockFlags &= ~kFilterTime;
      }
      if ((flags & kGeo) != 0) {
        if (load<f64>(z, 24) < zLat0 || load<f64>(z, 16) > zLat1 || load<f64>(z, 40) < zLon0 || load<f64>(z, 32) > zLon1) skip = true;
      }
    }
    if (!skip) n = scanRows(seg, filter, blockFlags, dist, lo, hi, outRows, outDist, capacity, n);
    lo = hi;
    block++;
  }
  return n;
}

function scanRows(seg: usize, filter: usize, flags: i32, dist: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  const plate = <usize>load<u32>(seg, S_PLATE);
  if (flags == 0) {
    if (dist == 0) return emitAll(lo, hi, outRows, outDist, capacity, n);
    return scanPlate(plate, dist, lo, hi, outRows, outDist, capacity, n);
  }
  const ts = <usize>load<u32>(seg, S_TS);
  const latCol = <usize>load<u32>(seg, S_LAT);
  const lonCol = <usize>load<u32>(seg, S_LON);
  const camera = <usize>load<u32>(seg, S_CAMERA);
  const region = <usize>load<u32>(seg, S_REGION);
  const from = load<i64>(filter, F_FROM), to = load<i64>(filter, F_TO);
  const useBox = (flags & kFilterBBox) != 0;
  const latMin = load<i32>(filter, F_BBOX), latMax = load<i32>(filter, F_BBOX + 4);
  const lonMin = load<i32>(filter, F_BBOX + 8), lonMax = load<i32>(filter, F_BBOX + 12);
  const useGeoBox = (flags & (kFilterNear | kFilterPolygon)) != 0;
  const gLatMin = load<i32>(filter, F_GEO_BOX), gLatMax = load<i32>(filter, F_GEO_BOX + 4);
  const gLonMin = load<i32>(filter, F_GEO_BOX + 8), gLonMax = load<i32>(filter, F_GEO_BOX + 12);
  const cameraMask = <usize>load<u32>(filter, F_CAMERA_MASK), cameraMaskLen = load<u32>(filter, F_CAMERA_MASK_LEN);
  const regionMask = <usize>load<u32>(filter, F_REGION_MASK), regionMaskLen = load<u32>(filter, F_REGION_MASK_LEN);
  const ring = <usize>load<u32>(filter, F_POLYGON);
  const ringCount = load<i32>(filter, F_POLYGON_COUNT);
  const nearLat = load<f64>(filter, F_NEAR_LAT), nearLon = load<f64>(filter, F_NEAR_LON);
  const radiusLo = load<f64>(filter, F_RADIUS_LO), radiusHi = load<f64>(filter, F_RADIUS_HI);
  for (let r = lo; r < hi; r++) {
    const ri = <usize>r;
    if ((flags & kFilterTime) != 0) {
      const t = load<i64>(ts + (ri << 3));
      if (t < from || t >= to) continue;
    }
    let d: u32 = 0;
    if (dist != 0) {
      d = <u32>load<u8>(dist + <usize>load<u32>(plate + (ri << 2)));
      if (d == 255) continue;
    }
    if ((flags & kGeo) != 0) {
      const lat = load<i32>(latCol + (ri << 2));
      const lon = load<i32>(lonCol + (ri << 2));
      if (useBox && (lat < latMin || lat > latMax || lon < lonMin || lon > lonMax)) continue;
      if (useGeoBox && (lat < gLatMin || lat > gLatMax || lon < gLonMin || lon > gLonMax)) continue;
      if ((flags & (kFilterCameras | kFilterRegions)) != 0 && !labelsPass(flags, ri, camera, cameraMask, cameraMaskLen, region, regionMask, regionMaskLen)) continue;
      const latDeg = <f64>lat / 1e7;
      const lonDeg = <f64>lon / 1e7;
      if ((flags & kFilterPolygon) != 0 && !inPolygon(ring, ringCount, latDeg, lonDeg)) continue;
      if ((flags & kFilterNear) != 0) {
        const m = haversineM(nearLat, nearLon, latDeg, lonDeg);
        if (m > radiusHi) continue;
        if (m > radiusLo && radiusRecheck(lat, lon) == 0) continue;
      }
    } else if ((flags & (kFilterCameras | kFilterRegions)) != 0 && !labelsPass(flags, ri, camera, cameraMask, cameraMaskLen, region, regionMask, regionMaskLen)) {
      continue;
    }
    if (n < capacity) {
      store<u32>(outRows + (<usize>n << 2), r);
      if (outDist != 0) store<u8>(outDist + <usize>n, <u8>d);
    }
    n++;
  }
  return n;
}

// @ts-ignore: decorator
@inline function labelsPass(flags: i32, ri: usize, camera: usize, cameraMask: usize, cameraMaskLen: u32, region: usize, regionMask: usize, regionMaskLen: u32): bool {
  if ((flags & kFilterCameras) != 0) {
    const c = load<u32>(camera + (ri << 2));
    if (c >= cameraMaskLen || load<u8>(cameraMask + <usize>c) == 0) return false;
  }
  if ((flags & kFilterRegions) != 0) {
    const g = load<u32>(region + (ri << 2));
    if (g >= regionMaskLen || load<u8>(regionMask + <usize>g) == 0) return false;
  }
  return true;
}

/** Every row passes (no filter left for this block, no plate condition). */
function emitAll(lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  if (outRows != 0) {
    const stop = min(hi, lo + (capacity > n ? capacity - n : 0));
    let w = n;
    for (let r = lo; r < stop; r++) {
      store<u32>(outRows + (<usize>w << 2), r);
      w++;
    }
    if (outDist != 0 && stop > lo) memory.fill(outDist + <usize>n, 0, <usize>(stop - lo));
  }
  return n + (hi - lo);
}

/**
 * Only the plate condition: a gather dist[plate[r]] per row. Counting and emitting are branch-free
 * (the write happens always, the cursor advances only on a match) while the output has room for the
 * whole block.
 */
function scanPlate(plate: usize, dist: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  if (outRows == 0) {
    let r = lo;
    for (; r + 4 <= hi; r += 4) {
      const at = plate + (<usize>r << 2);
      n += u32(load<u8>(dist + <usize>load<u32>(at)) != 255);
      n += u32(load<u8>(dist + <usize>load<u32>(at, 4)) != 255);
      n += u32(load<u8>(dist + <usize>load<u32>(at, 8)) != 255);
      n += u32(load<u8>(dist + <usize>load<u32>(at, 12)) != 255);
    }
    for (; r < hi; r++) n += u32(load<u8>(dist + <usize>load<u32>(plate + (<usize>r << 2))) != 255);
    return n;
  }
  if (capacity >= n && capacity - n >= hi - lo && outDist != 0) {
    for (let r = lo; r < hi; r++) {
      const d = load<u8>(dist + <usize>load<u32>(plate + (<usize>r << 2)));
      store<u32>(outRows + (<usize>n << 2), r);
      store<u8>(outDist + <usize>n, d);
      n += u32(d != 255);
    }
    return n;
  }
  for (let r = lo; r < hi; r++) {
    const d = load<u8>(dist + <usize>load<u32>(plate + (<usize>r << 2)));
    if (d == 255) continue;
    if (n < capacity) {
      store<u32>(outRows + (<usize>n << 2), r);
      if (outDist != 0) store<u8>(outDist + <usize>n, d);
    }
    n++;
  }
  return n;
}
