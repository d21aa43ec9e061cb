/**
 * How a stored read is written in every answer (search hits, alerts, export): the hit fields of API.md in a
 * fixed order, `ts` as ISO-8601 UTC with milliseconds, optional fields only when set. `readId` is the
 * client's idempotency key, not a hit field.
 */
import type { StoredRead } from './read.js';
import { formatTimestamp } from './time.js';

export interface ReadJson {
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
}

export function readToJson(read: StoredRead): ReadJson {
  const out: ReadJson = {
    id: read.id, tenant: read.tenant, plate: read.plate, ts: formatTimestamp(read.ts),
    lat: read.lat, lon: read.lon, camera: read.camera,
  };
  if (read.region !== undefined) out.region = read.region;
  if (read.confidence !== undefined) out.confidence = read.confidence;
  if (read.make !== undefined) out.make = read.make;
  if (read.color !== undefined) out.color = read.color;
  return out;
}
