/**
 * Legal holds (admin; API.md v1.1 "Accountability"):
 *
 * - `PUT /v1/holds/{id}` `{"case", "reason", "plates"?: [...], "from"?, "to"?}` places or replaces the hold
 *   (200 with the hold as stored); durable before the answer, and from that moment retention keeps the
 *   reads it reaches.
 * - `DELETE /v1/holds/{id}` releases it (204; 404 if there is none); the next retention sweep (started at
 *   once) deletes what only the hold kept, well within 60 s.
 * - `GET /v1/holds` lists the tenant's holds; `GET /v1/holds/{id}` one of them.
 *
 * Holds are the caller's tenant's, over its own reads only. The model and its rules are src/model/hold.ts,
 * the store src/server/tenancy/holds.ts, what searches see src/query/held-search.ts. Audit: the hold's
 * `case` is the record's `case` (the pipeline takes it from the body); plate lists over 100 entries are
 * recorded as `{count, sha256}` like every plate list.
 */
import { BadInput, NotFound } from '../../errors.js';
import { isHoldId, type Hold } from '../../model/hold.js';
import { kMaxPlateLength, normalisePlate } from '../../model/plate.js';
import { formatTimestamp, parseTimestamp } from '../../model/time.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';
import { holdsFor, openHoldsFor } from '../tenancy/holds.js';
import { sweepNow, sweepSettled } from './retention.js';

// a case number, like a search's `case`
const kMaxCaseChars = 1024;
const kMaxReasonChars = 4096;
// plates one hold may name: a large investigation's worth; more is a hold by window, without plates
const kMaxHoldPlates = 100_000;
// ~ 100,000 plates of JSON with room to spare
const kHoldBodyLimit = 4 << 20;
const kFields = new Set(['case', 'reason', 'plates', 'from', 'to']);

export async function setup(services: ServerServices): Promise<void> {
  await openHoldsFor(services); // opened at start: a hold file that cannot be read is known before the first sweep
}

function holdId(ctx: RequestContext): string {
  const id = ctx.params.id;
  if (!isHoldId(id)) {
    throw BadInput('id must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, without ".."', { field: 'id' });
  }
  return id;
}

function text(b: Record<string, unknown>, field: string, max: number): string {
  const v = b[field];
  // counted like a search's `case` (UTF-16 units), so every hold's case can be stated by a search
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) {
    throw BadInput(`${field} is required: a non-empty string of at most ${max} characters`, { field });
  }
  return v;
}

function time(b: Record<string, unknown>, field: 'from' | 'to'): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  const t = parseTimestamp(v);
  if (t === undefined) throw BadInput(`${field} must be an ISO-8601 time with a zone or epoch milliseconds`, { field });
  return t;
}

/** The body of a PUT, validated (API.md v1.1: bad input is a coded 400 naming the field). */
export function parseHoldBody(body: unknown): Pick<Hold, 'case' | 'reason' | 'plates' | 'from' | 'to'> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw BadInput('body must be {"case", "reason", "plates"?: [...], "from"?, "to"?}');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!kFields.has(key)) throw BadInput(`unknown field ${JSON.stringify(key)}`, { field: key });
  const out: Pick<Hold, 'case' | 'reason' | 'plates' | 'from' | 'to'> = {
    case: text(b, 'case', kMaxCaseChars),
    reason: text(b, 'reason', kMaxReasonChars),
  };
  if (b.plates !== undefined && b.plates !== null) {
    if (!Array.isArray(b.plates) || b.plates.length === 0 || b.plates.length > kMaxHoldPlates) {
      throw BadInput(`plates must be a list of 1 to ${kMaxHoldPlates} plates (leave it out to hold every plate)`, { field: 'plates' });
    }
    const seen = new Set<string>();
    b.plates.forEach((raw, i) => {
      // a wildcard would be dropped by normalisation and hold a different plate than the one meant
      const plate = typeof raw === 'string' && !/[?*]/.test(raw) ? normalisePlate(raw) : '';
      if (plate.length < 1 || plate.length > kMaxPlateLength) {
        throw BadInput(`plates[${i}] must be a plate of 1-${kMaxPlateLength} characters after normalisation (no wildcards)`, { field: 'plates', index: i });
      }
      seen.add(plate);
    });
    out.plates = [...seen];
  }
  const from = time(b, 'from');
  const to = time(b, 'to');
  if (from !== undefined && to !== undefined && !(from < to)) throw BadInput('from must be before to', { field: 'from' });
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  return out;
}

