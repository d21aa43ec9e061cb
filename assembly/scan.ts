// The row scan: which rows of a segment pass every filter, with their plate distance.
//
//   for each block of kBlockRows rows in [start, end):
//     zone map (minTs maxTs minLat maxLat minLon maxLon, f64) ──► skip the block, or drop the time
//                                                                  test when the block lies inside
//     rows ──► time ─► plate (dist[plate[r]] ≠ 255) ─► bbox ─► geo box ─► camera ─► region ─► make
//              ─► color ─► polygon (even-odd) ─► radius (haversine; boundary band → JS) ─► emit
//
// Cheap, selective tests run first; each is an integer compare on a column (time and bbox bounds are
// exact integer thresholds computed by src/core/filter.ts). Emitting writes the segment-relative row
// index (u32) and the distance (u8) while under `capacity`, and counts every passing row, so `total`
// is exact even when the output is cut (and with outRows = 0 nothing is written at all).
//
// Columns (src/core/segment.ts): ts i64 (or u32 offsets from the segment's tsBase), lat/lon i32
// (1e-7°); ts, lat and lon may also be u24 offsets from a base per run of kBaseRows rows (ABI 7,
// src/core/base-lanes.ts: bounds become offsets once per run, the kernel widens 4 values per swizzle), plate/camera/region/make/color u32 (or u8/u16: the S_WIDTHS word gives each lane's width; plate also u24, ABI 9),
// zones 6×f64. Narrow ts lanes compare four rows per v128 against bounds made relative to tsBase. Camera, region, make and color are all "label" tests: a byte mask over the segment's
// dictionary of that column, indexed by the row's id (ids beyond the mask read as "not wanted"). A camera lane may
// also be u8 entries into a table per run of 256 rows (ABI 10, src/core/camera-lane.ts), and so may the labels lane in
// the region slot (ABI 11, src/core/label-lanes.ts: tables of triple ids): see "Lanes held as runs" below. A plate
// lane may be bit-packed at 1–24 bits a code (ABI 11, src/core/packed-lanes.ts): see packedCode and scanPlateBits.
import {
  F_BBOX, F_CAMERA_MASK, F_CAMERA_MASK_LEN, F_FLAGS, F_FROM, F_GEO_BOX, F_NEAR_LAT, F_NEAR_LON, F_POLYGON,
  F_POLYGON_COUNT, F_RADIUS_HI, F_RADIUS_LO, F_REGION_MASK, F_REGION_MASK_LEN, F_TO, F_ZONE_BOX, F_ZONE_FROM,
  F_ZONE_TO, F_MAKE_MASK, F_MAKE_MASK_LEN, F_COLOR_MASK, F_COLOR_MASK_LEN, S_BLOCKS, S_CAMERA, S_COLOR, S_LAT,
  S_LON, S_MAKE, S_PLATE, S_REGION, S_TS, S_TS_BASE, S_WIDTHS, S_ZONES, S_BASES, S_CAMERA_RUNS, S_CAMERA_TABLE, S_LABEL_RUNS, S_LABEL_TABLE, S_LABEL_SHARED, W_CAMERA, W_COLOR, W_MAKE, W_PLATE, W_PLATE_BITS, kPlateBitsMask, W_REGION,
  W_TS, W_TS24, W_LAT24, W_LON24, kBaseShift, kRunShift, kBlockRows, kBlockShift, kFilterBBox, kFilterCameras,
  kFilterColors, kFilterEmpty, kFilterMakes, kFilterNear, kFilterPolygon, kFilterRegions, kFilterTime, kZoneBytes,
} from './abi';
import { haversineM, inPolygon } from './util/geo';

/** Decides a row whose kernel haversine lies within the band around the radius, with the reference formula. */
@external("env", "radiusRecheck")
declare function radiusRecheck(latE7: i32, lonE7: i32): i32;

const kGeo: i32 = kFilterBBox | kFilterNear | kFilterPolygon;
/** make/color: tested by attrsPass, after camera and region. */
const kAttrs: i32 = kFilterMakes | kFilterColors;

/**
 * Scans rows [start, end) of the segment described at `seg`; see the file comment. `filter` 0 = no
 * filter; `dist` 0 = no plate condition (distance 0). Returns the number of passing rows.
 */
export function scan(seg: usize, filter: usize, dist: usize, start: u32, end: u32, outRows: usize, outDist: usize, capacity: u32): u32 {
  const flags = filter != 0 ? load<i32>(filter, F_FLAGS) : 0;
  camRun = kNoRun;
  labRun = kNoRun;
  if ((flags & kFilterEmpty) != 0) return 0;
  const zones = load<u32>(seg, S_ZONES);
  const blocks = load<u32>(seg, S_BLOCKS);
  const u24 = (load<u32>(seg, S_WIDTHS) & ((1 << W_TS24) | (1 << W_LAT24) | (1 << W_LON24))) != 0;
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
    if (!skip) {
      n = u24 ? scanRows<Runs>(seg, filter, blockFlags, dist, lo, hi, outRows, outDist, capacity, n)
        : scanRows<Whole>(seg, filter, blockFlags, dist, lo, hi, outRows, outDist, capacity, n);
    }
    lo = hi;
    block++;
  }
  return n;
}

/**
 * The row tests over [lo, hi) of one block. Instantiated twice: `Whole` for segments without u24 lanes (every
 * u24 test below is then a constant false the compiler removes, so full-width lanes run the loop they ran
 * before ABI 7), `Runs` for segments with one (one pass per run of kBaseRows rows).
 */
