/**
 * The console's security headers. The Content Security Policy allows nothing but this origin: no inline
 * script, no inline `<style>` or `style=""` markup (script may still set element.style, which CSP does not
 * govern: that is how Leaflet positions tiles and markers), no third-party origin, no framing. The one
 * exception is the optional tile server of `serve --tile-url`, allowed as an image source and nothing else.
 */
import { BadInput } from '../../errors.js';

/** Checks a `--tile-url` template: http(s), with `{z}`, `{x}` and `{y}`. Returns its origin. */
export function tileOrigin(template: string): string {
  let url: URL;
  try {
    url = new URL(template.replace(/\{[a-z]\}/g, '0'));
  } catch {
    throw BadInput('--tile-url must be an absolute http(s) URL template', { field: 'tileUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw BadInput('--tile-url must be http or https', { field: 'tileUrl' });
  }
  for (const p of ['{z}', '{x}', '{y}']) {
    if (!template.includes(p)) throw BadInput(`--tile-url must contain ${p}`, { field: 'tileUrl' });
  }
  return url.origin;
}

export function contentSecurityPolicy(tileUrl: string | undefined): string {
  const img = ["'self'", 'data:'];
  if (tileUrl) img.push(tileOrigin(tileUrl));
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${img.join(' ')}`,
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers of every console response (the page and its assets). */
export function consoleHeaders(tileUrl: string | undefined): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(tileUrl),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}
