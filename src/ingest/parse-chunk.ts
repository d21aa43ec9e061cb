/**
 * Parsing and validating one piece of an input file for bulk ingest (`platesearch ingest`), on a worker
 * thread (src/ingest/parse-worker.ts) or, without workers, on the caller's. A piece starts at a line (NDJSON)
 * or record (CSV) boundary (src/ingest/chunker.ts), so every piece parses on its own; line numbers come back
 * relative to the piece (1 = its first line) and the caller adds the piece's first line.
 *
 * The outcome for every line is the one the line-at-a-time ingest gave, by construction:
 * - NDJSON: lines split as node:readline splits them (LF, CRLF, lone CR), decoded as it decodes them
 *   (Buffer's UTF-8: invalid bytes become U+FFFD; a BOM is data except at the file's start, which the
 *   chunker strips); blank lines (trim() empty) are skipped; `JSON.parse`, then `validateRead`
 *   (src/model/read.ts), then the retention cutoff, in that order, each with its own message.
 * - CSV: the same RFC 4180 reader (src/server/export/csv-reader.ts) and row mapping (csvRowToObject).
 * Accepted reads come back as columns (src/store/read-columns.ts), not objects.
 */
import { validateRead } from '../model/read.js';
import { CsvReader } from '../server/export/csv-reader.js';
import { ReadColumnsBuilder, toE7, type ReadColumns } from '../store/read-columns.js';
import { csvFieldBits, NdjsonByteReader, type ByteRead } from './ndjson-read.js';
import { LineBreaks } from './line-breaks.js';

export type IngestFormat = 'ndjson' | 'csv';

/** Rejected reads a piece reports one by one (the command prints the first 100 of the whole run). */
export const kMaxReportedPerPiece = 100;

export interface ParseJob {
  format: IngestFormat;
  bytes: Uint8Array;
  /** CSV: the header's field names (trimmed). */
  header?: string[];
  /** CSV, first piece of the file: its first record is the header itself, not a read. */
  skipHeader?: boolean;
  /** Reads with ts below this are rejected ("beyond retention"). */
  cutoff: number;
}

export interface ParseResult {
  columns: ReadColumns;
  /** The one buffer the columns are views of, when the parse was given lanes (a parse worker's, to reuse). */
  lanes?: ArrayBuffer;
  /**
   * Set by the parse pool on the receiving thread when `lanes` came from a worker: gives them back for its
   * next piece. The columns are unreadable after it (their arrays detached).
   */
  release?: () => void;
  /**
   * The piece's own buffer, moved back from a parse worker once parsed (the pipeline reads its next block into
   * it: a fresh 4 MiB block a piece cost page faults and, as external memory, the loading thread's collections).
   */
  piece?: ArrayBuffer;
  /** Line breaks in the piece (NDJSON: LF, CRLF and CR count one each; CSV: LF): the next piece's first line. */
  breaks: number;
  rejected: number;
  /** The first kMaxReportedPerPiece rejected lines, in order, line relative to the piece. */
  reports: Array<{ line: number; error: string }>;
}

const kNumberFields = new Set(['lat', 'lon', 'confidence']);
const kReadFields = new Set(['plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color', 'readId']);

/** One CSV row as a read-shaped object, typed as the columns say. */
export function csvRowToObject(header: readonly string[], fields: readonly string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  header.forEach((name, i) => {
    if (!kReadFields.has(name)) return;
    const v = fields[i];
    if (v === undefined || v === '') return;
    if (kNumberFields.has(name)) o[name] = /^\s*$/.test(v) ? v : Number(v);
    else if (name === 'ts' && /^-?\d+$/.test(v)) o[name] = Number(v);
    else o[name] = v;
  });
  return o;
}

/**
 * Collects accepted reads as columns and rejected ones as reports (the first `maxReports`; every one is
 * counted). `line` is whatever the caller numbers items by: a piece's line, or an HTTP body's item index.
 */
export class PieceSink {
  private readonly rows: ReadColumnsBuilder;
  rejected = 0;
  readonly reports: Array<{ line: number; error: string }> = [];

