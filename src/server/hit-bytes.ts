/**
 * Search answers' JSON written as bytes (src/server/json-bytes.ts), hits straight from the engine's `Hit`s:
 * no answer object per hit (src/server/hit-json.ts `hitToJson`, the definition of a hit's text) and no string
 * of the whole answer. The text is byte for byte what `JSON.stringify` makes of the answer built with
 * `hitToJson` (test/hit-bytes.test.ts).
 */
import type { Hit, HotlistMatch } from '../model/query.js';
import { JsonBytes } from './json-bytes.js';

/** `POST /v1/search`'s JSON answer, keys in the order API.md shows. */
export interface SearchAnswer {
  hits: readonly Hit[];
  total: number;
  truncated: boolean;
  next: string | null;
  queryId: string;
  tookMs: number;
}

// ~200 bytes a hit in the bench's answers: one buffer, rarely grown
const kBytesPerHit = 224;

/** The answer's JSON text as UTF-8 bytes. */
export function searchAnswerBytes(a: SearchAnswer): Buffer {
  const w = new JsonBytes(256 + a.hits.length * kBytesPerHit);
  w.raw('{"hits":');
  hitsArray(w, a.hits);
  w.raw(',"total":');
  w.number(a.total);
  w.raw(',"truncated":');
  w.boolean(a.truncated);
  w.raw(',"next":');
  if (a.next === null) w.null();
  else w.string(a.next);
  w.raw(',"queryId":');
  w.string(a.queryId);
  w.raw(',"tookMs":');
  w.number(a.tookMs);
  w.raw('}');
  return w.bytes();
}

/** `POST /v1/search/hotlist`'s JSON answer. */
export interface HotlistAnswer {
  matches: readonly HotlistMatch[];
  queryId: string;
  tookMs: number;
}

/** The hot-list answer's JSON text as UTF-8 bytes. */
export function hotlistAnswerBytes(a: HotlistAnswer): Buffer {
  let hits = 0;
  for (const m of a.matches) hits += m.hits.length;
  const w = new JsonBytes(256 + a.matches.length * 96 + hits * kBytesPerHit);
  w.raw('{"matches":[');
  for (let i = 0; i < a.matches.length; i++) {
    const m = a.matches[i]!;
    w.raw(i > 0 ? ',{"entry":' : '{"entry":');
    w.string(m.entry);
    w.raw(',"total":');
    w.number(m.total);
    w.raw(',"truncated":');
    w.boolean(m.truncated);
    w.raw(',"hits":');
    hitsArray(w, m.hits);
    w.raw('}');
  }
  w.raw('],"queryId":');
  w.string(a.queryId);
  w.raw(',"tookMs":');
  w.number(a.tookMs);
  w.raw('}');
  return w.bytes();
}

/** `[hit,…]`. */
function hitsArray(w: JsonBytes, hits: readonly Hit[]): void {
  w.raw('[');
  for (let i = 0; i < hits.length; i++) {
    if (i > 0) w.raw(',');
    hitObject(w, hits[i]!);
  }
  w.raw(']');
}

/** One hit: the read's fields (src/model/read-json.ts, optional ones only when set), then `distance`. */
function hitObject(w: JsonBytes, h: Hit): void {
  w.raw('{"id":');
  w.string(h.id);
  w.raw(',"tenant":');
  w.string(h.tenant);
  w.raw(',"plate":');
  w.string(h.plate);
  w.raw(',"ts":');
  w.timestamp(h.ts);
  w.raw(',"lat":');
  w.number(h.lat);
  w.raw(',"lon":');
  w.number(h.lon);
  w.raw(',"camera":');
  w.string(h.camera);
  if (h.region !== undefined) {
    w.raw(',"region":');
    w.string(h.region);
  }
  if (h.confidence !== undefined) {
    w.raw(',"confidence":');
    w.number(h.confidence);
  }
  if (h.make !== undefined) {
    w.raw(',"make":');
    w.string(h.make);
  }
  if (h.color !== undefined) {
    w.raw(',"color":');
    w.string(h.color);
  }
  w.raw(',"distance":');
  w.number(h.distance);
  w.raw('}');
}
