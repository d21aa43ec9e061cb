/**
 * `POST /v1/search` and `POST /v1/search/hotlist` (investigator, dispatcher). The body is parsed by
 * src/query/parse.ts (every rule of API.md "Search"); the tenants the caller may see are resolved once, here,
 * with their retention cutoffs, and handed to the engine, which reads nothing else.
 *
 * Audit: `resultCount` is `total` (the sum of entry totals for hot-list searches), and every tenant in the
 * search's scope is in `tenantsTouched` (v1.1), so the pipeline records the search in each of their logs.
 */
import { performance } from 'node:perf_hooks';
import type { Hit, TenantScope } from '../../model/query.js';
import { decodeCursor, encodeCursor, searchFingerprint } from '../../query/cursor.js';
import { parseHotlistSearchRequest, parseSearchRequest, type Justification } from '../../query/parse.js';
import { searchHotlistWithHeld, searchWithHeld, type HeldScope } from '../../query/held-search.js';
import { hitToJson } from '../hit-json.js';
import { hotlistAnswerBytes, searchAnswerBytes, SearchAnswerWriter } from '../hit-bytes.js';
import { HotlistAnswerColumns } from '../hotlist-answer.js';
import { heldScopeFor, holdsFor, openHoldsFor } from '../tenancy/holds.js';
import { answerFormat, packAnswer } from '../answer-format.js';
import { kBulkBodyLimit, type RequestContext, type Route, type RouteResponse, type ServerServices, type StreamSink } from '../route.js';

const kSearchRoles = ['investigator', 'dispatcher'] as const;

function justify(ctx: RequestContext, j: Justification): void {
  ctx.audit.purpose = j.purpose;
  ctx.audit.case = j.case;
}

/**
 * Legal holds (src/server/tenancy/holds.ts): the caller's own reads past retention that its holds for the
 * stated case keep; the audit record names the holds consulted (`holds`).
 */
/** Searches stating a case see the reads its legal holds keep past retention: the hold store is opened here too. */
export async function setup(services: ServerServices): Promise<void> {
  await openHoldsFor(services);
}

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
 * Audit (API.md v1.1, "reaches another tenant"): every tenant in the search's scope, the caller's own
 * included, whether or not a read of it was returned or counted (a "not seen" answer discloses something
 * too). Set before the engine runs, so a search cut short by its time budget or a failure is still
 * recorded in every log whose data it began to read. The pipeline writes the record to each of their logs.
 */
function touchScope(ctx: RequestContext, scopes: readonly TenantScope[]): void {
  const touched = new Set<string>().add(ctx.principal.tenant);
  for (const s of scopes) touched.add(s.tenant);
  ctx.audit.tenantsTouched = touched;
}

