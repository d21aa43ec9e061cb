/** A search hit as API.md "POST /v1/search" answers it. */
export interface Hit {
  id: string;
  tenant: string;
  plate: string;
  ts: string;
  lat: number;
  lon: number;
  camera: string;
  region?: string;
  confidence?: number;
  make?: string;
  color?: string;
  distance: number;
}

export interface SearchAnswer {
  hits: Hit[];
  total: number;
  truncated: boolean;
  next?: string | null;
  queryId: string;
  tookMs: number;
}

export const kHitColumns = ['id', 'tenant', 'plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color', 'distance'] as const;

export function toMapPoints(hits: readonly Hit[]) {
  return hits.map((h) => ({ id: h.id, lat: h.lat, lon: h.lon, plate: h.plate, ts: h.ts, camera: h.camera }));
}
