/**
 * The router keeps the node of each path it matched by literal segments alone (src/server/router.ts): every
 * answer must stay what the tree walk gives, for the route table's own paths, paths with params, made-up
 * paths, every method (405 and its Allow, HEAD by GET), asked once or many times, and after a route is added.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Router } from '../src/server/router.js';
import { routeModules } from '../src/server/routes/index.js';
import type { HttpMethod, Route } from '../src/server/route.js';

const table = routeModules.flatMap((m) => m.routes);
const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A path like the table's: a route's own, one with its params filled, or one with a segment changed, cut or added. */
const pathArb = fc.tuple(fc.constantFrom(...table.map((r) => r.path)), fc.nat(), fc.constantFrom('x', 'v1', 'search', '%41', '', 'hotlist', '7ABC123')).map(([path, n, seg]) => {
  const segs = path.split('/').slice(1).map((s) => (s.startsWith('{') ? (n % 3 === 0 ? '' : `p${n % 7}`) : s));
  switch (n % 5) {
    case 0:
      return path;
    case 1:
      segs[n % segs.length] = seg;
      break;
    case 2:
      segs.push(seg);
      break;
    case 3:
      segs.pop();
      break;
  }
  return `/${segs.join('/')}`;
});

/** The answer of a router that never saw the path (the tree walk's), or the error it throws. */
function answer(router: Router, method: string, path: string): unknown {
  try {
    return router.match(method, path);
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

describe('router: literal paths kept as matched', () => {
  it('answers as a router that never saw the path, asked once or again, for every method', () => {
    const kept = new Router(table);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...methods), pathArb), { minLength: 1, maxLength: 30 }), (asks) => {
        for (const [method, path] of asks) {
          const want = answer(new Router(table), method, path);
          expect(answer(kept, method, path)).toEqual(want);
          expect(answer(kept, method, path)).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
    // only the table's own literal paths are kept (a param's value or a made-up path never is)
    const literal = new Set(table.filter((r) => !r.path.includes('{')).map((r) => r.path));
    expect((kept as unknown as { literal: Map<string, unknown> }).literal.size).toBeLessThanOrEqual(literal.size);
    for (const path of (kept as unknown as { literal: Map<string, unknown> }).literal.keys()) expect(literal.has(path)).toBe(true);
  });

  it('a route added after paths were matched is found (nothing kept from before answers for it)', () => {
    const router = new Router(table);
    expect(router.match('GET', '/v1/search').kind).toBe('method-not-allowed');
    expect(router.match('GET', '/v1/search').kind).toBe('method-not-allowed');
    const extra: Route = { ...table.find((r) => r.path === '/v1/search')!, method: 'GET' as HttpMethod };
    router.add(extra);
    const found = router.match('GET', '/v1/search');
    expect(found.kind).toBe('found');
    expect(found.kind === 'found' && found.route).toBe(extra);
    expect(router.match('HEAD', '/v1/search')).toEqual(found);
  });
});
