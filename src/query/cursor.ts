/**
 * Paging cursors for `/v1/search` (API.md v1.1 `after` / `next`): keyset cursors on the answer's order.
 *
 *   cursor = "c1." ‖ base64url(JSON [distance, ts, id, fingerprint])      (≤ 512 characters; ~70 in practice)
 *
 * - (distance, ts, id) is the sort key of the last hit of the page: the next page is the best `limit`
 *   matching reads that sort strictly after it in (distance asc, ts desc, id asc). No state is kept on the
 *   server, so a cursor never expires and costs nothing to hold; what a page boundary means while reads
 *   are being ingested is written down in docs/search-paging.md.
 * - `fingerprint` binds the cursor to the search it came from: SHA-256 (first 16 bytes, base64url) of the
 *   canonical JSON of the validated query without `limit` and `after` (so `"abc-123"` and `"ABC123"` are
 *   the same search, and a client may change its page size), plus `purpose`, `case`, and the caller's
 *   tenant and user. Judgement call (protects the data owner): a cursor continues one justified search by
 *   one user; replayed with another filter, another justification or by someone else it is a 400
 *   (PS_BAD_CURSOR), never a silent restart.
 * - "c1" is the cursor format's version; an unknown version is the same coded 400.
 */
import { createHash } from 'node:crypto';
import { createError } from '../errors.js';
import type { SearchKey, SearchQuery } from '../model/query.js';
import { parseReadId } from '../store/ids.js';

export const BadCursor = createError('PS_BAD_CURSOR', 'The cursor does not fit this search', 400);

/** API.md: a cursor is at most 512 characters. */
export const kMaxCursorLength = 512;
const kCursorVersion = 'c1';

/** Who asks and why: a cursor is valid only for the same caller and justification. */
export interface CursorContext {
  tenant: string;
  user: string;
  purpose: string;
  case: string;
}

/** JSON with object keys sorted at every level (so equal queries hash equally). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The fingerprint of a search: what a cursor must fit. */
export function searchFingerprint(query: SearchQuery, ctx: CursorContext): string {
  const { limit: _limit, after: _after, ...rest } = query;
  const text = canonical({ query: rest, purpose: ctx.purpose, case: ctx.case, tenant: ctx.tenant, user: ctx.user });
  return createHash('sha256').update(text).digest().subarray(0, 16).toString('base64url');
}

export function encodeCursor(key: SearchKey, fingerprint: string): string {
  return `${kCursorVersion}.${Buffer.from(JSON.stringify([key.distance, key.ts, key.id, fingerprint])).toString('base64url')}`;
}

/** The key a cursor continues after; a coded 400 when it is malformed or belongs to another search. */
export function decodeCursor(cursor: unknown, fingerprint: string): SearchKey {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > kMaxCursorLength) {
    throw BadCursor(`after must be the "next" string of a previous answer (at most ${kMaxCursorLength} characters)`, { field: 'after' });
  }
  const dot = cursor.indexOf('.');
  if (dot < 0 || cursor.slice(0, dot) !== kCursorVersion) throw BadCursor('after is not a cursor of this server (unknown version)', { field: 'after' });
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor.slice(dot + 1), 'base64url').toString('utf8'));
  } catch {
    throw BadCursor('after is not a well-formed cursor', { field: 'after' });
  }
  if (!Array.isArray(parts) || parts.length !== 4) throw BadCursor('after is not a well-formed cursor', { field: 'after' });
  const [distance, ts, id, fp] = parts as unknown[];
  if (
    typeof distance !== 'number' || !Number.isInteger(distance) || distance < 0 || distance > 2 ||
    typeof ts !== 'number' || !Number.isSafeInteger(ts) ||
    typeof id !== 'string' || parseReadId(id) === undefined || typeof fp !== 'string'
  ) {
    throw BadCursor('after is not a well-formed cursor', { field: 'after' });
  }
  if (fp !== fingerprint) {
    throw BadCursor('after belongs to another search: pass it with the same body (filters, plate, purpose, case) it came from', { field: 'after' });
  }
  return { distance, ts, id };
}
