/**
 * JSON text written straight into bytes: the same text `JSON.stringify` makes of the same values, without
 * the string of it. For answers of many hits (a 1,000-hit page is ~200 KB), where making the text is most
 * of a request's main-thread time (bench/RESULTS.md, "Where the 1-day bbox's overhead goes": ~0.9 ms of
 * `JSON.stringify`, then the string's UTF-8 copy into the socket).
 *
 * What makes it cheaper than the builtin, for the values answers hold:
 *   strings  printable ASCII is copied a char code a byte; anything else (a quote, a backslash, a control
 *            char, non-ASCII) is left to `JSON.stringify` for that one string, so escaping has one
 *            definition
 *   numbers  integers are written digit by digit; a double below 1e6 that is the double nearest a whole
 *            number k of 1e-7 (lat, lon, confidence: how the shards store them) is written from k: its
 *            shortest round-trip form, which the builtin prints, is k's digits with the point put back.
 *            A shorter decimal would be a multiple of 1e-7 too, ≥ 1e-7 away, while every decimal that reads
 *            back as the same double lies within one gap between doubles (< 2.4e-10 below 1e6) of it.
 *            Any other double goes through `String`, which is what the builtin writes
 *   e7, ids  a coordinate from the integer a shard stores, a read id from (ordinal, seq): what `number` and
 *            `string` write of the hit's double and id string, without either (src/model/hit-sink.ts)
 *   times    `YYYY-MM-DDTHH:MM:SS.sssZ` from the epoch ms by integer arithmetic (src/model/time.ts
 *            formatTimestamp is the definition; years outside 0000–9999 take it), the date a piece made once
 *            a day
 *   stores   a typed-array store costs about the same whatever its width on this VM (~1.3 ns), so text
 *            known ahead (keys, punctuation, dates, a dictionary string's field: src/server/field-pieces.ts)
 *            is a JsonPiece written 8 bytes a store, and digits go two a store from a table (decimal pairs
 *            of times and coordinates, hex pairs of ids): a ~1,000-hit hot-list answer's text ~1.7× cheaper
 *            (bench/RESULTS.md, "Issue 12: the hot list's answer text a word at a time")
 *   calls    a caller reserves room for a group of values once (`reserve`); the writes after it do not
 *            check, so a hit costs one bounds check, not one per field. A string that must be escaped
 *            makes room for itself and keeps the reservation after it. A piece's last word may write up to
 *            7 bytes past the piece (past the reservation too): the buffer keeps kWordSlack bytes beyond
 *            every reservation, and what follows writes over them
 *
 * test/json-bytes.test.ts holds every writer to `JSON.stringify` on random and edge values, and
 * test/field-pieces-json.test.ts the pieces.
 */
import { formatTimestamp } from '../model/time.js';
import { giveBack, takeBuffer } from './answer-buffers.js';

const kQuote = 34;
const kSpace = 32;
// a piece's last word may write up to 7 bytes past its end: every buffer keeps this much room past a reservation
const kWordSlack = 8;
const kMsPerDay = 86_400_000;
// 0000-01-01 and 10000-01-01: the years toISOString writes with four digits
const kFirstPlainMs = -62_167_219_200_000;
const kEndPlainMs = 253_402_300_800_000;
// integers below this are exact; larger ones the builtin may write with an exponent
const kMaxInteger = 2 ** 53;
// k × 1e-7 below 1e6: the gap between doubles there (≤ 2^-33) is far below 1e-7 (see the header)
const kMaxScaled = 1e13;
// |x| < 1e-6 is written with an exponent by the builtin (1e-7): String's business
const kMinScaled = 10;
const kScale = 1e7;
const kScaleDigits = 7;