  /** `lanes`: the buffer the columns are laid out in (ReadColumnsBuilder; a parse worker's reused one). */
  constructor(capacity: number, private readonly cutoff: number, private readonly maxReports = kMaxReportedPerPiece, lanes?: ArrayBuffer) {
    this.rows = new ReadColumnsBuilder(capacity, lanes);
  }

  /** The buffer the columns are views of, when laid out in one. */
  get lanes(): ArrayBuffer | undefined {
    return this.rows.lanes;
  }

  reject(line: number, error: string): void {
    this.rejected++;
    if (this.reports.length < this.maxReports) this.reports.push({ line, error });
  }

  /** Validates a parsed value like POST /v1/reads, then the retention cutoff; keeps or rejects it. */
  take(line: number, value: unknown): void {
    const v = validateRead(value);
    if (!v.ok) return this.reject(line, v.error);
    if (v.read.ts < this.cutoff) return this.reject(line, 'beyond retention');
    this.rows.add(v.read);
  }

  /** A read the byte reader accepted (src/ingest/ndjson-read.ts): what `take` does with the same read. */
  takeBytes(line: number, r: ByteRead, b: Uint8Array): void {
    if (r.ts < this.cutoff) return this.reject(line, 'beyond retention');
    const c = this.rows;
    const i = c.length++;
    c.ts[i] = r.ts;
    c.latE7[i] = toE7(r.lat);
    c.lonE7[i] = toE7(r.lon);
    c.confidence[i] = r.confidence;
    c.plate[i] = r.plateKey;
    c.camera.setBytes(i, b, r.cameraAt, r.cameraEnd);
    if (r.regionAt < 0) c.region.set(i, undefined);
    else c.region.setBytes(i, b, r.regionAt, r.regionEnd);
    if (r.makeAt < 0) c.make.set(i, undefined);
    else c.make.setBytes(i, b, r.makeAt, r.makeEnd);
    if (r.colorAt < 0) c.color.set(i, undefined);
    else c.color.setBytes(i, b, r.colorAt, r.colorEnd);
    c.readId.set(i, r.readId);
  }

  columns(): ReadColumns {
    return this.rows.build();
  }
}

function parseNdjson(bytes: Buffer, lines: number, sink: PieceSink): number {
  const { ends, nexts } = fileLines;
  // each line decoded on its own: the same text as decoding the whole piece (lines split at ASCII bytes,
  // which are never part of a UTF-8 sequence), and JSON.parse gets a flat string, not a slice of a big one
  const reader = new NdjsonByteReader();
  let pos = 0;
  for (let k = 0; k < lines; k++) {
    const end = ends[k]!;
    const line = k + 1;
    if (reader.read(bytes, pos, end)) {
      sink.takeBytes(line, reader.out, bytes);
      pos = nexts[k]!;
      continue;
    }
    const t = bytes.toString('utf8', pos, end);
    pos = nexts[k]!;
    if (t.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      sink.reject(line, 'line is not valid JSON');
      continue;
    }
    sink.take(line, value);
  }
  return lines;
}

/**
 * Whether the CSV reader would read the piece as plain lines split at commas: no quote anywhere, and every CR
 * directly before a LF (a CRLF line end, which the reader drops). The reader keeps a CR before any other
 * character and drops runs of CRs, so a piece with such a CR goes through the reader itself. (Bytes: the
 * characters looked at are ASCII, never part of a UTF-8 sequence.)
 */
function isPlainCsvBytes(b: Buffer): boolean {
  if (b.indexOf(0x22) >= 0) return false;
  for (let i = b.indexOf(0x0d); i >= 0; i = b.indexOf(0x0d, i + 1)) if (b[i + 1] !== 0x0a) return false;
  return true;
}

/**
 * A plain piece (isPlainCsvBytes) row by row on its bytes: rows split at LF (a CRLF's CR dropped), fields at
 * commas; each row first through the byte reader (NdjsonByteReader.readCsvRow), and only when it does not
 * take it through csvRowToObject and validateRead on the decoded row, as before.
 */