function scanRows<L>(seg: usize, filter: usize, flags: i32, dist: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  const plate = <usize>load<u32>(seg, S_PLATE);
  const widths = load<u32>(seg, S_WIDTHS);
  const plateShift = (widths >> W_PLATE) & 3;
  const plateBits = (widths >> W_PLATE_BITS) & kPlateBitsMask;
  if (flags == 0) {
    if (dist == 0) return emitAll(lo, hi, outRows, outDist, capacity, n);
    if (plateBits != 0) return scanPlateBits(plate, plateBits, dist, lo, hi, outRows, outDist, capacity, n);
    if (plateShift == 1) return scanPlate<u16>(plate, dist, lo, hi, outRows, outDist, capacity, n);
    if (plateShift == 0) return scanPlate<u8>(plate, dist, lo, hi, outRows, outDist, capacity, n);
    if (plateShift == 3) return scanPlate<U24>(plate, dist, lo, hi, outRows, outDist, capacity, n);
    return scanPlate<u32>(plate, dist, lo, hi, outRows, outDist, capacity, n);
  }
  const ts = <usize>load<u32>(seg, S_TS);
  const latCol = <usize>load<u32>(seg, S_LAT);
  const lonCol = <usize>load<u32>(seg, S_LON);
  const camera = <usize>load<u32>(seg, S_CAMERA);
  const region = <usize>load<u32>(seg, S_REGION);
  if ((flags & (kFilterTime | kGeo)) == 0) {
    return scanLabels(flags, seg, filter, plate, dist, camera, region, lo, hi, outRows, outDist, capacity, n);
  }
  const from = load<i64>(filter, F_FROM), to = load<i64>(filter, F_TO);
  const useTime = (flags & kFilterTime) != 0;
  // u32 ts lanes: bounds relative to the segment's base, compared as i32 (offsets are < 2^31 - 1)
  const narrowTs = ((widths >> W_TS) & 3) == 2;
  const tsBase = load<i64>(seg, S_TS_BASE);
  // u24 lanes (src/core/base-lanes.ts): offsets from a base per run of kBaseRows rows
  const runs = isRuns<L>();
  const ts24 = runs && ((widths >> W_TS24) & 1) != 0, lat24 = runs && ((widths >> W_LAT24) & 1) != 0, lon24 = runs && ((widths >> W_LON24) & 1) != 0;
  const byRun = runs;
  const geo24 = lat24 && lon24, geoMixed = lat24 != lon24;
  const bases = <usize>load<u32>(seg, S_BASES);
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
  // Row tests that stay scalar, run only on rows the SIMD masks let through.
  const scalarFlags = flags & (kFilterCameras | kFilterRegions | kAttrs | kFilterPolygon | kFilterNear);
  const fromV = i64x2.splat(from), toV = i64x2.splat(to);

  // One pass over [lo, hi) for full-width lanes; with a u24 lane, one pass per run of kBaseRows rows, whose
  // bases turn the bounds into offsets once (clamped: a bound outside the run's range passes all or none).
  let r = lo;
  while (r < hi) {
    const runHi = byRun ? min(hi, ((r >> kBaseShift) + 1) << kBaseShift) : hi;
    let tsRunBase = tsBase;
    let latBase: i32 = 0, lonBase: i32 = 0;
    if (byRun) {
      // the run's extents (src/core/base-lanes.ts): a run none of whose rows can meet the window or a box is
      // skipped before a row is read, a zone map per kBaseRows rows (ts extents only on u32 / u24 lanes)
      const b = bases + ((<usize>(r >> kBaseShift)) << 5);
      latBase = load<i32>(b, 4);
      lonBase = load<i32>(b, 8);
      const latTop = load<i32>(b, 20), lonTop = load<i32>(b, 24);
      if (
        (useTime && narrowTs && (tsBase + <i64>load<i32>(b, 16) < from || tsBase + <i64>load<i32>(b) >= to)) ||
        (useBox && (latTop < latMin || latBase > latMax || lonTop < lonMin || lonBase > lonMax)) ||
        (useGeoBox && (latTop < gLatMin || latBase > gLatMax || lonTop < gLonMin || lonBase > gLonMax))
      ) {
        r = runHi;
        continue;
      }
      if (ts24) tsRunBase += <i64>load<i32>(b);
    }
    const fromRel = relBound(from, tsRunBase), toRel = relBound(to, tsRunBase);
    const bLat0 = lat24 ? relLo(latMin, latBase) : latMin, bLat1 = lat24 ? relHi(latMax, latBase) : latMax;
    const bLon0 = lon24 ? relLo(lonMin, lonBase) : lonMin, bLon1 = lon24 ? relHi(lonMax, lonBase) : lonMax;
    const gLat0 = lat24 ? relLo(gLatMin, latBase) : gLatMin, gLat1 = lat24 ? relHi(gLatMax, latBase) : gLatMax;
    const gLon0 = lon24 ? relLo(gLonMin, lonBase) : gLonMin, gLon1 = lon24 ? relHi(gLonMax, lonBase) : gLonMax;
    const fromRelV = i32x4.splat(fromRel), toRelV = i32x4.splat(toRel);
    const latMinV = i32x4.splat(bLat0), latMaxV = i32x4.splat(bLat1), lonMinV = i32x4.splat(bLon0), lonMaxV = i32x4.splat(bLon1);
    const gLatMinV = i32x4.splat(gLat0), gLatMaxV = i32x4.splat(gLat1), gLonMinV = i32x4.splat(gLon0), gLonMaxV = i32x4.splat(gLon1);

    // SIMD part: 16 rows at a time, one 16-bit mask; time, bbox and the near/polygon box are column-wise
    // compares (8 × i64x2 or 4 × i32x4 per column), narrowed to bytes and bit-masked.
    for (; r + 16 <= runHi; r += 16) {
      const ri = <usize>r;
      let m: u32 = 0xffff;
      if (useTime) m &= ts24 ? timeMask16u24(ts + ri * 3, fromRelV, toRelV) : narrowTs ? timeMask16u32(ts + (ri << 2), fromRelV, toRelV) : timeMask16(ts + (ri << 3), fromV, toV);
      // the box masks per lane layout, chosen outside the loads (a branch per load cost the i32 lanes ~25%)
      if (m != 0 && useBox) {
        if (geo24) m &= boxMask16u24(latCol + ri * 3, lonCol + ri * 3, latMinV, latMaxV, lonMinV, lonMaxV);
        else if (geoMixed) m &= boxMask16mixed(latCol, lonCol, ri, lat24, lon24, latMinV, latMaxV, lonMinV, lonMaxV);
        else m &= boxMask16(latCol + (ri << 2), lonCol + (ri << 2), latMinV, latMaxV, lonMinV, lonMaxV);
      }
      if (m != 0 && useGeoBox) {
        if (geo24) m &= boxMask16u24(latCol + ri * 3, lonCol + ri * 3, gLatMinV, gLatMaxV, gLonMinV, gLonMaxV);
        else if (geoMixed) m &= boxMask16mixed(latCol, lonCol, ri, lat24, lon24, gLatMinV, gLatMaxV, gLonMinV, gLonMaxV);
        else m &= boxMask16(latCol + (ri << 2), lonCol + (ri << 2), gLatMinV, gLatMaxV, gLonMinV, gLonMaxV);
      }
      if (m == 0) continue;
      if (scalarFlags == 0 && dist == 0 && outRows == 0) {
        n += <u32>popcnt(m);
        continue;
      }
      while (m != 0) {
        const row = r + <u32>ctz(m);
        m &= m - 1;
        const rr = <usize>row;
        let d: u32 = 0;
        if (dist != 0) {
          d = <u32>load<u8>(dist + <usize>loadPlateCode(plate, rr, plateShift, plateBits));
          if (d == 255) continue;
        }
        if (scalarFlags != 0 && !rowPasses(scalarFlags, seg, widths, filter, rr, latCol, lonCol, lat24, lon24, latBase, lonBase, camera, cameraMask, cameraMaskLen, region, regionMask, regionMaskLen, ring, ringCount, nearLat, nearLon, radiusLo, radiusHi)) continue;
        if (n < capacity) {
          store<u32>(outRows + (<usize>n << 2), row);
          if (outDist != 0) store<u8>(outDist + <usize>n, <u8>d);
        }
        n++;
      }
    }
    // Scalar tail of the run (< 16 rows): absolute values against absolute bounds.
    for (; r < runHi; r++) {
      const ri = <usize>r;
      if (useTime) {
        if (ts24) {
          const t = <i32>(load<u32>(ts + ri * 3) & 0xffffff);
          if (t < fromRel || t >= toRel) continue;
        } else if (narrowTs) {
          const t = <i32>load<u32>(ts + (ri << 2));
          if (t < fromRel || t >= toRel) continue;
        } else {
          const t = load<i64>(ts + (ri << 3));
          if (t < from || t >= to) continue;
        }
      }
      const lat = loadCoord(latCol, ri, lat24, latBase);
      const lon = loadCoord(lonCol, ri, lon24, lonBase);
      if (useBox && (lat < latMin || lat > latMax || lon < lonMin || lon > lonMax)) continue;
      if (useGeoBox && (lat < gLatMin || lat > gLatMax || lon < gLonMin || lon > gLonMax)) continue;
      let d: u32 = 0;
      if (dist != 0) {
        d = <u32>load<u8>(dist + <usize>loadPlateCode(plate, ri, plateShift, plateBits));
        if (d == 255) continue;
      }
      if (scalarFlags != 0 && !rowPasses(scalarFlags, seg, widths, filter, ri, latCol, lonCol, lat24, lon24, latBase, lonBase, camera, cameraMask, cameraMaskLen, region, regionMask, regionMaskLen, ring, ringCount, nearLat, nearLon, radiusLo, radiusHi)) continue;
      if (n < capacity) {
        store<u32>(outRows + (<usize>n << 2), r);
        if (outDist != 0) store<u8>(outDist + <usize>n, <u8>d);
      }
      n++;
    }
  }
  return n;
}

