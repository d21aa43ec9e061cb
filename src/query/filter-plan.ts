/**
 * A ReadFilter prepared for scanning: the time window clipped by the retention floor, the exact row tests
 * (the reference's own geometry functions, on the stored coordinates, so boundaries agree to the bit),
 * and conservative boxes for pruning shards and blocks by their zone maps.
 */
import { foldedSet, foldLabel } from '../model/label.js';
import type { ReadFilter } from '../model/query.js';
import { inBBox, inPolygon, inRadius, kEarthRadiusM } from './reference/geo.js';

/** Degrees of slack on pruning boxes derived from curved or computed bounds (never on exact bbox tests). */
const kPruneSlackDeg = 1e-6;

export interface PreparedFilter {
  /** Inclusive lower / exclusive upper bound on ts (retention floor folded in). */
  lo: number;
  hi: number;
  /** Conservative box every matching row lies in: minLat, maxLat, minLon, maxLon (degrees). */
  box: [number, number, number, number];
  /** True if the row's position passes bbox, near and polygon. */
  geo: ((lat: number, lon: number) => boolean) | null;
  cameras: Set<string> | null;
  regions: Set<string> | null;
  /** `makes` / `colors`, folded (src/model/label.ts): compare with foldLabel(value). */
  makes: Set<string> | null;
  colors: Set<string> | null;
  /** The window is empty: nothing can match. */
  empty: boolean;
}

export function prepareFilter(f: ReadFilter, minTs: number): PreparedFilter {
  const lo = Math.max(minTs, f.from ?? -Infinity);
  const hi = f.to ?? Infinity;
  const box: [number, number, number, number] = [-Infinity, Infinity, -Infinity, Infinity];
  const clip = (a: number, b: number, c: number, d: number) => {
    box[0] = Math.max(box[0], a);
    box[1] = Math.min(box[1], b);
    box[2] = Math.max(box[2], c);
    box[3] = Math.min(box[3], d);
  };
  const tests: Array<(lat: number, lon: number) => boolean> = [];
  if (f.bbox) {
    const b = f.bbox;
    clip(b[1], b[3], b[0], b[2]);
    tests.push((lat, lon) => inBBox(b, lat, lon));
  }
  if (f.near) {
    const n = f.near;
    const dLat = ((n.radiusM / kEarthRadiusM) * 180) / Math.PI * 1.001 + kPruneSlackDeg;
    if (dLat < 45 && Math.abs(n.lat) + dLat < 89) {
      const dLon = dLat / Math.cos(((Math.abs(n.lat) + dLat) * Math.PI) / 180) * 1.001 + kPruneSlackDeg;
      clip(n.lat - dLat, n.lat + dLat, dLon < 180 ? n.lon - dLon : -Infinity, dLon < 180 ? n.lon + dLon : Infinity);
    }
    tests.push((lat, lon) => inRadius(n, lat, lon));
  }
  if (f.polygon) {
    const ring = f.polygon;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of ring) {
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    clip(y0 - kPruneSlackDeg, y1 + kPruneSlackDeg, x0 - kPruneSlackDeg, x1 + kPruneSlackDeg);
    tests.push((lat, lon) => inPolygon(ring, lat, lon));
  }
  const geo = tests.length === 0 ? null : tests.length === 1 ? tests[0]! : (lat: number, lon: number) => tests.every((t) => t(lat, lon));
  return {
    lo, hi, box, geo,
    cameras: f.cameras ? new Set(f.cameras) : null,
    regions: f.regions ? new Set(f.regions) : null,
    makes: foldedSet(f.makes),
    colors: foldedSet(f.colors),
    empty: !(lo < hi) || box[0] > box[1] || box[2] > box[3],
  };
}

/**
 * Per dictionary id of a segment's make (or color) column, whether the id passes `wanted` (folded);
 * id 0 is "none" and never passes. Null when the filter is absent.
 */
export function attributeMask(dict: readonly string[], wanted: Set<string> | null): Uint8Array | null {
  if (!wanted) return null;
  const m = new Uint8Array(dict.length);
  for (let i = 1; i < dict.length; i++) if (wanted.has(foldLabel(dict[i]!))) m[i] = 1;
  return m;
}

/** Can a zone (min/max ts, lat, lon) hold a matching row? */
export function zoneMayMatch(p: PreparedFilter, minTs: number, maxTs: number, minLat: number, maxLat: number, minLon: number, maxLon: number): boolean {
  return maxTs >= p.lo && minTs < p.hi && maxLat >= p.box[0] && minLat <= p.box[1] && maxLon >= p.box[2] && minLon <= p.box[3];
}
