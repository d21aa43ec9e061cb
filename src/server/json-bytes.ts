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
 *   times    `YYYY-MM-DDTHH:MM:SS.sssZ` with the date part kept per day (src/model/time.ts formatTimestamp
 *            is the definition; years outside 0000–9999 take it)
 *
 * test/json-bytes.test.ts holds every writer to `JSON.stringify` on random and edge values.
 */
import { formatTimestamp } from '../model/time.js';
import { giveBack, takeBuffer } from './answer-buffers.js';

const kQuote = 34;
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

// the last day a timestamp was written on, and its `YYYY-MM-DDT` bytes (writers run one at a time: shared)
let lastDay = Number.NaN;
const lastDate = Buffer.alloc(11);
// digits of an integer, written backwards
const digits = new Uint8Array(24);

export class JsonBytes {
  private buf: Buffer;
  private at = 0;

  /** `capacity`: a guess of the text's length (the buffer grows past it). */
  constructor(capacity = 64 * 1024) {
    this.buf = takeBuffer(capacity);
  }

  /**
   * The text written so far: a view of a buffer from src/server/answer-buffers.ts, to be given back
   * (`giveBack`) once sent. The writer must not be used after.
   */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = takeBuffer(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    giveBack(this.buf);
    this.buf = grown;
  }

  /** Text that is JSON already and printable ASCII (punctuation, keys with their quotes and colon). */
  raw(ascii: string): void {
    const n = ascii.length;
    this.room(n);
    const b = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) b[at++] = ascii.charCodeAt(i);
    this.at = at;
  }

  /** A JSON string. */
  string(s: string): void {
    const n = s.length;
    this.room(n + 2);
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

  private escaped(s: string): void {
    const text = JSON.stringify(s);
    this.room(Buffer.byteLength(text, 'utf8'));
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  /** A JSON number (`null` for NaN and ±Infinity, as the builtin). */
  number(x: number): void {
    if (Number.isInteger(x) && Math.abs(x) < kMaxInteger) return this.integer(x);
    const k = Math.round(x * kScale);
    if (k / kScale === x && Math.abs(k) < kMaxScaled && Math.abs(k) >= kMinScaled) return this.scaled(k);
    this.raw(Number.isFinite(x) ? String(x) : 'null');
  }

  /** `true` or `false`. */
  boolean(v: boolean): void {
    this.raw(v ? 'true' : 'false');
  }

  /** `null`. */
  null(): void {
    this.raw('null');
  }

  /** Epoch ms as an ISO-8601 UTC string with milliseconds, as formatTimestamp writes it. */
  timestamp(ms: number): void {
    if (!(ms >= kFirstPlainMs && ms < kEndPlainMs) || !Number.isInteger(ms)) return this.string(formatTimestamp(ms));
    const day = Math.floor(ms / kMsPerDay);
    if (day !== lastDay) {
      lastDay = day;
      lastDate.write(formatTimestamp(day * kMsPerDay), 0, 11, 'latin1');
    }
    this.room(26);
    const b = this.buf;
    let at = this.at;
    b[at++] = kQuote;
    lastDate.copy(b, at);
    at += 11;
    let rest = ms - day * kMsPerDay;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = Math.floor(rest / 1000);
    const milli = rest - s * 1000;
    at = two(b, at, h);
    b[at++] = 58; // :
    at = two(b, at, m);
    b[at++] = 58;
    at = two(b, at, s);
    b[at++] = 46; // .
    b[at++] = 48 + Math.floor(milli / 100);
    b[at++] = 48 + (Math.floor(milli / 10) % 10);
    b[at++] = 48 + (milli % 10);
    b[at++] = 90; // Z
    b[at++] = kQuote;
    this.at = at;
  }

  private integer(x: number): void {
    if (x === 0) return this.raw('0'); // -0 too, as the builtin
    this.room(24);
    const b = this.buf;
    if (x < 0) {
      b[this.at++] = 45; // -
      x = -x;
    }
    const d = digits;
    let n = 0;
    while (x > 0) {
      const q = Math.floor(x / 10);
      d[n++] = 48 + (x - q * 10);
      x = q;
    }
    let at = this.at;
    while (n > 0) b[at++] = d[--n]!;
    this.at = at;
  }

  /** `k` × 1e-7 (k an integer, |k| ≥ 10): its digits with the point put back, trailing zeros dropped. */
  private scaled(k: number): void {
    this.room(26);
    const b = this.buf;
    if (k < 0) {
      b[this.at++] = 45;
      k = -k;
    }
    const d = digits;
    let n = 0;
    while (k > 0 || n <= kScaleDigits) {
      const q = Math.floor(k / 10);
      d[n++] = 48 + (k - q * 10);
      k = q;
    }
    // d[0..kScaleDigits) are the fraction's digits, last first; d[kScaleDigits..n) the whole part's
    let low = 0;
    while (low < kScaleDigits && d[low] === 48) low++;
    let at = this.at;
    for (let i = n - 1; i >= kScaleDigits; i--) b[at++] = d[i]!;
    if (low < kScaleDigits) {
      b[at++] = 46;
      for (let i = kScaleDigits - 1; i >= low; i--) b[at++] = d[i]!;
    }
    this.at = at;
  }
}

function two(b: Buffer, at: number, v: number): number {
  const t = Math.floor(v / 10);
  b[at] = 48 + t;
  b[at + 1] = 48 + (v - t * 10);
  return at + 2;
}