/** Type markers for scanRows' two instantiations (see there). */
class Whole {}
class Runs {}
// @ts-ignore: decorator
@inline function isRuns<L>(): bool {
  return idof<L>() == idof<Runs>();
}

/** Swizzle indices widening four little-endian u24 values (bytes 0–11) to an i32x4; 255 reads as 0. */
const kWidenU24: v128 = i8x16(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);

/** Four values of a lane at row ri + 4k as an i32x4: u24 offsets widened, or i32 as they are. */
// @ts-ignore: decorator
@inline function load4(col: usize, ri: usize, k: usize, u24: bool): v128 {
  return u24 ? i8x16.swizzle(v128.load(col + ri * 3 + k * 12), kWidenU24) : v128.load(col + (ri << 2) + (k << 4));
}

/** lat or lon of row ri (i32, 1e-7°): the run's base + the u24 offset (the lane is padded for the u32 load), or the i32. */
// @ts-ignore: decorator
@inline function loadCoord(col: usize, ri: usize, u24: bool, base: i32): i32 {
  return u24 ? base + <i32>(load<u32>(col + ri * 3) & 0xffffff) : load<i32>(col + (ri << 2));
}

/** An inclusive lower bound as a u24 offset from `base`: o ≥ relLo(x) ⇔ base + o ≥ x for o in [0, 2^24). */
// @ts-ignore: decorator
@inline function relLo(x: i32, base: i32): i32 {
  const d = <i64>x - <i64>base;
  return d <= 0 ? 0 : d > 0x1000000 ? 0x1000000 : <i32>d;
}

/** An inclusive upper bound as a u24 offset from `base`: o ≤ relHi(x) ⇔ base + o ≤ x for o in [0, 2^24). */
// @ts-ignore: decorator
@inline function relHi(x: i32, base: i32): i32 {
  const d = <i64>x - <i64>base;
  return d < 0 ? -1 : d > 0xffffff ? 0xffffff : <i32>d;
}

/** 16 rows' `fromRel ≤ ts < toRel` on a u24 lane of offsets from the run's base: 4 × (load, swizzle, i32x4). */
// @ts-ignore: decorator
@inline function timeMask16u24(at: usize, fromV: v128, toV: v128): u32 {
  const a = i8x16.swizzle(v128.load(at, 0), kWidenU24), b = i8x16.swizzle(v128.load(at, 12), kWidenU24);
  const c = i8x16.swizzle(v128.load(at, 24), kWidenU24), d = i8x16.swizzle(v128.load(at, 36), kWidenU24);
  const c0 = v128.and(i32x4.ge_s(a, fromV), i32x4.lt_s(a, toV));
  const c1 = v128.and(i32x4.ge_s(b, fromV), i32x4.lt_s(b, toV));
  const c2 = v128.and(i32x4.ge_s(c, fromV), i32x4.lt_s(c, toV));
  const c3 = v128.and(i32x4.ge_s(d, fromV), i32x4.lt_s(d, toV));
  const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
  return <u32>i8x16.bitmask(h);
}

/** 16 rows' `from ≤ ts < to` as a 16-bit mask: 8 × i64x2 compares narrowed 64→32→16→8 bits per lane. */
// @ts-ignore: decorator
@inline function timeMask16(at: usize, fromV: v128, toV: v128): u32 {
  const c0 = v128.and(i64x2.ge_s(v128.load(at, 0), fromV), i64x2.lt_s(v128.load(at, 0), toV));
  const c1 = v128.and(i64x2.ge_s(v128.load(at, 16), fromV), i64x2.lt_s(v128.load(at, 16), toV));
  const c2 = v128.and(i64x2.ge_s(v128.load(at, 32), fromV), i64x2.lt_s(v128.load(at, 32), toV));
  const c3 = v128.and(i64x2.ge_s(v128.load(at, 48), fromV), i64x2.lt_s(v128.load(at, 48), toV));
  const c4 = v128.and(i64x2.ge_s(v128.load(at, 64), fromV), i64x2.lt_s(v128.load(at, 64), toV));
  const c5 = v128.and(i64x2.ge_s(v128.load(at, 80), fromV), i64x2.lt_s(v128.load(at, 80), toV));
  const c6 = v128.and(i64x2.ge_s(v128.load(at, 96), fromV), i64x2.lt_s(v128.load(at, 96), toV));
  const c7 = v128.and(i64x2.ge_s(v128.load(at, 112), fromV), i64x2.lt_s(v128.load(at, 112), toV));
  const w0 = i32x4.shuffle(c0, c1, 0, 2, 4, 6);
  const w1 = i32x4.shuffle(c2, c3, 0, 2, 4, 6);
  const w2 = i32x4.shuffle(c4, c5, 0, 2, 4, 6);
  const w3 = i32x4.shuffle(c6, c7, 0, 2, 4, 6);
  const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(w0, w1), i16x8.narrow_i32x4_s(w2, w3));
  return <u32>i8x16.bitmask(h);
}

