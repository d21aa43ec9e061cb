/**
 * Search answers' JSON written as bytes (src/server/json-bytes.ts), hits straight from the engine's `Hit`s:
 * no answer object per hit (src/server/hit-json.ts `hitToJson`, the definition of a hit's text) and no string
 * of the whole answer. The text is byte for byte what `JSON.stringify` makes of the answer built with
 * `hitToJson` (test/json-bytes.test.ts).
 */
import type { HitSink } from '../model/hit-sink.js';
import type { Hit, HotlistMatch } from '../model/query.js';
import { kMaxPlateLength } from '../model/plate.js';
import { StringFieldPieces } from './field-pieces.js';
import { JsonBytes, jsonPiece, type JsonPiece, kNumberBytes, kTimestampBytes } from './json-bytes.js';

/** `POST /v1/search`'s JSON answer, keys in the order API.md shows. */
export interface SearchAnswer {
  hits: readonly Hit[];
  total: number;
  truncated: boolean;
  next: string | null;
  queryId: string;
  tookMs: number;
}

/** `POST /v1/search/hotlist`'s JSON answer. */
export interface HotlistAnswer {
  matches: readonly HotlistMatch[];
  queryId: string;
  tookMs: number;
}

// HitSink.plateChars of every SearchAnswerWriter: a plate's characters live there only from the caller's copy to
// the `read` it passes them to (both synchronous on this thread), so one array serves them all (not one an answer)
const kPlateChars = new Uint8Array(kMaxPlateLength);

// ~230 bytes a hit in the bench's answers: one buffer, rarely grown
const kBytesPerHit = 240;

const kHitsKey = jsonPiece('{"hits":');
const kTotalKey = jsonPiece(',"total":');
const kTruncatedKey = jsonPiece(',"truncated":');
const kNextKey = jsonPiece(',"next":');
const kQueryIdKey = jsonPiece(',"queryId":');
const kTookMsKey = jsonPiece(',"tookMs":');
const kMatchesKey = jsonPiece('{"matches":[');
const kEntryKey = jsonPiece('{"entry":');
const kMatchHitsKey = jsonPiece(',"hits":');
const kEndMatchesQueryIdKey = jsonPiece('],"queryId":');
// a match's hits array and object closed
const kEndMatch = jsonPiece(']}');
// the longest of the keys above, and of a hit's: what a reservation counts for each
const kKeyBytes = 16;

/** The answer's JSON text as UTF-8 bytes. */
export function searchAnswerBytes(a: SearchAnswer): Buffer {
  const w = new SearchAnswerWriter();
  w.begin(a.hits.length);
  for (const h of a.hits) w.hit(h);
  return w.end(a);
}

/**
 * `POST /v1/search`'s JSON answer written as it is made: the hits first (`hit`, or `read` as the engine
 * reads them: src/model/hit-sink.ts), then the rest (`end`). `read` writes the same text `hit` writes of the
 * hit ShardHits would build from the same values: the id from (ordinal, seq), lat/lon from their 1e-7°
 * integers (test/hit-sink-json.test.ts). Its buffer is taken at `begin` (or `end`), sized for the hits.
 */
export class SearchAnswerWriter implements HitSink {
  // one for every writer: a caller fills it just before the `read` that copies it (src/model/hit-sink.ts)
  readonly plateChars = kPlateChars;
  private w: JsonBytes | undefined;
  private n = 0;

  begin(hits: number): void {
    if (this.w) throw new Error('SearchAnswerWriter: begin after the first hit');
    const w = (this.w = new JsonBytes(256 + hits * kBytesPerHit));
    w.reserve(kKeyBytes + 1);
    w.piece(kHitsKey);
    w.char(0x5b); // [
  }

  hit(h: Hit): void {
    listedHit(this.w!, h, this.n++ > 0);
  }

  read(tenant: string, ordinal: number, seq: number, plate: string | number, ts: number, latE7: number, lonE7: number,
    camera: string, region: string | undefined, confidence: number, make: string | undefined, color: string | undefined,
    distance: number): void {
    listedRead(this.w!, this.n++ > 0, tenant, ordinal, seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, distance, this.plateChars);
  }

