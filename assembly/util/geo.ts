// Geometry for the scan kernel, written to evaluate the same f64 operations, in the same order, as the
// reference (src/query/reference/geo.ts), so that wasm and V8 agree bit for bit wherever only + − × ÷
// are involved (wasm never fuses multiply-add). Only sin/cos/asin/sqrt come from AssemblyScript's libm
// (a musl port) instead of V8's (an fdlibm port): sqrt is exact in both; the others may differ in the
// last ulp, which is why the radius test has a band that defers to JavaScript (see src/core/filter.ts).

/** Mean Earth radius in metres, as API.md fixes it. */
const kEarthRadiusM: f64 = 6371008.8;

// @ts-ignore: decorator
@inline function toRad(deg: f64): f64 {
  return (deg * Math.PI) / 180;
}

/** Haversine distance in metres, the reference formula. */
export function haversineM(lat1: f64, lon1: f64, lat2: f64, lon2: f64): f64 {
  const dLat = toRad(lat2 - lat1);
  const dLon = toRad(lon2 - lon1);
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLon / 2);
  const h = s1 * s1 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * (s2 * s2);
  return 2 * kEarthRadiusM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Even-odd rule (W. R. Franklin, PNPOLY) over `count` vertices stored as f64 pairs (lon, lat) at
 * `ring`, exactly as the reference evaluates it.
 */
export function inPolygon(ring: usize, count: i32, lat: f64, lon: f64): bool {
  let inside = false;
  for (let i = 0, j = count - 1; i < count; j = i++) {
    const xi = load<f64>(ring + (<usize>i << 4));
    const yi = load<f64>(ring + (<usize>i << 4), 8);
    const xj = load<f64>(ring + (<usize>j << 4));
    const yj = load<f64>(ring + (<usize>j << 4), 8);
    if ((yi > lat) != (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
