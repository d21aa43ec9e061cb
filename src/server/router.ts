/**
 * Path + method → route. Paths are split into segments; a route's segment is a literal or a `{param}`
 * matching one non-empty segment. Literal segments win over params, so `/v1/search/hotlist` beats a
 * hypothetical `/v1/search/{id}`. A path that matches but not with this method → 405 with `Allow`.
 */
import { BadInput } from '../errors.js';
import type { HttpMethod, Route } from './route.js';

interface Node {
  literal: Map<string, Node>;
  param?: { name: string; node: Node };
  routes: Map<HttpMethod, Route>;
}

function newNode(): Node {
  return { literal: new Map(), routes: new Map() };
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'not-found' };

function segments(path: string): string[] {
  return path.split('/').slice(1);
}

export class Router {
  private readonly root = newNode();
  private readonly all: Route[] = [];
  /**
   * The node of each path matched by literal segments alone (no param), as found: every request's route is looked
   * up, and splitting its path and walking the tree a segment at a time cost ~3 µs of the server's main thread a
   * request in a profile of exact plate × 8 (bench/RESULTS.md, "Issue 12: exact plate × 8, the request path's
   * small costs"). Only such paths are kept: they are the route table's own (a few dozen), so any path a client
   * makes up (a param's value, a 404) never grows it. Emptied when a route is added.
   */
  private readonly literal = new Map<string, Node>();

  constructor(routes: Iterable<Route> = []) {
    for (const r of routes) this.add(r);
  }

  add(route: Route): void {
    if (!route.path.startsWith('/')) throw new Error(`route path must start with "/": ${route.path}`);
    let node = this.root;
    for (const seg of segments(route.path)) {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(seg);
      if (m) {
        if (node.param && node.param.name !== m[1]) {
          throw new Error(`route ${route.path}: param {${m[1]}} clashes with {${node.param.name}}`);
        }
        node.param ??= { name: m[1]!, node: newNode() };
        node = node.param.node;
      } else {
        let next = node.literal.get(seg);
        if (!next) node.literal.set(seg, (next = newNode()));
        node = next;
      }
    }
    if (node.routes.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    node.routes.set(route.method, route);
    this.all.push(route);
    this.literal.clear();
  }

  /** Every route, in the order added (for openapi.yaml's test and the docs). */
  routes(): readonly Route[] {
    return this.all;
  }

  /** `HEAD` is answered by the `GET` route. Params are percent-decoded (400 if they cannot be). */
  match(method: string, path: string): RouteMatch {
    const known = this.literal.get(path);
    const node = known ? { node: known, params: [] } : this.find(this.root, segments(path), 0, []);
    if (!node) return { kind: 'not-found' };
    if (!known && node.params.length === 0) this.literal.set(path, node.node);
    const wanted = (method === 'HEAD' ? 'GET' : method) as HttpMethod;
    const route = node.node.routes.get(wanted);
    if (!route) {
      const allow = [...node.node.routes.keys()];
      if (allow.includes('GET')) allow.push('HEAD' as HttpMethod);
      return { kind: 'method-not-allowed', allow };
    }
    const params: Record<string, string> = {};
    for (const [name, raw] of node.params) {
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        throw BadInput(`path parameter ${name} is not valid percent-encoding`, { field: name });
      }
    }
    return { kind: 'found', route, params };
  }

  private find(node: Node, segs: string[], i: number, params: Array<[string, string]>):
    { node: Node; params: Array<[string, string]> } | undefined {
    if (i === segs.length) return node.routes.size > 0 ? { node, params } : undefined;
    const seg = segs[i]!;
    const lit = node.literal.get(seg);
    if (lit) {
      const found = this.find(lit, segs, i + 1, params);
      if (found) return found;
    }
    if (node.param && seg.length > 0) {
      return this.find(node.param.node, segs, i + 1, [...params, [node.param.name, seg]]);
    }
    return undefined;
  }
}