/** 16 rows' `fromRel ≤ ts < toRel` on a u32 lane of offsets (< 2^31 - 1, so signed compares): 4 × i32x4. */
// @ts-ignore: decorator
@inline function timeMask16u32(at: usize, fromV: v128, toV: v128): u32 {
  const a = v128.load(at, 0), b = v128.load(at, 16), c = v128.load(at, 32), d = v128.load(at, 48);
  const c0 = v128.and(i32x4.ge_s(a, fromV), i32x4.lt_s(a, toV));
  const c1 = v128.and(i32x4.ge_s(b, fromV), i32x4.lt_s(b, toV));
  const c2 = v128.and(i32x4.ge_s(c, fromV), i32x4.lt_s(c, toV));
  const c3 = v128.and(i32x4.ge_s(d, fromV), i32x4.lt_s(d, toV));
  const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
  return <u32>i8x16.bitmask(h);
}

/**
 * An i64 time bound as an offset from `base`, clamped to [0, 2^31 - 1]: for offsets o in [0, 2^31 - 1),
 * base + o ≥ x ⇔ o ≥ relBound(x) and base + o < x ⇔ o < relBound(x). No i64 overflow at either end.
 */
// @ts-ignore: decorator
@inline function relBound(x: i64, base: i64): i32 {
  const lim = base + 0x7fffffff;
  return x <= base ? 0 : x >= lim ? 0x7fffffff : <i32>(x - base);
}

/** Code of row `ri` in a dictionary-coded lane of width 1 << shift. */
// @ts-ignore: decorator
@inline function loadCode(col: usize, ri: usize, shift: u32): u32 {
  if (shift == 0) return <u32>load<u8>(col + ri);
  if (shift == 1) return <u32>load<u16>(col + (ri << 1));
  return load<u32>(col + (ri << 2));
}

/**
 * Plate code of row ri: u8, u16 or u32 (shift 0–2), or u24 (3, ABI 9: codes < 2^24 of a loaded shard narrowed in
 * memory, src/store/shard-u24.ts): one unaligned u32 load masked to 24 bits; the lane is padded by 4 bytes, so the
 * last row's load stays inside it. `bits` ≠ 0 (ABI 11): bit-packed at that many bits a code (see packedCode).
 */
// @ts-ignore: decorator
@inline function loadPlateCode(col: usize, ri: usize, shift: u32, bits: u32): u32 {
  if (bits != 0) return packedCode(col, ri * <usize>bits, bits);
  if (shift == 3) return load<u32>(col + ri * 3) & 0xffffff;
  return loadCode(col, ri, shift);
}

/**
 * The code at bit `bit` of a bit-packed lane of `bits` bits a code (ABI 11, src/core/packed-lanes.ts): one unaligned
 * u32 load at its first byte, shifted by its first bit's place in that byte (0–7) and masked. With bits ≤ 24 the code
 * lies inside the 32 bits loaded; the lane is padded by 4 bytes, so the last code's load stays inside it.
 *
 *   byte   bit >> 3        +1          +2          +3
 *          ....cccc        cccccccc    cccccc..    ........      (bits = 18, bit & 7 = 4)
 */
// @ts-ignore: decorator
@inline function packedCode(col: usize, bit: usize, bits: u32): u32 {
  return (load<u32>(col + (bit >> 3)) >> <u32>(bit & 7)) & ((<u32>1 << bits) - 1);
}

/** 16 rows' `latMin ≤ lat ≤ latMax && lonMin ≤ lon ≤ lonMax` (i32, 1e-7°) as a 16-bit mask. */
// @ts-ignore: decorator
@inline function boxMask16(lat: usize, lon: usize, latMinV: v128, latMaxV: v128, lonMinV: v128, lonMaxV: v128): u32 {
  const a0 = inBox4(v128.load(lat, 0), v128.load(lon, 0), latMinV, latMaxV, lonMinV, lonMaxV);
  const a1 = inBox4(v128.load(lat, 16), v128.load(lon, 16), latMinV, latMaxV, lonMinV, lonMaxV);
  const a2 = inBox4(v128.load(lat, 32), v128.load(lon, 32), latMinV, latMaxV, lonMinV, lonMaxV);
  const a3 = inBox4(v128.load(lat, 48), v128.load(lon, 48), latMinV, latMaxV, lonMinV, lonMaxV);
  const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a0, a1), i16x8.narrow_i32x4_s(a2, a3));
  return <u32>i8x16.bitmask(h);
}

/** boxMask16 over u24 lat and lon lanes (offsets against bounds relative to the run's bases): 4 × 2 load + swizzle. */
// @ts-ignore: decorator
@inline function boxMask16u24(lat: usize, lon: usize, latMinV: v128, latMaxV: v128, lonMinV: v128, lonMaxV: v128): u32 {
  const a0 = inBox4(i8x16.swizzle(v128.load(lat, 0), kWidenU24), i8x16.swizzle(v128.load(lon, 0), kWidenU24), latMinV, latMaxV, lonMinV, lonMaxV);
  const a1 = inBox4(i8x16.swizzle(v128.load(lat, 12), kWidenU24), i8x16.swizzle(v128.load(lon, 12), kWidenU24), latMinV, latMaxV, lonMinV, lonMaxV);
  const a2 = inBox4(i8x16.swizzle(v128.load(lat, 24), kWidenU24), i8x16.swizzle(v128.load(lon, 24), kWidenU24), latMinV, latMaxV, lonMinV, lonMaxV);
  const a3 = inBox4(i8x16.swizzle(v128.load(lat, 36), kWidenU24), i8x16.swizzle(v128.load(lon, 36), kWidenU24), latMinV, latMaxV, lonMinV, lonMaxV);
  const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a0, a1), i16x8.narrow_i32x4_s(a2, a3));
  return <u32>i8x16.bitmask(h);
}