// lowercase hex digits as char codes (read ids)
const kHexCodes = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
// a byte's two hex digits, and 0–99's two decimal digits, as one little-endian 16-bit store (first digit low)
const kHexPairs = Uint16Array.from({ length: 256 }, (_, v) => kHexCodes[v >>> 4]! | (kHexCodes[v & 15]! << 8));
const kDecimalPairs = Uint16Array.from({ length: 100 }, (_, v) => (48 + Math.floor(v / 10)) | ((48 + (v % 10)) << 8));
// digits of an integer, written backwards (writers run one at a time on a thread: shared)
const digits = new Uint8Array(24);
// `YYYY-MM-DDT` of the days of timestamps written (an answer's hits are mostly of a few days; a hot list's
// matches each walk back through them), made once a day; cleared when full
const datePieces = new Map<number, JsonPiece>();
const kMaxDatePieces = 4096;
const dateBytes = new Uint8Array(11);
// the last timestamp's day and its piece: most hits follow one of the same day
let lastDay = Number.NaN;
let lastDayPiece: JsonPiece | undefined;

/** `YYYY-MM-DDT` of day `day` (days since 1970-01-01, ≥ −719,468): H. Hinnant's civil_from_days. */
function datePiece(day: number): JsonPiece {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const b = dateBytes;
  two(b, 0, Math.floor(y / 100));
  two(b, 2, y % 100);
  b[4] = 45; // -
  two(b, 5, m);
  b[7] = 45;
  two(b, 8, d);
  b[10] = 84; // T
  if (datePieces.size >= kMaxDatePieces) datePieces.clear();
  const p = new JsonPiece(String.fromCharCode(...b));
  datePieces.set(day, p);
  return p;
}

/**
 * A printable-ASCII piece of JSON (punctuation, a key with its quotes and colon, a date), made once and
 * written 8 bytes a store (`JsonBytes.piece`): its bytes padded with spaces to whole words, each word's 8
 * bytes read as a little-endian double, the only 8-byte store a DataView has without a BigInt. The bits
 * survive the load and the store unchanged because such a double is always a normal number: its top byte
 * (sign and the exponent's high 7 bits) is a printable character, 0x20–0x7e, so the exponent is neither all
 * ones (NaN, whose payload an engine may rewrite) nor all zeros (a subnormal).
 */
export class JsonPiece {
  readonly words: Float64Array;

  constructor(readonly text: string) {
    this.words = new Float64Array(Math.ceil(text.length / 8));
    const b = new Uint8Array(this.words.buffer).fill(kSpace);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) throw new RangeError(`a JSON piece is printable ASCII: ${JSON.stringify(text)}`);
      b[i] = c;
    }
  }

  get length(): number {
    return this.text.length;
  }
}

/** A JsonPiece of `ascii`. */
export function jsonPiece(ascii: string): JsonPiece {
  return new JsonPiece(ascii);
}

/** Room to reserve for one number (`number`) or one timestamp (`timestamp`). */
export const kNumberBytes = 26;
export const kTimestampBytes = 32;

const kTrue = jsonPiece('true');
const kFalse = jsonPiece('false');
const kNull = jsonPiece('null');

export class JsonBytes {
  private buf: Buffer;
  // the same memory, for the words of pieces
  private view: DataView;
  private at = 0;
  // where the caller's last reservation ends: writing past it is a bug (checked at the next reserve and at
  // `bytes`, so a short count fails loudly instead of losing what typed-array writes past the end drop)
  private end = 0;

