/**
 * Areas of the search areas of API.md, in km², for the broad-search rule (src/query/broadness.ts).
 *
 * On a sphere of radius R = 6371.0088 km (the IUGG mean radius; the haversine of API.md uses the same):
 *
 * - `near` {radiusM}: π r², the flat disc the brief asks for. For r ≪ R it equals the spherical cap
 *   2πR²(1 − cos(r/R)) to within r²/(12R²) (0.003 % at r = 100 km), so the flat formula is kept.
 *
 * - `bbox` [minLon, minLat, maxLon, maxLat]: the spherical rectangle between two meridians and two
 *   parallels, R² · Δλ · (sin φ₂ − sin φ₁) (Δλ in radians): the zone of latitude between the parallels
 *   has area 2πR²(sin φ₂ − sin φ₁) (Archimedes' hat-box theorem), and the box is its Δλ/2π share.
 *
 * - `polygon` [[lon, lat], …]: the area of the ring on the sphere, with edges taken as the lines of the
 *   (lon, lat) plane that the even-odd test of API.md uses, by the line integral
 *
 *       A = R²/2 · |Σ (λᵢ₊₁ − λᵢ) · (2 + sin φᵢ + sin φᵢ₊₁)|
 *
 *   (Chamberlain & Duquette, "Some algorithms for polygons on a sphere", JPL 2007; the formula of
 *   d3-geo's and Turf's `area`). Exact for rectangles (it reduces to the bbox formula), accurate to well
 *   under 1 % for city-sized polygons. A self-intersecting ring's signed parts may cancel; the rule then
 *   sees a smaller area, so it also takes the bounding box of the ring as an upper bound (see broadness.ts).
 */

/** IUGG mean Earth radius, km. */
export const kEarthRadiusKm = 6371.0088;

const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Area of a disc of radius `radiusM` metres, km². */
export function discAreaKm2(radiusM: number): number {
  const r = radiusM / 1000;
  return Math.PI * r * r;
}

/** Area of the spherical rectangle [minLon, minLat, maxLon, maxLat] (degrees), km². */
export function bboxAreaKm2(minLon: number, minLat: number, maxLon: number, maxLat: number): number {
  const dLon = Math.max(0, rad(maxLon) - rad(minLon));
  const band = Math.max(0, Math.sin(rad(maxLat)) - Math.sin(rad(minLat)));
  return kEarthRadiusKm * kEarthRadiusKm * dLon * band;
}

/** Area of a ring of [lon, lat] points (closed or not), km². */
export function polygonAreaKm2(ring: ReadonlyArray<readonly [number, number]>): number {
  const n = ring.length;
  if (n < 3) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const [lon1, lat1] = ring[i]!;
    const [lon2, lat2] = ring[(i + 1) % n]!;
    sum += rad(lon2 - lon1) * (2 + Math.sin(rad(lat1)) + Math.sin(rad(lat2)));
  }
  return Math.abs((sum * kEarthRadiusKm * kEarthRadiusKm) / 2);
}
