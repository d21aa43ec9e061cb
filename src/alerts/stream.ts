/**
 * One dispatcher's alert stream (`GET /v1/alerts`, Server-Sent Events), as a pull loop over the durable
 * alert log:
 *
 *   resume point = Last-Event-ID (or the log's head for a fresh stream)
 *   loop: read ≤ kBatch alerts after it ─► keep those the tenant may see *now* (own, granted and
 *         unexpired, within retention) ─► audit the delivery ─► write the events ─► advance
 *         nothing new: wait for a wake-up, or send a heartbeat comment every heartbeatMs
 *
 * Pulling from the log rather than pushing into per-client queues gives the properties the contract asks
 * for: a reconnect replays exactly what was missed (ids are the log's), nothing is sent twice on one
 * stream, and a slow client costs one batch of memory: the pipeline's sink.write waits for the socket to
 * drain, and meanwhile alerts simply stay in the log.
 */
import type { TenantScope } from '../model/query.js';
import type { AlertLog, LoggedAlert } from './log.js';
import type { AlertHub } from './hub.js';
import { sseEvent } from './alert.js';

// alerts per read of the log and per write to the socket (≈ 100 KB at most)
export const kBatch = 256;
/** Comment lines keep proxies (and the client's idle timers) from closing a quiet stream. */
export const kHeartbeatMs = 15_000;

export interface AlertStreamOptions {
  tenant: string;
  /** Deliver alerts with id > after. */
  after: number;
  log: AlertLog;
  hub: AlertHub;
  scopesFor(tenant: string, now: number): TenantScope[];
  /** Records the delivery of `alerts` durably before they are written; throws if it cannot (the stream ends). */
  audit(alerts: LoggedAlert[], owners: string[]): Promise<void>;
  write(chunk: string): Promise<void>;
  signal: AbortSignal;
  heartbeatMs?: number;
}

export async function runAlertStream(o: AlertStreamOptions): Promise<void> {
  const heartbeatMs = o.heartbeatMs ?? kHeartbeatMs;
  let last = o.after;
  // nothing is written before the first event or heartbeat: every block a client parses is an event or a
  // comment (the head is already flushed by the pipeline, so the client knows the stream is open)
  let lastWrite = Date.now();
  while (!o.signal.aborted) {
    const seen = o.hub.version(o.tenant);
    const batch = await o.log.readAfter(o.tenant, last, kBatch);
    if (o.signal.aborted) break;
    if (batch.length > 0) {
      const now = Date.now();
      const scopes = o.scopesFor(o.tenant, now);
      const visible = batch.filter((a) => scopes.some((s) => s.tenant === a.readTenant && a.readTs >= s.minTs));
      if (visible.length > 0) {
        const owners = [...new Set(visible.map((a) => a.readTenant))].sort();
        await o.audit(visible, owners);
        if (o.signal.aborted) break;
        let chunk = '';
        for (const a of visible) chunk += sseEvent(a.id, a.payload);
        await o.write(chunk);
        lastWrite = Date.now();
      }
      last = batch[batch.length - 1]!.id;
      continue;
    }
    const idle = Date.now() - lastWrite;
    if (idle >= heartbeatMs) {
      await o.write(': heartbeat\n\n');
      lastWrite = Date.now();
      continue;
    }
    await o.hub.wait(o.tenant, seen, heartbeatMs - idle, o.signal);
  }
}