  /** `capacity`: a guess of the text's length (the buffer grows past it). */
  constructor(capacity = 64 * 1024) {
    this.buf = takeBuffer(capacity + kWordSlack);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /**
   * The text written so far: a view of a buffer from src/server/answer-buffers.ts, to be given back
   * (`giveBack`) once sent. The writer must not be used after.
   */
  bytes(): Buffer {
    this.checkReservation();
    return this.buf.subarray(0, this.at);
  }

  private checkReservation(): void {
    if (this.at > this.end) throw new RangeError(`JSON bytes written past their reservation (${this.at - this.end} bytes)`);
  }

  /**
   * Room for the next `n` bytes of writes, which do not check: count every piece, 2 + length for a string,
   * kNumberBytes for a number and kTimestampBytes for a timestamp (an escaped string makes its own).
   */
  reserve(n: number): void {
    this.checkReservation();
    this.end = this.at + n;
    this.grow(n);
  }

  private grow(n: number): void {
    if (this.at + n + kWordSlack <= this.buf.length) return;
    const grown = takeBuffer(Math.max(this.buf.length * 2, this.at + n + kWordSlack));
    this.buf.copy(grown, 0, 0, this.at);
    giveBack(this.buf);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  /** A piece made by jsonPiece, a word at a time (its last word's padding is written over by what follows). */
  piece(p: JsonPiece): void {
    const w = p.words, v = this.view;
    let at = this.at;
    for (let i = 0; i < w.length; i++, at += 8) v.setFloat64(at, w[i]!, true);
    this.at += p.length;
  }

  /** One printable-ASCII byte of JSON punctuation. */
  char(c: number): void {
    this.buf[this.at++] = c;
  }

  /** A JSON string of the first `n` bytes of `chars`, characters that need no escape (a plate's A–Z0–9). */
  plainString(chars: Uint8Array, n: number): void {
    const b = this.buf;
    let at = this.at;
    b[at++] = kQuote;
    for (let i = 0; i < n; i++) b[at++] = chars[i]!;
    b[at++] = kQuote;
    this.at = at;
  }

  /** A JSON string. */
  string(s: string): void {
    const n = s.length;
    const b = this.buf;
    let at = this.at;
    b[at++] = kQuote;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === kQuote || c === 0x5c) return this.escaped(s);
      b[at++] = c;
    }
    b[at++] = kQuote;
    this.at = at;
  }

