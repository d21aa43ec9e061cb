/**
 * The request pipeline: everything between the socket and a route's handler (see the order in route.ts).
 *
 * Invariants it keeps, whatever a handler does:
 * - every /v1 request gets exactly one audit record in its caller's log (plus one per other tenant
 *   touched), written durably before the first byte of the answer; if that fails the answer is 503
 *   PS_AUDIT_UNAVAILABLE and carries no data;
 * - every error is `{"error": {"code", "message"}}` with the status of its code (src/errors.ts); an error
 *   that is not a coded one is a bug, answered 500 PS_INTERNAL and logged, never a crash.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  AuditUnavailable, Forbidden, Internal, MethodNotAllowed, NotFound, PlatesearchError, QueryTimeout,
  Unauthenticated, createError, isPlatesearchError,
} from '../errors.js';
import { formatTimestamp } from '../model/time.js';
import { attachDeadline } from '../query/budget.js';
import { hasAnyRole, kSystemTenant } from '../model/tenant.js';
import { boundParams, boundText, boundValue } from './audit/bounded-params.js';
import type { AuditFields } from './audit/record.js';
import { assertSize, bodyFormat, parseBatchBody, parseJsonBody, readBody } from './body.js';
import type { ServerMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { defaultParams, outcomeOf, statedJustification } from './request-audit.js';
import type {
  AuditDraft, BatchItem, HttpMethod, Principal, RequestContext, Route, RouteResponse, ServerServices, StreamResponse,
  StreamSink,
} from './route.js';
import { kDefaultBodyLimit } from './route.js';
import type { Router } from './router.js';

/** The caller of a public route without a valid token. */
const kAnonymous: Principal = Object.freeze({ tenant: kSystemTenant, user: '', roles: [] }) as Principal;

// RFC 6750: `Authorization: Bearer <token>`; the scheme is case-insensitive
const kBearer = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** Status for a client that went away before its answer (nginx's convention; only ever in logs/audit). */
const kClientClosedStatus = 499;

// Not in src/errors.ts because no client ever receives it: it only labels the audit record and the log.
const ClientClosed = createError('PS_CLIENT_CLOSED', 'The client closed the connection before the answer', kClientClosedStatus);

function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  } catch {
    query = new URLSearchParams();
  }
  return { path, query };
}

/**
 * The params as recorded: bounded (audit/bounded-params.ts), so no input can fail its own record; when
 * something was cut, the raw body's length and SHA-256 tie the record to the bytes received.
 */
function recordedParams(params: Record<string, unknown>, rawBody: Buffer | undefined): Record<string, unknown> {
  try {
    const b = boundParams(params);
    if (b.cut && rawBody !== undefined) {
      b.params.$body = { bytes: rawBody.length, sha256: createHash('sha256').update(rawBody).digest('hex') };
    }
    return b.params;
  } catch {
    // not reachable for values a parser can produce; the record is still written, without them
    return { $omitted: 'error' };
  }
}

/** A handler's extra fields, bounded like params (they are flat, so each is bounded on its own). */
function boundExtra(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) out[k] = boundValue(v).value;
  return out;
}

export function errorResponse(err: PlatesearchError): RouteResponse {
  const headers: Record<string, string> = {};
  const retry = err.details?.retryAfterSeconds;
  if (typeof retry === 'number') headers['retry-after'] = String(retry);
  const allow = err.details?.allow;
  if (Array.isArray(allow)) headers.allow = allow.join(', ');
  // RFC 6750 §3: a 401 names the scheme the client should use
  if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="platesearch"';
  return { status: err.status, headers, json: err.toJSON() };
}

export interface PipelineDeps {
  services: ServerServices;
  router: Router;
  metrics: ServerMetrics;
  limiter: RateLimiter;
  /** True once shutdown began: answers then ask the client to close its connection. */
  isShuttingDown(): boolean;
}

/** Per-request state the pipeline builds up, for the audit record and the logs. */
interface Exchange {
  requestId: string;
  method: string;
  path: string;
  query: URLSearchParams;
  ip: string;
  now: number;
  start: number;
  principal?: Principal;
  route?: Route;
  params: Record<string, string>;
  body: unknown;
  /** The raw bytes of a `json` body, for the record's `$body` evidence when its params had to be cut. */
  rawBody?: Buffer;
  draft: DraftState;
  /** Answer with `Connection: close` (an over-limit body was left unread). */
  closeConnection?: boolean;
}

