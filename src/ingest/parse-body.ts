/**
 * A `POST /v1/reads` body (NDJSON, a JSON array or a MessagePack array) read into columns (src/store/read-columns.ts), on a parse
 * worker (src/ingest/parse-worker.ts) or the calling thread: the byte reader (src/ingest/ndjson-read.ts)
 * takes the lines it can prove valid, everything else goes the way the server always went
 * (src/server/body.ts parseBatchBody, then validateRead, then the retention cutoff). So the answer
 * (accepted count, rejected indexes and messages, the 400 of a body that is not JSON) is the old one by
 * construction, and the accepted reads are the same reads.
 *
 * - NDJSON: lines split at LF only (a CR stays in the line; trim() and JSON.parse skip it), each line decoded
 *   on its own (split at an ASCII byte: the same text as decoding the whole body), a leading BOM dropped;
 *   a line whose trim() is empty is no item and has no index; a line that does not parse is the item
 *   "line is not valid JSON".
 * - JSON: taken by the byte reader only as a whole: `[`, objects each accepted by the reader (flat, no
 *   escapes: NdjsonByteReader.readObject), commas, `]`, JSON whitespace. Such a body is valid JSON whose every element validateRead
 *   accepts with the read the reader made. Any other body (one element rejected, nested values, an escape)
 *   is JSON.parse'd whole, exactly as before.
 * - MessagePack: unpacked whole (src/model/msgpack-value.ts, as src/server/body.ts reads it), each element
 *   validated into the columns: the object path's answer, with the unpacking and the objects on this thread
 *   (a parse worker for a big body) instead of the server's.
 */
import { hasBom } from './chunker.js';
import { unpackValue } from '../model/msgpack-value.js';
import { NdjsonByteReader } from './ndjson-read.js';
import { LineBreaks } from './line-breaks.js';
import { PieceSink, type LanesFor } from './parse-chunk.js';
import type { ReadColumns } from '../store/read-columns.js';

export interface BodyJob {
  kind: 'body';
  format: 'ndjson' | 'json' | 'msgpack';
  bytes: Uint8Array;
  /** Reads with ts below this are rejected ("beyond retention"). */
  cutoff: number;
}

export interface BodyResult {
  columns: ReadColumns;
  /** The one buffer the columns are views of, when the parse was given lanes (a parse worker's, to reuse). */
  lanes?: ArrayBuffer;
  /**
   * Set by the parse pool on the receiving thread when `lanes` came from a worker: gives them back for its
   * next body. The columns are unreadable after it (their arrays detached).
   */
  release?: () => void;
  /** Items of the body (NDJSON: non-blank lines; JSON: array elements). */
  items: number;
  /** Every rejected item, in order. */
  rejected: Array<{ index: number; error: string }>;
  /** The body as a whole is not JSON: JSON.parse's message (the caller answers 400). */
  notJson?: string;
  /** The body as a whole is not MessagePack: msgpackr's message (400). */
  notMsgpack?: string;
  /** The body is JSON (MessagePack) but not an array (400). */
  notArray?: boolean;
}

export type { LanesFor };

const noLanes: LanesFor = () => undefined;

/** Parses and validates one request body; with `lanesFor`, the columns are laid out in a buffer it gives. */
export function parseBody(job: BodyJob, lanesFor: LanesFor = noLanes): BodyResult {
  const b = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const sinkOf = (capacity: number) => new PieceSink(capacity, job.cutoff, Infinity, lanesFor(capacity));
  if (job.format === 'ndjson') {
    // the old path decoded the whole body and dropped a leading U+FEFF (trim() would too)
    const from = hasBom(b) ? 3 : 0;
    const lines = bodyLines.splitLf(b, from);
    const sink = sinkOf(lines);
    const items = ndjsonBody(b, from, lines, sink);
    return result(sink, items);
  }
  if (job.format === 'msgpack') return msgpackBody(b, job.cutoff, sinkOf);
  const fast = sinkOf(countObjects(b));
  const items = jsonArrayBytes(b, fast);
  if (items !== undefined) return result(fast, items);
  return jsonBodySlow(b, job.cutoff, sinkOf);
}

