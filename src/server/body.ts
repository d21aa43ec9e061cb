/**
 * Request bodies: media types, size limits and parsing (API.md "Precise rules / Input").
 *
 * - A body with a missing or unknown `Content-Type` → 415; over the route's limit → 413 (checked on
 *   `Content-Length` before reading, and again while reading, for chunked bodies).
 * - `json` routes take one value, as JSON or MessagePack.
 * - `batch` routes take a JSON array, NDJSON or a MessagePack array. An NDJSON line that does not parse is a
 *   failed item (its index counts); blank lines are skipped and not counted.
 */
import type { IncomingMessage } from 'node:http';
import { BadJson, BodyTooLarge, UnsupportedMediaType } from '../errors.js';
import { unpackValue } from '../model/msgpack-value.js';
import { parseJsonValue } from './json-value.js';
import type { BatchItem, BodyKind } from './route.js';

export type MediaFormat = 'json' | 'ndjson' | 'msgpack';

// The usual names of each format, including the pre-registration `x-` ones clients still send.
const kMediaTypes: Record<string, MediaFormat> = {
  'application/json': 'json',
  'text/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonl': 'ndjson',
  'application/jsonlines': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
  'application/vnd.msgpack': 'msgpack',
};

/** The format named by a `Content-Type` header (parameters such as `charset` ignored), or undefined. */
export function mediaFormat(contentType: string | undefined): MediaFormat | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  const known = kMediaTypes[type];
  if (known) return known;
  if (/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type)) return 'json'; // RFC 6839 structured suffix
  return undefined;
}

/** The media types each body kind accepts, for 415 messages and openapi.yaml. */
export function acceptedFormats(kind: BodyKind): MediaFormat[] {
  return kind === 'batch' ? ['json', 'ndjson', 'msgpack'] : kind === 'json' ? ['json', 'msgpack'] : [];
}

/**
 * Decides the body's format before reading it: 415 for a missing or unknown Content-Type on a body, or a
 * format the route does not take. Returns undefined when there is no body to read (an optional `json`
 * body that was not sent).
 */
export function bodyFormat(req: IncomingMessage, kind: BodyKind): MediaFormat | undefined {
  const contentType = req.headers['content-type'];
  const declaredLength = req.headers['content-length'];
  const hasBody = declaredLength !== undefined ? declaredLength !== '0' : req.headers['transfer-encoding'] !== undefined;
  if (contentType === undefined || contentType.trim() === '') {
    if (kind === 'json' && !hasBody) return undefined;
    throw UnsupportedMediaType(`Content-Type is required; send one of ${mediaList(kind)}`);
  }
  const format = mediaFormat(contentType);
  if (format === undefined || !acceptedFormats(kind).includes(format)) {
    throw UnsupportedMediaType(`Content-Type ${JSON.stringify(contentType)} is not supported here; send one of ${mediaList(kind)}`);
  }
  return format;
}

function mediaList(kind: BodyKind): string {
  const names: Record<MediaFormat, string> = {
    json: 'application/json', ndjson: 'application/x-ndjson', msgpack: 'application/msgpack',
  };
  return acceptedFormats(kind).map((f) => names[f]).join(', ');
}

// A client that keeps sending after the limit is drained (and ignored) up to this many bytes, so it can
// read the 413 on a kept-alive connection; past it the connection is closed after the answer.
const kDrainCap = 256 << 20;

export interface RawBody {
  bytes: Buffer;
  /** True when the body was over the limit (bytes is then empty); the caller answers 413. */
  tooLarge: boolean;
  /** True when the rest of an over-limit body was not read: the connection must close. */
  undrained: boolean;
}

