/**
 * The columnar WAL record (kind 3): a batch of reads as the columns the HTTP ingest already holds
 * (src/store/read-columns.ts), copied section by section on the main thread and read back as columns by
 * replay and the seal job: no MessagePack row per read, no row-by-row decode, no string made per plate.
 * Kinds 1 and 2 (MessagePack rows, src/store/wal-record.ts) stay readable and are still written by
 * retention's rewrites.
 *
 * A payload, little-endian, every section packed (no padding; readers copy sections out):
 *
 *   offset  size
 *   0       1      kind = 3        (never the first byte of a kind 1/2 payload: those start 0x93, a
 *                                   MessagePack array of three)
 *   1       1      layout version = 1
 *   2       2      flags u16: bit 0 seqs, bit 1 confidence, bit 2 region, bit 3 make, bit 4 color,
 *                  bit 5 readId (a section is written only when its flag is set; other bits must be 0)
 *   4       4      n: rows u32
 *   8       8      firstSeq f64    row i has seq firstSeq + i (0 when the seqs section is present)
 *   16             ts          f64[n]   ms since the epoch
 *                  latE7       i32[n]   degrees × 1e7, as stored (src/core/segment.ts)
 *                  lonE7       i32[n]
 *                  plate       f64[n]   plate keys (src/store/plate-key.ts), each an integer in [1, 37^10)
 *                  seqs        f64[n]   if flagged: row i's seq (a batch split by UTC day)
 *                  confidence  f64[n]   if flagged: NaN = absent on that row
 *                  camera      labels
 *                  region      labels   if flagged
 *                  make        labels   if flagged
 *                  color       labels   if flagged
 *                  readId      labels   if flagged
 *   labels = count u32 · byteLength u32[count] · UTF-8 bytes of the values, end to end · codes[n]
 *   codes  = u8 when count < 0xff, u16 when count < 0xffff, else i32: an index into the values, the
 *            width's all-ones (0xff, 0xffff, -1) = absent (never for camera)
 *
 * The payload ends exactly after the last section. The record's values are only the rows' own (a batch
 * split by UTC day writes, in each day's record, only that day's labels and readIds: a day's key then
 * shreds all of that day's reads). Seqs, coordinates and ts are the acknowledged values bit for bit.
 */
import { endianness } from 'node:os';
import { CorruptFile } from '../errors.js';
import type { ReadColumns, StringColumn } from './read-columns.js';

export const kRecordColumns = 3;
export const kColumnsLayout = 1;
const kHeaderBytes = 16;

const kSeqs = 1, kConfidence = 2, kRegion = 4, kMake = 8, kColor = 16, kReadId = 32;
const kKnownFlags = 63;
/** 37^10: plate keys are below it (src/store/plate-key.ts). */
const kPlateKeyEnd = 37 ** 10;

if (endianness() !== 'LE') throw new Error('the columnar WAL record is read through typed arrays: a little-endian host is required');

/** A kind-3 record read back: its rows as a batch of columns, with their seqs. */
export interface WalColumns {
  columns: ReadColumns;
  /** Row i's seq: firstSeq + i, or seqs[i] when the record carries them. */
  firstSeq: number;
  seqs: Float64Array | undefined;
}

/** Whether a record payload is a kind-3 record (decodeColumnsRecord reads it). */
export function isColumnsRecord(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[0] === kRecordColumns;
}

/** Whether rows are 0, 1, …, c.length − 1: the columns are then copied whole. */
function isWholeBatch(c: ReadColumns, rows: ArrayLike<number>): boolean {
  if (rows.length !== c.length) return false;
  for (let k = 0; k < rows.length; k++) if (rows[k] !== k) return false;
  return true;
}

/** A label column's values used by `rows`, UTF-8, and each row's index into them. */
interface LabelSection {
  bytes: Buffer[];
  totalBytes: number;
  codes: Int32Array;
}

