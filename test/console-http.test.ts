/**
 * The console's server side without a browser: `GET /` and `GET /ui/{asset}` (headers, caching, no data
 * behind them, not audited), `serve --tile-url` reaching the CSP, and `GET /v1/me` for every role.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kRoles } from '../src/model/tenant.js';
import { contentSecurityPolicy, tileOrigin } from '../src/server/console/csp.js';
import { call, kRepoRoot, readAudit, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ config: { tileUrl: 'https://tiles.example.org/{z}/{x}/{y}.png' } });
});
afterAll(async () => {
  await ts?.close();
});

describe('console files', () => {
  it('serves index.html naming only hashed files that it serves, with the tile URL filled in', async () => {
    const res = await call(ts.url, 'GET', '/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<meta name="platesearch-tiles" content="https://tiles.example.org/{z}/{x}/{y}.png">');
    const named = [...res.text.matchAll(/"\/ui\/([^"]+)"/g)].map((m) => m[1]!);
    // script, stylesheet, atlas, and the chunks the script imports statically (modulepreload)
    expect(named.filter((n) => /^console-.*\.js$/.test(n)).length).toBe(1);
    expect(named.filter((n) => n.endsWith('.css')).length).toBe(1);
    expect(named.filter((n) => /^counties-.*\.json$/.test(n)).length).toBe(1);
    for (const name of named) {
      expect(name).toMatch(/-[A-Z0-9]{8}\.(js|css|json)$/);
      const asset = await call(ts.url, 'GET', `/ui/${name}`);
      expect(asset.status, name).toBe(200);
      expect(Buffer.from(asset.text).equals(readFileSync(join(kRepoRoot, 'dist', 'ui', name))), name).toBe(true);
    }
    // no inline script or style in the page
    expect(res.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|style="/);
  });

  it('answers every built file with a one-year immutable cache and the CSP; nothing else under /ui/', async () => {
    const built = readdirSync(join(kRepoRoot, 'dist', 'ui')).filter((f) => f !== 'index.html');
    expect(built.some((f) => f.startsWith('chunk-'))).toBe(true);
    for (const name of built) {
      const res = await call(ts.url, 'HEAD', `/ui/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe(contentSecurityPolicy('https://tiles.example.org/{z}/{x}/{y}.png'));
    }
    for (const path of ['/ui/index.html', '/ui/..%2Fpackage.json', '/ui/', '/ui/a/b.js', '/index.html']) {
      expect((await call(ts.url, 'GET', path)).status, path).toBe(404);
    }
    expect((await call(ts.url, 'POST', '/')).status).toBe(405);
  });

  it('allows the tile origin for images only, and refuses bad tile templates', () => {
    const csp = contentSecurityPolicy('https://tiles.example.org/{z}/{x}/{y}.png');
    expect(csp).toContain("img-src 'self' data: https://tiles.example.org;");
    expect(csp.replace(/img-src [^;]+;/, '')).not.toContain('tiles.example.org');
    expect(contentSecurityPolicy(undefined)).toContain("img-src 'self' data:;");
    expect(() => tileOrigin('ftp://x/{z}/{x}/{y}')).toThrow(/http/);
    expect(() => tileOrigin('https://x/{z}/{x}.png')).toThrow(/\{y\}/);
    expect(() => tileOrigin('not a url')).toThrow(/absolute/);
  });

  it('does not audit the console files (they hold no data); /v1/me is audited', async () => {
    const before = (await readAudit(ts.dataDir, '_system')).length;
    await call(ts.url, 'GET', '/');
    expect((await readAudit(ts.dataDir, '_system')).length).toBe(before);
    await call(ts.url, 'GET', '/v1/me', { token: ts.token('pd-a', 'auditor') });
    const own = await readAudit(ts.dataDir, 'pd-a');
    expect(own.at(-1)).toMatchObject({ action: 'me', user: 'auditor', outcome: 'ok', status: 200 });
  });
});

describe('GET /v1/me', () => {
  it('names the tenant, user and roles of every role\'s token', async () => {
    for (const role of kRoles) {
      const res = await call(ts.url, 'GET', '/v1/me', { token: ts.token('pd-b', role) });
      expect(res.status, role).toBe(200);
      expect(res.json).toEqual({ tenant: 'pd-b', user: role, roles: [role], audited: true });
    }
    const all = await call(ts.url, 'GET', '/v1/me', { token: ts.token('pd-c', 'all') });
    expect(all.json.roles).toEqual([...kRoles]);
  });

  it('is 401 without a token or with an unknown one', async () => {
    expect((await call(ts.url, 'GET', '/v1/me')).status).toBe(401);
    const res = await call(ts.url, 'GET', '/v1/me', { token: 'nope' });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('PS_UNAUTHENTICATED');
  });
});
