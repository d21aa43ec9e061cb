/**
 * How a hit is written in answers: the read's fields (src/model/read-json.ts), then its `distance`.
 */
import type { Hit } from '../model/query.js';
import { readToJson, type ReadJson } from '../model/read-json.js';

export interface HitJson extends ReadJson {
  distance: number;
}

export function hitToJson(hit: Hit): HitJson {
  // one object, `distance` added last (key order is part of the answer); answers of thousands of hits
  // make a copy per hit (`{...read, distance}`) a measurable share of a search's HTTP time
  const out = readToJson(hit) as HitJson;
  out.distance = hit.distance;
  return out;
}