  // the reservation counted 2 + s.length bytes for the string: the rest of its escaped text is added to it
  private escaped(s: string): void {
    const text = JSON.stringify(s);
    const bytes = Buffer.byteLength(text, 'utf8');
    this.end += bytes - (2 + s.length);
    this.grow(this.end - this.at);
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  /** A JSON number (`null` for NaN and ±Infinity, as the builtin). */
  number(x: number): void {
    if (Number.isInteger(x) && Math.abs(x) < kMaxInteger) return this.integer(x);
    const k = Math.round(x * kScale);
    if (k / kScale === x && Math.abs(k) < kMaxScaled && Math.abs(k) >= kMinScaled) return this.scaled(k);
    this.ascii(Number.isFinite(x) ? String(x) : 'null');
  }

  /**
   * The number `v / 1e7` for an integer v (a coordinate as shards store it): what `number` writes of that
   * double, from v's digits. `number` writes the double nearest k × 1e-7 from k = round(x × 1e7), which for
   * x = v / 1e7 is v itself (|v| < 2^31: x × 1e7 is within an ulp of v); below kMinScaled it is String's.
   */
  e7(v: number): void {
    if (Math.abs(v) >= kMinScaled) this.scaled(v);
    else this.number(v / kScale);
  }

  /**
   * A read id as a JSON string: `"` + ordinal's 4 and seq's 12 lowercase hex digits + `"`, the text of
   * src/store/ids.ts readIdOf(ordinal, seq) (seq < 2^48), without the string.
   */
  readId(ordinal: number, seq: number): void {
    const hi = Math.floor(seq / 16777216), lo = seq - hi * 16777216;
    const v = this.view, h = kHexPairs, at = this.at;
    this.buf[at] = kQuote;
    v.setUint16(at + 1, h[(ordinal >>> 8) & 255]!, true);
    v.setUint16(at + 3, h[ordinal & 255]!, true);
    v.setUint16(at + 5, h[(hi >>> 16) & 255]!, true);
    v.setUint16(at + 7, h[(hi >>> 8) & 255]!, true);
    v.setUint16(at + 9, h[hi & 255]!, true);
    v.setUint16(at + 11, h[(lo >>> 16) & 255]!, true);
    v.setUint16(at + 13, h[(lo >>> 8) & 255]!, true);
    v.setUint16(at + 15, h[lo & 255]!, true);
    this.buf[at + 17] = kQuote;
    this.at = at + 18;
  }

  /** `true` or `false`. */
  boolean(v: boolean): void {
    this.piece(v ? kTrue : kFalse);
  }

  /** `null`. */
  null(): void {
    this.piece(kNull);
  }

  /** Epoch ms as an ISO-8601 UTC string with milliseconds, as formatTimestamp writes it. */
  timestamp(ms: number): void {
    if (!(ms >= kFirstPlainMs && ms < kEndPlainMs) || !Number.isInteger(ms)) return this.string(formatTimestamp(ms));
    const day = Math.floor(ms / kMsPerDay);
    let rest = ms - day * kMsPerDay;
    this.buf[this.at++] = kQuote;
    if (day !== lastDay) {
      lastDay = day;
      lastDayPiece = datePieces.get(day) ?? datePiece(day);
    }
    this.piece(lastDayPiece!);
    // `HH:MM:SS.mmmZ"`: rest < 86,400,000 is an int32 from here
    const h = (rest / 3_600_000) | 0;
    rest -= h * 3_600_000;
    const min = (rest / 60_000) | 0;
    rest -= min * 60_000;
    const sec = (rest / 1000) | 0;
    const milli = rest - sec * 1000;
    const c = (milli / 100) | 0;
    const b = this.buf, v = this.view, d = kDecimalPairs, at = this.at;
    v.setUint16(at, d[h]!, true);
    b[at + 2] = 58; // :
    v.setUint16(at + 3, d[min]!, true);
    b[at + 5] = 58;
    v.setUint16(at + 6, d[sec]!, true);
    b[at + 8] = 46; // .
    b[at + 9] = 48 + c;
    v.setUint16(at + 10, d[milli - c * 100]!, true);
    b[at + 12] = 90; // Z
    b[at + 13] = kQuote;
    this.at = at + 14;
  }

  /** A number's String (≤ 25 chars: "-0.0000012304235260311942"; kNumberBytes counts it). */
  private ascii(text: string): void {
    const b = this.buf;
    let at = this.at;
    for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
    this.at = at;
  }

  private integer(x: number): void {
    const b = this.buf;
    if (x === 0) {
      b[this.at++] = 48; // -0 too, as the builtin
      return;
    }
    if (x < 0) {
      b[this.at++] = 45; // -
      x = -x;
    }
    const d = digits;
    let n = 0;
    if (x <= 0x7fffffff) {
      let v = x | 0;
      while (v > 0) {
        const q = (v / 10) | 0;
        d[n++] = 48 + (v - q * 10);
        v = q;
      }
    } else {
      while (x > 0) {
        const q = Math.floor(x / 10);
        d[n++] = 48 + (x - q * 10);
        x = q;
      }
    }
    let at = this.at;
    while (n > 0) b[at++] = d[--n]!;
    this.at = at;
  }

  /** `k` × 1e-7 (k an integer, |k| ≥ 10): its whole part, then its 7 fraction digits without trailing zeros. */
  private scaled(k: number): void {
    if (k < 0) {
      this.buf[this.at++] = 45;
      k = -k;
    }
    // int32 arithmetic for every coordinate and confidence (|k| < 2^31); % on a double is a call
    const whole = k <= 0x7fffffff ? ((k / kScale) | 0) : Math.floor(k / kScale);
    let frac = (k - whole * kScale) | 0;
    this.integer(whole);
    if (frac === 0) return;
    let n = kScaleDigits;
    while (frac % 10 === 0) {
      frac = (frac / 10) | 0;
      n--;
    }
    // frac's n digits, zero-padded on the left, two a store from the right
    const b = this.buf, v = this.view, d = kDecimalPairs;
    b[this.at] = 46; // .
    const start = this.at + 1;
    let at = start + n;
    this.at = at;
    while (at - start >= 2) {
      const q = (frac / 100) | 0;
      at -= 2;
      v.setUint16(at, d[frac - q * 100]!, true);
      frac = q;
    }
    if (at > start) b[start] = 48 + frac;
  }
}

/** Two decimal digits of 0 ≤ v < 100. */
function two(b: Uint8Array, at: number, v: number): number {
  const t = (v / 10) | 0;
  b[at] = 48 + t;
  b[at + 1] = 48 + (v - t * 10);
  return at + 2;
}
