/**
 * Reads a WAL record payload (the MessagePack shape src/store/wal-record.ts describes) row by row straight
 * from its bytes: no array per row and no array of rows, only the field values themselves (numbers, and
 * the strings the caller keeps or drops at once). The seal worker reads a whole seal's WAL this way;
 * decoding each record with msgpackr made a 10-element array per row, enough garbage for a record of
 * 50,000 rows to outlive a scavenge and pile up in the old generation (issue 11, bounded memory).
 *
 * Only what the writer (msgpackr, useRecords off) produces for a record is read here: arrays, nil,
 * integers up to 32 bits, float64, ASCII strings. Anything else (int64, float32, booleans, maps,
 * non-ASCII text, trailing bytes) answers undefined before a single row reaches the sink, and the caller
 * decodes that payload with msgpackr instead, so every payload decodes to the same rows either way.
 */
import type { RowSink } from './wal-record.js';

const kRecordReads = 1;
const kRecordRewrite = 2;

/** A cursor over one payload; `fail` set on anything outside the subset above. */
class Cursor {
  at = 0;
  fail = false;
  constructor(readonly b: Uint8Array) {}

  /** The element count of an array at the cursor, or -1 (and fail). */
  arrayLength(): number {
    const b = this.b;
    if (this.at >= b.length) return this.bad();
    const t = b[this.at]!;
    if (t >= 0x90 && t <= 0x9f) {
      this.at++;
      return t & 0x0f;
    }
    if (t === 0xdc && this.at + 3 <= b.length) {
      const n = (b[this.at + 1]! << 8) | b[this.at + 2]!;
      this.at += 3;
      return n;
    }
    if (t === 0xdd && this.at + 5 <= b.length) {
      const n = ((b[this.at + 1]! << 24) | (b[this.at + 2]! << 16) | (b[this.at + 3]! << 8) | b[this.at + 4]!) >>> 0;
      this.at += 5;
      return n;
    }
    return this.bad();
  }

  private bad(): -1 {
    this.fail = true;
    return -1;
  }

  /**
   * The scalar at the cursor (null for nil); with `decode` false a string is checked and skipped (answers
   * ''). Sets `fail` (answers undefined) on a type outside the subset or a value past the end.
   */
  value(decode: boolean): string | number | null | undefined {
    const b = this.b;
    const at = this.at;
    if (at >= b.length) return void this.bad();
    const t = b[at]!;
    if (t <= 0x7f) {
      this.at = at + 1;
      return t;
    }
    if (t >= 0xe0) {
      this.at = at + 1;
      return t - 0x100;
    }
    let len: number, start: number;
    if (t >= 0xa0 && t <= 0xbf) {
      len = t & 0x1f;
      start = at + 1;
    } else if (t === 0xc0) {
      this.at = at + 1;
      return null;
    } else if (t === 0xd9 || t === 0xda) {
      const head = t === 0xd9 ? 2 : 3;
      if (at + head > b.length) return void this.bad();
      len = t === 0xd9 ? b[at + 1]! : (b[at + 1]! << 8) | b[at + 2]!;
      start = at + head;
    } else {
      const bytes = t === 0xcc || t === 0xd0 ? 1 : t === 0xcd || t === 0xd1 ? 2 : t === 0xce || t === 0xd2 ? 4 : t === 0xcb ? 8 : 0;
      if (bytes === 0 || at + 1 + bytes > b.length) return void this.bad();
      this.at = at + 1 + bytes;
      const b1 = b[at + 1]!;
      switch (t) {
        case 0xcc: return b1;
        case 0xd0: return (b1 << 24) >> 24;
        case 0xcd: return (b1 << 8) | b[at + 2]!;
        case 0xd1: return (((b1 << 8) | b[at + 2]!) << 16) >> 16;
        case 0xce: return ((b1 << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0;
        case 0xd2: return (b1 << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!;
        default: return (this.view ??= new DataView(b.buffer, b.byteOffset, b.byteLength)).getFloat64(at + 1);
      }
    }
    const end = start + len;
    if (end > b.length) return void this.bad();
    this.at = end;
    if (!decode) {
      for (let j = start; j < end; j++) if (b[j]! >= 0x80) return void this.bad();
      return '';
    }
    // ASCII (checked by the first pass): one code unit a byte
    return len <= 16 ? String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]) : Buffer.from(b.buffer, b.byteOffset + start, len).toString('latin1');
  }

  private view: DataView | undefined;
}

const fields: Array<string | number | null | undefined> = new Array(11);
/** Fields a row must have (not nil): plate, ts, lat, lon, camera; and seq in a rewrite (field 10). */
const kRequired = 5;

const opt = (v: string | number | null | undefined) => (v === null ? undefined : v);

/** One pass over the payload: checks it (sink undefined) or hands its rows to `sink`; its firstSeq, or undefined: outside the subset. */
function walk(payload: Uint8Array, sink: RowSink | undefined): number | undefined {
  const c = new Cursor(payload);
  if (c.arrayLength() !== 3) return undefined;
  const kind = c.value(true);
  const firstSeq = c.value(true);
  if ((kind !== kRecordReads && kind !== kRecordRewrite) || typeof firstSeq !== 'number' || c.fail) return undefined;
  const rows = c.arrayLength();
  if (c.fail) return undefined;
  const rewrite = kind === kRecordRewrite;
  for (let i = 0; i < rows; i++) {
    const n = c.arrayLength();
    if (c.fail) return undefined;
    for (let k = 0; k < n; k++) {
      const v = c.value(sink !== undefined);
      if (c.fail) return undefined;
      if (k < 11) fields[k] = v;
    }
    for (let k = n; k < 11; k++) fields[k] = null;
    // a missing or nil required field: msgpackr's path says what such a row becomes
    for (let k = 0; k < kRequired; k++) if (fields[k] === null) return undefined;
    if (rewrite && fields[10] === null) return undefined;
    if (!sink) continue;
    sink(rewrite ? (fields[10] as number) : firstSeq + i, fields[0] as string, fields[1] as number, fields[2] as number, fields[3] as number, fields[4] as string,
      opt(fields[5]) as string | undefined, opt(fields[6]) as number | undefined, opt(fields[7]) as string | undefined, opt(fields[8]) as string | undefined, opt(fields[9]) as string | undefined);
  }
  return c.at === payload.length ? firstSeq : undefined;
}

/**
 * Hands every row of a record payload to `sink` (seq, then the row's fields; nil as undefined) and answers
 * the record's firstSeq; or answers undefined, having handed none, when the payload is outside what this
 * reader reads (the caller decodes it with msgpackr).
 */
export function readRecordRows(payload: Uint8Array, sink: RowSink): number | undefined {
  if (walk(payload, undefined) === undefined) return undefined;
  return walk(payload, sink);
}