function parsePlainCsvBytes(b: Buffer, header: readonly string[], skipHeader: boolean, sink: PieceSink): number {
  const fields = csvFieldBits(header);
  const reader = new NdjsonByteReader();
  const cols = header.length;
  const starts = new Int32Array(cols), ends = new Int32Array(cols);
  let skip = skipHeader;
  let line = 0;
  let breaks = 0;
  for (let pos = 0; pos < b.length; ) {
    let lf = b.indexOf(0x0a, pos);
    const last = lf < 0;
    if (last) lf = b.length;
    else breaks++;
    line++;
    const end = lf > pos && b[lf - 1] === 0x0d ? lf - 1 : lf;
    const from = pos;
    pos = lf + 1;
    if (end === from) continue;
    if (skip) {
      skip = false;
      continue;
    }
    // fields: as many as commas + 1; more than the header's is a reject (slow path says so)
    let count = 0;
    let s = from;
    for (let i = from; i <= end && count <= cols; i++) {
      if (i === end || b[i] === 0x2c) {
        if (count < cols) {
          starts[count] = s;
          ends[count] = i;
        }
        count++;
        s = i + 1;
      }
    }
    if (fields && count === cols && reader.readCsvRow(b, starts, ends, fields)) {
      sink.takeBytes(line, reader.out, b);
      continue;
    }
    const row = b.toString('utf8', from, end);
    const parts = row.split(',');
    if (parts.length !== header.length) {
      sink.reject(line, `row has ${parts.length} fields, the header ${header.length}`);
      continue;
    }
    sink.take(line, csvRowToObject(header, parts));
  }
  return breaks;
}

function parseCsv(bytes: Buffer, job: ParseJob, sink: PieceSink): number {
  const header = job.header ?? [];
  if (isPlainCsvBytes(bytes)) return parsePlainCsvBytes(bytes, header, job.skipHeader === true, sink);
  const text = bytes.toString('utf8');
  let skip = job.skipHeader === true;
  const reader = new CsvReader({ skipBom: false });
  const each = (records: ReturnType<CsvReader['push']>) => {
    for (const r of records) {
      if (skip) {
        skip = false;
        continue;
      }
      if (r.fields.length !== header.length) {
        sink.reject(r.line, `row has ${r.fields.length} fields, the header ${header.length}`);
        continue;
      }
      sink.take(r.line, csvRowToObject(header, r.fields));
    }
  };
  each(reader.push(text));
  each(reader.end());
  let breaks = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) breaks++;
  return breaks;
}

/**
 * Rows a CSV piece can hold at most: its line breaks + 1. A function of its own so that parseChunk, which runs
 * once a piece, holds no hot loop: V8 would optimize it on-stack in this count and throw the code away at its
 * first property access after the loop, once a piece (bench/RESULTS.md, branch bulk-cpu's note on deopts).
 */
function csvRowCapacity(bytes: Buffer): number {
  let capacity = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) capacity++;
  return capacity;
}

// a piece's lines (NDJSON), found once and reused piece after piece (parseChunk runs one piece at a time)
const fileLines = new LineBreaks();

/** Where a parse gets the buffer for a batch's columns of `capacity` rows (src/ingest/column-lanes.ts). */
export type LanesFor = (capacity: number) => ArrayBuffer | undefined;

const noLanes: LanesFor = () => undefined;

/** Parses and validates one piece; with `lanesFor`, the columns are laid out in a buffer it gives. */
export function parseChunk(job: ParseJob, lanesFor: LanesFor = noLanes): ParseResult {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  let sink: PieceSink;
  let breaks: number;
  if (job.format === 'ndjson') {
    // the exact line count: no piece's columns are bigger than its lines
    const lines = fileLines.splitFile(bytes);
    sink = new PieceSink(lines, job.cutoff, kMaxReportedPerPiece, lanesFor(lines));
    breaks = parseNdjson(bytes, lines, sink);
  } else {
    const capacity = csvRowCapacity(bytes);
    sink = new PieceSink(capacity, job.cutoff, kMaxReportedPerPiece, lanesFor(capacity));
    breaks = parseCsv(bytes, job, sink);
  }
  const result: ParseResult = { columns: sink.columns(), breaks, rejected: sink.rejected, reports: sink.reports };
  if (sink.lanes) result.lanes = sink.lanes;
  return result;
}
