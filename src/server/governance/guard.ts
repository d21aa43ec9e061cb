/**
 * The broad-search guard: the one place where the policy's broad rule is enforced, for every route whose
 * audit action is `search`, `search.hotlist` or `analytics.*` (routes added later are covered by their
 * action, not by a list of paths). It runs in the pipeline after the body is parsed and before the route's
 * handler (src/server/pipeline.ts), over the raw body (src/query/broadness.ts):
 *
 * - `approval` is taken out of the body before the handler's parser sees it (parsers reject unknown
 *   fields), on governed routes and on `search.preview`; the audit record's params keep it;
 * - a broad request under `requireApproval` runs only with an approval that is approved, the caller's own,
 *   unexpired, unused, for this route and this exact body; it is used up before the handler runs; else
 *   403 PS_APPROVAL_REQUIRED naming why;
 * - the record of a broad request says so (`broad: true`, and `approval` when one was used).
 *
 * Hot-list searches follow the same rule: a list whose every entry has ≥ 3 literal characters narrows by
 * plate and is never broad; one near-empty entry makes the whole search broad.
 */
import { ApprovalRequired } from '../../errors.js';
import { assessBroadness, hasNarrowPattern } from '../../query/broadness.js';
import type { RequestContext, Route } from '../route.js';
import type { Governance } from './for-server.js';

/** Actions the broad rule governs. */
export function isGovernedAction(action: string): boolean {
  return action === 'search' || action === 'search.hotlist' || action.startsWith('analytics.');
}

/** Actions whose body may carry `approval` (taken out before the handler). */
function takesApproval(action: string): boolean {
  return isGovernedAction(action) || action === 'search.preview';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isStatement(v: unknown): boolean {
  return typeof v === 'string' && v.trim().length > 0;
}

/**
 * The guard (route.ts RequestGuard). It answers at once, with no promise, unless an approval is to be used up:
 * a search that is not broad, or broad under a policy that does not require approvals, costs the pipeline no
 * awaits (bench/RESULTS.md "Issue 12: the request's path to the engine").
 */
export function broadSearchGuard(g: Governance, ctx: RequestContext, route: Route): Promise<void> | undefined {
  if (!takesApproval(route.action) || !isObject(ctx.body)) return;
  let body: Record<string, unknown> = ctx.body;
  const hasApproval = Object.hasOwn(body, 'approval');
  const approvalId = body.approval;
  if (hasApproval) {
    const { approval: _approval, ...rest } = body;
    ctx.body = body = rest;
  }
  if (!isGovernedAction(route.action)) return;
  // every governed route requires purpose and case: without them its parser answers 400 and nothing runs,
  // which is the answer API.md gives first (a 403 would hide the missing justification)
  if (!isStatement(body.purpose) || !isStatement(body.case)) return;
  // what assessBroadness answers first, without measuring the area and window it would also report: most
  // searches name a plate (every hot list of whole plates does)
  if (hasNarrowPattern(body)) return;
  const policy = g.policies.get(ctx.principal.tenant);
  const b = assessBroadness(body, policy.broad);
  if (!b.broad) return;
  ctx.audit.extra.broad = true;
  if (!policy.broad.requireApproval) return;
  if (!hasApproval) {
    throw ApprovalRequired(`This request is broad (${b.reasons.join('; ')}) and the tenant's policy requires an approval: file one with POST /v1/approvals and pass its id as "approval"`, { reasons: b.reasons });
  }
  return useApproval(g, ctx, route, approvalId, body);
}

async function useApproval(g: Governance, ctx: RequestContext, route: Route, approvalId: unknown, body: Record<string, unknown>): Promise<void> {
  const used = await g.approvals.consume(approvalId, {
    tenant: ctx.principal.tenant, user: ctx.principal.user, route: route.path, body, requestId: ctx.requestId, now: ctx.now,
  });
  ctx.audit.extra.approval = used.id;
}
