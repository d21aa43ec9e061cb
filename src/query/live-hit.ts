/**
 * A live row (src/store/live-columns.ts) as the hit the API returns, read lane by lane from its block:
 * the same object, field for field and in the same order, as the stored read an append answers
 * (src/store/tenant-store.ts columnsRowToStoredRead), without a record in between (a hot list
 * materialises tens of thousands of them).
 */
import { kCoordScale } from '../core/segment.js';
import type { Hit } from '../model/query.js';
import { readIdOf } from '../store/ids.js';
import { kLiveBlockRows, type LiveView } from '../store/live-columns.js';

export function liveHit(view: LiveView, tenant: string, ordinal: number, g: number, distance: number): Hit {
  const cols = view.cols;
  const b = cols.blocks[g >>> Math.log2(kLiveBlockRows)]!;
  const r = g & (kLiveBlockRows - 1);
  const hit = {
    id: readIdOf(ordinal, b.seq[r]!),
    tenant,
    plate: cols.plates[b.plate[r]!]!,
    ts: b.tsAt(r),
    lat: b.lat[r]! / kCoordScale,
    lon: b.lon[r]! / kCoordScale,
    camera: cols.cameras.values[b.camera[r]!]!,
  } as Hit;
  const region = b.region[r]!;
  if (region !== 0) hit.region = cols.regions.values[region]!;
  const conf = b.conf[r]!;
  if (!Number.isNaN(conf)) hit.confidence = conf;
  const make = b.make[r]!;
  if (make !== 0) hit.make = cols.makes.values[make]!;
  const color = b.color[r]!;
  if (color !== 0) hit.color = cols.colors.values[color]!;
  const readId = b.readIds?.[r];
  if (readId !== undefined) hit.readId = readId;
  hit.distance = distance;
  return hit;
}
