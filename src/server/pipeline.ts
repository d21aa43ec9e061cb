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
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
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
import { assertSize, bodyFormat, parseBatchBody, parseJsonBody, readBody, type RawBatch, type RawBody } from './body.js';
import type { ServerMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { defaultParams, outcomeOf, statedJustification } from './request-audit.js';
import type {
  AuditDraft, BatchItem, HttpMethod, Principal, RequestContext, Route, RouteResponse, ServerServices, StreamResponse,
  StreamSink,
} from './route.js';
import { giveBack } from './answer-buffers.js';
import { giveBackController, takeController } from './request-signals.js';
import type { Logger } from './logger.js';
import { kDefaultBodyLimit } from './route.js';
import type { Router } from './router.js';

/** The caller of a public route without a valid token. */
const kAnonymous: Principal = Object.freeze({ tenant: kSystemTenant, user: '', roles: [] }) as Principal;

// RFC 6750: `Authorization: Bearer <token>`; the scheme is case-insensitive
const kBearer = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Longest the main thread watches for its record's durable answer when it serves one request alone (trail.ts
 * `settle`), once the answer's text is made: the two O_DSYNC writes take ~0.3–1 ms on this project's VM; a
 * slower disk is left to the event loop after this, so a request arriving meanwhile waits at most this long.
 */
const kSettleMs = 2;

/**
 * How long the server must have served its requests one at a time (none arriving while another was in
 * flight) before a lone request wakes the writer thread ahead of its record and watches for its answer: with
 * 8 clients a request is often alone for a moment while the next ones are still on the wire, and watching then
 * held them off (exact plate × 8: main thread 0.40–0.43 ms a request against 0.20–0.29, bench/RESULTS.md
 * "Issue 12: the one-client record path").
 */
const kSerialMs = 1000;

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
  draft: RequestDraft;
  /** Answer with `Connection: close` (an over-limit body was left unread). */
  closeConnection?: boolean;
  /**
   * The request's signal (ctx.signal): aborted by its time budget or by the client going away. Undefined
   * once given back for the next requests (request-signals.ts): nothing aborts it for this one then.
   */
  abort: AbortController | undefined;
  /** While the handler runs: rejects its race with the abort's reason. */
  cancel: ((reason: unknown) => void) | undefined;
}

/** A JSON answer's text (`json` stringified, or `jsonBytes`' bytes); undefined for other answers. */
function jsonText(response: RouteResponse): string | Uint8Array | undefined {
  if ('json' in response) return JSON.stringify(response.json);
  if ('jsonBytes' in response) return response.jsonBytes();
  return undefined;
}

/**
 * The route's handler after the guards, as one promise. Guards with nothing to check for a request answer
 * at once (no promise; src/server/governance/guard.ts): the handler then starts in the same tick, not
 * after the microtask hops of awaiting them.
 */