/**
 * Reads the whole body, up to `limit` bytes. Over the limit, drains (up to a cap) and reports it.
 *
 * A body whose `Content-Length` bytes have all come is answered at once, not at the stream's 'end': node:http's
 * parser hands over no byte past that length (the next bytes are the next request's), so the 'end' adds
 * nothing, and it comes only after the parser's next callback and another tick of the stream (a search's body
 * is in the packet of its head: its one 'data' is emitted in the ticks that run right after the parser pushes
 * it, its 'end' later; ~10–20 µs of the main thread at one client, bench/RESULTS.md "Issue 12: the request's
 * path to the engine"). The stream stays flowing with no listener, so its 'end' still comes and is dropped.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<RawBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > kDrainCap) {
    req.pause();
    return Promise.resolve({ bytes: Buffer.alloc(0), tooLarge: true, undrained: true });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    // the body is whole at this many bytes (Content-Length); -1 when it is not stated or over the limit
    const whole = !tooLarge && Number.isInteger(declared) && declared > 0 ? declared : -1;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (!tooLarge && size > limit) {
        tooLarge = true;
        chunks.length = 0;
      }
      if (tooLarge) {
        if (size > kDrainCap) {
          cleanup();
          req.pause();
          resolve({ bytes: Buffer.alloc(0), tooLarge: true, undrained: true });
        }
        return;
      }
      chunks.push(chunk);
      if (size === whole) onEnd();
    };
    const onEnd = (): void => {
      cleanup();
      // a small body comes in one chunk, a buffer of its own (node:http copies each body chunk out of the
      // socket's read): kept as it is, not copied into a slice of Buffer's pool, whose fresh 8 KiB slabs (one
      // every ~40 search bodies) are first-touch page faults on this VM
      const bytes = tooLarge ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      resolve({ bytes, tooLarge, undrained: false });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onAborted = (): void => {
      cleanup();
      reject(new Error('client closed the request before sending the whole body'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Throws 413 for a body over the limit (the caller has drained it, or closes the connection). */
export function assertSize(raw: RawBody, limit: number): void {
  if (raw.tooLarge) throw BodyTooLarge(`Request body is larger than ${limit} bytes`, { limitBytes: limit });
}

function utf8(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a byte-order mark is not JSON
}

/** A `batch` body as read, parsed later (by the handler's own reader, or into items). */
export interface RawBatch {
  bytes: Buffer;
  format: MediaFormat;
}

/** The 400 of a body that does not parse as JSON (`message`: JSON.parse's). */
export function notJsonError(message: string): Error {
  return BadJson(`Body is not valid JSON: ${message}`);
}

/** The 400 of a `batch` body that parsed but is not an array. */
export function notAnArrayError(format: MediaFormat): Error {
  return BadJson(`Body must be an array of reads (${format === 'msgpack' ? 'MessagePack' : 'JSON'}), or NDJSON`);
}

/** `read(text)` (JSON.parse's value or error), its error coded. */
function parseJsonText(text: string, read: (text: string) => unknown = JSON.parse): unknown {
  try {
    return read(text);
  } catch (err) {
    throw notJsonError((err as Error).message);
  }
}

/** The 400 of a body that is not one MessagePack value (`message`: msgpackr's). */
export function notMsgpackError(message: string): Error {
  return BadJson(`Body is not valid MessagePack: ${message}`, { format: 'msgpack' });
}

function unpackMsgpack(bytes: Buffer): unknown {
  try {
    return unpackValue(bytes);
  } catch (err) {
    throw notMsgpackError((err as Error).message);
  }
}

/**
 * A `json` body → one value (undefined for an empty body). JSON is read by json-value.ts (JSON.parse's value
 * without its string-table lookups for short strings: a hot list's plates).
 */
export function parseJsonBody(bytes: Buffer, format: MediaFormat): unknown {
  if (bytes.length === 0) return undefined;
  return format === 'msgpack' ? unpackMsgpack(bytes) : parseJsonText(utf8(bytes), parseJsonValue);
}

/** A `batch` body → items in order. A JSON or MessagePack body must be an array. */
export function parseBatchBody(bytes: Buffer, format: MediaFormat): BatchItem[] {
  if (format === 'ndjson') return parseNdjson(utf8(bytes));
  const value = format === 'msgpack' ? unpackMsgpack(bytes) : parseJsonText(utf8(bytes));
  if (!Array.isArray(value)) throw notAnArrayError(format);
  return value.map((item) => ({ ok: true, value: item }));
}

/** One JSON value per line; blank lines are skipped and not counted; a bad line is a failed item. */
export function parseNdjson(text: string): BatchItem[] {
  const items: BatchItem[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0) continue;
    try {
      items.push({ ok: true, value: JSON.parse(line) });
    } catch {
      items.push({ ok: false, error: 'line is not valid JSON' });
    }
  }
  return items;
}
