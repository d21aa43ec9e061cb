/**
 * How a hit (or an exported read) is written in answers: the hit fields of API.md in a fixed order, `ts` as
 * ISO-8601 UTC with milliseconds, optional fields only when set. `readId` is the client's idempotency key,
 * not a hit field.
 */
import type { Hit } from '../model/query.js';
import { formatTimestamp } from '../model/time.js';

export interface HitJson {
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

export function hitToJson(hit: Hit): HitJson {
  const out: HitJson = {
    id: hit.id, tenant: hit.tenant, plate: hit.plate, ts: formatTimestamp(hit.ts),
    lat: hit.lat, lon: hit.lon, camera: hit.camera, distance: 0,
  };
  if (hit.region !== undefined) out.region = hit.region;
  if (hit.confidence !== undefined) out.confidence = hit.confidence;
  if (hit.make !== undefined) out.make = hit.make;
  if (hit.color !== undefined) out.color = hit.color;
  // distance last, after the read's own fields
  delete (out as Partial<HitJson>).distance;
  out.distance = hit.distance;
  return out;
}
