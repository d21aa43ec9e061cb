/**
 * How a hit is written in answers: the read's fields (src/model/read-json.ts), then its `distance`.
 *
 * Search answers are written as JSON text directly (`hitsJsonText`) rather than as objects handed to
 * JSON.stringify: an answer of thousands of hits is the bulk of a search's HTTP cost, and building
 * an object per hit first doubles it. The text is the same as `JSON.stringify(hits.map(hitToJson))`
 * (test/server-search.test.ts checks).
 */
import type { Hit } from '../model/query.js';
import { readJsonText, readToJson, type ReadJson } from '../model/read-json.js';

export interface HitJson extends ReadJson {
  distance: number;
}

export function hitToJson(hit: Hit): HitJson {
  return { ...readToJson(hit), distance: hit.distance };
}

/** `JSON.stringify(hits.map(hitToJson))`, written directly. */
export function hitsJsonText(hits: readonly Hit[]): string {
  const parts = new Array<string>(hits.length);
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    parts[i] = `${readJsonText(h)},"distance":${JSON.stringify(h.distance)}}`;
  }
  return `[${parts.join(',')}]`;
}
