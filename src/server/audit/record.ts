/**
 * The audit record and its hash chain (API.md "Audit"):
 *
 *   hash = sha256hex(prev + "\n" + canonical(recordWithoutHash))
 *
 * where `canonical` is RFC 8785 (JCS) as JavaScript gives it: JSON.stringify with the keys of every object
 * sorted by the default (UTF-16 code unit) sort, no whitespace. The first record's `prev` is 64 zeros.
 * A log line is the canonical JSON of the whole record (hash included), so any verifier that parses the
 * line and re-canonicalises it gets the bytes that were hashed.
 */
import { hash } from 'node:crypto';

export type AuditOutcome = 'ok' | 'denied' | 'invalid' | 'error';

/**
 * What a caller hands to AuditTrail.append: the record without seq/prev/hash. `tenant` is set from
 * append's first argument; `ts` (ISO-8601 UTC ms) defaults to the time of the append.
 */
export interface AuditFields {
  ts?: string;
  requestId: string;
  /** Ignored: the log's owner (append's first argument) is recorded. */
  tenant?: string;
  /** The caller's tenant (equal to `tenant` in the caller's own log; `_system` when unknown). */
  actorTenant: string;
  user: string;
  action: string;
  params: Record<string, unknown>;
  purpose: string | null;
  case: string | null;
  outcome: AuditOutcome;
  status: number;
  resultCount: number;
  tenantsTouched: string[];
  ip: string;
  durationMs: number;
  /** Further flat JSON fields a route adds (they are hashed like the rest). */
  [extra: string]: unknown;
}

/** One line of `audit/<tenant>.jsonl`. */
export interface AuditRecord extends AuditFields {
  seq: number;
  ts: string;
  /** The log's owner. */
  tenant: string;
  /** sha256hex of the previous record (64 zeros for seq 1). */
  prev: string;
  hash: string;
}

export const kGenesisHash = '0'.repeat(64);

/** JSON with the keys of every object sorted, no whitespace (RFC 8785 for the values JSON can hold). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  // a list of plain values (a hot list's plates, a point) is its own sorted form: JSON writes it the same
  // without a copy (one fewer array of 100 entries, twice a hot-list record)
  if (Array.isArray(value)) return hasObject(value) ? value.map(sortKeys) : value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

function hasObject(list: readonly unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (x !== null && typeof x === 'object') return true;
  }
  return false;
}

// one-shot: half the cost of a Hash object for inputs this small (a record is a few hundred bytes)
export function sha256hex(s: string): string {
  return hash('sha256', s, 'hex');
}

/** The chain hash of `record` (its own `hash` field, if any, is ignored). */
export function chainHash(record: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = record;
  return sha256hex(`${String(rest.prev)}\n${canonicalJson(rest)}`);
}

/**
 * The chain hash of `record` and its log line, `canonicalJson({...record, hash}) + "\n"`, canonicalising the
 * record once (a writer needs both; canonicalising twice was a fifth of an append's CPU). The line is the
 * hashed text with `"hash":"…"` put among the top-level keys in sort order: after the fragments
 * (`"key":value,`) of the keys that sort before "hash". Held equal to the definition by
 * test/audit-record-line.test.ts.
 */
export function chainedLine(record: Record<string, unknown>): { hash: string; line: string } {
  const { hash: _hash, ...rest } = record;
  const text = canonicalJson(rest);
  const h = sha256hex(`${String(rest.prev)}\n${text}`);
  let at = 1; // past "{"
  let before = 0, after = 0;
  for (const k of Object.keys(rest)) {
    const value = rest[k];
    if (k < 'hash') {
      // only the keys before "hash" are measured (a stored record has three: action, actorTenant, durationMs)
      const v = JSON.stringify(sortKeys(value));
      if (v === undefined) continue; // JSON leaves such a key out
      at += JSON.stringify(k).length + 1 + v.length + 1; // "key":value,
      before++;
    } else if (value !== undefined && typeof value !== 'function' && typeof value !== 'symbol') {
      after++; // a key JSON writes (it leaves out those three)
    }
  }
  const field = `"hash":${JSON.stringify(h)}`;
  let line: string;
  if (after > 0) line = `${text.slice(0, at)}${field},${text.slice(at)}`;
  else line = `${text.slice(0, -1)}${before > 0 ? ',' : ''}${field}}`;
  return { hash: h, line: `${line}\n` };
}

/**
 * A record's body (the record without seq/prev/hash) from the JSON text of the fields handed to append, so
 * the record that is hashed is exactly the record a reader parses back (plain JSON: undefined dropped,
 * NaN → null, Dates → strings, …). `tenant` is the log's owner; `ts` is the fields' own, else `ts`. The
 * writer thread makes the stored record from it (batch.ts) and the main thread the one it answers with, from
 * the same text.
 */
export function auditBody(fieldsJson: string, tenant: string, ts: string): Record<string, unknown> {
  // seq/prev/hash are the trail's to set: left out here (not deleted after: a delete makes the object slow)
  const { seq: _seq, prev: _prev, hash: _hash, ...body } = JSON.parse(fieldsJson) as Record<string, unknown>;
  body.tenant = tenant;
  body.ts ??= ts;
  return body;
}
