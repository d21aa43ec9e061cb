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

/** Decodes a record payload; a payload that passed its CRC but does not decode is a corrupt file. */
export function decodeRecord(file: string, payload: Uint8Array): { firstSeq: number; rows: RowRecord[] } {
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
  const rows: RowRecord[] = (v[2] as unknown[][]).map((t, i) => {
    const r: RowRecord = {
      seq: rewrite ? (t[10] as number) : firstSeq + i,
      plate: t[0] as string,
      ts: t[1] as number,
      latE7: t[2] as number,
      lonE7: t[3] as number,
      camera: t[4] as string,
    };
    if (t[5] != null) r.region = t[5] as string;
    if (t[6] != null) r.confidence = t[6] as number;
    if (t[7] != null) r.make = t[7] as string;
    if (t[8] != null) r.color = t[8] as string;
    if (t[9] != null) r.readId = t[9] as string;
    return r;
  });
  return { firstSeq, rows };
}
