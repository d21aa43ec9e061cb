/**
 * Assembly of the per-request audit record (API.md "Audit", precise rules). The trail (src/server/audit/)
 * stores and chains records; this file decides what goes in them:
 *
 * - one record per /v1 request, allowed or refused, in the caller's tenant's log (`_system` when the
 *   caller has no valid token), plus one in the log of every other tenant in `tenantsTouched` (for searches,
 *   v1.1: every tenant in the search's scope, src/server/routes/search.ts);
 * - `outcome` from the status: 2xx ok; 401/403/429 denied; other 4xx invalid; 5xx error;
 * - `params`: path params, query string and body, with plate lists over 100 entries recorded as
 *   `{count, sha256}` of their normalised, newline-joined entries (`purpose`/`case` have their own fields);
 *   the pipeline bounds them (audit/bounded-params.ts) before they are recorded, whatever a handler set.
 */
import { kMaxListed, summarisePlateList } from './audit/bounded-params.js';
import type { AuditOutcome } from './audit/record.js';

export function outcomeOf(status: number): AuditOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status >= 400 && status < 500) return 'invalid';
  return status >= 500 ? 'error' : 'ok';
}

/** `o[key] = value` as an own property, even for `__proto__` (a key a client may send). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  // `o` is a fresh plain object: assignment makes the same own, enumerable, writable data property as
  // defineProperty for every key but `__proto__` (which would set the prototype), and costs less per key
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/**
 * The default `params` of a request: path params, then query string, then the body's fields (an object
 * body) or `{body: …}` (any other body), without `purpose`/`case`, plate lists summarised.
 */
export function defaultParams(
  pathParams: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pathParams)) setOwn(params, key, value);
  // most requests have no query string (every search): no key set to make then
  if (query.size > 0) {
    for (const key of new Set(query.keys())) {
      const values = query.getAll(key);
      setOwn(params, key, values.length === 1 ? values[0] : values);
    }
  }
  if (body === undefined) return params;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (key === 'purpose' || key === 'case') continue;
      setOwn(params, key, value);
    }
  } else {
    params.body = Array.isArray(body) && body.length > kMaxListed ? summarisePlateList(body) : body;
  }
  return params;
}

/** `purpose` / `case` as stated in a body, if they are strings (also recorded when the request is refused). */
export function statedJustification(body: unknown): { purpose: string | null; case: string | null } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { purpose: null, case: null };
  const b = body as Record<string, unknown>;
  return {
    purpose: typeof b.purpose === 'string' ? b.purpose : null,
    case: typeof b.case === 'string' ? b.case : null,
  };
}
