/**
 * The seam between the HTTP pipeline (src/server/pipeline.ts) and the route modules (src/server/routes/).
 *
 * A route module exports `routes: Route[]` (and optionally `setup(services)`); src/server/routes/index.ts is
 * the single list of route modules. The pipeline does everything around a handler, in this order:
 *
 *   request id ─► match route (404 / 405) ─► authenticate (401) ─► role check (403) ─► rate limit (429)
 *     ─► Content-Type (415) ─► body size (413) ─► parse body (400) ─► handler, under a time budget (503)
 *     ─► audit record(s), durable (503 if not) ─► answer
 *
 * so a handler only sees an authenticated, authorised caller with a parsed body, and returns a response
 * (or throws a coded error from src/errors.ts). It never writes to the socket itself: the pipeline writes
 * the audit record before the first byte of any answer, streams included.
 */
import type { DataKeys } from '../crypto/data-keys.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Engine } from '../engine/engine.js';
import type { StoredRead } from '../model/read.js';
import type { Role } from '../model/tenant.js';
import type { AuditFields } from './audit/record.js';
import type { RawBatch } from './body.js';
import type { AuditTrail } from './audit/trail.js';
import type { Directory, Principal } from './tenancy/directory.js';

export type { Principal };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How the pipeline reads the request body before the handler runs.
 * - `none`: the body is not read (a body sent anyway is drained and ignored).
 * - `json`: one value, from `application/json` or `application/msgpack`; → `ctx.body`.
 * - `batch`: a batch of items, from a JSON array, NDJSON (`application/x-ndjson`, blank lines skipped and
 *   not counted) or a MessagePack array; an item that does not parse is kept as a failed item, so the
 *   handler can answer per item (`rejected[{index, error}]`); → `ctx.items`.
 */
export type BodyKind = 'none' | 'json' | 'batch';

/** One item of a `batch` body: parsed, or the reason it could not be (its index still counts). */
export type BatchItem = { ok: true; value: unknown } | { ok: false; error: string };

export interface Route {
  method: HttpMethod;
  /**
   * Literal segments and `{param}` segments, e.g. `/v1/hotlists/{name}`. A param matches exactly one
   * non-empty segment and arrives percent-decoded in `ctx.params`. Literal routes win over param routes.
   */
  path: string;
  /** Roles that may call the route; `'public'` needs no token (still audited when under /v1). */
  roles: readonly Role[] | 'public';
  /** The audit record's `action`, e.g. `search`, `reads.ingest`, `hotlist.put`. */
  action: string;
  /** Default `none`. */
  body?: BodyKind;
  /** Largest body accepted, in bytes; more → 413. Default kDefaultBodyLimit (1 MiB). */
  bodyLimit?: number;
  /**
   * Time budget of the handler in ms; when it runs out, `ctx.signal` aborts and the caller gets 503
   * PS_QUERY_TIMEOUT. `null`: no budget (long-lived streams). Default: the server's query budget.
   */
  timeBudgetMs?: number | null;
  /** Tokens this call takes from the caller's rate-limit bucket; 0 exempts it. Default 1. */
  rateCost?: number;
  /** A short description, for the route table in openapi.yaml's test and the logs. */
  summary?: string;
  handler(ctx: RequestContext): Promise<RouteResponse> | RouteResponse;
}

/** What the pipeline sends. `status` defaults to 200. Headers are added to the pipeline's own. */
export type RouteResponse = JsonResponse | JsonBytesResponse | RawResponse | StreamResponse | EmptyResponse;

export interface JsonResponse {
  status?: number;
  headers?: Record<string, string>;
  json: unknown;
}

/**
 * A JSON answer whose text the route writes as bytes itself (src/server/json-bytes.ts): answers of many hits,
 * where `JSON.stringify` of an object per hit is most of the request's time. Like a `json` answer, the text
 * is made while the request's audit record is being written, and sent only after it is durable.
 */
export interface JsonBytesResponse {
  status?: number;
  headers?: Record<string, string>;
  jsonBytes(): Uint8Array;
}

export interface RawResponse {
  status?: number;
  headers?: Record<string, string>;
  contentType: string;
  body: string | Uint8Array;
}

/**
 * A streamed answer (SSE, export). The pipeline writes the audit record (with the fields the handler set on
 * `ctx.audit` before returning), then the head, then calls `stream(sink)` and ends the response when it
 * resolves. Errors after the head can only cut the stream short (logged).
 */
export interface StreamResponse {
  status?: number;
  headers?: Record<string, string>;
  contentType: string;
  stream(sink: StreamSink): Promise<void>;
}

/** 204 and friends. */
export interface EmptyResponse {
  status: number;
  headers?: Record<string, string>;
  empty: true;
}

export interface StreamSink {
  /** Writes a chunk; resolves when the socket can take more (back-pressure). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Aborted when the client goes away or the server shuts down (SIGTERM closes alert streams). */
  readonly signal: AbortSignal;
}

/**
 * The audit record being assembled for this request (API.md "Audit"). The pipeline fills ts, requestId,
 * tenant/actorTenant, user, action, outcome, status, ip and durationMs; the handler adds what only it knows.
 */