async function search(ctx: RequestContext): Promise<RouteResponse> {
  const { query, justification, cursor } = parseSearchRequest(ctx.body);
  justify(ctx, justification);
  // v1.1 paging: the cursor must fit this body, this justification and this caller (src/query/cursor.ts);
  // the fingerprint (canonical JSON and a SHA-256) is made only when a cursor is read or written
  let fp: string | undefined;
  const fingerprint = (): string => (fp ??= searchFingerprint(query, { tenant: ctx.principal.tenant, user: ctx.principal.user, ...justification }));
  if (cursor !== undefined) query.after = decodeCursor(cursor, fingerprint());
  const { engine, directory } = ctx.services;
  const scopes = directory.scopesFor(ctx.principal.tenant, ctx.now);
  touchScope(ctx, scopes);
  const held = heldScope(ctx, justification, scopes);
  const format = answerFormat(ctx.headers.accept, ['json', 'msgpack', 'ndjson']);
  // a JSON answer's page is written as the engine reads it, where it can (src/model/hit-sink.ts): no hit
  // objects; that writing is inside tookMs (the engine's time), where building the objects was, and before
  // the audit record, not beside it
  const writer = format === 'json' ? new SearchAnswerWriter() : undefined;
  const start = performance.now();
  const result = await searchWithHeld(engine, scopes, query, ctx.signal, held, writer);
  const tookMs = elapsedMs(start);
  const pending = result.pending;
  let next: string | null;
  try {
    if (held) ctx.audit.extra.heldCount = result.heldTotal;
    ctx.audit.resultCount = result.total;
    // a written page is whole (not truncated): no cursor needs its last hit; a pending page names its last
    const last = pending ? pending.last : result.hits[result.hits.length - 1];
    next = result.truncated && last ? encodeCursor({ distance: last.distance, ts: last.ts, id: last.id }, fingerprint()) : null;
  } catch (err) {
    pending?.release(); // its shards are held until it is written or released
    throw err;
  }
  if (writer) {
    const end = { total: result.total, truncated: result.truncated, next, queryId: ctx.requestId, tookMs };
    // built hits, and a pending page's rows (src/query/kept-page.ts), are written by the pipeline while the
    // audit record is made durable (pipeline.ts jsonText, called for every audited answer): at one client a
    // 1,000-hit page's ~0.3 ms of text is then off the answer's critical path. A pending page is never
    // dropped unwritten (its shards would stay pinned): the engine makes it after its last check of the
    // signal, and from there to this return only promise reactions run, so no timer or socket close can
    // cancel the handler's race (pipeline.ts runHandler) in between
    if (result.written) return { jsonBytes: () => writer.end(end) };
    if (pending) {
      return {
        jsonBytes: () => {
          pending.writeTo(writer);
          return writer.end(end);
        },
      };
    }
    const hits = result.hits;
    return { jsonBytes: () => searchAnswerBytes({ ...end, hits }) };
  }
  if (format === 'ndjson') {
    const head = { total: result.total, truncated: result.truncated, queryId: ctx.requestId, next };
    return { contentType: 'application/x-ndjson', stream: (sink) => streamHits(sink, head, result.hits) };
  }
  const answer = { hits: result.hits.map(hitToJson), total: result.total, truncated: result.truncated, next, queryId: ctx.requestId, tookMs };
  return { contentType: 'application/msgpack', body: packAnswer(answer) };
}

// hits per write of a streamed answer: few writes (each one a promise and maybe a syscall), small chunks
const kHitsPerChunk = 256;

/** `application/x-ndjson` (v1.1): the head line, then one hit per line, in chunks with back-pressure. */
async function streamHits(sink: StreamSink, head: Record<string, unknown>, hits: readonly Hit[]): Promise<void> {
  await sink.write(JSON.stringify(head) + '\n');
  for (let i = 0; i < hits.length && !sink.signal.aborted; i += kHitsPerChunk) {
    let chunk = '';
    for (const h of hits.slice(i, i + kHitsPerChunk)) chunk += JSON.stringify(hitToJson(h)) + '\n';
    await sink.write(chunk);
  }
}

async function searchHotlist(ctx: RequestContext): Promise<RouteResponse> {
  const { query, justification } = parseHotlistSearchRequest(ctx.body);
  justify(ctx, justification);
  const { engine, directory } = ctx.services;
  const scopes = directory.scopesFor(ctx.principal.tenant, ctx.now);
  touchScope(ctx, scopes);
  const held = heldScope(ctx, justification, scopes);
  // the matches are kept as columns while the engine merges them, and their text is written by the pipeline
  // while the audit record is made durable (src/server/hotlist-answer.ts): no hit objects, and the text off
  // the answer's critical path
  const columns = new HotlistAnswerColumns();
  const start = performance.now();
  const result = await searchHotlistWithHeld(engine, scopes, query, ctx.signal, held, columns);
  const tookMs = elapsedMs(start);
  if (held) ctx.audit.extra.heldCount = result.heldTotal;
  if (result.written) {
    ctx.audit.resultCount = columns.resultCount();
    return { jsonBytes: () => columns.bytes(ctx.requestId, tookMs) };
  }
  ctx.audit.resultCount = result.matches.reduce((n, m) => n + m.total, 0);
  const answer = { matches: result.matches, queryId: ctx.requestId, tookMs };
  return { jsonBytes: () => hotlistAnswerBytes(answer) };
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
