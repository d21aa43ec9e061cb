/**
 * Operations: `GET /healthz` and `GET /metrics` (no token, not audited: they are outside /v1), and the API
 * description `GET /v1/openapi.yaml` (no token needed; audited like every /v1 request).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFound } from '../../errors.js';
import type { RequestContext, Route, RouteResponse } from '../route.js';

/** The repository (package) root: the nearest directory above this file with a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

let openapiText: string | undefined;

function openapi(): RouteResponse {
  try {
    openapiText ??= readFileSync(join(packageRoot(), 'openapi.yaml'), 'utf8');
  } catch {
    throw NotFound('openapi.yaml is not installed with this build');
  }
  return { contentType: 'application/yaml; charset=utf-8', body: openapiText };
}

function healthz(ctx: RequestContext): RouteResponse {
  if (ctx.services.shutdownSignal.aborted) return { status: 503, json: { ok: false, reason: 'shutting down' } };
  let corruptFiles: string[] = [];
  try {
    corruptFiles = ctx.services.engine.stats().corruptFiles;
  } catch {
    // stats are best effort; readiness is that we answer
  }
  // Serving, but some data files failed their checksums: still ready (healthy shards are served), flagged.
  return { json: corruptFiles.length > 0 ? { ok: true, degraded: true, corruptFiles } : { ok: true } };
}

async function metrics(ctx: RequestContext): Promise<RouteResponse> {
  const registry = ctx.services.metrics;
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export const routes: Route[] = [
  { method: 'GET', path: '/healthz', roles: 'public', action: 'healthz', rateCost: 0, summary: 'Readiness', handler: healthz },
  { method: 'GET', path: '/metrics', roles: 'public', action: 'metrics', rateCost: 0, summary: 'Prometheus metrics', handler: metrics },
  { method: 'GET', path: '/v1/openapi.yaml', roles: 'public', action: 'openapi', rateCost: 0, summary: 'This API, as OpenAPI 3.1', handler: openapi },
];
