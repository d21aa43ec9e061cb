/**
 * Approvals of broad requests (API.md v1.1 "Accountability"; the rules: src/server/governance/approvals.ts):
 *
 * - `POST /v1/approvals` (investigator, dispatcher; supervisors through role implication)
 *   `{"request": <body>, "route": "/v1/search", "reason"}` → `{"id", "state": "pending", …}`;
 * - `PUT /v1/approvals/{id}` (supervisor of the same tenant, not the requester, else 403)
 *   `{"decision": "approved" | "denied", "note"?}` → the approval; not pending → 409;
 * - `GET /v1/approvals?state=` → `{"approvals": […]}` newest first: supervisors and auditors see the
 *   tenant's, investigators and dispatchers their own.
 *
 * Every call is audited by the pipeline like any other (`approval.request`, `approval.decide`,
 * `approval.list`); the request's purpose and case go in the record's own fields.
 */
import { BadInput } from '../../errors.js';
import { effectiveRoles } from '../../model/tenant.js';
import { type Approval, kApprovalStates, type ApprovalState } from '../governance/approvals.js';
import { governanceFor } from '../governance/for-server.js';
import { kBulkBodyLimit, type RequestContext, type Route, type RouteResponse } from '../route.js';

// free text is free, but a reason or note is a sentence, not a document
const kMaxTextChars = 2000;

function approvalJson(a: Approval) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: a.id, state: a.state, route: a.route, requester: a.requester, reason: a.reason, request: a.request,
    requestSha256: a.requestSha256, created: iso(a.created), expires: iso(a.expires),
    decidedBy: a.decidedBy ?? null, decidedAt: iso(a.decidedAt), note: a.note ?? null,
    usedAt: iso(a.usedAt), usedBy: a.usedBy ?? null,
  };
}

function text(v: unknown, field: string, required: boolean): string | null {
  if (v === undefined || v === null) {
    if (required) throw BadInput(`${field} is required (a non-empty string)`, { field });
    return null;
  }
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > kMaxTextChars) {
    throw BadInput(`${field} must be a non-empty string of at most ${kMaxTextChars} characters`, { field });
  }
  return v;
}

/**
 * The routes an approval can be for: those the broad rule governs (actions `search`, `search.hotlist`,
 * `analytics.*`), by their paths.
 */
const kGovernedPath = /^\/v1\/(search|search\/hotlist|analytics\/[a-z][a-z0-9-]{0,40})$/;

async function request(ctx: RequestContext): Promise<RouteResponse> {
  const b = ctx.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw BadInput('body must be {"request": {...}, "route": "/v1/search", "reason": "..."}');
  const body = b as Record<string, unknown>;
  for (const k of Object.keys(body)) if (!['request', 'route', 'reason'].includes(k)) throw BadInput(`unknown field ${JSON.stringify(k)}`, { field: k });
  const req = body.request;
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw BadInput('request must be the JSON object of the search or analytics body', { field: 'request' });
  const route = body.route;
  if (typeof route !== 'string' || !kGovernedPath.test(route)) {
    throw BadInput('route must be /v1/search, /v1/search/hotlist or /v1/analytics/<name>', { field: 'route' });
  }
  const reason = text(body.reason, 'reason', true)!;
  const r = req as Record<string, unknown>;
  // the request states its purpose and case as the search will: the approver judges them
  text(r.purpose, 'request.purpose', true);
  text(r.case, 'request.case', true);
  ctx.audit.purpose = r.purpose as string;
  ctx.audit.case = r.case as string;
  const { approval: _ignored, ...clean } = r;
  const g = await governanceFor(ctx.services);
  let a: Approval;
  try {
    a = await g.approvals.request(ctx.principal.tenant, ctx.principal.user, route, clean, reason, ctx.now);
  } catch (err) {
    if (err instanceof RangeError) throw BadInput('request is nested too deeply to be approved', { field: 'request' });
    throw err;
  }
  ctx.audit.extra.approval = a.id;
  return { json: approvalJson(a) };
}

async function decide(ctx: RequestContext): Promise<RouteResponse> {
  const b = ctx.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw BadInput('body must be {"decision": "approved" | "denied", "note": "..."}');
  const body = b as Record<string, unknown>;
  for (const k of Object.keys(body)) if (!['decision', 'note'].includes(k)) throw BadInput(`unknown field ${JSON.stringify(k)}`, { field: k });
  if (body.decision !== 'approved' && body.decision !== 'denied') throw BadInput('decision must be "approved" or "denied"', { field: 'decision' });
  const note = text(body.note, 'note', false);
  const g = await governanceFor(ctx.services);
  const a = await g.approvals.decide(ctx.params.id!, ctx.principal.tenant, ctx.principal.user, body.decision, note, ctx.now);
  ctx.audit.extra.approval = a.id;
  ctx.audit.extra.requester = a.requester;
  return { json: approvalJson(a) };
}

async function list(ctx: RequestContext): Promise<RouteResponse> {
  const s = ctx.query.get('state');
  if (s !== null && !(kApprovalStates as readonly string[]).includes(s)) {
    throw BadInput(`state must be one of ${kApprovalStates.join(', ')}`, { field: 'state' });
  }
  const roles = effectiveRoles(ctx.principal.roles);
  const all = roles.has('supervisor') || roles.has('auditor');
  const g = await governanceFor(ctx.services);
  const approvals = g.approvals.list(ctx.principal.tenant, ctx.now, {
    state: (s ?? undefined) as ApprovalState | undefined,
    requester: all ? undefined : ctx.principal.user,
  });
  ctx.audit.resultCount = approvals.length;
  return { json: { approvals: approvals.map(approvalJson) } };
}

export const routes: Route[] = [
  {
    method: 'POST', path: '/v1/approvals', roles: ['investigator', 'dispatcher'], action: 'approval.request', body: 'json',
    // a hot-list search body may need approval: up to a hot list's worth
    bodyLimit: kBulkBodyLimit,
    summary: 'Ask a supervisor to approve a broad search or analytics request', handler: request,
  },
  {
    method: 'PUT', path: '/v1/approvals/{id}', roles: ['supervisor'], action: 'approval.decide', body: 'json',
    summary: 'Approve or deny a pending request (a supervisor of the tenant, not the requester)', handler: decide,
  },
  {
    method: 'GET', path: '/v1/approvals', roles: ['investigator', 'dispatcher', 'supervisor', 'auditor'], action: 'approval.list',
    summary: 'Approvals of the tenant (supervisors, auditors) or of the caller', handler: list,
  },
];
