/**
 * One NDJSON line read and validated straight from its bytes, for bulk ingest: no string of the line, no
 * JSON.parse, no object per read. It answers only lines it can prove the JSON.parse → validateRead path
 * (src/ingest/parse-chunk.ts) would ACCEPT, and fills in exactly the read that path makes; every other line
 * (any doubt at all) is handed back to that path, which then gives the outcome and the message. So the two
 * cannot differ on rejected lines by construction, and on accepted ones test/ndjson-read.test.ts holds them
 * equal on random lines.
 *
 * What this path takes (what camera feeds send): one flat object; keys without escapes; values that are
 * strings without escapes or control characters, JSON numbers, true/false/null; no key of a read given
 * twice (JSON.parse keeps the last, this hands the line back). Within the read's fields: plate bytes are
 * normalised as normalisePlate does (a byte ≥ 0x80 is part of a non-ASCII character, which it removes);
 * camera, labels and readId must be printable ASCII (anything else goes the slow way); ts an ISO string or
 * a number; numbers converted exactly as JSON.parse does (Clinger's fast path: at most 15 digits and a power
 * of ten ≤ 1e22 make one correctly rounded operation; anything else through Number() of the token, which is
 * what JSON.parse computes for a JSON number).
 */
import { kMaxPlateLength } from '../model/plate.js';
import { kMaxCameraLength, kMaxLabelLength } from '../model/read.js';
import { parseIsoTimestamp, parseTimestamp } from '../model/time.js';
import { plateKey, plateKeyOfBytes } from '../store/plate-key.js';

/**
 * The read of an accepted line; one instance reused line after line. Labels are byte ranges of the piece
 * (printable ASCII), so a column builder can code them without a string per read.
 */
export class ByteRead {
  /** The normalised plate as a key (src/store/plate-key.ts). */
  plateKey = 0;
  ts = 0;
  lat = 0;
  lon = 0;
  /** Where the camera's bytes are in the piece: [cameraAt, cameraEnd) (printable ASCII). */
  cameraAt = 0;
  cameraEnd = 0;
  /** The labels' bytes likewise; start -1 = absent. */
  regionAt = -1;
  regionEnd = 0;
  makeAt = -1;
  makeEnd = 0;
  colorAt = -1;
  colorEnd = 0;
  confidence = NaN;
  readId: string | undefined = undefined;
}

// field bits (also: which were seen, for duplicates)
const F_PLATE = 1, F_TS = 2, F_LAT = 4, F_LON = 8, F_CAMERA = 16, F_REGION = 32, F_CONF = 64, F_MAKE = 128, F_COLOR = 256, F_READID = 512;
const kRequired = F_PLATE | F_TS | F_LAT | F_LON | F_CAMERA;

const kPow10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** The field bit of key bytes b[s..e), 0 for a key that is not a read field. */
function fieldOf(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  const c = b[s]!;
  switch (len) {
    case 2:
      return c === 0x74 && b[s + 1] === 0x73 ? F_TS : 0; // ts
    case 3:
      if (c !== 0x6c) return 0;
      if (b[s + 1] === 0x61 && b[s + 2] === 0x74) return F_LAT;
      if (b[s + 1] === 0x6f && b[s + 2] === 0x6e) return F_LON;
      return 0;
    case 4:
      return c === 0x6d && b[s + 1] === 0x61 && b[s + 2] === 0x6b && b[s + 3] === 0x65 ? F_MAKE : 0;
    case 5:
      if (c === 0x70) return b[s + 1] === 0x6c && b[s + 2] === 0x61 && b[s + 3] === 0x74 && b[s + 4] === 0x65 ? F_PLATE : 0;
      if (c === 0x63) return b[s + 1] === 0x6f && b[s + 2] === 0x6c && b[s + 3] === 0x6f && b[s + 4] === 0x72 ? F_COLOR : 0;
      return 0;
    case 6: {
      // "camera", "region", "readId": four bytes, then two
      const w = word4(b, s), t = (b[s + 4]! << 8) | b[s + 5]!;
      if (w === kCame) return t === kRa ? F_CAMERA : 0;
      if (w === kRegi) return t === kOn ? F_REGION : 0;
      return w === kRead && t === kId ? F_READID : 0;
    }
    case 10:
      return word4(b, s) === kConf && word4(b, s + 4) === kIden && b[s + 8] === 0x63 && b[s + 9] === 0x65 ? F_CONF : 0;
    default:
      return 0;
  }
}