function labelSection(col: StringColumn, rows: ArrayLike<number>, whole: boolean): LabelSection {
  const n = rows.length;
  const codes = new Int32Array(n);
  let values: string[];
  if (whole) {
    values = col.values;
    for (let k = 0; k < n; k++) codes[k] = col.ids[k]!;
  } else {
    // only the values these rows use (a day's record must not carry another day's labels or readIds)
    const remap = new Int32Array(col.values.length).fill(-1);
    values = [];
    for (let k = 0; k < n; k++) {
      const id = col.ids[rows[k]!]!;
      if (id < 0) {
        codes[k] = -1;
        continue;
      }
      let to = remap[id]!;
      if (to < 0) {
        to = remap[id] = values.length;
        values.push(col.values[id]!);
      }
      codes[k] = to;
    }
  }
  const bytes = values.map((v) => Buffer.from(v, 'utf8'));
  let totalBytes = 0;
  for (const b of bytes) totalBytes += b.length;
  return { bytes, totalBytes, codes };
}

function codeWidth(count: number): 1 | 2 | 4 {
  return count < 0xff ? 1 : count < 0xffff ? 2 : 4;
}

function labelBytes(s: LabelSection, n: number): number {
  return 4 + 4 * s.bytes.length + s.totalBytes + codeWidth(s.bytes.length) * n;
}

function anyPresent(col: StringColumn, rows: ArrayLike<number>): boolean {
  if (col.values.length === 0) return false;
  for (let k = 0; k < rows.length; k++) if (col.ids[rows[k]!]! >= 0) return true;
  return false;
}

/**
 * The kind-3 record of rows `rows` (indexes into `c`). `seqs` undefined: row k has seq firstSeq + k;
 * given: row k has seqs[k] (a batch split by UTC day).
 */
export function encodeColumnsRecord(c: ReadColumns, rows: ArrayLike<number>, firstSeq: number, seqs?: ArrayLike<number>): Buffer {
  const n = rows.length;
  const whole = isWholeBatch(c, rows);
  let hasConfidence = false;
  for (let k = 0; k < n && !hasConfidence; k++) hasConfidence = !Number.isNaN(c.confidence[rows[k]!]!);
  let flags = seqs ? kSeqs : 0;
  if (hasConfidence) flags |= kConfidence;
  const optional: Array<[StringColumn, number]> = [[c.region, kRegion], [c.make, kMake], [c.color, kColor], [c.readId, kReadId]];
  const labels: LabelSection[] = [labelSection(c.camera, rows, whole)];
  for (const [col, flag] of optional) {
    if (!anyPresent(col, rows)) continue;
    flags |= flag;
    labels.push(labelSection(col, rows, whole));
  }
  let size = kHeaderBytes + n * (8 + 4 + 4 + 8) + (seqs ? 8 * n : 0) + (hasConfidence ? 8 * n : 0);
  for (const s of labels) size += labelBytes(s, n);
  const out = Buffer.allocUnsafe(size);
  out[0] = kRecordColumns;
  out[1] = kColumnsLayout;
  out.writeUInt16LE(flags, 2);
  out.writeUInt32LE(n, 4);
  out.writeDoubleLE(seqs ? 0 : firstSeq, 8);
  let at = kHeaderBytes;
  const f64 = (col: ArrayLike<number>, direct: boolean) => {
    const lane = direct && col instanceof Float64Array ? col.subarray(0, n) : gather64(col, rows, direct);
    out.set(new Uint8Array(lane.buffer, lane.byteOffset, 8 * n), at);
    at += 8 * n;
  };
  const i32 = (col: Int32Array) => {
    const lane = whole ? col.subarray(0, n) : gather32(col, rows);
    out.set(new Uint8Array(lane.buffer, lane.byteOffset, 4 * n), at);
    at += 4 * n;
  };
  f64(c.ts, whole);
  i32(c.latE7);
  i32(c.lonE7);
  f64(c.plate, whole);
  if (seqs) f64(seqs, true);
  if (hasConfidence) f64(c.confidence, whole);
  for (const s of labels) {
    out.writeUInt32LE(s.bytes.length, at);
    at += 4;
    for (const b of s.bytes) {
      out.writeUInt32LE(b.length, at);
      at += 4;
    }
    for (const b of s.bytes) {
      b.copy(out, at);
      at += b.length;
    }
    const width = codeWidth(s.bytes.length);
    const lane = width === 1 ? Uint8Array.from(s.codes) : width === 2 ? Uint16Array.from(s.codes) : s.codes;
    out.set(new Uint8Array(lane.buffer, lane.byteOffset, width * n), at);
    at += width * n;
  }
  return out;
}

