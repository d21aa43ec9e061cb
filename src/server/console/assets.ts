/**
 * The web console's built files (`npm run build:ui` → `dist/ui/`, see ui/build.mjs), held in memory and
 * served by src/server/routes/console.ts.
 *
 * Layout of dist/ui/:
 *
 *   index.html              the page; names the hashed files below; `%TILE_URL%` in a <meta> is filled per server
 *   console-<hash>.js       the bundle (Preact, signals, Leaflet, marker clustering, topojson-client)
 *   console-<hash>.css      the styles (ours + Leaflet's + the cluster plugin's)
 *   counties-<hash>.json    us-atlas counties-10m TopoJSON (states and nation included): the offline basemap
 *   *-<hash>.png            images referenced by Leaflet's CSS
 *
 * Every file but index.html carries a content hash in its name, so it may be cached for a year (`immutable`);
 * index.html is `no-cache`, so a new build is picked up on the next load.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface ConsoleAsset {
  contentType: string;
  body: Buffer;
}

export interface ConsoleBundle {
  /** index.html with `%TILE_URL%` still in it. */
  indexTemplate: string;
  /** Hashed files by name (no directories: the route's `{asset}` is one path segment). */
  assets: Map<string, ConsoleAsset>;
}

const kContentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

/** Reads dist/ui/ once; undefined when the console was not built (the API still serves). */
export function loadConsoleBundle(dir: string): ConsoleBundle | undefined {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return undefined;
  const assets = new Map<string, ConsoleAsset>();
  for (const name of readdirSync(dir)) {
    const contentType = kContentTypes[extname(name)];
    if (name === 'index.html' || contentType === undefined) continue;
    assets.set(name, { contentType, body: readFileSync(join(dir, name)) });
  }
  return { indexTemplate: readFileSync(indexPath, 'utf8'), assets };
}