/** boxMask16 with one of lat / lon u24 and the other i32 (a shard wider than 1.67° one way only: rare). */
function boxMask16mixed(lat: usize, lon: usize, ri: usize, lat24: bool, lon24: bool, latMinV: v128, latMaxV: v128, lonMinV: v128, lonMaxV: v128): u32 {
  const a0 = inBox4(load4(lat, ri, 0, lat24), load4(lon, ri, 0, lon24), latMinV, latMaxV, lonMinV, lonMaxV);
  const a1 = inBox4(load4(lat, ri, 1, lat24), load4(lon, ri, 1, lon24), latMinV, latMaxV, lonMinV, lonMaxV);
  const a2 = inBox4(load4(lat, ri, 2, lat24), load4(lon, ri, 2, lon24), latMinV, latMaxV, lonMinV, lonMaxV);
  const a3 = inBox4(load4(lat, ri, 3, lat24), load4(lon, ri, 3, lon24), latMinV, latMaxV, lonMinV, lonMaxV);
  const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a0, a1), i16x8.narrow_i32x4_s(a2, a3));
  return <u32>i8x16.bitmask(h);
}

// @ts-ignore: decorator
@inline function inBox4(lat: v128, lon: v128, latMinV: v128, latMaxV: v128, lonMinV: v128, lonMaxV: v128): v128 {
  return v128.and(
    v128.and(i32x4.ge_s(lat, latMinV), i32x4.le_s(lat, latMaxV)),
    v128.and(i32x4.ge_s(lon, lonMinV), i32x4.le_s(lon, lonMaxV)),
  );
}

/** The scalar tests: camera, region, make, color, polygon, radius. */
// @ts-ignore: decorator
@inline function rowPasses(
  flags: i32, seg: usize, widths: u32, filter: usize, ri: usize, latCol: usize, lonCol: usize, lat24: bool, lon24: bool, latBase: i32, lonBase: i32,
  camera: usize, cameraMask: usize, cameraMaskLen: u32,
  region: usize, regionMask: usize, regionMaskLen: u32, ring: usize, ringCount: i32,
  nearLat: f64, nearLon: f64, radiusLo: f64, radiusHi: f64,
): bool {
  if ((flags & (kFilterCameras | kFilterRegions)) != 0 && !labelsPass(flags, seg, widths, ri, camera, cameraMask, cameraMaskLen, region, regionMask, regionMaskLen)) return false;
  if ((flags & kAttrs) != 0 && !attrsPass(flags, seg, widths, filter, ri)) return false;
  if ((flags & (kFilterPolygon | kFilterNear)) == 0) return true;
  const lat = loadCoord(latCol, ri, lat24, latBase);
  const lon = loadCoord(lonCol, ri, lon24, lonBase);
  const latDeg = <f64>lat / 1e7;
  const lonDeg = <f64>lon / 1e7;
  if ((flags & kFilterPolygon) != 0 && !inPolygon(ring, ringCount, latDeg, lonDeg)) return false;
  if ((flags & kFilterNear) != 0) {
    const m = haversineM(nearLat, nearLon, latDeg, lonDeg);
    if (m > radiusHi) return false;
    if (m > radiusLo && radiusRecheck(lat, lon) == 0) return false;
  }
  return true;
}

/** The make/color tests (ABI 4): byte masks over the segment's make and color dictionaries. */
// @ts-ignore: decorator
@inline function attrsPass(flags: i32, seg: usize, widths: u32, filter: usize, ri: usize): bool {
  if ((flags & kFilterMakes) != 0) {
    const m = loadCode(<usize>load<u32>(seg, S_MAKE), ri, (widths >> W_MAKE) & 3);
    if (m >= load<u32>(filter, F_MAKE_MASK_LEN) || load<u8>(<usize>load<u32>(filter, F_MAKE_MASK) + <usize>m) == 0) return false;
  }
  if ((flags & kFilterColors) != 0) {
    const c = loadCode(<usize>load<u32>(seg, S_COLOR), ri, (widths >> W_COLOR) & 3);
    if (c >= load<u32>(filter, F_COLOR_MASK_LEN) || load<u8>(<usize>load<u32>(filter, F_COLOR_MASK) + <usize>c) == 0) return false;
  }
  return true;
}

/**
 * Only camera/region/make/color (and maybe plate) conditions: byte-mask gathers per row, counted and emitted
 * branch-free (out-of-range ids read as "not wanted").
 */
