/**
 * What a WAL record's payload holds (MessagePack via msgpackr):
 *
 *   [kind = 1, firstSeq, rows]      one appended batch; row i has seq firstSeq + i
 *   [kind = 2, 0, rows]             rows rewritten by retention; each row carries its seq as an 11th field
 *   row = [plate, ts, latE7, lonE7, camera, region|null, confidence|null, make|null, color|null, readId|null]
 *
 * Replay keys rows by seq (a rewrite may repeat rows of an older file that was not yet deleted) and
 * orders them by seq.
 *
 * Coordinates are the stored fixed-point values (degrees × 1e7, see src/core/segment.ts), so a replayed
 * read is bit-identical to the acknowledged one.
 */
import { Packr } from 'msgpackr';
import { CorruptFile } from '../errors.js';
import { readRecordRows } from './wal-record-rows.js';
import { writePlateBytes } from './plate-key.js';
import type { ReadColumns, StringColumn } from './read-columns.js';

export const kRecordReads = 1;
export const kRecordRewrite = 2;

/** One read as the store keeps it: the row fields plus its seq; ids are made from seq on the way out. */
export interface RowRecord {
  seq: number;
  plate: string;
  ts: number;
  latE7: number;
  lonE7: number;
  camera: string;
  region?: string;
  confidence?: number;
  make?: string;
  color?: string;
  readId?: string;
}

const packr = new Packr({ useRecords: false, moreTypes: false });

function rowTuple(r: RowRecord): unknown[] {
  return [r.plate, r.ts, r.latE7, r.lonE7, r.camera, r.region ?? null, r.confidence ?? null, r.make ?? null, r.color ?? null, r.readId ?? null];
}

/** A batch of appended rows with consecutive seqs starting at `firstSeq`. */
export function encodeReadsRecord(firstSeq: number, rows: readonly RowRecord[]): Buffer {
  return packr.pack([kRecordReads, firstSeq, rows.map(rowTuple)]);
}

/** Rows of any seqs (a log rewrite keeps the survivors of older files). */
export function encodeRewriteRecord(rows: readonly RowRecord[]): Buffer {
  return packr.pack([kRecordRewrite, 0, rows.map((r) => {
    const t = rowTuple(r);
    t.push(r.seq);
    return t;
  })]);
}

/**
 * The packed form of each value of a column's dictionary (msgpackr's own, so a string is written exactly
 * as `pack` writes it), and nil for -1; made once a batch, copied row by row.
 */
function packedValues(col: StringColumn): Buffer[] {
  return col.values.map((v) => packr.pack(v));
}

const kNil = 0xc0;

/**
 * The record of rows `rows` (indexes into `c`) of a batch of columns, without a row object: the same
 * payload shape as encodeReadsRecord / encodeRewriteRecord, written byte by byte. `seqs` undefined: a
 * reads record, row k has seq firstSeq + k; given: a rewrite record, row k carries seqs[k].
 * Numbers: ts, confidence and seqs as float64 (exact for every double), coordinates as int32; decodeRecord
 * reads any MessagePack number form back as the same number.
 */
