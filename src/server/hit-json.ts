/**
 * How a hit is written in answers: the read's fields (src/model/read-json.ts), then its `distance`.
 *
 * Two ways, with the same bytes (held equal by test/hit-json.test.ts):
 *   hitToJson     an object, for answers built as objects (msgpack, hot lists, analytics examples);
 *   hitsJsonText  the JSON text of a list of hits, written straight from the hits (a search's JSON answer,
 *                 the server's main thread: issue 12). JSON.stringify of `hits.map(hitToJson)` built an
 *                 object per hit and then walked each one generically, escaping every string; here the
 *                 keys are fixed text and the strings that repeat across hits (tenant, camera, region, make,
 *                 color: dictionary values) are escaped once and remembered. Measured on a 37-hit answer
 *                 (the bench's exact plate, all time, at 1M reads): 63–74 µs → 42–44 µs of CPU a answer.
 */
import type { Hit } from '../model/query.js';
import { readToJson, type ReadJson } from '../model/read-json.js';
import { formatTimestamp } from '../model/time.js';

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

// printable ASCII but `"` and `\`: JSON.stringify writes such a string as it is, between quotes
const kPlainAscii = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// the escaped text of the dictionary values seen; bounded, so a tenant with millions of distinct
// cameras cannot grow it without end (past the bound, values are escaped each time)
const kMaxRemembered = 4096;
const remembered = new Map<string, string>();

/** `JSON.stringify(s)` for a value that repeats across hits. */
function repeated(s: string): string {
  let t = remembered.get(s);
  if (t === undefined) {
    t = JSON.stringify(s);
    if (remembered.size < kMaxRemembered) remembered.set(s, t);
  }
  return t;
}

/** `JSON.stringify(s)` for a value of one hit (id, plate): mostly plain ASCII, checked, not remembered. */
function single(s: string): string {
  return s.length <= 64 && kPlainAscii.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** `JSON.stringify(n)`: a finite number as JS prints it (-0 as 0), anything else as null. */
function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

/** `JSON.stringify(hitToJson(hit))`, written directly. */
export function hitJsonText(h: Hit): string {
  let t = `{"id":${single(h.id)},"tenant":${repeated(h.tenant)},"plate":${single(h.plate)},"ts":"${formatTimestamp(h.ts)}","lat":${num(h.lat)},"lon":${num(h.lon)},"camera":${repeated(h.camera)}`;
  if (h.region !== undefined) t += `,"region":${repeated(h.region)}`;
  if (h.confidence !== undefined) t += `,"confidence":${num(h.confidence)}`;
  if (h.make !== undefined) t += `,"make":${repeated(h.make)}`;
  if (h.color !== undefined) t += `,"color":${repeated(h.color)}`;
  return `${t},"distance":${num(h.distance)}}`;
}

/** `JSON.stringify(hits.map(hitToJson))`, written directly. */
export function hitsJsonText(hits: readonly Hit[]): string {
  if (hits.length === 0) return '[]';
  let t = `[${hitJsonText(hits[0]!)}`;
  for (let i = 1; i < hits.length; i++) t += `,${hitJsonText(hits[i]!)}`;
  return `${t}]`;
}