export interface AuditDraft {
  /**
   * The request's parameters. Preset to path params + query string + body (for `json` bodies), with plate
   * lists over 100 entries summarised as `{count, sha256}`; a handler may replace or extend it.
   */
  params: Record<string, unknown>;
  purpose: string | null;
  case: string | null;
  /** `total` for searches, sum of entry totals for hot-list searches, rows for exports; else 0. */
  resultCount: number;
  /**
   * Tenants the request reached (for searches, v1.1: every tenant in scope). Each one other than the caller's tenant also gets
   * the record in its own log (`tenant` = that tenant, `actorTenant` = the caller's).
   */
  tenantsTouched: Set<string>;
  /** Further fields for the record (kept flat; must be JSON). */
  extra: Record<string, unknown>;
  /**
   * Appends an additional record now (e.g. one per alert delivered), durably; throws AuditUnavailable if it
   * cannot. `tenant` defaults to the caller's; unset fields are taken from this request's draft.
   */
  append(fields: Partial<AuditFields> & { action: string; tenant?: string }): Promise<void>;
}

export interface RequestContext {
  /** Also sent back as the `X-Request-Id` header and recorded in the audit record. */
  requestId: string;
  method: HttpMethod;
  /** The path without the query string, as sent. */
  path: string;
  /** Percent-decoded `{param}` values of the route's path. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The peer address. */
  ip: string;
  /** The authenticated caller. For `public` routes without a valid token: tenant `_system`, no roles. */
  principal: Principal;
  /** The parsed body of a `json` route (undefined when no body was sent). */
  body: unknown;
  /** The items of a `batch` route, in order (parsed from `batch` on first use). */
  readonly items: BatchItem[];
  /** The body of a `batch` route as sent (bytes and format), undefined when there was none. */
  readonly batch: RawBatch | undefined;
  /** Aborts when the time budget runs out, the client disconnects, or the server shuts down. */
  signal: AbortSignal;
  /** Epoch ms when the request arrived: the one "now" of the request (retention cutoffs, grants' expiry). */
  now: number;
  audit: AuditDraft;
  services: ServerServices;
  log: Logger;
}

/** After a durable ingest: the tenant and the reads now stored (idempotent duplicates left out). */
export interface IngestEvent {
  tenant: string;
  reads: readonly StoredRead[];
  /**
   * Reads of the batch whose readId was already stored (a client's retry), each with the stored read's
   * id: their hooks may not have finished the first time (a crash between the WAL and the alert log).
   */
  retried: readonly StoredRead[];
  requestId: string;
}

/**
 * Called after every successful durable ingest over HTTP, before the answer is sent, in registration order.
 * The reads are already durable, so a hook's failure never fails the ingest: it is logged and counted.
 */
export type IngestHook = (event: IngestEvent) => Promise<void> | void;

/**
 * Runs after the body is parsed and before the route's handler, for every route (it decides by
 * `route.action` what concerns it). May change `ctx.body` (take out fields meant for it) or throw a coded
 * error, which is the answer. The broad-search rule is one (src/server/governance/guard.ts).
 */
export type RequestGuard = (ctx: RequestContext, route: Route) => Promise<void> | void;

/** Everything long-lived the server holds, handed to route modules' `setup` and to every handler. */
export interface ServerServices {
  dataDir: string;
  /** The data dir's keys (encryption at rest): the key store checked at start. */
  keys: DataKeys;
  engine: Engine;
  directory: Directory;
  auditTrail: AuditTrail;
  log: Logger;
  /** The server's own Prometheus registry (one per server, so tests may run several in one process). */
  metrics: Registry;
  /** Aborts when the server begins to shut down (SIGTERM/SIGINT or close()). */
  shutdownSignal: AbortSignal;
  /** Registers a hook run after each durable HTTP ingest (hot-list matching, alerts). */
  onIngest(hook: IngestHook): void;
  /** Runs the registered ingest hooks in order (the ingest route calls it); failures are logged, not thrown. */
  emitIngest(event: IngestEvent): Promise<void>;
  /** Registers a guard run before every handler, in registration order. */
  onRequest(guard: RequestGuard): void;
  /**
   * Runs the registered guards, in order, each one's promise settled before the next runs (the pipeline calls
   * it); undefined when every guard answered at once, without a promise.
   */
  runGuards(ctx: RequestContext, route: Route): Promise<void> | undefined;
  /** Registers a teardown run at shutdown, after in-flight requests finish, before the engine closes. */
  onClose(teardown: () => Promise<void> | void): void;
  config: ServerConfig;
}

export interface ServerConfig {
  /** Default time budget of a query, ms. */
  queryBudgetMs: number;
  /** Per-user rate limit: sustained requests per second, and burst size. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /**
   * The console's optional map tiles, a URL template with {z}/{x}/{y} (`serve --tile-url`); its origin is the
   * one third-party origin the console's CSP allows, for images only. Unset: the offline outlines only.
   */
  tileUrl?: string;
}

/** What a route module exports; src/server/routes/index.ts lists them. */
export interface RouteModule {
  routes: readonly Route[];
  /** Runs once at startup, before the server accepts requests (open stores, register ingest hooks). */
  setup?(services: ServerServices): Promise<void> | void;
}

// power of two; the body limit of routes that do not set one (searches and small admin bodies)
export const kDefaultBodyLimit = 1 << 20; // 1 MiB
// API.md: ≥ 64 MiB for ingest and hot lists (a 1M-entry hot list is ~20 MB of JSON)
export const kBulkBodyLimit = 64 << 20; // 64 MiB