  /** The answer's JSON text as UTF-8 bytes, its hits those written so far (`a.hits` is not read). */
  end(a: Omit<SearchAnswer, 'hits'>): Buffer {
    if (!this.w) this.begin(0);
    const w = this.w!;
    w.reserve(1 + 5 * kKeyBytes + 3 * kNumberBytes + (a.next?.length ?? 4) + a.queryId.length + 6);
    w.char(0x5d); // ]
    w.piece(kTotalKey);
    w.number(a.total);
    w.piece(kTruncatedKey);
    w.boolean(a.truncated);
    w.piece(kNextKey);
    if (a.next === null) w.null();
    else w.string(a.next);
    w.piece(kQueryIdKey);
    w.string(a.queryId);
    w.piece(kTookMsKey);
    w.number(a.tookMs);
    w.char(0x7d); // }
    return w.bytes();
  }
}

/** The hot-list answer's JSON text as UTF-8 bytes. */
export function hotlistAnswerBytes(a: HotlistAnswer): Buffer {
  let hits = 0;
  for (const m of a.matches) hits += m.hits.length;
  const w = new HotlistAnswerText(a.matches.length, hits);
  for (const m of a.matches) {
    w.match(m.entry, m.total, m.truncated);
    for (const h of m.hits) w.hit(h);
  }
  return w.end(a.queryId, a.tookMs);
}

/**
 * `POST /v1/search/hotlist`'s JSON answer written as it is made: each match (`match`), then its hits (`hit`,
 * or `read` from a sealed read's fields as SearchAnswerWriter writes them), then the tail (`end`). Its buffer
 * is sized once for the matches and hits it is told of.
 */
export class HotlistAnswerText {
  private readonly w: JsonBytes;
  private matches = 0;
  private n = 0;

  constructor(matches: number, hits: number) {
    this.w = new JsonBytes(256 + matches * 96 + hits * kBytesPerHit);
    this.w.reserve(kKeyBytes);
    this.w.piece(kMatchesKey);
  }

  /** The next match's head; its hits follow. */
  match(entry: string, total: number, truncated: boolean): void {
    const w = this.w;
    w.reserve(6 * kKeyBytes + entry.length + 2 * kNumberBytes);
    if (this.matches++ > 0) {
      w.piece(kEndMatch);
      w.char(0x2c); // ,
    }
    w.piece(kEntryKey);
    w.string(entry);
    w.piece(kTotalKey);
    w.number(total);
    w.piece(kTruncatedKey);
    w.boolean(truncated);
    w.piece(kMatchHitsKey);
    w.char(0x5b); // [
    this.n = 0;
  }

  hit(h: Hit): void {
    listedHit(this.w, h, this.n++ > 0);
  }

  read(tenant: string, ordinal: number, seq: number, plate: string, ts: number, latE7: number, lonE7: number,
    camera: string, region: string | undefined, confidence: number, make: string | undefined, color: string | undefined,
    distance: number): void {
    listedRead(this.w, this.n++ > 0, tenant, ordinal, seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, distance);
  }

  /** The answer's JSON text as UTF-8 bytes. */
  end(queryId: string, tookMs: number): Buffer {
    const w = this.w;
    w.reserve(4 * kKeyBytes + queryId.length + kNumberBytes + 2);
    if (this.matches > 0) w.piece(kEndMatch);
    w.piece(kEndMatchesQueryIdKey);
    w.string(queryId);
    w.piece(kTookMsKey);
    w.number(tookMs);
    w.char(0x7d);
    return w.bytes();
  }
}

