/**
 * How a hit is written in answers: the read's fields (src/model/read-json.ts), then its `distance`.
 */
import type { Hit } from '../model/query.js';
import { readToJson, type ReadJson } from '../model/read-json.js';

export interface HitJson extends ReadJson {
  distance: number;
}

export function hitToJson(hit: Hit): HitJson {
  return { ...readToJson(hit), distance: hit.distance };
}
