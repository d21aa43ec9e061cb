/**
 * What a WAL record's payload holds. Kind 3, what appends write, is the batch's columns
 * (src/store/wal-record-columns.ts); kinds 1 and 2, MessagePack via msgpackr (retention's rewrites, and
 * every log written before kind 3):
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
import { plateOfKey } from './plate-key.js';
import { decodeColumnsRecord, isColumnsRecord, type WalColumns } from './wal-record-columns.js';

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

/** Receives a record's rows one by one, field by field (absent optional fields undefined): no object per row. */
export type RowSink = (seq: number, plate: string, ts: number, latE7: number, lonE7: number, camera: string,
  region: string | undefined, confidence: number | undefined, make: string | undefined, color: string | undefined, readId: string | undefined) => void;

/** Receives a kind-3 record as the columns it holds (src/store/wal-record-columns.ts). */
export type ColumnsSink = (record: WalColumns) => void;

/** A kind-3 record's rows handed to a row sink one by one (tests and tools; readers of columns take them whole). */
function columnsIntoRows(w: WalColumns, sink: RowSink): void {
  const c = w.columns;
  const label = (col: WalColumns['columns']['region'], i: number) => (col.ids[i]! < 0 ? undefined : col.values[col.ids[i]!]);
  for (let i = 0; i < c.length; i++) {
    const conf = c.confidence[i]!;
    sink(w.seqs ? w.seqs[i]! : w.firstSeq + i, plateOfKey(c.plate[i]!), c.ts[i]!, c.latE7[i]!, c.lonE7[i]!, c.camera.values[c.camera.ids[i]!]!,
      label(c.region, i), Number.isNaN(conf) ? undefined : conf, label(c.make, i), label(c.color, i), label(c.readId, i));
  }
}

/**
 * Decodes a record payload into `sink`, row by row, or a kind-3 record whole into `columns` when given;
 * returns the record's firstSeq. A payload that passed its CRC but does not decode is a corrupt file
 * (thrown before any row reaches a sink).
 */
export function decodeRecordInto(file: string, payload: Uint8Array, sink: RowSink, columns?: ColumnsSink): number {
  if (isColumnsRecord(payload)) {
    const w = decodeColumnsRecord(file, payload);
    if (columns) columns(w);
    else columnsIntoRows(w, sink);
    return w.firstSeq;
  }
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