const kIdKey = jsonPiece('{"id":');
const kTenantKey = jsonPiece(',"tenant":');
const kPlateKey = jsonPiece(',"plate":');
const kTsKey = jsonPiece(',"ts":');
const kLatKey = jsonPiece(',"lat":');
const kLonKey = jsonPiece(',"lon":');
const kCameraKey = jsonPiece(',"camera":');
const kRegionKey = jsonPiece(',"region":');
const kConfidenceKey = jsonPiece(',"confidence":');
const kMakeKey = jsonPiece(',"make":');
const kColorKey = jsonPiece(',"color":');
const kDistanceKey = jsonPiece(',"distance":');
// the fields whose values are the shards' dictionary strings: key and value as one piece (src/server/field-pieces.ts)
const tenantField = new StringFieldPieces(kTenantKey);
const cameraField = new StringFieldPieces(kCameraKey);
const regionField = new StringFieldPieces(kRegionKey);
const makeField = new StringFieldPieces(kMakeKey);
const colorField = new StringFieldPieces(kColorKey);
// a read id's characters (src/store/ids.ts: 4 + 12 hex digits)
const kIdChars = 16;
// a hit's keys, numbers, timestamp, quotes and punctuation, besides its strings' characters
const kHitFixedBytes = 12 * kKeyBytes + 4 * kNumberBytes + kTimestampBytes + 7 * 2 + 4;

/** A hit of an array, after a comma unless it is the first. */
function listedHit(w: JsonBytes, h: Hit, comma: boolean): void {
  w.reserve(kHitFixedBytes + h.id.length + h.tenant.length + h.plate.length + h.camera.length
    + (h.region?.length ?? 0) + (h.make?.length ?? 0) + (h.color?.length ?? 0));
  if (comma) w.char(0x2c); // ,
  hitObject(w, h);
}

/**
 * A sealed read's hit of an array from its stored values (src/model/hit-sink.ts `read`): the text `listedHit`
 * writes of the hit built from them.
 */
function listedRead(w: JsonBytes, comma: boolean, tenant: string, ordinal: number, seq: number, plate: string | number, ts: number,
  latE7: number, lonE7: number, camera: string, region: string | undefined, confidence: number, make: string | undefined,
  color: string | undefined, distance: number, plateChars?: Uint8Array): void {
  // a number: the plate's characters are plateChars[0, plate) (src/model/hit-sink.ts HitSink.plateChars)
  const chars = typeof plate === 'number';
  w.reserve(kHitFixedBytes + kIdChars + tenant.length + (chars ? plate : plate.length) + camera.length
    + (region?.length ?? 0) + (make?.length ?? 0) + (color?.length ?? 0));
  if (comma) w.char(0x2c);
  w.piece(kIdKey);
  w.readId(ordinal, seq);
  tenantField.write(w, tenant);
  w.piece(kPlateKey);
  if (chars) w.plainString(plateChars!, plate);
  else w.string(plate);
  w.piece(kTsKey);
  w.timestamp(ts);
  w.piece(kLatKey);
  w.e7(latE7);
  w.piece(kLonKey);
  w.e7(lonE7);
  cameraField.write(w, camera);
  if (region !== undefined) regionField.write(w, region);
  if (!Number.isNaN(confidence)) numberField(w, kConfidenceKey, confidence);
  if (make !== undefined) makeField.write(w, make);
  if (color !== undefined) colorField.write(w, color);
  numberField(w, kDistanceKey, distance);
  w.char(0x7d);
}

/** One hit: the read's fields (src/model/read-json.ts, optional ones only when set), then `distance`. */
function hitObject(w: JsonBytes, h: Hit): void {
  stringField(w, kIdKey, h.id);
  tenantField.write(w, h.tenant);
  stringField(w, kPlateKey, h.plate);
  w.piece(kTsKey);
  w.timestamp(h.ts);
  numberField(w, kLatKey, h.lat);
  numberField(w, kLonKey, h.lon);
  cameraField.write(w, h.camera);
  if (h.region !== undefined) regionField.write(w, h.region);
  if (h.confidence !== undefined) numberField(w, kConfidenceKey, h.confidence);
  if (h.make !== undefined) makeField.write(w, h.make);
  if (h.color !== undefined) colorField.write(w, h.color);
  numberField(w, kDistanceKey, h.distance);
  w.char(0x7d);
}

/** A key piece (`,"name":`) and its string. */
function stringField(w: JsonBytes, key: JsonPiece, v: string): void {
  w.piece(key);
  w.string(v);
}

/** A key piece and its number. */
function numberField(w: JsonBytes, key: JsonPiece, v: number): void {
  w.piece(key);
  w.number(v);
}