function scanLabels(flags: i32, seg: usize, filter: usize, plate: usize, dist: usize, camera: usize, region: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  const useCamera = (flags & kFilterCameras) != 0;
  const useRegion = (flags & kFilterRegions) != 0;
  const cameraMask = <usize>load<u32>(filter, F_CAMERA_MASK), cameraMaskLen = load<u32>(filter, F_CAMERA_MASK_LEN);
  const regionMask = <usize>load<u32>(filter, F_REGION_MASK), regionMaskLen = load<u32>(filter, F_REGION_MASK_LEN);
  const useMake = (flags & kFilterMakes) != 0;
  const useColor = (flags & kFilterColors) != 0;
  const make = <usize>load<u32>(seg, S_MAKE), color = <usize>load<u32>(seg, S_COLOR);
  const makeMask = <usize>load<u32>(filter, F_MAKE_MASK), makeMaskLen = load<u32>(filter, F_MAKE_MASK_LEN);
  const colorMask = <usize>load<u32>(filter, F_COLOR_MASK), colorMaskLen = load<u32>(filter, F_COLOR_MASK_LEN);
  const widths = load<u32>(seg, S_WIDTHS);
  const plateBits = (widths >> W_PLATE_BITS) & kPlateBitsMask;
  const plateShift = (widths >> W_PLATE) & 3, cameraShift = (widths >> W_CAMERA) & 3, regionShift = (widths >> W_REGION) & 3;
  const makeShift = (widths >> W_MAKE) & 3, colorShift = (widths >> W_COLOR) & 3;
  const roomy = outRows != 0 && outDist != 0 && capacity >= n && capacity - n >= hi - lo;
  for (let r = lo; r < hi; r++) {
    const ri = <usize>r;
    let pass: u32 = 1;
    if (useCamera) {
      if (cameraShift == 3) {
        if ((r >> kRunShift) != camRun) {
          cameraRunSetup(seg, r >> kRunShift, cameraMask, cameraMaskLen);
          // no camera of the run passes: none of its rows does (the loop's r++ lands on the next run)
          if (!camAny) {
            r = min(hi, (camRun + 1) << kRunShift) - 1;
            continue;
          }
        }
        pass = camWide ? runEntryPasses(camTable, load<u8>(camera + ri), cameraMask, cameraMaskLen) : <u32>((camBits >> <u64>load<u8>(camera + ri)) & 1);
      } else {
        const c = loadCode(camera, ri, cameraShift);
        pass = c < cameraMaskLen ? <u32>load<u8>(cameraMask + <usize>c) : 0;
      }
    }
    if (useRegion) {
      if (regionShift == 3) {
        if ((r >> kRunShift) != labRun) {
          labelRunSetup(seg, r >> kRunShift, regionMask, regionMaskLen);
          // no triple of the run passes: none of its rows does
          if (!labAny && !labSharedAny) {
            r = min(hi, (labRun + 1) << kRunShift) - 1;
            continue;
          }
        }
        pass &= labelEntryPasses(<u32>load<u8>(region + ri), regionMask, regionMaskLen);
      } else {
        const g = loadCode(region, ri, regionShift);
        pass &= g < regionMaskLen ? <u32>load<u8>(regionMask + <usize>g) : 0;
      }
    }
    if (useMake) {
      const m = loadCode(make, ri, makeShift);
      pass &= m < makeMaskLen ? <u32>load<u8>(makeMask + <usize>m) : 0;
    }
    if (useColor) {
      const c = loadCode(color, ri, colorShift);
      pass &= c < colorMaskLen ? <u32>load<u8>(colorMask + <usize>c) : 0;
    }
    let d: u32 = 0;
    if (dist != 0) {
      d = <u32>load<u8>(dist + <usize>loadPlateCode(plate, ri, plateShift, plateBits));
      pass &= u32(d != 255);
    }
    if (outRows == 0) {
      n += pass;
    } else if (roomy) {
      store<u32>(outRows + (<usize>n << 2), r);
      store<u8>(outDist + <usize>n, <u8>d);
      n += pass;
    } else if (pass != 0) {
      if (n < capacity) {
        store<u32>(outRows + (<usize>n << 2), r);
        if (outDist != 0) store<u8>(outDist + <usize>n, <u8>d);
      }
      n++;
    }
  }
  return n;
}

// @ts-ignore: decorator
@inline function labelsPass(flags: i32, seg: usize, widths: u32, ri: usize, camera: usize, cameraMask: usize, cameraMaskLen: u32, region: usize, regionMask: usize, regionMaskLen: u32): bool {
  if ((flags & kFilterCameras) != 0) {
    const shift = (widths >> W_CAMERA) & 3;
    if (shift == 3) {
      if (!cameraRunPasses(seg, ri, camera, cameraMask, cameraMaskLen)) return false;
    } else {
      const c = loadCode(camera, ri, shift);
      if (c >= cameraMaskLen || load<u8>(cameraMask + <usize>c) == 0) return false;
    }
  }
  if ((flags & kFilterRegions) != 0) {
    const shift = (widths >> W_REGION) & 3;
    if (shift == 3) {
      if (!labelRunPasses(seg, ri, region, regionMask, regionMaskLen)) return false;
    } else {
      const g = loadCode(region, ri, shift);
      if (g >= regionMaskLen || load<u8>(regionMask + <usize>g) == 0) return false;
    }
  }
  return true;
}

// Lanes held as runs (src/core/run-lane.ts): the camera lane (ABI 10: camera field of S_WIDTHS = 3, tables at
// S_CAMERA_RUNS / S_CAMERA_TABLE, the mask over camera codes) and the labels lane in the region slot (ABI 11: region
// field = 3, tables at S_LABEL_RUNS / S_LABEL_TABLE, the mask over triple ids). A row's u8 entry indexes its run's
// table of u16 codes (ascending). Once a run (rows are visited in ascending order in a scan), its entries' passes
// become the bits of a 64-bit mask (runs of at most 64 entries: a row is then a byte load and a bit test) or, for a
// wider run, each row's entry goes through the table and the mask; a run none of whose entries passes is skipped
// whole by the label scan. Per instance state, one set a lane (globals are the instance's own, one instance a
// thread; the memory is shared between threads), reset by scan() at every call.
const kNoRun: u32 = 0xffffffff;
let camRun: u32 = kNoRun;
let camBits: u64 = 0;
let camWide: bool = false;
/** Some entry of the set-up run passes: a run without one is skipped whole by the label scan. */
let camAny: bool = false;
let camTable: usize = 0;
let labRun: u32 = kNoRun;
let labBits: u64 = 0;
let labWide: bool = false;
let labAny: bool = false;
let labTable: usize = 0;
// the labels lane's shared entries (S_LABEL_SHARED: triple ids of their own, tested against the mask directly) and
// whether one of them passes (set at a scan's first run)
let labShared: u32 = 0;
let labSharedAny: bool = false;
// runSetup's answers beside the bits it returns
let setupWide: bool = false;
let setupAny: bool = false;
let setupTable: usize = 0;

/**
 * Sets up run `run` of the tables at `runsPtr` / `tablePtr` against the mask: returns its bits (0 for a wide run),
 * and leaves in setupWide, setupAny and setupTable whether it is wide, whether an entry passes, where its table is.
 */
function runSetup(runsPtr: usize, tablePtr: usize, run: u32, mask: usize, maskLen: u32): u64 {
  const runs = runsPtr + (<usize>run << 2);
  const start = load<u32>(runs), count = load<u32>(runs, 4) - start;
  const table = tablePtr + (<usize>start << 1);
  const wide = count > 64;
  let bits: u64 = 0;
  let any = false;
  if (!wide) {
    for (let k: u32 = 0; k < count; k++) {
      if (runEntryPasses(table, k, mask, maskLen) != 0) bits |= (<u64>1) << <u64>k;
    }
    any = bits != 0;
  } else {
    for (let k: u32 = 0; k < count && !any; k++) any = runEntryPasses(table, k, mask, maskLen) != 0;
  }
  setupWide = wide;
  setupAny = any;
  setupTable = table;
  return bits;
}

/** Whether entry k of a run's table (at `table`) passes the mask (1 / 0). */
// @ts-ignore: decorator
@inline function runEntryPasses(table: usize, k: u32, mask: usize, maskLen: u32): u32 {
  const c = <u32>load<u16>(table + (<usize>k << 1));
  return c < maskLen ? <u32>load<u8>(mask + <usize>c) : 0;
}

