/**
 * A read: one sighting of a plate by a camera (API.md "A read"), and its validation at the edge.
 * Validation returns a message naming the field instead of throwing, because ingest answers
 * per item (`rejected[{index, error}]`) and never fails a whole batch for one bad read.
 */
import { kMaxPlateLength, normalisePlate } from './plate.js';
import { parseTimestamp } from './time.js';

/** A validated, normalised read, as the engine stores it. `ts` is epoch milliseconds. */
export interface Read {
  plate: string;
  ts: number;
  lat: number;
  lon: number;
  camera: string;
  region?: string;
  confidence?: number;
  make?: string;
  color?: string;
  /** Client-chosen idempotency key: a tenant stores a given readId once. */
  readId?: string;
}

/** A read as stored and returned: with its id and the tenant that owns it. */
export interface StoredRead extends Read {
  id: string;
  tenant: string;
}

/** Longest `camera` and `readId`, in Unicode code points. */
export const kMaxCameraLength = 64;
/** Longest optional label (`region`, `make`, `color`): generous, but bounded so a row stays small. */
export const kMaxLabelLength = 64;

export type ReadValidation = { ok: true; read: Read } | { ok: false; error: string };

/**
 * Not printable: Unicode "Other" (Cc controls, Cf invisible format characters such as U+200B,
 * Cs lone surrogates, Co private use, Cn unassigned) and the line/paragraph separators Zl, Zp.
 * Judgement call (API.md says only "printable"): this is Python's `str.isprintable()` except that every
 * space separator (Zs, e.g. U+00A0) is allowed, since a space is printable text in a camera name.
 */
const kNotPrintable = /[\p{C}\p{Zl}\p{Zp}]/u;

/** 1..maxCodePoints Unicode code points (not UTF-16 units), all printable. */
export function isPrintableText(s: string, maxCodePoints: number): boolean {
  if (s.length === 0) return false;
  // Camera names and labels are nearly always printable ASCII (U+0020–U+007E, all printable, one code point
  // each): a plain loop answers those without the Unicode-property regex and the code-point count.
  if (s.length <= maxCodePoints) {
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) {
      const c = s.charCodeAt(i);
      ascii = c >= 0x20 && c <= 0x7e;
    }
    if (ascii) return true;
  }
  if (kNotPrintable.test(s)) return false;
  let count = 0;
  for (const _ of s) if (++count > maxCodePoints) return false;
  return true;
}

const kLabelFields = ['region', 'make', 'color'] as const;

/**
 * Judgement call: an optional label that is absent, null or the empty string is left out of the read
 * (camera feeds send `"make": ""` for "unknown"); anything else must be printable text.
 */
function optionalLabel(body: Record<string, unknown>, field: string): string | undefined | Error {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !isPrintableText(v, kMaxLabelLength)) {
    return new Error(`${field} must be a printable string of 1-${kMaxLabelLength} characters`);
  }
  return v;
}

/** Validates and normalises one incoming read. The tenant is never taken from the body. */
export function validateRead(input: unknown): ReadValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'read must be a JSON object' };
  }
  const body = input as Record<string, unknown>;

  if (typeof body.plate !== 'string') return { ok: false, error: 'plate is required and must be a string' };
  const plate = normalisePlate(body.plate);
  if (plate.length < 1 || plate.length > kMaxPlateLength) {
    return { ok: false, error: `plate must have 1-${kMaxPlateLength} characters A-Z0-9 after normalisation` };
  }

  if (body.ts === undefined || body.ts === null) return { ok: false, error: 'ts is required' };
  const ts = parseTimestamp(body.ts);
  if (ts === undefined) {
    return { ok: false, error: 'ts must be an ISO-8601 string with a zone or a number of epoch milliseconds' };
  }

  if (typeof body.lat !== 'number' || !Number.isFinite(body.lat) || body.lat < -90 || body.lat > 90) {
    return { ok: false, error: 'lat is required and must be a number in [-90, 90]' };
  }
  if (typeof body.lon !== 'number' || !Number.isFinite(body.lon) || body.lon < -180 || body.lon > 180) {
    return { ok: false, error: 'lon is required and must be a number in [-180, 180]' };
  }

  if (typeof body.camera !== 'string' || !isPrintableText(body.camera, kMaxCameraLength)) {
    return { ok: false, error: `camera is required and must be 1-${kMaxCameraLength} printable characters` };
  }

  const read: Read = { plate, ts, lat: body.lat, lon: body.lon, camera: body.camera };

  for (const field of kLabelFields) {
    const v = optionalLabel(body, field);
    if (v instanceof Error) return { ok: false, error: v.message };
    if (v !== undefined) read[field] = v;
  }

  if (body.confidence !== undefined && body.confidence !== null) {
    const c = body.confidence;
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 1) {
      return { ok: false, error: 'confidence must be a number in [0, 1]' };
    }
    read.confidence = c;
  }

  if (body.readId !== undefined && body.readId !== null) {
    if (typeof body.readId !== 'string' || !isPrintableText(body.readId, kMaxCameraLength)) {
      return { ok: false, error: `readId must be 1-${kMaxCameraLength} printable characters` };
    }
    read.readId = body.readId;
  }
  return { ok: true, read };
}
