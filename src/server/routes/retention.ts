/**
 * Retention (admin): `PUT /v1/retention` `{"retentionSeconds": N}` (integer ≥ 60; `null` keeps reads for
 * ever) and `GET /v1/retention`. The setting is durable before the answer, and every later query and export
 * carries the new cutoff; the sweeper (started here at server start) deletes the reads from disk.
 */
import { BadInput } from '../../errors.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';
import { acquireEngineLock } from '../tenancy/data-dir-lock.js';
import { kMaxRetentionSeconds, kMinRetentionSeconds } from '../tenancy/directory.js';
import { openHoldsFor } from '../tenancy/holds.js';
import { RetentionSweeper } from '../tenancy/retention-sweeper.js';

const sweepers = new WeakMap<ServerServices, RetentionSweeper>();

export async function setup(services: ServerServices): Promise<void> {
  // The server owns the data dir's engine: a bulk `platesearch ingest`/`export` refuses to open it while
  // the server runs (and the server refuses to start while one of them runs). Belongs in server.ts, before
  // the engine is opened; here until it moves there.
  const lock = acquireEngineLock(services.dataDir, 'server');
  services.onClose(() => lock.release());
  const holds = await openHoldsFor(services);
  const sweeper = new RetentionSweeper(services.directory, services.engine, services.log, undefined, services.auditTrail, (t) => holds.heldReads(t)).start();
  sweepers.set(services, sweeper);
  services.onClose(() => sweeper.stop());
}

/** Runs a retention sweep now (after a legal hold is released); resolves when it is done. */
export function sweepNow(services: ServerServices): Promise<void> {
  return sweepers.get(services)?.sweep() ?? Promise.resolve();
}

/** Resolves when the sweep in progress, if any, is done (see RetentionSweeper.settled). */
export function sweepSettled(services: ServerServices): Promise<void> {
  return sweepers.get(services)?.settled() ?? Promise.resolve();
}

function state(ctx: RequestContext) {
  const s = ctx.services.directory.retentionSeconds(ctx.principal.tenant);
  return {
    retentionSeconds: s ?? null,
    cutoff: s === undefined ? null : new Date(ctx.now - s * 1000).toISOString(),
  };
}

async function put(ctx: RequestContext): Promise<RouteResponse> {
  const body = ctx.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('retentionSeconds' in body)) {
    throw BadInput('body must be {"retentionSeconds": N}');
  }
  const extra = Object.keys(body).filter((k) => k !== 'retentionSeconds');
  if (extra.length > 0) throw BadInput(`unknown field ${JSON.stringify(extra[0])}`);
  const n = (body as { retentionSeconds: unknown }).retentionSeconds;
  if (n !== null && (typeof n !== 'number' || !Number.isInteger(n) || n < kMinRetentionSeconds || n > kMaxRetentionSeconds)) {
    throw BadInput(`retentionSeconds must be an integer in [${kMinRetentionSeconds}, ${kMaxRetentionSeconds}]`);
  }
  await ctx.services.directory.setRetention(ctx.principal.tenant, n as number | null);
  void sweepers.get(ctx.services)?.sweep();
  return { json: state(ctx) };
}

export const routes: Route[] = [
  { method: 'GET', path: '/v1/retention', roles: ['admin'], action: 'retention.get', summary: 'The tenant\'s retention', handler: (ctx) => ({ json: state(ctx) }) },
  { method: 'PUT', path: '/v1/retention', roles: ['admin'], action: 'retention.set', body: 'json', summary: 'Set the tenant\'s retention', handler: put },
];