/** Sets up run `run` of the segment's camera tables against the camera mask. */
function cameraRunSetup(seg: usize, run: u32, mask: usize, maskLen: u32): void {
  camBits = runSetup(<usize>load<u32>(seg, S_CAMERA_RUNS), <usize>load<u32>(seg, S_CAMERA_TABLE), run, mask, maskLen);
  camRun = run;
  camWide = setupWide;
  camAny = setupAny;
  camTable = setupTable;
}

/** Sets up run `run` of the segment's labels tables against the region slot's mask (over triples). */
function labelRunSetup(seg: usize, run: u32, mask: usize, maskLen: u32): void {
  if (labRun == kNoRun) {
    labShared = load<u32>(seg, S_LABEL_SHARED);
    let any = false;
    for (let e: u32 = 0; e < labShared && e < maskLen && !any; e++) any = load<u8>(mask + <usize>e) != 0;
    labSharedAny = any;
  }
  labBits = runSetup(<usize>load<u32>(seg, S_LABEL_RUNS), <usize>load<u32>(seg, S_LABEL_TABLE), run, mask, maskLen);
  labRun = run;
  labWide = setupWide;
  labAny = setupAny;
  labTable = setupTable;
}

/** Whether row ri's camera passes the mask, through its run's table. */
// @ts-ignore: decorator
@inline function cameraRunPasses(seg: usize, ri: usize, camera: usize, mask: usize, maskLen: u32): bool {
  const run = <u32>(ri >> kRunShift);
  if (run != camRun) cameraRunSetup(seg, run, mask, maskLen);
  const k = <u32>load<u8>(camera + ri);
  return (camWide ? runEntryPasses(camTable, k, mask, maskLen) : <u32>((camBits >> <u64>k) & 1)) != 0;
}

/** Whether row ri's triple passes the mask, through its run's table. */
// @ts-ignore: decorator
@inline function labelRunPasses(seg: usize, ri: usize, labels: usize, mask: usize, maskLen: u32): bool {
  const run = <u32>(ri >> kRunShift);
  if (run != labRun) labelRunSetup(seg, run, mask, maskLen);
  return labelEntryPasses(<u32>load<u8>(labels + ri), mask, maskLen) != 0;
}

/**
 * Whether entry e of the set-up labels run passes the mask (1 / 0): a shared triple id, or its run's table's. In a
 * run of at most 64 entries of its own (every run when 192 or more are shared), both answers are computed and one
 * selected, without a branch: ~10% of rows hold a run's own triple, at random, so a branch would mispredict often.
 */