export function encodeColumnsRecord(c: ReadColumns, rows: ArrayLike<number>, firstSeq: number, seqs?: ArrayLike<number>): Buffer {
  const camera = packedValues(c.camera), region = packedValues(c.region), make = packedValues(c.make), color = packedValues(c.color);
  const readIds = c.readId.values.length > 0 ? packedValues(c.readId) : [];
  const n = rows.length;
  const bytesOf = (list: Buffer[], id: number) => (id < 0 ? 1 : list[id]!.length);
  let size = 1 + 1 + 9 + 5;
  for (let k = 0; k < n; k++) {
    const i = rows[k]!;
    size += 1 + 11 + 9 + 5 + 5 + 9 + 9;
    size += bytesOf(camera, c.camera.ids[i]!) + bytesOf(region, c.region.ids[i]!) + bytesOf(make, c.make.ids[i]!) + bytesOf(color, c.color.ids[i]!) + bytesOf(readIds, c.readId.ids[i]!);
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const float64 = (v: number) => {
    out[at] = 0xcb;
    out.writeDoubleBE(v, at + 1);
    at += 9;
  };
  const int32 = (v: number) => {
    out[at] = 0xd2;
    out.writeInt32BE(v, at + 1);
    at += 5;
  };
  const value = (list: Buffer[], id: number) => {
    if (id < 0) {
      out[at++] = kNil;
      return;
    }
    const p = list[id]!;
    p.copy(out, at);
    at += p.length;
  };
  out[at++] = 0x93; // [kind, firstSeq, rows]
  out[at++] = seqs ? kRecordRewrite : kRecordReads;
  float64(seqs ? 0 : firstSeq);
  out[at++] = 0xdd; // array32
  out.writeUInt32BE(n, at);
  at += 4;
  for (let k = 0; k < n; k++) {
    const i = rows[k]!;
    out[at++] = seqs ? 0x9b : 0x9a;
    const len = writePlateBytes(c.plate[i]!, out, at + 1);
    out[at] = 0xa0 | len; // fixstr
    at += 1 + len;
    float64(c.ts[i]!);
    int32(c.latE7[i]!);
    int32(c.lonE7[i]!);
    value(camera, c.camera.ids[i]!);
    value(region, c.region.ids[i]!);
    const conf = c.confidence[i]!;
    if (Number.isNaN(conf)) out[at++] = kNil;
    else float64(conf);
    value(make, c.make.ids[i]!);
    value(color, c.color.ids[i]!);
    value(readIds, c.readId.ids[i]!);
    if (seqs) float64(seqs[k]!);
  }
  return out.subarray(0, at);
}

/** Receives a record's rows one by one, field by field (absent optional fields undefined): no object per row. */
export type RowSink = (seq: number, plate: string, ts: number, latE7: number, lonE7: number, camera: string,
  region: string | undefined, confidence: number | undefined, make: string | undefined, color: string | undefined, readId: string | undefined) => void;

/**
 * Decodes a record payload into `sink`, row by row; returns the record's firstSeq. A payload that passed
 * its CRC but does not decode is a corrupt file (thrown before any row reaches the sink).
 */
export function decodeRecordInto(file: string, payload: Uint8Array, sink: RowSink): number {
  // what the writer produces is read straight from the bytes, no array per row (src/store/wal-record-rows.ts)
  const read = readRecordRows(payload, sink);
  if (read !== undefined) return read;
  let v: unknown;
  try {
    v = packr.unpack(payload);
  } catch {
    throw CorruptFile(`WAL record does not decode: ${file}`, { file });
  }
  if (!Array.isArray(v) || (v[0] !== kRecordReads && v[0] !== kRecordRewrite) || typeof v[1] !== 'number' || !Array.isArray(v[2])) {
    throw CorruptFile(`WAL record of unknown shape: ${file}`, { file });
  }
  const firstSeq = v[1];
  const rewrite = v[0] === kRecordRewrite;
  const tuples = v[2] as unknown[][];
  for (let i = 0; i < tuples.length; i++) {
    const t = tuples[i]!;
    sink(rewrite ? (t[10] as number) : firstSeq + i, t[0] as string, t[1] as number, t[2] as number, t[3] as number, t[4] as string,
      (t[5] ?? undefined) as string | undefined, (t[6] ?? undefined) as number | undefined, (t[7] ?? undefined) as string | undefined,
      (t[8] ?? undefined) as string | undefined, (t[9] ?? undefined) as string | undefined);
  }
  return firstSeq;
}

/** Decodes a record payload into row records (replay); a payload that passed its CRC but does not decode is a corrupt file. */
export function decodeRecord(file: string, payload: Uint8Array): { firstSeq: number; rows: RowRecord[] } {
  const rows: RowRecord[] = [];
  const firstSeq = decodeRecordInto(file, payload, (seq, plate, ts, latE7, lonE7, camera, region, confidence, make, color, readId) => {
    const r: RowRecord = { seq, plate, ts, latE7, lonE7, camera };
    if (region !== undefined) r.region = region;
    if (confidence !== undefined) r.confidence = confidence;
    if (make !== undefined) r.make = make;
    if (color !== undefined) r.color = color;
    if (readId !== undefined) r.readId = readId;
    rows.push(r);
  });
  return { firstSeq, rows };
}