interface DraftState {
  params?: Record<string, unknown>;
  purpose: string | null;
  case: string | null;
  resultCount: number;
  tenantsTouched: Set<string>;
  extra: Record<string, unknown>;
}

export class Pipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /** The node:http 'request' listener. Never throws; every path ends the response. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((err: unknown) => {
      this.deps.services.log.error({ err }, 'request pipeline failed');
      if (!res.headersSent) {
        try {
          this.send(res, errorResponse(Internal()), req.method === 'HEAD');
          return;
        } catch {
          // fall through
        }
      }
      res.destroy();
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { services, metrics } = this.deps;
    const { path, query } = splitUrl(req.url);
    const ex: Exchange = {
      requestId: randomUUID(),
      method: req.method ?? 'GET',
      path,
      query,
      ip: req.socket.remoteAddress ?? '',
      now: Date.now(),
      start: performance.now(),
      params: {},
      body: undefined,
      draft: { purpose: null, case: null, resultCount: 0, tenantsTouched: new Set(), extra: {} },
    };
    res.setHeader('x-request-id', ex.requestId);
    if (this.deps.isShuttingDown()) res.setHeader('connection', 'close');
    metrics.inFlight.inc();
    const audited = path === '/v1' || path.startsWith('/v1/');

    // A client that goes away aborts its handler's work (the audit record is still written).
    const clientGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });

    let response: RouteResponse;
    try {
      response = await this.run(req, ex, clientGone.signal);
    } catch (err) {
      response = this.toErrorResponse(err, ex);
    }

    if (audited) response = await this.audit(ex, response);

    const status = response.status ?? 200;
    const routeLabel = ex.route?.path ?? 'unmatched';
    const finish = (): void => {
      metrics.inFlight.dec();
      metrics.requests.inc({ method: ex.method, route: routeLabel, status: String(status) });
      const ms = performance.now() - ex.start;
      metrics.requestDuration.observe({ method: ex.method, route: routeLabel }, ms / 1000);
      const level = status >= 500 ? 'warn' : audited ? 'info' : 'debug';
      services.log[level]({
        reqId: ex.requestId, method: ex.method, path: ex.path, route: routeLabel, status,
        tenant: ex.principal?.tenant, user: ex.principal?.user, ms: Math.round(ms * 1000) / 1000,
      }, 'request');
    };
    if (ex.closeConnection) res.setHeader('connection', 'close');
    if ('stream' in response) {
      await this.sendStream(req, res, response, ex, finish);
    } else {
      res.once('close', finish);
      this.send(res, response, req.method === 'HEAD');
    }
  }

  /** Everything up to the handler's response; coded errors are thrown. */
  private async run(req: IncomingMessage, ex: Exchange, clientGone: AbortSignal): Promise<RouteResponse> {
    const { services, router, limiter } = this.deps;

    // Who is calling is settled first, so even a 404 is recorded in the caller's own log.
    const authz = req.headers.authorization;
    const bearer = authz === undefined ? undefined : kBearer.exec(authz)?.[1];
    if (bearer !== undefined) ex.principal = services.directory.authenticate(bearer);

    const match = router.match(ex.method, ex.path);
    if (match.kind === 'not-found') throw NotFound(`No route ${ex.method} ${ex.path}`);
    if (match.kind === 'method-not-allowed') {
      throw MethodNotAllowed(`${ex.method} is not allowed on ${ex.path}`, { allow: match.allow });
    }
    const route = match.route;
    ex.route = route;
    ex.params = match.params;

    if (route.roles !== 'public') {
      if (!ex.principal) {
        throw Unauthenticated(authz === undefined ? 'Authorization: Bearer <token> is required' : 'Unknown, revoked or malformed bearer token');
      }
      const roles = route.roles;
      if (!hasAnyRole(ex.principal.roles, roles)) {
        throw Forbidden(`${ex.method} ${route.path} needs one of the roles: ${roles.join(', ')}`);
      }
    }
    if (ex.principal) limiter.take(`${ex.principal.tenant}/${ex.principal.user}`, route.rateCost ?? 1, ex.now);

    let items: BatchItem[] = [];
    const kind = route.body ?? 'none';
    if (kind !== 'none') {
      const format = bodyFormat(req, kind);
      if (format !== undefined) {
        const limit = route.bodyLimit ?? kDefaultBodyLimit;
        const raw = await readBody(req, limit).catch(() => {
          throw ClientClosed();
        });
        if (raw.undrained) ex.closeConnection = true; // the rest of the body will not be read
        assertSize(raw, limit);
        if (kind === 'json') {
          ex.rawBody = raw.bytes;
          ex.body = parseJsonBody(raw.bytes, format);
        } else {
          items = parseBatchBody(raw.bytes, format);
        }
      }
    }
    const stated = statedJustification(ex.body);
    ex.draft.purpose = stated.purpose;
    ex.draft.case = stated.case;

    return this.runHandler(req, route, ex, items, clientGone);
  }

  private async runHandler(req: IncomingMessage, route: Route, ex: Exchange, items: BatchItem[], clientGone: AbortSignal): Promise<RouteResponse> {
    const { services } = this.deps;
    const budgetMs = route.timeBudgetMs === undefined ? services.config.queryBudgetMs : route.timeBudgetMs;
    const budget = new AbortController();
    const overBudget = () => QueryTimeout(`The query exceeded its time budget of ${budgetMs} ms`, { budgetMs });
    const timer = budgetMs === null ? undefined : setTimeout(() => budget.abort(overBudget()), budgetMs);
    const signal = AbortSignal.any([budget.signal, clientGone]);
    // the timer cannot fire while a scan holds this thread: scans also check the deadline itself
    if (budgetMs !== null) attachDeadline(signal, performance.now() + budgetMs, overBudget);
    const principal = ex.principal ?? kAnonymous;
    const draft = this.makeDraft(ex, principal);
    const ctx: RequestContext = {
      requestId: ex.requestId,
      method: ex.method as HttpMethod,
      path: ex.path,
      params: ex.params,
      query: ex.query,
      headers: req.headers,
      ip: ex.ip,
      principal,
      body: ex.body,
      items,
      signal,
      now: ex.now,
      audit: draft,
      services,
      log: services.log.child({ reqId: ex.requestId }),
    };
    try {
      const handled = Promise.resolve().then(async () => {
        await services.runGuards(ctx, route);
        return route.handler(ctx);
      });
      handled.catch(() => {}); // if the budget wins the race, a later rejection is not unhandled
      return await new Promise<RouteResponse>((resolve, reject) => {
        const onAbort = (): void => reject(budget.signal.aborted ? budget.signal.reason : ClientClosed());
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        handled.then(resolve, (err: unknown) => {
          // an engine that honours the signal rejects with its own AbortError: report the cause
          if (signal.aborted) onAbort();
          else reject(err);
        }).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private makeDraft(ex: Exchange, principal: Principal): AuditDraft {
    const state = ex.draft;
    const pipeline = this;
    const draft: AuditDraft = {
      get params() {
        state.params ??= defaultParams(ex.params, ex.query, ex.body);
        return state.params;
      },
      set params(v) {
        state.params = v;
      },
      get purpose() { return state.purpose; },
      set purpose(v) { state.purpose = v; },
      get case() { return state.case; },
      set case(v) { state.case = v; },
      get resultCount() { return state.resultCount; },
      set resultCount(v) { state.resultCount = v; },
      get tenantsTouched() { return state.tenantsTouched; },
      set tenantsTouched(v) { state.tenantsTouched = v; },
      get extra() { return state.extra; },
      set extra(v) { state.extra = v; },
      async append(fields) {
        const base = pipeline.recordFields(ex, 200);
        const tenant = fields.tenant ?? principal.tenant;
        try {
          await pipeline.deps.services.auditTrail.append(tenant, { ...base, ...fields, tenant });
        } catch (err) {
          pipeline.deps.metrics.auditFailures.inc();
          throw isPlatesearchError(err) && err.code === AuditUnavailable.code ? err : AuditUnavailable();
        }
      },
    };
    return draft;
  }

  private toErrorResponse(err: unknown, ex: Exchange): RouteResponse {
    if (isPlatesearchError(err)) return errorResponse(err);
    this.deps.services.log.error({ err, reqId: ex.requestId, route: ex.route?.path }, 'handler failed');
    return errorResponse(Internal());
  }

  /** The record of this request as it stands (seq/prev/hash are the trail's). */
  private recordFields(ex: Exchange, status: number): AuditFields & { tenant: string } {
    const principal = ex.principal;
    const tenant = principal?.tenant ?? kSystemTenant;
    const d = ex.draft;
    d.params ??= defaultParams(ex.params, ex.query, ex.body);
    return {
      ...boundExtra(d.extra),
      ts: formatTimestamp(ex.now),
      requestId: ex.requestId,
      tenant,
      actorTenant: tenant,
      user: principal?.user ?? '',
      action: ex.route?.action ?? 'route.unknown',
      method: ex.method,
      path: ex.path,
      params: recordedParams(d.params, ex.rawBody),
      purpose: boundText(d.purpose),
      case: boundText(d.case),
      outcome: outcomeOf(status),
      status,
      resultCount: d.resultCount,
      tenantsTouched: [...d.tenantsTouched].sort(),
      ip: ex.ip,
      durationMs: Math.round((performance.now() - ex.start) * 1000) / 1000,
    };
  }

  /**
   * Writes the request's records: first in the logs of other tenants it touched (side by side), then in the
   * caller's own (with the final status). Any failure → 503 with no data.
   */
  private async audit(ex: Exchange, response: RouteResponse): Promise<RouteResponse> {
    const { auditTrail, log } = this.deps.services;
    let status = response.status ?? 200;
    const fields = this.recordFields(ex, status);
    const own = fields.tenant;
    try {
      // the other logs are independent: their group commits run side by side, not one after the other
      const others = fields.tenantsTouched.filter((t) => t !== own);
      const written = await Promise.allSettled(others.map((other) => auditTrail.append(other, { ...fields, tenant: other })));
      const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      this.deps.metrics.auditFailures.inc();
      log.error({ err, reqId: ex.requestId }, 'audit record (touched tenant) could not be written');
      response = errorResponse(AuditUnavailable());
      status = response.status!;
      Object.assign(fields, { status, outcome: outcomeOf(status) });
    }
    try {
      await auditTrail.append(own, fields);
    } catch (err) {
      this.deps.metrics.auditFailures.inc();
      log.error({ err, reqId: ex.requestId }, 'audit record could not be written');
      return errorResponse(AuditUnavailable());
    }
    return response;
  }

  private send(res: ServerResponse, response: RouteResponse, head: boolean): void {
    if (res.destroyed) return;
    const status = response.status ?? 200;
    for (const [k, v] of Object.entries(response.headers ?? {})) res.setHeader(k, v);
    if ('json' in response) {
      const body = Buffer.from(JSON.stringify(response.json), 'utf8');
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(head ? undefined : body);
    } else if ('body' in response) {
      const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
      res.writeHead(status, { 'content-type': response.contentType, 'content-length': body.length });
      res.end(head ? undefined : body);
    } else {
      res.writeHead(status);
      res.end();
    }
  }

  private async sendStream(
    req: IncomingMessage, res: ServerResponse, response: StreamResponse, ex: Exchange, finish: () => void,
  ): Promise<void> {
    const gone = new AbortController();
    const onShutdown = (): void => gone.abort();
    const shutdown = this.deps.services.shutdownSignal;
    shutdown.addEventListener('abort', onShutdown, { once: true });
    res.once('close', () => gone.abort());
    for (const [k, v] of Object.entries(response.headers ?? {})) res.setHeader(k, v);
    res.writeHead(response.status ?? 200, { 'content-type': response.contentType, 'cache-control': 'no-store' });
    res.flushHeaders();
    if (shutdown.aborted) gone.abort();
    const sink: StreamSink = {
      signal: gone.signal,
      write: (chunk) => new Promise<void>((resolve) => {
        if (res.destroyed || res.writableEnded) return resolve();
        if (res.write(chunk)) return resolve();
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      }),
    };
    try {
      if (req.method !== 'HEAD') await response.stream(sink);
      res.end();
    } catch (err) {
      // The head is out: the only honest way to report a failure now is to cut the stream short.
      this.deps.services.log.warn({ err, reqId: ex.requestId }, 'stream failed after the head was sent');
      res.destroy();
    } finally {
      shutdown.removeEventListener('abort', onShutdown);
      finish();
    }
  }
}