/** Four bytes at b[s..] as one big-endian number (a key compared a word at a time, not a byte). */
function word4(b: Uint8Array, s: number): number {
  return (b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!;
}

const ascii4 = (w: string) => word4(Buffer.from(w, 'latin1'), 0);
const kCame = ascii4('came'), kRegi = ascii4('regi'), kRead = ascii4('read'), kConf = ascii4('conf'), kIden = ascii4('iden');
const kRa = (0x72 << 8) | 0x61, kOn = (0x6f << 8) | 0x6e, kId = (0x49 << 8) | 0x64;

/**
 * Reads NDJSON lines from bytes. `read(b, s, e)` answers the line b[s..e) (no line break in it): true with
 * `out` filled in when the slow path would accept it, false to hand it back.
 */
export class NdjsonByteReader {
  readonly out = new ByteRead();
  // the end of the token a scan* method just read
  private end = 0;
  // a number's value (scanNumber)
  private num = 0;
  // the date of the last canonical ISO timestamp: its 10 bytes packed, and its midnight in epoch ms
  private dateHi = -1;
  private dateLo = -1;
  private dateMs = 0;
  private b: Latin1Buffer = Buffer.alloc(0) as Latin1Buffer;
  // the same bytes read four at a time (a word compare or test instead of four byte branches)
  private dv = new DataView(new ArrayBuffer(0));
  // the keys of the last object read, in order (KeyShape): feeds send every line with the same keys in the same order
  private readonly shape = new KeyShape();
  // whether the last string stringEnd scanned was all below 0x7f
  private ascii = true;

  /** Reads from `buf` from now on (its word view made once a piece, not once a line). */
  private use(buf: Buffer): Latin1Buffer {
    if (buf !== this.b) {
      this.b = buf as Latin1Buffer;
      this.dv = new DataView(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength);
    }
    return this.b;
  }

  read(buf: Buffer, s: number, e: number): boolean {
    const end = this.readObject(buf, s, e);
    return end >= 0 && skipWs(buf, end, e) === e;
  }

  /**
   * One object starting at b[s] (after JSON whitespace) and ending before `e`: the offset just past its `}`
   * with `out` filled in when the slow path would accept that object as a read, -1 to hand it back. What
   * follows the object is the caller's to check (a JSON array body's `,` or `]`).
   */
  readObject(buf: Buffer, s: number, e: number): number {
    const b = this.use(buf);
    const o = this.out;
    const shape = this.shape;
    let i = skipWs(b, s, e);
    if (i >= e || b[i] !== 0x7b) return -1; // `{`
    i = skipWs(b, i + 1, e);
    if (i >= e || b[i] === 0x7d) return -1; // `{}`: rejected; let the slow path say so
    let seen = 0;
    o.regionAt = o.makeAt = o.colorAt = -1;
    o.readId = undefined;
    o.confidence = NaN;
    for (let nth = 0; ; nth++) {
      // key
      if (b[i] !== 0x22) return -1;
      let field: number;
      if (shape.matches(nth, this.dv, i, e)) {
        // the same bytes `"key":` as the nth key of an object read before: the same field, no scan
        field = shape.field[nth]!;
        i += shape.len[nth]!;
      } else {
        const ks = i + 1;
        let k = ks;
        for (; k < e; k++) {
          const c = b[k]!;
          if (c === 0x22) break;
          if (c === 0x5c || c < 0x20) return -1;
        }
        if (k >= e) return -1;
        field = fieldOf(b, ks, k);
        i = skipWs(b, k + 1, e);
        if (i >= e || b[i] !== 0x3a) return -1; // `:`
        if (i === k + 1) shape.learn(nth, b, ks - 1, i + 1, field);
        i++;
      }
      if (field & seen) return -1; // a duplicate: JSON.parse keeps the last; the slow path decides
      seen |= field;
      i = skipWs(b, i, e);
      if (i >= e) return -1;
      const c = b[i]!;
      if (c === 0x22) {
        // a string value
        const vs = i + 1;
        const v = this.stringEnd(vs, e);
        if (v < 0) return -1;
        i = v + 1;
        if (field !== 0 && !this.stringField(field, vs, v, this.ascii)) return -1;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        if (!this.scanNumber(i, e)) return -1;
        i = this.end;
        if (field !== 0 && !this.numberField(field, this.num)) return -1;
      } else if (c === 0x6e) {
        // null: absent for the optional fields, invalid for the rest
        if (!(i + 4 <= e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c)) return -1;
        i += 4;
        // the field stays absent (its seen bit stays set: a second value for it is a duplicate)
        if (field & kRequired) return -1;
      } else if (c === 0x74 || c === 0x66) {
        const t = c === 0x74;
        const n = t ? 4 : 5;
        if (!(i + n <= e && (t ? b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 : b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65))) return -1;
        if (field !== 0) return -1; // a boolean read field: rejected
        i += n;
      } else {
        return -1; // nested values, or not JSON
      }
      i = skipWs(b, i, e);
      if (i >= e) return -1;
      if (b[i] === 0x2c) {
        i = skipWs(b, i + 1, e);
        if (i >= e) return -1;
        continue;
      }
      if (b[i] !== 0x7d) return -1;
      return (seen & kRequired) === kRequired ? i + 1 : -1;
    }
  }

  /**
   * One plain CSV row (no quotes; fields b[starts[k]..ends[k]) in header order, `fields[k]` the read field
   * of column k, 0 for none; no read field named twice): true with `out` filled in when csvRowToObject then
   * validateRead would accept it with this read. Empty cells are absent (as csvRowToObject leaves them out);
   * lat, lon and confidence only as strict JSON number tokens (Number() of one is its JSON value; spaces,
   * hex, "Infinity" go the slow way); ts as digits (the same) or an ISO string.
   */
  readCsvRow(buf: Buffer, starts: Int32Array, ends: Int32Array, fields: Int32Array): boolean {
    const b = this.use(buf);
    const o = this.out;
    o.regionAt = o.makeAt = o.colorAt = -1;
    o.readId = undefined;
    o.confidence = NaN;
    let seen = 0;
    for (let k = 0; k < fields.length; k++) {
      const field = fields[k]!;
      if (field === 0) continue;
      const s = starts[k]!, e = ends[k]!;
      if (s === e) continue; // an empty cell: absent
      seen |= field;
      if (field === F_LAT || field === F_LON || field === F_CONF || (field === F_TS && isDigitsToken(b, s, e))) {
        if (!this.scanNumber(s, e) || this.end !== e || !this.numberField(field, this.num)) return false;
        continue;
      }
      let ascii = true;
      for (let j = s; j < e && ascii; j++) {
        const c = b[j]!;
        ascii = c >= 0x20 && c < 0x7f;
      }
      if (!this.stringField(field, s, e, ascii)) return false;
    }
    return (seen & kRequired) === kRequired;
  }

  /**
   * The offset of the `"` that ends a string value starting at b[v] (before `e`), with `ascii` set to whether
   * every byte before it is below 0x7f; -1 when a backslash or control character comes first, or no quote.
   * Four bytes at a time while none of them is special (a quote, a backslash, a control character, ≥ 0x7f:
   * exact SWAR tests, nonzero only when some byte is one), then byte by byte through the word that holds one.
   */
  private stringEnd(v: number, e: number): number {
    const b = this.b, dv = this.dv;
    let ascii = true;
    for (;;) {
      if (v + 4 <= e) {
        const w = dv.getUint32(v, true);
        const q = w ^ 0x22222222, x = w ^ 0x5c5c5c5c, y = w ^ 0x7f7f7f7f;
        const special = ((q - 0x01010101) & ~q) | ((x - 0x01010101) & ~x) | ((y - 0x01010101) & ~y) | ((w - 0x20202020) & ~w) | w;
        if ((special & 0x80808080) === 0) {
          v += 4;
          continue;
        }
      }
      const stop = v + 4 < e ? v + 4 : e;
      for (; v < stop; v++) {
        const d = b[v]!;
        if (d === 0x22) {
          this.ascii = ascii;
          return v;
        }
        if (d === 0x5c || d < 0x20) return -1;
        if (d >= 0x7f) ascii = false;
      }
      if (v >= e) return -1;
    }
  }

  /** A string value b[s..e) of a read field (no escapes; `ascii`: every byte < 0x7f). */
  private stringField(field: number, s: number, e: number, ascii: boolean): boolean {
    const b = this.b;
    const o = this.out;
    switch (field) {
      case F_PLATE: {
        // normalisePlate over bytes: a-z upper-cased, A-Z0-9 kept, everything else (also every byte of a
        // non-ASCII character) removed
        let clean = true;
        for (let j = s; j < e && clean; j++) {
          const c = b[j]!;
          clean = (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
        }
        if (clean) {
          if (e - s < 1 || e - s > kMaxPlateLength) return false;
          o.plateKey = plateKeyOfBytes(b, s, e);
          return true;
        }
        let p = '';
        for (let j = s; j < e; j++) {
          let c = b[j]!;
          if (c >= 0x61 && c <= 0x7a) c -= 32;
          if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) p += String.fromCharCode(c);
        }
        if (p.length < 1 || p.length > kMaxPlateLength) return false;
        o.plateKey = plateKey(p);
        return true;
      }
      case F_TS: {
        if (!ascii) return false;
        const t = this.isoTs(s, e);
        if (t === undefined) return false;
        o.ts = t;
        return true;
      }
      case F_CAMERA:
        if (!ascii || e - s < 1 || e - s > kMaxCameraLength) return false;
        o.cameraAt = s;
        o.cameraEnd = e;
        return true;
      case F_READID:
        if (!ascii || e - s < 1 || e - s > kMaxCameraLength) return false;
        o.readId = b.latin1Slice(s, e);
        return true;
      case F_REGION:
      case F_MAKE:
      case F_COLOR: {
        if (!ascii || e - s > kMaxLabelLength) return false;
        const at = e === s ? -1 : s; // "" = absent
        if (field === F_REGION) {
          o.regionAt = at;
          o.regionEnd = e;
        } else if (field === F_MAKE) {
          o.makeAt = at;
          o.makeEnd = e;
        } else {
          o.colorAt = at;
          o.colorEnd = e;
        }
        return true;
      }
      default:
        return false; // lat, lon, confidence given as strings: rejected
    }
  }

  /** A number value of a read field. */
  private numberField(field: number, v: number): boolean {
    const o = this.out;
    switch (field) {
      case F_TS: {
        const t = parseTimestamp(v);
        if (t === undefined) return false;
        o.ts = t;
        return true;
      }
      case F_LAT:
        if (!(v >= -90 && v <= 90)) return false;
        o.lat = v;
        return true;
      case F_LON:
        if (!(v >= -180 && v <= 180)) return false;
        o.lon = v;
        return true;
      case F_CONF:
        if (!(v >= 0 && v <= 1)) return false;
        o.confidence = v;
        return true;
      default:
        return false; // plate, camera, labels, readId given as numbers: rejected
    }
  }

  /**
   * An ISO timestamp string b[s..e) (ASCII): the canonical `YYYY-MM-DDTHH:MM:SS.sssZ` by bytes with the
   * date's midnight cached, anything else through parseIsoTimestamp (the definition).
   */
  private isoTs(s: number, e: number): number | undefined {
    const b = this.b;
    if (e - s === 24 && b[s + 4] === 0x2d && b[s + 7] === 0x2d && b[s + 10] === 0x54 && b[s + 13] === 0x3a && b[s + 16] === 0x3a
      && b[s + 19] === 0x2e && b[s + 23] === 0x5a) {
      const hour = digits2(b, s + 11), minute = digits2(b, s + 14), second = digits2(b, s + 17);
      const ms = digits2(b, s + 20) * 10 + digit(b, s + 22);
      if (hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && ms >= 0) {
        const hi = (b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!;
        const lo = (b[s + 5]! << 24) | (b[s + 6]! << 16) | (b[s + 8]! << 8) | b[s + 9]!;
        const tod = ((hour * 60 + minute) * 60 + second) * 1000 + ms;
        if (hi === this.dateHi && lo === this.dateLo) return this.dateMs + tod;
        const t = parseIsoTimestamp(this.b.latin1Slice(s, e));
        if (t === undefined) return undefined;
        this.dateHi = hi;
        this.dateLo = lo;
        this.dateMs = t - tod;
        return t;
      }
    }
    return parseIsoTimestamp(b.latin1Slice(s, e));
  }

  /** A JSON number at b[s..]: its value in `num`, its end in `end`; false when the token is not one. */
  private scanNumber(s: number, e: number): boolean {
    const b = this.b;
    let i = s;
    const neg = b[i] === 0x2d;
    if (neg) i++;
    if (i >= e) return false;
    let mant = 0;
    let digits = 0;
    let scale = 0;
    if (b[i] === 0x30) {
      i++;
    } else if (b[i]! >= 0x31 && b[i]! <= 0x39) {
      for (; i < e; i++) {
        const d = b[i]! - 0x30;
        if (d < 0 || d > 9) break;
        mant = mant * 10 + d;
        digits++;
      }
    } else {
      return false;
    }
    if (i < e && b[i] === 0x2e) {
      i++;
      const fs = i;
      for (; i < e; i++) {
        const d = b[i]! - 0x30;
        if (d < 0 || d > 9) break;
        mant = mant * 10 + d;
        if (mant !== 0) digits++; // leading zeros of "0.00x" add no significant digit
      }
      if (i === fs) return false;
      scale = -(i - fs);
    }
    let exact = true;
    if (i < e && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      let eneg = false;
      if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) eneg = b[i++] === 0x2d;
      const es = i;
      let x = 0;
      for (; i < e; i++) {
        const d = b[i]! - 0x30;
        if (d < 0 || d > 9) break;
        if (x < 100000) x = x * 10 + d;
      }
      if (i === es) return false;
      if (x >= 100000) exact = false;
      scale += eneg ? -x : x;
    }
    this.end = i;
    if (exact && digits <= 15 && scale >= -22 && scale <= 22) {
      // mant < 10^15 is exact, and so is 10^|scale|: one correctly rounded operation, as JSON.parse rounds
      const v = scale < 0 ? mant / kPow10[-scale]! : mant * kPow10[scale]!;
      this.num = neg ? -v : v;
    } else {
      this.num = Number(b.latin1Slice(s, i));
    }
    return true;
  }
}

/** /^-?\d+$/ over b[s..e) (csvRowToObject turns such a ts into a number). */
function isDigitsToken(b: Uint8Array, s: number, e: number): boolean {
  if (s < e && b[s] === 0x2d) s++;
  if (s >= e) return false;
  for (let j = s; j < e; j++) if (b[j]! < 0x30 || b[j]! > 0x39) return false;
  return true;
}

/** The field bits of CSV header names (0 for a column that is not a read field), or undefined when a read field is named twice. */
export function csvFieldBits(header: readonly string[]): Int32Array | undefined {
  const out = new Int32Array(header.length);
  let seen = 0;
  for (let k = 0; k < header.length; k++) {
    const h = header[k]!;
    const name = Buffer.from(h, 'latin1');
    const f = /^[\x20-\x7e]+$/.test(h) ? fieldOf(name, 0, name.length) : 0;
    if (f & seen) return undefined;
    seen |= f;
    out[k] = f;
  }
  return out;
}

/**
 * The keys of the objects read before, by position: key n's bytes from its opening quote through the `:`
 * right after its closing one, and its field bit. A key met at the same position with the same bytes (compared
 * four at a time) is the same field, so its scan and lookup are skipped. Only keys the full scan took (no
 * escape, no control character) are learned, so a match is exactly what that scan would have found.
 */
class KeyShape {
  static readonly kKeys = 16;
  static readonly kSlot = 32;
  /** Bytes of key n at [n × kSlot, + len[n]); len 0 = none learned. */
  private readonly bytes = new Uint8Array(KeyShape.kKeys * KeyShape.kSlot);
  private readonly words = new DataView(this.bytes.buffer);
  readonly len = new Int32Array(KeyShape.kKeys);
  readonly field = new Int32Array(KeyShape.kKeys);

  /** Whether b[i..] starts with the bytes learned for key `nth`. */
  matches(nth: number, dv: DataView, i: number, e: number): boolean {
    if (nth >= KeyShape.kKeys) return false;
    const n = this.len[nth]!;
    if (n === 0 || i + n > e) return false;
    const at = nth * KeyShape.kSlot;
    const words = this.words;
    // whole words, then the last four bytes (overlapping; every learned key is ≥ 4 bytes: `"":` is not learned)
    for (let j = 0; j + 4 < n; j += 4) if (dv.getUint32(i + j) !== words.getUint32(at + j)) return false;
    return dv.getUint32(i + n - 4) === words.getUint32(at + n - 4);
  }

  /** Learns b[s..e) (a key's `"…":`) as key `nth`, of field bit `field`. */
  learn(nth: number, b: Uint8Array, s: number, e: number, field: number): void {
    if (nth >= KeyShape.kKeys) return;
    const n = e - s;
    if (n < 4 || n > KeyShape.kSlot) {
      this.len[nth] = 0;
      return;
    }
    this.bytes.set(b.subarray(s, e), nth * KeyShape.kSlot);
    this.len[nth] = n;
    this.field[nth] = field;
  }
}

/**
 * JSON's whitespace (space, tab, LF, CR: what JSON.parse skips between tokens). A file's NDJSON line never
 * holds a LF or CR (the reader splits there); an HTTP NDJSON line may hold a CR (split at LF only, and
 * JSON.parse then skips it), and a JSON array body's elements may span lines.
 */
function skipWs(b: Uint8Array, i: number, e: number): number {
  while (i < e) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

function digit(b: Uint8Array, at: number): number {
  const d = b[at]! - 0x30;
  return d >= 0 && d <= 9 ? d : -1000;
}

/** Two decimal digits at `at`, or a negative number when either is not a digit. */
function digits2(b: Uint8Array, at: number): number {
  return digit(b, at) * 10 + digit(b, at + 1);
}