// @ts-ignore: decorator
@inline function labelEntryPasses(e: u32, mask: usize, maskLen: u32): u32 {
  if (labWide) {
    if (e < labShared) return e < maskLen ? <u32>load<u8>(mask + <usize>e) : 0;
    return runEntryPasses(labTable, e - labShared, mask, maskLen);
  }
  const direct = select<u32>(<u32>load<u8>(mask + <usize>min(e, maskLen - 1)), 0, e < maskLen);
  const own = <u32>((labBits >> <u64>((e - labShared) & 63)) & 1);
  return select<u32>(direct, own, e < labShared);
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
 * whole block. T: u8, u16 or u32 codes, or U24 (ABI 9: three bytes a code, see countPlateU24).
 */
function scanPlate<T>(plate: usize, dist: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  if (outRows == 0) {
    if (isReference<T>()) return countPlateU24(plate, dist, lo, hi, n);
    const sh = alignof<T>();
    let r = lo;
    for (; r + 4 <= hi; r += 4) {
      const at = plate + (<usize>r << sh);
      n += u32(load<u8>(dist + <usize>load<T>(at)) != 255);
      n += u32(load<u8>(dist + <usize>load<T>(at + sizeof<T>())) != 255);
      n += u32(load<u8>(dist + <usize>load<T>(at + 2 * sizeof<T>())) != 255);
      n += u32(load<u8>(dist + <usize>load<T>(at + 3 * sizeof<T>())) != 255);
    }
    for (; r < hi; r++) n += u32(load<u8>(dist + <usize>load<T>(plate + (<usize>r << sh))) != 255);
    return n;
  }
  if (capacity >= n && capacity - n >= hi - lo && outDist != 0) {
    for (let r = lo; r < hi; r++) {
      const d = load<u8>(dist + plateCodeAt<T>(plate, r));
      store<u32>(outRows + (<usize>n << 2), r);
      store<u8>(outDist + <usize>n, d);
      n += u32(d != 255);
    }
    return n;
  }
  for (let r = lo; r < hi; r++) {
    const d = load<u8>(dist + plateCodeAt<T>(plate, r));
    if (d == 255) continue;
    if (n < capacity) {
      store<u32>(outRows + (<usize>n << 2), r);
      if (outDist != 0) store<u8>(outDist + <usize>n, d);
    }
    n++;
  }
  return n;
}

/** scanPlate's type for a u24 plate lane (a reference type, so `isReference` tells it from the integer codes). */
class U24 {}

/** Row r's plate code in a lane of T (the u24 one as a masked u32 load: the lane is padded by 4 bytes). */
// @ts-ignore: decorator
@inline function plateCodeAt<T>(plate: usize, r: u32): usize {
  if (isReference<T>()) return <usize>loadPlateCode(plate, <usize>r, 3, 0);
  return <usize>load<T>(plate + (<usize>r << alignof<T>()));
}

/**
 * scanPlate's count over a u24 plate lane. Four codes widen at once as the u24 ts / lat / lon lanes do (one
 * v128 load at 3·r, one i8x16.swizzle to an i32x4), then the gather reads dist per lane: it stays scalar (each
 * code is an address). The last load reads 4 bytes past row r + 3, inside the lane's padding.
 *
 *   bytes  3r ……………………………………… 3r+11 | 3r+12 … 3r+15
 *          c(r)   c(r+1)  c(r+2)  c(r+3) | next rows, or the padding: swizzled away (index -1 reads 0)
 */
function countPlateU24(plate: usize, dist: usize, lo: u32, hi: u32, n: u32): u32 {
  let r = lo;
  for (; r + 4 <= hi; r += 4) {
    const c = i8x16.swizzle(v128.load(plate + <usize>r * 3), kWidenU24);
    n += u32(load<u8>(dist + <usize>i32x4.extract_lane(c, 0)) != 255);
    n += u32(load<u8>(dist + <usize>i32x4.extract_lane(c, 1)) != 255);
    n += u32(load<u8>(dist + <usize>i32x4.extract_lane(c, 2)) != 255);
    n += u32(load<u8>(dist + <usize>i32x4.extract_lane(c, 3)) != 255);
  }
  for (; r < hi; r++) n += u32(load<u8>(dist + <usize>loadPlateCode(plate, <usize>r, 3, 0)) != 255);
  return n;
}

/**
 * scanPlate over a bit-packed plate lane (ABI 11): the same three loops (count only; branch-free emit while the output
 * has room for the whole block; emit with a test). Eight rows of w bits are w whole bytes, so from a row that is a
 * multiple of 8 the codes come four at a time as the u24 lane's do: one v128 load at the group's first byte, one
 * i8x16.swizzle that puts each code's four bytes in its i32 lane, then a multiply by 2^(7 − shift) and a shift right
 * by 7 (wasm SIMD has no per-lane shift: the multiply is one), and the mask. The swizzle indices and multipliers of
 * the two halves of a group of 8 depend on w alone (packedSetup). The gather into `dist` is scalar as in every width.
 *
 *   group of 8 at byte P = r·w / 8   half 0: rows r … r+3 from P          (their first bits 0, w, 2w, 3w past P·8)
 *                                    half 1: rows r+4 … r+7 from P + ⌊4w / 8⌋
 *   a half's 4 codes span ≤ 7 + 4w ≤ 103 bits: inside its 16-byte load; the lane's 16-byte padding (kPackedPad) holds
 *   the last group's loads
 */
function scanPlateBits(plate: usize, bits: u32, dist: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  packedSetup(bits);
  if (outRows == 0) return scanPlateBitsAs<Count>(plate, bits, dist, lo, hi, outRows, outDist, capacity, n);
  if (outDist != 0 && capacity >= n && capacity - n >= hi - lo) return scanPlateBitsAs<Roomy>(plate, bits, dist, lo, hi, outRows, outDist, capacity, n);
  return scanPlateBitsAs<Tested>(plate, bits, dist, lo, hi, outRows, outDist, capacity, n);
}

/** scanPlateBits' loops, one instance per way of emitting a row (M: Count, Roomy or Tested; see emitPlateRow). */
function scanPlateBitsAs<M>(plate: usize, bits: u32, dist: usize, lo: u32, hi: u32, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  const step = <usize>bits;
  const half = <usize>((4 * bits) >> 3);
  const idx0 = v128.load(kPackedTables), idx1 = v128.load(kPackedTables, 16);
  const mul0 = v128.load(kPackedTables, 32), mul1 = v128.load(kPackedTables, 48);
  const maskV = i32x4.splat((1 << bits) - 1);
  let r = lo;
  // rows before the first multiple of 8, then groups of 8, then the tail: one row at a time
  const groupsFrom = min(hi, (lo + 7) & ~7);
  for (; r < groupsFrom; r++) n = emitPlateRow<M>(r, load<u8>(dist + <usize>packedCode(plate, <usize>r * step, bits)), outRows, outDist, capacity, n);
  for (; r + 8 <= hi; r += 8) {
    const at = plate + ((<usize>r * step) >> 3);
    const c0 = packed4(v128.load(at), idx0, mul0, maskV), c1 = packed4(v128.load(at + half), idx1, mul1, maskV);
    n = emitPlateRow<M>(r, load<u8>(dist + <usize>i32x4.extract_lane(c0, 0)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 1, load<u8>(dist + <usize>i32x4.extract_lane(c0, 1)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 2, load<u8>(dist + <usize>i32x4.extract_lane(c0, 2)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 3, load<u8>(dist + <usize>i32x4.extract_lane(c0, 3)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 4, load<u8>(dist + <usize>i32x4.extract_lane(c1, 0)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 5, load<u8>(dist + <usize>i32x4.extract_lane(c1, 1)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 6, load<u8>(dist + <usize>i32x4.extract_lane(c1, 2)), outRows, outDist, capacity, n);
    n = emitPlateRow<M>(r + 7, load<u8>(dist + <usize>i32x4.extract_lane(c1, 3)), outRows, outDist, capacity, n);
  }
  for (; r < hi; r++) n = emitPlateRow<M>(r, load<u8>(dist + <usize>packedCode(plate, <usize>r * step, bits)), outRows, outDist, capacity, n);
  return n;
}

/** Type markers for scanPlateBitsAs' instances. */
class Count {}
class Roomy {}
class Tested {}

/**
 * Row r with distance d, as scanPlate's loops take it: Count counts a match only (no output); Roomy writes every row
 * and counts a match (the output has room for the whole block: branch-free); Tested writes a match while under
 * `capacity` and counts it. M is known when the instance is compiled: the other ways are not in its code.
 */
// @ts-ignore: decorator
@inline function emitPlateRow<M>(r: u32, d: u8, outRows: usize, outDist: usize, capacity: u32, n: u32): u32 {
  if (idof<M>() == idof<Count>()) return n + u32(d != 255);
  if (idof<M>() == idof<Roomy>()) {
    store<u32>(outRows + (<usize>n << 2), r);
    store<u8>(outDist + <usize>n, d);
    return n + u32(d != 255);
  }
  if (d == 255) return n;
  if (n < capacity) {
    store<u32>(outRows + (<usize>n << 2), r);
    if (outDist != 0) store<u8>(outDist + <usize>n, d);
  }
  return n + 1;
}

/** Four codes of a half group: each lane's 4 bytes swizzled in, shifted down by its first bit's place, masked. */
// @ts-ignore: decorator
@inline function packed4(bytes: v128, idx: v128, mul: v128, maskV: v128): v128 {
  return v128.and(i32x4.shr_u(i32x4.mul(i8x16.swizzle(bytes, idx), mul), 7), maskV);
}

/**
 * scanPlateBits' tables for `bits` (per instance, made again only when the width changes): at 0 and 16 the swizzle
 * indices of half 0 and half 1 (code j's bytes o_j … o_j + 3 in i32 lane j), at 32 and 48 their multipliers
 * 2^(7 − k_j), where o_j, k_j are the byte and bit of code j's first bit past the half's first byte.
 */
const kPackedTables: usize = memory.data(64, 16);
let packedTablesBits: u32 = 0;

function packedSetup(bits: u32): void {
  if (bits == packedTablesBits) return;
  for (let h: u32 = 0; h < 2; h++) {
    const from = ((h * 4 * bits) >> 3) << 3;
    for (let j: u32 = 0; j < 4; j++) {
      const rel = (h * 4 + j) * bits - from;
      const o = rel >> 3, k = rel & 7;
      for (let t: u32 = 0; t < 4; t++) store<u8>(kPackedTables + <usize>(h * 16 + j * 4 + t), <u8>(o + t));
      store<u32>(kPackedTables + <usize>(32 + h * 16 + j * 4), <u32>1 << (7 - k));
    }
  }
  packedTablesBits = bits;
}
