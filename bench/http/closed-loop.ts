/**
 * A closed-loop load: `clients` callers, each sending its next request as soon as the previous one was
 * answered, for a fixed time, over one undici Pool with a connection per client. Latency is measured
 * around the whole request (send, server, body read), as a client sees it.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { summarise, type LatencySummary } from './latency.js';

export interface Outcome {
  status: number;
  /** The engine's own time for a search, from the answer's `tookMs`. */
  tookMs?: number;
  /** Reads acknowledged by an ingest answer. */
  accepted?: number;
}

export type Send = (pool: Pool, client: number) => Promise<Outcome>;

export interface PhaseResult {
  clients: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  readsAccepted: number;
  readsPerSecond: number;
  latencyMs: LatencySummary;
  /** Search phases: the engine's time (tookMs) and latency minus it, per request. */
  engineMs?: LatencySummary;
  overheadMs?: LatencySummary;
  status: Record<string, number>;
}

export async function closedLoop(url: string, clients: number, seconds: number, send: Send): Promise<PhaseResult> {
  const pool = new Pool(url, { connections: clients, headersTimeout: 120_000, bodyTimeout: 120_000 });
  try {
    return await runClosedLoop(clients, seconds, (c) => send(pool, c));
  } finally {
    await pool.close();
  }
}

/** The loop itself, over any transport (bench/http/raw-client.ts for the search phases). */
export async function runClosedLoop(clients: number, seconds: number, send: (client: number) => Promise<Outcome>): Promise<PhaseResult> {
  const latency: number[] = [], engine: number[] = [], overhead: number[] = [];
  const status: Record<string, number> = {};
  let accepted = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const client = async (c: number): Promise<void> => {
    // at least one request per client, however slow: a phase always has figures
    do {
      const t0 = performance.now();
      const out = await send(c);
      const ms = performance.now() - t0;
      latency.push(ms);
      status[out.status] = (status[out.status] ?? 0) + 1;
      accepted += out.accepted ?? 0;
      if (out.tookMs !== undefined) {
        engine.push(out.tookMs);
        overhead.push(ms - out.tookMs);
      }
    } while (performance.now() < until);
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const elapsedS = (performance.now() - started) / 1000;
  return {
    clients,
    seconds: Math.round(elapsedS * 10) / 10,
    requests: latency.length,
    requestsPerSecond: Math.round((latency.length / elapsedS) * 10) / 10,
    readsAccepted: accepted,
    readsPerSecond: Math.round(accepted / elapsedS),
    latencyMs: summarise(latency),
    ...(engine.length > 0 ? { engineMs: summarise(engine), overheadMs: summarise(overhead) } : {}),
    status,
  };
}

/**
 * POSTs `body`; answers the status and the answer's text. The text is not parsed here: a search answer of
 * thousands of hits takes the client milliseconds to parse, which is not the server's time.
 */
export async function post(pool: Pool, path: string, token: string, contentType: string, body: string | Uint8Array): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    method: 'POST', path, body,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/**
 * A number field of a JSON answer whose numbers are all at top level near the end (`tookMs`, `accepted`):
 * read from the text without parsing the hits before it.
 */
export function numberField(text: string, name: string): number | undefined {
  const m = new RegExp(`"${name}":(-?[0-9.eE+-]+)`).exec(text.length > 4096 && name === 'tookMs' ? text.slice(-4096) : text);
  return m ? Number(m[1]) : undefined;
}
