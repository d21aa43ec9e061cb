/**
 * `POST /v1/search` and `POST /v1/search/hotlist` (investigator, dispatcher). The body is parsed by
 * src/query/parse.ts (every rule of API.md "Search"); the tenants the caller may see are resolved once, here,
 * with their retention cutoffs, and handed to the engine, which reads nothing else.
 *
 * Audit: `resultCount` is `total` (the sum of entry totals for hot-list searches), and every tenant whose
 * reads were returned or counted is in `tenantsTouched`, so the pipeline records the search in its log too.
 */
import { performance } from 'node:perf_hooks';
import type { Engine } from '../../engine/engine.js';
import type { HotlistQuery, HotlistResult, SearchQuery, SearchResult, TenantScope } from '../../model/query.js';
import { parseHotlistSearchRequest, parseSearchRequest, type Justification } from '../../query/parse.js';
import { searchHotlistWithHeld, searchWithHeld, type HeldScope } from '../../query/held-search.js';
import { hitToJson } from '../hit-json.js';
import { heldScopeFor, holdsFor } from '../tenancy/holds.js';
import { kBulkBodyLimit, type RequestContext, type Route, type RouteResponse } from '../route.js';

const kSearchRoles = ['investigator', 'dispatcher'] as const;

function justify(ctx: RequestContext, j: Justification): void {
  ctx.audit.purpose = j.purpose;
  ctx.audit.case = j.case;
}

/**
 * Legal holds (src/server/tenancy/holds.ts): the caller's own reads past retention that its holds for the
 * stated case keep; the audit record names the holds consulted (`holds`).
 */
function heldScope(ctx: RequestContext, j: Justification, scopes: readonly TenantScope[]): HeldScope | undefined {
  // `heldCount` (set after the search) is how many of `total` were held reads past retention
  const held = heldScopeFor(holdsFor(ctx.services), ctx.principal.tenant, j.case, scopes);
  if (held) ctx.audit.extra.holds = held.holds;
  return held;
}

function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

/**
 * Tenants whose reads a search returned or counted. The hits name their tenants; when the answer was cut
 * at `limit`, a scoped tenant without a returned hit may still have been counted, so it is probed alone.
 */
async function touchedBySearch(
  engine: Engine, scopes: readonly TenantScope[], query: SearchQuery, result: SearchResult, signal: AbortSignal,
): Promise<Set<string>> {
  const touched = new Set(result.hits.map((h) => h.tenant));
  if (result.truncated) {
    for (const scope of scopes) {
      if (touched.has(scope.tenant)) continue;
      const probe = await engine.search([scope], { ...query, limit: 1 }, signal);
      if (probe.total > 0) touched.add(scope.tenant);
    }
  }
  return touched;
}

async function search(ctx: RequestContext): Promise<RouteResponse> {
  const { query, justification } = parseSearchRequest(ctx.body);
  justify(ctx, justification);
  const { engine, directory } = ctx.services;
  const scopes = directory.scopesFor(ctx.principal.tenant, ctx.now);
  const held = heldScope(ctx, justification, scopes);
  const start = performance.now();
  const result = await searchWithHeld(engine, scopes, query, ctx.signal, held);
  const tookMs = elapsedMs(start);
  if (held) ctx.audit.extra.heldCount = result.heldTotal;
  ctx.audit.resultCount = result.total;
  ctx.audit.tenantsTouched = await touchedBySearch(engine, scopes, query, result, ctx.signal);
  return {
    json: {
      hits: result.hits.map(hitToJson),
      total: result.total,
      truncated: result.truncated,
      queryId: ctx.requestId,
      tookMs,
    },
  };
}

/** Like touchedBySearch, per entry: only cut entries can hide a tenant, so only they are probed. */
async function touchedByHotlist(
  engine: Engine, scopes: readonly TenantScope[], query: HotlistQuery, result: HotlistResult, signal: AbortSignal,
): Promise<Set<string>> {
  const touched = new Set<string>();
  for (const m of result.matches) for (const h of m.hits) touched.add(h.tenant);
  const cut = new Set(result.matches.filter((m) => m.truncated).map((m) => m.entry));
  if (cut.size > 0) {
    const entries = query.entries.filter((e) => cut.has(e.pattern));
    for (const scope of scopes) {
      if (touched.has(scope.tenant)) continue;
      const probe = await engine.searchHotlist([scope], { ...query, entries, limitPerPlate: 1 }, signal);
      if (probe.matches.some((m) => m.total > 0)) touched.add(scope.tenant);
    }
  }
  return touched;
}

async function searchHotlist(ctx: RequestContext): Promise<RouteResponse> {
  const { query, justification } = parseHotlistSearchRequest(ctx.body);
  justify(ctx, justification);
  const { engine, directory } = ctx.services;
  const scopes = directory.scopesFor(ctx.principal.tenant, ctx.now);
  const held = heldScope(ctx, justification, scopes);
  const start = performance.now();
  const result = await searchHotlistWithHeld(engine, scopes, query, ctx.signal, held);
  const tookMs = elapsedMs(start);
  if (held) ctx.audit.extra.heldCount = result.heldTotal;
  ctx.audit.resultCount = result.matches.reduce((n, m) => n + m.total, 0);
  ctx.audit.tenantsTouched = await touchedByHotlist(engine, scopes, query, result, ctx.signal);
  return {
    json: {
      matches: result.matches.map((m) => ({
        entry: m.entry, total: m.total, truncated: m.truncated, hits: m.hits.map(hitToJson),
      })),
      queryId: ctx.requestId,
      tookMs,
    },
  };
}

export const routes: Route[] = [
  {
    method: 'POST',
    path: '/v1/search',
    roles: kSearchRoles,
    action: 'search',
    body: 'json',
    summary: 'Search reads by plate pattern, time and place',
    handler: search,
  },
  {
    method: 'POST',
    path: '/v1/search/hotlist',
    roles: kSearchRoles,
    action: 'search.hotlist',
    body: 'json',
    // up to 1,000,000 plates: a hot list's worth of body
    bodyLimit: kBulkBodyLimit,
    summary: 'Search many plate patterns at once (hot-list search)',
    handler: searchHotlist,
  },
];
