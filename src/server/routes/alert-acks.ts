/**
 * Alert acknowledgement (API.md v1.1 "Alerts: acknowledgement"), dispatcher:
 *
 * - `POST /v1/alerts/{id}/ack` `{"outcome": "confirmed" | "rejected" | "not-actioned", "note"?}` → 200 with the
 *   alert and its ack; a second ack of the same alert → 409 PS_ALERT_ALREADY_ACKNOWLEDGED (with the ack that
 *   stands); an id the caller's tenant has no alert under, or whose read it may no longer see (grant revoked
 *   or expired, read past retention), → 404. The ack is durable (fdatasync'd) before the answer.
 * - `GET /v1/alerts/recent?limit=&after=` → `{"alerts": [...], "next"}`, newest first; `after` is an alert id
 *   (the page holds alerts with smaller ids), `next` the id to pass as `after`, or null.
 *
 * Alert ids are the tenant's own (one sequence per subscribing tenant, src/alerts/log.ts): a path id is
 * always looked up among the caller's tenant's alerts, so another tenant's alert is never reachable.
 * Only alerts whose read the tenant may see now are shown or acknowledged (the same rule as the stream).
 * Audit: actions `alerts.ack` and `alerts.recent`; the tenants whose reads the answer carries are in
 * `tenantsTouched` (so a grantor's log records that its read was shown again).
 */
import { AlreadyAcknowledged, BadInput, NotFound } from '../../errors.js';
import { formatTimestamp } from '../../model/time.js';
import type { TenantScope } from '../../model/query.js';
import { alertSystemFor } from '../../alerts/for-server.js';
import { kAckOutcomes, type AckOutcome, type AlertAck } from '../../alerts/ack-log.js';
import type { LoggedAlert } from '../../alerts/log.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';

// a note is a dispatcher's sentence or two, not a document
const kMaxNoteChars = 4096;
const kDefaultRecent = 100;
const kMaxRecent = 1000;
// alerts read from the log per step while filling a page (invisible ones are skipped)
const kScanBatch = 256;

function alertId(ctx: RequestContext): number {
  const raw = ctx.params.id ?? '';
  const id = Number(raw);
  // not an alert id at all: nothing by that name exists for anyone
  if (!/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(id)) throw NotFound(`No alert ${JSON.stringify(raw)}`);
  return id;
}

function visibleTo(scopes: readonly TenantScope[], a: LoggedAlert): boolean {
  return scopes.some((s) => s.tenant === a.readTenant && a.readTs >= s.minTs);
}

export function ackJson(ack: AlertAck | undefined): Record<string, unknown> | null {
  if (!ack) return null;
  return { outcome: ack.outcome, note: ack.note, user: ack.user, ts: formatTimestamp(ack.ts) };
}

/** The alert's event data (src/alerts/alert.ts) with its `ack`. */
function alertJson(a: LoggedAlert, ack: AlertAck | undefined): Record<string, unknown> {
  return { ...(JSON.parse(a.payload) as Record<string, unknown>), ack: ackJson(ack) };
}

function parseAckBody(body: unknown): { outcome: AckOutcome; note: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw BadInput('body must be {"outcome": "confirmed" | "rejected" | "not-actioned", "note": "…"}');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (key !== 'outcome' && key !== 'note') throw BadInput(`unknown field ${JSON.stringify(key)}`, { field: key });
  }
  if (typeof b.outcome !== 'string' || !(kAckOutcomes as readonly string[]).includes(b.outcome)) {
    throw BadInput(`outcome must be one of ${kAckOutcomes.join(', ')}`, { field: 'outcome' });
  }
  let note = '';
  if (b.note !== undefined && b.note !== null) {
    if (typeof b.note !== 'string' || [...b.note].length > kMaxNoteChars) {
      throw BadInput(`note must be a string of at most ${kMaxNoteChars} characters`, { field: 'note' });
    }
    note = b.note;
  }
  return { outcome: b.outcome as AckOutcome, note };
}

async function acknowledge(ctx: RequestContext): Promise<RouteResponse> {
  const id = alertId(ctx);
  const { outcome, note } = parseAckBody(ctx.body);
  const tenant = ctx.principal.tenant;
  const system = await alertSystemFor(ctx.services);
  const alert = await system.alerts.get(tenant, id);
  const scopes = ctx.services.directory.scopesFor(tenant, ctx.now);
  if (!alert || !visibleTo(scopes, alert)) throw NotFound(`No alert ${id}`);
  const result = await system.acks.acknowledge(tenant, { id, outcome, note, user: ctx.principal.user, ts: ctx.now });
  if (!result.stored) {
    throw AlreadyAcknowledged(`Alert ${id} was already acknowledged`, { ack: ackJson(result.existing) });
  }
  ctx.audit.resultCount = 1;
  ctx.audit.tenantsTouched = new Set([alert.readTenant]);
  return { json: alertJson(alert, result.ack) };
}

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  if (all.length > 1) throw BadInput(`${name} may be given once`, { field: name });
  const raw = all[0]!;
  const n = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw BadInput(`${name} must be an integer in [${min}, ${max}]`, { field: name });
  }
  return n;
}

async function recent(ctx: RequestContext): Promise<RouteResponse> {
  const limit = intParam(ctx.query, 'limit', 1, kMaxRecent) ?? kDefaultRecent;
  const after = intParam(ctx.query, 'after', 1, Number.MAX_SAFE_INTEGER);
  const tenant = ctx.principal.tenant;
  const system = await alertSystemFor(ctx.services);
  const scopes = ctx.services.directory.scopesFor(tenant, ctx.now);
  // one more than the page, to know whether there is a next one
  const page: LoggedAlert[] = [];
  let before = after ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    ctx.signal.throwIfAborted();
    const batch = await system.alerts.readBefore(tenant, before, kScanBatch);
    for (const a of batch) {
      if (visibleTo(scopes, a)) page.push(a);
      if (page.length > limit) break;
    }
    if (page.length > limit || batch.length === 0) break;
    before = batch[batch.length - 1]!.id;
  }
  const more = page.length > limit;
  if (more) page.length = limit;
  const acks = await system.acks.getMany(tenant, page.map((a) => a.id));
  ctx.audit.resultCount = page.length;
  ctx.audit.tenantsTouched = new Set(page.map((a) => a.readTenant));
  return {
    json: {
      alerts: page.map((a) => alertJson(a, acks.get(a.id))),
      next: more ? page[page.length - 1]!.id : null,
    },
  };
}

export const routes: Route[] = [
  {
    method: 'POST', path: '/v1/alerts/{id}/ack', roles: ['dispatcher'], action: 'alerts.ack', body: 'json',
    summary: 'Acknowledge an alert (once): confirmed, rejected or not-actioned, with a note',
    handler: acknowledge,
  },
  {
    method: 'GET', path: '/v1/alerts/recent', roles: ['dispatcher'], action: 'alerts.recent',
    summary: 'Recent alerts with their acknowledgements, newest first, paged',
    handler: recent,
  },
];
