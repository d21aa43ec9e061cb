/**
 * Reference geometry: haversine distance with the mean Earth radius of API.md, inclusive bbox,
 * and the even-odd (crossing number) point-in-polygon rule (W. R. Franklin, PNPOLY).
 */
import type { BBox, Near } from '../../model/query.js';

/** Mean Earth radius in metres (IUGG), as API.md fixes it. */
export const kEarthRadiusM = 6371008.8;

const toRad = (deg: number) => (deg * Math.PI) / 180;

export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = toRad(lat2 - lat1);
  const dLon = toRad(lon2 - lon1);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * kEarthRadiusM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function inBBox(bbox: BBox, lat: number, lon: number): boolean {
  return lon >= bbox[0] && lat >= bbox[1] && lon <= bbox[2] && lat <= bbox[3];
}

export function inRadius(near: Near, lat: number, lon: number): boolean {
  return haversineM(near.lat, near.lon, lat, lon) <= near.radiusM;
}

/**
 * Even-odd rule over a ring of `[lon, lat]`; a repeated closing point adds a zero-length edge, which never crosses.
 *
 * Points exactly on the boundary (API.md is silent): PNPOLY's half-open convention, which kernels must copy
 * bit for bit. A ray goes east from the point; an edge counts when it straddles the point's latitude with
 * its lower end inclusive (`yi > lat !== yj > lat`) and crosses strictly east of it (`lon < x`). For an
 * axis-aligned rectangle that keeps the west and south edges and drops the east and north ones, so two
 * rectangles that share an edge never both claim a point on it.
 */
export function inPolygon(ring: ReadonlyArray<readonly [number, number]>, lat: number, lon: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