function result(sink: PieceSink, items: number): BodyResult {
  const out: BodyResult = { columns: sink.columns(), items, rejected: sink.reports.map((r) => ({ index: r.line, error: r.error })) };
  if (sink.lanes) out.lanes = sink.lanes;
  return out;
}

// a body's lines, found once (parseBody runs one body at a time on its thread)
const bodyLines = new LineBreaks();

/** The items of an NDJSON body whose `lines` from `from` are in bodyLines. */
function ndjsonBody(b: Buffer, from: number, lines: number, sink: PieceSink): number {
  const { ends } = bodyLines;
  const reader = new NdjsonByteReader();
  let index = 0;
  let pos = from;
  for (let k = 0; k < lines; k++) {
    const lf = ends[k]!;
    if (reader.read(b, pos, lf)) {
      sink.takeBytes(index++, reader.out, b);
      pos = lf + 1;
      continue;
    }
    const line = b.toString('utf8', pos, lf).trim();
    pos = lf + 1;
    if (line.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      sink.reject(index++, 'line is not valid JSON');
      continue;
    }
    sink.take(index++, value);
  }
  return index;
}

/** An upper bound of the array's elements the fast path can take: its `{` bytes. */
function countObjects(b: Buffer): number {
  let n = 1;
  for (let i = b.indexOf(0x7b); i >= 0; i = b.indexOf(0x7b, i + 1)) n++;
  return n;
}

function skipJsonWs(b: Uint8Array, i: number): number {
  while (i < b.length) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/**
 * The fast path of a JSON array body: the number of elements when every one went to the sink, or
 * undefined when the body is anything else (the caller then parses it whole).
 */
function jsonArrayBytes(b: Buffer, sink: PieceSink): number | undefined {
  const reader = new NdjsonByteReader();
  let i = skipJsonWs(b, hasBom(b) ? 3 : 0);
  if (b[i] !== 0x5b) return undefined; // `[`
  i = skipJsonWs(b, i + 1);
  let index = 0;
  if (b[i] === 0x5d) return skipJsonWs(b, i + 1) === b.length ? 0 : undefined;
  for (;;) {
    const end = reader.readObject(b, i, b.length);
    if (end < 0) return undefined;
    sink.takeBytes(index++, reader.out, b);
    i = skipJsonWs(b, end);
    if (b[i] === 0x2c) {
      i = skipJsonWs(b, i + 1);
      continue;
    }
    if (b[i] !== 0x5d) return undefined;
    return skipJsonWs(b, i + 1) === b.length ? index : undefined;
  }
}

/** The old path of a JSON body: JSON.parse of the whole text, then each element validated. */
function jsonBodySlow(b: Buffer, cutoff: number, sinkOf: (capacity: number) => PieceSink): BodyResult {
  let text = b.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not JSON
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ...result(new PieceSink(0, cutoff), 0), notJson: (err as Error).message };
  }
  return arrayBody(value, cutoff, sinkOf);
}

/** A MessagePack body: unpacked whole, then each element validated. */
function msgpackBody(b: Buffer, cutoff: number, sinkOf: (capacity: number) => PieceSink): BodyResult {
  let value: unknown;
  try {
    value = unpackValue(b);
  } catch (err) {
    return { ...result(new PieceSink(0, cutoff), 0), notMsgpack: (err as Error).message };
  }
  return arrayBody(value, cutoff, sinkOf);
}

function arrayBody(value: unknown, cutoff: number, sinkOf: (capacity: number) => PieceSink): BodyResult {
  if (!Array.isArray(value)) return { ...result(new PieceSink(0, cutoff), 0), notArray: true };
  const sink = sinkOf(value.length);
  value.forEach((item, index) => sink.take(index, item));
  return result(sink, value.length);
}