/** `col` at `rows` (or `col` itself, `direct`: already one value per row) as a Float64Array. */
function gather64(col: ArrayLike<number>, rows: ArrayLike<number>, direct: boolean): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < out.length; k++) out[k] = direct ? col[k]! : col[rows[k]!]!;
  return out;
}

function gather32(col: Int32Array, rows: ArrayLike<number>): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < out.length; k++) out[k] = col[rows[k]!]!;
  return out;
}

/**
 * Reads a kind-3 payload back as columns. Every section is copied out of the payload (a view of a
 * decrypted block, valid only until the next one) into typed arrays of its own; labels are made as strings
 * once per value. A payload that passed its CRC (and its GCM tag) but does not follow the layout — an
 * unknown version or flag, a section past the end or short of it, a code outside its values, a missing
 * camera, a plate key out of range — is a corrupt file (PS_CORRUPT_FILE naming `file`).
 */
export function decodeColumnsRecord(file: string, payload: Uint8Array): WalColumns {
  const bad = (why: string) => CorruptFile(`WAL record (columns) ${why}: ${file}`, { file });
  const p = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (p.length < kHeaderBytes || p[0] !== kRecordColumns) throw bad('has no header');
  if (p[1] !== kColumnsLayout) throw bad(`of unknown layout ${p[1]}`);
  const flags = p.readUInt16LE(2);
  if ((flags & ~kKnownFlags) !== 0) throw bad(`with unknown flags ${flags}`);
  const n = p.readUInt32LE(4);
  const firstSeq = p.readDoubleLE(8);
  let at = kHeaderBytes;
  const take = (bytes: number): number => {
    if (bytes > p.length - at) throw bad('runs past its end');
    const from = at;
    at += bytes;
    return from;
  };
  const f64 = () => {
    const out = new Float64Array(n);
    const from = take(8 * n);
    new Uint8Array(out.buffer).set(p.subarray(from, from + 8 * n));
    return out;
  };
  const i32 = () => {
    const out = new Int32Array(n);
    const from = take(4 * n);
    new Uint8Array(out.buffer).set(p.subarray(from, from + 4 * n));
    return out;
  };
  const labels = (required: boolean): StringColumn => {
    const count = p.readUInt32LE(take(4));
    if (count > p.length) throw bad('has more labels than bytes');
    const lens = take(4 * count);
    const values: string[] = new Array(count);
    for (let v = 0; v < count; v++) {
      const len = p.readUInt32LE(lens + 4 * v);
      const from = take(len);
      values[v] = p.toString('utf8', from, from + len);
    }
    const width = codeWidth(count);
    const from = take(width * n);
    const ids = new Int32Array(n);
    if (width === 4) new Uint8Array(ids.buffer).set(p.subarray(from, from + 4 * n));
    else {
      const raw = new (width === 1 ? Uint8Array : Uint16Array)(n);
      new Uint8Array(raw.buffer).set(p.subarray(from, from + width * n));
      const absent = width === 1 ? 0xff : 0xffff;
      for (let k = 0; k < n; k++) ids[k] = raw[k] === absent ? -1 : raw[k]!;
    }
    for (let k = 0; k < n; k++) {
      const id = ids[k]!;
      if (id >= count || id < -1 || (id === -1 && required)) throw bad(id === -1 ? 'lacks a camera' : 'codes a label it does not hold');
    }
    return { ids, values };
  };
  const none = (): StringColumn => ({ ids: new Int32Array(n).fill(-1), values: [] });
  const ts = f64(), latE7 = i32(), lonE7 = i32(), plate = f64();
  for (let k = 0; k < n; k++) {
    const key = plate[k]!;
    if (!(key >= 1 && key < kPlateKeyEnd && Number.isInteger(key))) throw bad('holds a plate key out of range');
  }
  const seqs = flags & kSeqs ? f64() : undefined;
  const confidence = flags & kConfidence ? f64() : new Float64Array(n).fill(NaN);
  const camera = labels(true);
  const region = flags & kRegion ? labels(false) : none();
  const make = flags & kMake ? labels(false) : none();
  const color = flags & kColor ? labels(false) : none();
  const readId = flags & kReadId ? labels(false) : none();
  if (at !== p.length) throw bad('has bytes after its last section');
  return { columns: { length: n, ts, latE7, lonE7, confidence, plate, camera, region, make, color, readId }, firstSeq, seqs };
}
