/**
 * `GET /v1/alerts` (dispatcher): the tenant's hot-list alerts as Server-Sent Events (src/alerts/stream.ts).
 *
 * Resuming: the `Last-Event-ID` header (or `?lastEventId=`, for clients that cannot set headers) replays
 * every alert after that id that is still retained; without it the stream starts with the next alert.
 * Audit: the request gets its record (action `alerts.stream`) before the first byte, through the pipeline;
 * then every batch of events gets a record `alerts.deliver` (ids, count, tenants whose reads it carries)
 * written durably before the events are sent, in the caller's log and in the log of every other tenant
 * whose reads were delivered. If a delivery record cannot be written the stream ends; the client resumes.
 */
import { BadInput, RateLimited } from '../../errors.js';
import { alertSystemFor } from '../../alerts/for-server.js';
import { runAlertStream } from '../../alerts/stream.js';
import type { RequestContext, Route, RouteResponse, ServerServices, StreamSink } from '../route.js';

// ids of an audited delivery are listed up to this many (a batch is ≤ kBatch = 256 alerts)
const kListedIds = 256;

/**
 * Alert streams one user may hold open at once: a dispatch console with several screens fits, a client
 * that leaks connections does not. Over it: 429 PS_RATE_LIMITED (each stream holds a socket and a reader).
 */
export const kMaxStreamsPerUser = 16;
/** Open streams per `tenant/user`, per server (several servers share a process in tests). */
const openStreams = new WeakMap<ServerServices, Map<string, number>>();

function resumePoint(ctx: RequestContext): number | undefined {
  const header = ctx.headers['last-event-id'];
  const raw = (Array.isArray(header) ? header[0] : header) ?? ctx.query.get('lastEventId') ?? undefined;
  if (raw === undefined || raw.trim() === '') return undefined;
  const id = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(id)) {
    throw BadInput('Last-Event-ID must be a non-negative integer alert id', { field: 'Last-Event-ID' });
  }
  return id;
}

async function streamAlerts(ctx: RequestContext): Promise<RouteResponse> {
  const tenant = ctx.principal.tenant;
  let open = openStreams.get(ctx.services);
  if (!open) openStreams.set(ctx.services, (open = new Map()));
  const userKey = `${tenant}/${ctx.principal.user}`;
  if ((open.get(userKey) ?? 0) >= kMaxStreamsPerUser) {
    throw RateLimited(`At most ${kMaxStreamsPerUser} alert streams may be open per user; close one first`, { retryAfterSeconds: 1 });
  }
  const streams = open;
  const system = await alertSystemFor(ctx.services);
  const head = await system.alerts.lastId(tenant);
  const requested = resumePoint(ctx);
  // an id beyond the log's head (e.g. from another data dir) resumes at the head: nothing was missed
  const after = requested === undefined ? head : Math.min(requested, head);
  ctx.audit.params = { lastEventId: requested ?? null, resumeAfter: after };
  const { directory } = ctx.services;
  return {
    contentType: 'text/event-stream; charset=utf-8',
    headers: { 'x-accel-buffering': 'no', connection: 'keep-alive' },
    // counted from the first byte to the end of the stream (a request refused before it never counts)
    stream: async (sink) => {
      streams.set(userKey, (streams.get(userKey) ?? 0) + 1);
      try {
        await runStream(sink);
      } finally {
        const n = (streams.get(userKey) ?? 1) - 1;
        if (n > 0) streams.set(userKey, n);
        else streams.delete(userKey);
      }
    },
  };

  function runStream(sink: StreamSink): Promise<void> {
    return runAlertStream({
      tenant,
      after,
      log: system.alerts,
      hub: system.hub,
      scopesFor: (t, now) => directory.scopesFor(t, now),
      write: (chunk) => sink.write(chunk),
      signal: sink.signal,
      audit: async (alerts, owners) => {
        const fields = {
          action: 'alerts.deliver',
          params: {
            count: alerts.length, firstId: alerts[0]!.id, lastId: alerts[alerts.length - 1]!.id,
            ids: alerts.length <= kListedIds ? alerts.map((a) => a.id) : undefined,
          },
          resultCount: alerts.length,
          tenantsTouched: owners,
          status: 200,
          outcome: 'ok' as const,
        };
        for (const owner of owners) if (owner !== tenant) await ctx.audit.append({ ...fields, tenant: owner });
        await ctx.audit.append(fields);
      },
    });
  }
}

export async function setup(services: ServerServices): Promise<void> {
  await alertSystemFor(services);
}

export const routes: Route[] = [
  {
    method: 'GET', path: '/v1/alerts', roles: ['dispatcher'], action: 'alerts.stream',
    // a stream lives until the client leaves or the server stops
    timeBudgetMs: null,
    summary: 'Live hot-list alerts (Server-Sent Events; resume with Last-Event-ID)',
    handler: streamAlerts,
  },
];
