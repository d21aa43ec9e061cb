/**
 * A MessagePack request body as the plain value JSON would have given: used by the server's body parsing
 * (src/server/body.ts) and by the parse workers for `POST /v1/reads` (src/ingest/parse-body.ts), so both
 * read a body the same way.
 *
 * MessagePack has types JSON lacks: timestamps become epoch ms (a `ts` sent as a msgpack timestamp is a
 * timestamp), 64-bit integers become numbers, binary stays as is (and fails validation by type), a map's
 * keys become strings (`__proto__` dropped: it would set the prototype of a plain object).
 */
import { unpack } from 'msgpackr';

// deeper than any request body needs; bounds the recursion of fromMsgpack
const kMaxMsgpackDepth = 64;

/** The body's value; throws msgpackr's error when the bytes are not one MessagePack value. */
export function unpackValue(bytes: Uint8Array): unknown {
  return fromMsgpack(unpack(bytes), 0);
}

function fromMsgpack(v: unknown, depth: number): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  if (depth >= kMaxMsgpackDepth || v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = fromMsgpack(v[i], depth + 1);
    return v;
  }
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) if (k !== '__proto__') out[String(k)] = fromMsgpack(x, depth + 1);
    return out;
  }
  const obj = v as Record<string, unknown>;
  for (const k of Object.keys(obj)) obj[k] = fromMsgpack(obj[k], depth + 1);
  return obj;
}
