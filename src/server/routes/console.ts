/**
 * The web console: `GET /` (the page) and `GET /ui/{asset}` (its hashed files), built by `npm run build:ui`
 * into dist/ui/ (src/server/console/assets.ts). Public and outside /v1, so not audited, like /healthz: the
 * console is static code that holds no data; everything it shows comes from /v1 calls made with the user's
 * token, each audited. Both are entries of the one route table and documented in openapi.yaml, so the
 * openapi test keeps covering every path the server answers.
 *
 * Cache: hashed assets `max-age=31536000, immutable`; the page `no-cache` (it names the current hashes).
 */
import { join } from 'node:path';
import { NotFound } from '../../errors.js';
import { loadConsoleBundle, type ConsoleBundle } from '../console/assets.js';
import { consoleHeaders } from '../console/csp.js';
import type { RequestContext, Route, RouteResponse, ServerServices } from '../route.js';
import { packageRoot } from './ops.js';

const bundles = new WeakMap<ServerServices, ConsoleBundle | undefined>();

function bundleFor(services: ServerServices): ConsoleBundle | undefined {
  if (!bundles.has(services)) bundles.set(services, loadConsoleBundle(join(packageRoot(), 'dist', 'ui')));
  return bundles.get(services);
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function page(ctx: RequestContext): RouteResponse {
  const bundle = bundleFor(ctx.services);
  if (!bundle) throw NotFound('The console is not built (npm run build:ui)');
  const tileUrl = ctx.services.config.tileUrl;
  return {
    headers: { ...consoleHeaders(tileUrl), 'cache-control': 'no-cache' },
    contentType: 'text/html; charset=utf-8',
    body: bundle.indexTemplate.replace('%TILE_URL%', escapeAttribute(tileUrl ?? '')),
  };
}

function asset(ctx: RequestContext): RouteResponse {
  const found = bundleFor(ctx.services)?.assets.get(ctx.params.asset ?? '');
  if (!found) throw NotFound(`No console file ${ctx.params.asset}`);
  return {
    headers: { ...consoleHeaders(ctx.services.config.tileUrl), 'cache-control': 'public, max-age=31536000, immutable' },
    contentType: found.contentType,
    body: found.body,
  };
}

export function setup(services: ServerServices): void {
  bundleFor(services);
}

export const routes: Route[] = [
  { method: 'GET', path: '/', roles: 'public', action: 'console', rateCost: 0, summary: 'The web console', handler: page },
  { method: 'GET', path: '/ui/{asset}', roles: 'public', action: 'console.asset', rateCost: 0, summary: 'A file of the web console (content-hashed name)', handler: asset },
];