export function holdJson(h: Hold): Record<string, unknown> {
  const out: Record<string, unknown> = { id: h.id, case: h.case, reason: h.reason };
  if (h.plates !== undefined) out.plates = h.plates;
  out.from = h.from === undefined ? null : formatTimestamp(h.from);
  out.to = h.to === undefined ? null : formatTimestamp(h.to);
  out.created = formatTimestamp(h.created);
  out.createdBy = h.createdBy;
  out.updated = formatTimestamp(h.updated);
  out.updatedBy = h.updatedBy;
  return out;
}

async function put(ctx: RequestContext): Promise<RouteResponse> {
  const id = holdId(ctx);
  if (ctx.body === undefined) throw BadInput('body is required: {"case", "reason", "plates"?: [...], "from"?, "to"?}');
  const fields = parseHoldBody(ctx.body);
  const tenant = ctx.principal.tenant;
  const store = holdsFor(ctx.services);
  const before = store.get(tenant, id);
  const hold: Hold = {
    id, ...fields,
    created: before?.created ?? ctx.now, createdBy: before?.createdBy ?? ctx.principal.user,
    updated: ctx.now, updatedBy: ctx.principal.user,
  };
  await store.put(tenant, hold);
  // from the answer on, no sweep deletes what the hold reaches: one that began under the old holds ends first
  await sweepSettled(ctx.services);
  ctx.audit.params = { ...ctx.audit.params, replaced: before !== undefined, storedPlates: hold.plates?.length ?? null };
  // replacing a hold may narrow it: what it no longer reaches may go at once
  if (before) void sweepNow(ctx.services);
  return { json: holdJson(hold) };
}

async function release(ctx: RequestContext): Promise<RouteResponse> {
  const id = holdId(ctx);
  const released = await holdsFor(ctx.services).release(ctx.principal.tenant, id);
  if (!released) throw NotFound(`No hold ${id}`);
  ctx.audit.case = released.case;
  void sweepNow(ctx.services);
  return { status: 204, empty: true };
}

function list(ctx: RequestContext): RouteResponse {
  const holds = holdsFor(ctx.services).list(ctx.principal.tenant);
  ctx.audit.resultCount = holds.length;
  return { json: { holds: holds.map(holdJson) } };
}

function getOne(ctx: RequestContext): RouteResponse {
  const id = holdId(ctx);
  const hold = holdsFor(ctx.services).get(ctx.principal.tenant, id);
  if (!hold) throw NotFound(`No hold ${id}`);
  ctx.audit.resultCount = 1;
  return { json: holdJson(hold) };
}

export const routes: Route[] = [
  { method: 'GET', path: '/v1/holds', roles: ['admin'], action: 'hold.list', summary: 'The tenant\'s legal holds', handler: list },
  { method: 'GET', path: '/v1/holds/{id}', roles: ['admin'], action: 'hold.get', summary: 'One legal hold', handler: getOne },
  {
    method: 'PUT', path: '/v1/holds/{id}', roles: ['admin'], action: 'hold.put', body: 'json', bodyLimit: kHoldBodyLimit,
    // the answer waits for a retention sweep in progress (see put): a budget would answer 503 for a hold
    // that is already in place
    timeBudgetMs: null,
    summary: 'Place or replace a legal hold (reads it reaches outlive retention)', handler: put,
  },
  { method: 'DELETE', path: '/v1/holds/{id}', roles: ['admin'], action: 'hold.release', summary: 'Release a legal hold', handler: release },
];
