/**
 * Bounding a request's parameters for its audit record, so that no input, however deep or large, can keep
 * the record from being written (API.md "Audit": every /v1 request leaves one record; an attacker's probe
 * must be recorded like any other request).
 *
 * The record keeps the shape of what was sent, cut where it stops being evidence and starts being a
 * payload; every cut leaves a marker that says what was there and lets an investigator match it against
 * the original bytes:
 *
 *   deeper than kMaxDepth levels      → {"$omitted": "depth", "type": "object" | "array"}
 *   string over kMaxString UTF-16 units → {"$omitted": "length", "length": n, "sha256": hex of the string}
 *   array over kMaxListed entries      → {"count": n, "sha256": hex}  (API.md's rule for plate lists, kept
 *                                         for every list: plate lists hash their normalised entries, other
 *                                         lists the canonical JSON of their bounded entries, newline-joined)
 *   object over kMaxKeys keys          → the first kMaxKeys, plus "$omittedKeys": n
 *   past kMaxNodes values in total     → {"$omitted": "size"}
 *   bytes (MessagePack bin)            → {"$binary": n, "sha256": hex}
 *   NaN, ±Infinity, bigint             → their decimal text (JSON has no such number)
 *
 * The copy recurses at most kMaxDepth levels (never the input's depth), so a body nested 100,000 levels
 * deep costs a few microseconds and no stack. When anything was cut, the caller adds the raw body's length
 * and SHA-256 (`bounded`), which ties the record to the exact bytes received.
 */
import { createHash } from 'node:crypto';
import { normalisePattern } from '../../model/plate.js';

/** Deeper than any request of the API (multisite: body → sites → site → polygon → point → number is 5). */
export const kMaxDepth = 12;
/** API.md: a list of plates over this many entries is recorded as its count and SHA-256. */
export const kMaxListed = 100;
/** Long enough for any purpose, case or pattern of the API; a 1 MiB string is a payload, not a parameter. */
export const kMaxString = 1024;
/** Keys of one object kept in the record. */
export const kMaxKeys = 100;
/** Values kept in one record in all: bounds the record to tens of KiB whatever the body. */
export const kMaxNodes = 4000;
/** A key longer than this is cut to it (keys are recorded, not hashed: they name the parameter). */
const kMaxKeyChars = 128;

/** Fields whose arrays hold plates: `plates` (hot-list search), `entries` (hot-list upload). */
const kPlateListFields = new Set(['plates', 'entries']);

function sha256hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

function entryPlate(entry: unknown): string {
  if (typeof entry === 'string') return normalisePattern(entry);
  if (entry !== null && typeof entry === 'object' && typeof (entry as { plate?: unknown }).plate === 'string') {
    return normalisePattern((entry as { plate: string }).plate);
  }
  // not a plate: its bounded JSON, so the hash stays computable whatever the entry is
  return JSON.stringify(boundValue(entry).value) ?? '';
}

/** `{count, sha256}` of a plate list: SHA-256 (hex) of its normalised entries joined by newlines. */
export function summarisePlateList(list: readonly unknown[]): { count: number; sha256: string } {
  const hash = createHash('sha256');
  for (let i = 0; i < list.length; i++) {
    if (i > 0) hash.update('\n');
    hash.update(entryPlate(list[i]), 'utf8');
  }
  return { count: list.length, sha256: hash.digest('hex') };
}

/** Whether JSON.stringify of `v` is already its bounded JSON (a short primitive, or a point's numbers). */
function isPlainSmall(v: unknown): boolean {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'string') return v.length <= kMaxString;
  if (!Array.isArray(v) || v.length > 16) return false;
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  return true;
}

/** `{count, sha256}` of any other long list: the canonical JSON of each bounded entry, newline-joined. */
function summariseList(list: readonly unknown[]): { count: number; sha256: string } {
  const hash = createHash('sha256');
  const lines: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    // a polygon's points and other flat lists: no bounded copy needed (the same bytes, 10x faster)
    lines.push(isPlainSmall(e) ? JSON.stringify(e) : JSON.stringify(boundValue(e).value) ?? 'null');
  }
  hash.update(lines.join('\n'), 'utf8');
  return { count: list.length, sha256: hash.digest('hex') };
}

interface Walk {
  nodes: number;
  cut: boolean;
}

function cutKey(key: string): string {
  return key.length <= kMaxKeyChars ? key : `${key.slice(0, kMaxKeyChars)}…#${sha256hex(key).slice(0, 16)}`;
}

function bound(v: unknown, depth: number, field: string | undefined, w: Walk): unknown {
  w.nodes++;
  if (w.nodes > kMaxNodes) {
    w.cut = true;
    return { $omitted: 'size' };
  }
  switch (typeof v) {
    case 'string':
      if (v.length <= kMaxString) return v;
      w.cut = true;
      return { $omitted: 'length', length: v.length, sha256: sha256hex(v) };
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'boolean':
      return v;
    case 'bigint':
      return v.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
    default:
      break;
  }
  if (v === null) return null;
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.toISOString() : null;
  if (ArrayBuffer.isView(v)) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return { $binary: bytes.length, sha256: sha256hex(bytes) };
  }
  if (depth >= kMaxDepth) {
    w.cut = true;
    return { $omitted: 'depth', type: Array.isArray(v) ? 'array' : 'object' };
  }
  if (Array.isArray(v)) {
    if (v.length > kMaxListed) {
      // a summarised list is the API's rule, not a cut: only plate lists are expected to be this long
      if (field === undefined || !kPlateListFields.has(field)) w.cut = true;
      return field !== undefined && kPlateListFields.has(field) ? summarisePlateList(v) : summariseList(v);
    }
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = bound(v[i], depth + 1, undefined, w);
    return out;
  }
  const entries: Array<[string, unknown]> = [];
  let keys = 0;
  let omittedKeys = 0;
  for (const key in v as Record<string, unknown>) {
    if (!Object.hasOwn(v as object, key)) continue;
    if (keys === kMaxKeys) {
      omittedKeys++;
      continue;
    }
    keys++;
    const x = (v as Record<string, unknown>)[key];
    if (x === undefined) continue;
    entries.push([cutKey(key), bound(x, depth + 1, key, w)]);
  }
  if (omittedKeys > 0) {
    w.cut = true;
    entries.push(['$omittedKeys', omittedKeys]);
  }
  // fromEntries defines own properties: a `__proto__` key stays a key, never a prototype
  return Object.fromEntries(entries);
}

/** A bounded, plain-JSON copy of `v` (see the file comment); `cut` tells whether anything was left out. */
export function boundValue(v: unknown): { value: unknown; cut: boolean } {
  const w: Walk = { nodes: 0, cut: false };
  const value = bound(v, 0, undefined, w);
  return { value, cut: w.cut };
}

/** A bounded copy of a params object (whose top-level keys are fields, so plate lists are recognised). */
export function boundParams(params: Record<string, unknown>): { params: Record<string, unknown>; cut: boolean } {
  const w: Walk = { nodes: 0, cut: false };
  const out = bound(params, 0, undefined, w);
  const plain = out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : { params: out };
  return { params: plain, cut: w.cut };
}

/** A stated `purpose` / `case` longer than kMaxString: its start, its length and its hash, as one string. */
export function boundText(s: string | null): string | null {
  if (s === null || s.length <= kMaxString) return s;
  return `${s.slice(0, kMaxString)}…[${s.length} chars, sha256 ${sha256hex(s)}]`;
}