function guardedHandler(services: ServerServices, ctx: RequestContext, route: Route): Promise<RouteResponse> {
  try {
    const guarded = services.runGuards(ctx, route);
    if (guarded === undefined) return Promise.resolve(route.handler(ctx));
    return guarded.then(() => route.handler(ctx));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Aborts the request's work with `reason` (the first reason wins). */
function stop(ex: Exchange, reason: Error): void {
  const c = ex.abort;
  if (c === undefined || c.signal.aborted) return;
  c.abort(reason);
  ex.cancel?.(reason);
}

/** The audit record being assembled (route.ts AuditDraft); `params` defaults to the request's own. */
class RequestDraft implements AuditDraft {
  purpose: string | null = null;
  case: string | null = null;
  resultCount = 0;
  tenantsTouched = new Set<string>();
  extra: Record<string, unknown> = {};
  private stated: Record<string, unknown> | undefined;
  private ex: Exchange | undefined;
  private pipeline: Pipeline | undefined;
  private principal: Principal | undefined;

  /** Called once the handler is about to run (before that, no one but the pipeline sees the draft). */
  bind(pipeline: Pipeline, ex: Exchange, principal: Principal): void {
    this.pipeline = pipeline;
    this.ex = ex;
    this.principal = principal;
  }

  get params(): Record<string, unknown> {
    return this.paramsOf(this.ex!);
  }

  set params(v: Record<string, unknown>) {
    this.stated = v;
  }

  /** The params as set by the handler, else path params + query + the body as received. */
  paramsOf(ex: Exchange): Record<string, unknown> {
    return (this.stated ??= defaultParams(ex.params, ex.query, ex.body));
  }

  append(fields: Partial<AuditFields> & { action: string; tenant?: string }): Promise<void> {
    return this.pipeline!.appendExtra(this.ex!, this.principal!, fields);
  }
}

/** What a handler sees (route.ts RequestContext); its logger is made on first use. */
class Context implements RequestContext {
  readonly requestId: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly ip: string;
  readonly principal: Principal;
  /** The guards may replace it (the broad-search guard takes `approval` out); the record keeps the original. */
  body: unknown;
  readonly batch: RawBatch | undefined;
  private items_: BatchItem[] | undefined;
  readonly signal: AbortSignal;
  readonly now: number;
  readonly audit: AuditDraft;
  private logger: Logger | undefined;

  constructor(ex: Exchange, req: IncomingMessage, principal: Principal, batch: RawBatch | undefined, readonly services: ServerServices) {
    this.requestId = ex.requestId;
    this.method = ex.method as HttpMethod;
    this.path = ex.path;
    this.params = ex.params;
    this.query = ex.query;
    this.headers = req.headers;
    this.ip = ex.ip;
    this.principal = principal;
    this.body = ex.body;
    this.batch = batch;
    this.signal = ex.abort!.signal;
    this.now = ex.now;
    this.audit = ex.draft;
  }

  // parsed on first use: the reads route takes NDJSON and JSON bodies as bytes (src/ingest/parse-body.ts)
  get items(): BatchItem[] {
    return (this.items_ ??= this.batch ? parseBatchBody(this.batch.bytes, this.batch.format) : []);
  }

  // a pino child per request costs more than most handlers use it (only on their error paths)
  get log(): Logger {
    return (this.logger ??= this.services.log.child({ reqId: this.requestId }));
  }
}

export class Pipeline {
  /** Requests being served (from the listener to the end of serve): 1 means the main thread is this request's alone. */
  private active = 0;
  /** When a request last arrived while another was being served (performance.now()). */
  private lastOverlap = -Infinity;
  private readonly served = (): void => {
    this.active--;
  };

  constructor(private readonly deps: PipelineDeps) {}

  /** The node:http 'request' listener. Never throws; every path ends the response. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID();
    if (this.active > 0) this.lastOverlap = performance.now();
    this.active++;
    this.serve(req, res, requestId).then(this.served, (err: unknown) => {
      this.active--;
      this.deps.services.log.error({ err }, 'request pipeline failed');
      if (!res.headersSent) {
        try {
          this.send(res, errorResponse(Internal()), req.method === 'HEAD', requestId, false);
          return;
        } catch {
          // fall through
        }
      }
      res.destroy();
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const { services, metrics } = this.deps;
    const { path, query } = splitUrl(req.url);
    const ex: Exchange = {
      requestId,
      method: req.method ?? 'GET',
      path,
      query,
      ip: req.socket.remoteAddress ?? '',
      now: Date.now(),
      start: performance.now(),
      params: {},
      body: undefined,
      draft: new RequestDraft(),
      abort: takeController(),
      cancel: undefined,
    };
    metrics.inFlight.inc();
    const audited = path === '/v1' || path.startsWith('/v1/');

    // A client that goes away aborts its handler's work (the audit record is still written).
    res.once('close', () => {
      if (!res.writableFinished) stop(ex, ClientClosed());
    });

    let response: RouteResponse;
    // the handler answered (not threw): nothing of it runs on after its answer is sent, so its controller
    // may serve the next request (one that failed may have left work behind that still holds the signal)
    let answered = false;
    try {
      response = await this.run(req, ex);
      answered = true;
    } catch (err) {
      response = this.toErrorResponse(err, ex);
    }

    // A JSON answer's text is made while its record is being written (the trail hands the batch to its
    // writer thread inside append): none of it is sent before the record is durable, and if the record
    // fails the text is dropped for the 503.
    let text: string | Uint8Array | undefined;
    if (audited) {
      // alone in a server that has been serving one request at a time: the writer thread is woken now to watch
      // for the record's batch, and this thread watches for its answer once the text is made (trail.ts prime,
      // settle)
      const alone = this.active === 1 && performance.now() - this.lastOverlap > kSerialMs;
      if (alone) services.auditTrail.prime();
      const recorded = this.audit(ex, response);
      const made = response;
      try {
        text = jsonText(made);
      } catch {
        // not JSON after all: send() meets the same error after the record, as it would have
      }
      if (alone) services.auditTrail.settle(kSettleMs);
      response = await recorded;
      if (response !== made) {
        if (text !== undefined && typeof text !== 'string') giveBack(text);
        text = undefined;
      }
    }

    const status = response.status ?? 200;
    const routeLabel = ex.route?.path ?? 'unmatched';
    const finish = (): void => {
      metrics.inFlight.dec();
      metrics.answered(ex.method, routeLabel, status, (performance.now() - ex.start) / 1000);
      const level = status >= 500 ? 'warn' : audited ? 'info' : 'debug';
      // the record is built only when it is written: a server at LOG_LEVEL=warn pays nothing per request
      if (!services.log.isLevelEnabled(level)) return;
      const ms = performance.now() - ex.start;
      services.log[level]({
        reqId: ex.requestId, method: ex.method, path: ex.path, route: routeLabel, status,
        tenant: ex.principal?.tenant, user: ex.principal?.user, ms: Math.round(ms * 1000) / 1000,
      }, 'request');
    };
    const close = ex.closeConnection === true || this.deps.isShuttingDown();
    if ('stream' in response) {
      await this.sendStream(req, res, response, ex, close, finish);
    } else {
      res.once('close', finish);
      this.send(res, response, req.method === 'HEAD', ex.requestId, close, text);
    }
    const controller = ex.abort!;
    ex.abort = undefined;
    if (answered) giveBackController(controller);
  }

  /** Everything up to the handler's response; coded errors are thrown. */
  private async run(req: IncomingMessage, ex: Exchange): Promise<RouteResponse> {
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

    let batch: RawBatch | undefined;
    const kind = route.body ?? 'none';
    if (kind !== 'none') {
      const format = bodyFormat(req, kind);
      if (format !== undefined) {
        const limit = route.bodyLimit ?? kDefaultBodyLimit;
        let raw: RawBody;
        try {
          raw = await readBody(req, limit);
        } catch {
          throw ClientClosed();
        }
        if (raw.undrained) ex.closeConnection = true; // the rest of the body will not be read
        assertSize(raw, limit);
        if (kind === 'json') {
          ex.rawBody = raw.bytes;
          ex.body = parseJsonBody(raw.bytes, format);
        } else {
          batch = { bytes: raw.bytes, format };
        }
      }
    }
    const stated = statedJustification(ex.body);
    ex.draft.purpose = stated.purpose;
    ex.draft.case = stated.case;

    return this.runHandler(req, route, ex, batch);
  }

  private async runHandler(req: IncomingMessage, route: Route, ex: Exchange, batch: RawBatch | undefined): Promise<RouteResponse> {
    const { services } = this.deps;
    const budgetMs = route.timeBudgetMs === undefined ? services.config.queryBudgetMs : route.timeBudgetMs;
    const overBudget = () => QueryTimeout(`The query exceeded its time budget of ${budgetMs} ms`, { budgetMs });
    // one signal per request, aborted with the coded error of whichever comes first: the budget's timer or
    // the client going away (one controller, not AbortSignal.any over two: that one costs a weak
    // reference and listeners per request)
    const signal = ex.abort!.signal;
    const timer = budgetMs === null ? undefined : setTimeout(() => stop(ex, overBudget()), budgetMs);
    // the timer cannot fire while a scan holds this thread: scans also check the deadline itself
    if (budgetMs !== null) attachDeadline(signal, performance.now() + budgetMs, overBudget);
    const principal = ex.principal ?? kAnonymous;
    ex.draft.bind(this, ex, principal);
    const ctx = new Context(ex, req, principal, batch, services);
    try {
      const handled = guardedHandler(services, ctx, route);
      handled.catch(() => {}); // if the budget wins the race, a later rejection is not unhandled
      return await new Promise<RouteResponse>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        ex.cancel = reject;
        // an engine that honours the signal rejects with its own error: report the cause
        handled.then(resolve, (err: unknown) => reject(signal.aborted ? signal.reason : err));
      });
    } finally {
      ex.cancel = undefined;
      if (timer) clearTimeout(timer);
    }
  }

  /** Appends an additional record of this request now (AuditDraft.append), durably, or throws AuditUnavailable. */
  async appendExtra(ex: Exchange, principal: Principal, fields: Partial<AuditFields> & { action: string; tenant?: string }): Promise<void> {
    const base = this.recordFields(ex, 200);
    const tenant = fields.tenant ?? principal.tenant;
    try {
      await this.deps.services.auditTrail.appendDurable(tenant, { ...base, ...fields, tenant });
    } catch (err) {
      this.deps.metrics.auditFailures.inc();
      throw isPlatesearchError(err) && err.code === AuditUnavailable.code ? err : AuditUnavailable();
    }
  }

  private toErrorResponse(err: unknown, ex: Exchange): RouteResponse {
    if (isPlatesearchError(err)) {
      // a coded 5xx is the server's failure, not the client's: its cause goes to the log (500: damaged data
      // or a bug; 503: a state that should pass), since the answer carries only its code
      if (err.status >= 500) {
        this.deps.services.log[err.status === 500 ? 'error' : 'warn']({ err, reqId: ex.requestId, route: ex.route?.path }, 'request failed');
      }
      return errorResponse(err);
    }
    this.deps.services.log.error({ err, reqId: ex.requestId, route: ex.route?.path }, 'handler failed');
    return errorResponse(Internal());
  }

  /** The record of this request as it stands (seq/prev/hash are the trail's). */
  private recordFields(ex: Exchange, status: number): AuditFields & { tenant: string } {
    const principal = ex.principal;
    const tenant = principal?.tenant ?? kSystemTenant;
    const d = ex.draft;
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
      params: recordedParams(d.paramsOf(ex), ex.rawBody),
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
      if (others.length > 0) {
        const written = await Promise.allSettled(others.map((other) => auditTrail.appendDurable(other, { ...fields, tenant: other })));
        const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      this.deps.metrics.auditFailures.inc();
      log.error({ err, reqId: ex.requestId }, 'audit record (touched tenant) could not be written');
      response = errorResponse(AuditUnavailable());
      status = response.status!;
      Object.assign(fields, { status, outcome: outcomeOf(status) });
    }
    try {
      // no other request in flight: the record is sealed on this thread before the hand-off (trail.ts AppendOptions)
      await auditTrail.appendDurable(own, fields, { callerIdle: this.active === 1 });
    } catch (err) {
      this.deps.metrics.auditFailures.inc();
      log.error({ err, reqId: ex.requestId }, 'audit record could not be written');
      return errorResponse(AuditUnavailable());
    }
    return response;
  }

  /**
   * Writes a whole answer. The head is passed to writeHead as one raw list (no header was set before, so
   * node:http takes its fast path), and a JSON answer is ended as a string: node:http then sends head and
   * body in one write instead of a writev of two buffers (a `jsonBytes` answer is sent as its bytes: the
   * copy of a big answer's text into a string and back costs more than the second buffer). `made`: the
   * JSON answer's text, if made already.
   */
  private send(res: ServerResponse, response: RouteResponse, head: boolean, requestId: string, close: boolean, made?: string | Uint8Array): void {
    if (res.destroyed) return;
    const status = response.status ?? 200;
    const headers: Array<string | number> = ['x-request-id', requestId];
    if (close) headers.push('connection', 'close');
    if (response.headers) for (const k in response.headers) headers.push(k, response.headers[k]!);
    if ('json' in response || 'jsonBytes' in response) {
      const text = made ?? jsonText(response)!;
      headers.push('content-type', 'application/json; charset=utf-8', 'content-length', typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.length);
      res.writeHead(status, headers as unknown as string[]);
      if (typeof text === 'string') res.end(head ? undefined : text, 'utf8');
      else if (head) {
        giveBack(text);
        res.end();
      } else res.end(text, () => giveBack(text));
    } else if ('body' in response) {
      const body = response.body;
      headers.push('content-type', response.contentType, 'content-length', typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length);
      res.writeHead(status, headers as unknown as string[]);
      if (head) res.end();
      else if (typeof body === 'string') res.end(body, 'utf8');
      else res.end(body);
    } else {
      res.writeHead(status, headers as unknown as string[]);
      res.end();
    }
  }

  private async sendStream(
    req: IncomingMessage, res: ServerResponse, response: StreamResponse, ex: Exchange, close: boolean, finish: () => void,
  ): Promise<void> {
    const gone = new AbortController();
    const onShutdown = (): void => gone.abort();
    const shutdown = this.deps.services.shutdownSignal;
    shutdown.addEventListener('abort', onShutdown, { once: true });
    res.once('close', () => gone.abort());
    res.setHeader('x-request-id', ex.requestId);
    if (close) res.setHeader('connection', 'close');
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
