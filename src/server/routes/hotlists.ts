/**
 * Hot lists (dispatcher, admin): `PUT /v1/hotlists/{name}` replaces a list (optionally with a look-back
 * search), `GET` returns it as stored, `DELETE` removes it, `GET /v1/hotlists` lists the tenant's lists.
 * The list model, its store and its matcher are src/hotlist/; alerts are src/alerts/.
 */
import { BadInput, NotFound } from '../../errors.js';
import { formatTimestamp } from '../../model/time.js';
import { entryAt, isHotlistName, type Hotlist } from '../../hotlist/hotlist.js';
import { parseHotlistBody } from '../../hotlist/parse.js';
import { alertSystemFor } from '../../alerts/for-server.js';
import type { LookbackResult } from '../../alerts/system.js';
import { kBulkBodyLimit, type RequestContext, type Route, type RouteResponse, type ServerServices } from '../route.js';

const kRoles = ['dispatcher', 'admin'] as const;
// entries per chunk of a streamed GET: ~0.5 MB of JSON, so a 1M-entry list never sits whole in memory as text
const kGetChunk = 10_000;

function listName(ctx: RequestContext): string {
  const name = ctx.params.name;
  if (!isHotlistName(name)) {
    throw BadInput('name must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, without ".."', { field: 'name' });
  }
  return name;
}

/** The list's header fields, as GET and the list index show them. */
function describe(list: Hotlist): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: list.name, match: list.mode, maxEdits: list.maxEdits, ocr: list.ocr, transpositions: list.transpositions,
    updated: formatTimestamp(list.updated),
  };
  if (list.lookbackDays !== undefined) out.lookbackDays = list.lookbackDays;
  out.count = list.plates.length;
  return out;
}

function entryJson(list: Hotlist, i: number): string {
  const e = entryAt(list, i);
  const out: Record<string, unknown> = { plate: e.plate, note: e.note };
  if (e.priority !== undefined) out.priority = e.priority;
  if (e.expires !== undefined) out.expires = formatTimestamp(e.expires);
  return JSON.stringify(out);
}

async function putList(ctx: RequestContext): Promise<RouteResponse> {
  const name = listName(ctx);
  const tenant = ctx.principal.tenant;
  if (ctx.body === undefined) throw BadInput('body is required: {"entries": [...], "match", "maxEdits", "ocr"}');
  const list = parseHotlistBody(name, ctx.body, ctx.now);
  const system = await alertSystemFor(ctx.services);
  const loaded = await system.hotlists.put(tenant, list);
  // the pipeline's default params (entries over 100 summarised as {count, sha256}), plus what was stored
  ctx.audit.params = { ...ctx.audit.params, storedEntries: list.plates.length };
  const answer: { name: string; entries: number; lookback?: LookbackResult | { days: number; error: string } } = {
    name, entries: list.plates.length,
  };
  if (list.lookbackDays !== undefined) {
    try {
      const result = await system.lookback(tenant, loaded, list.lookbackDays, ctx.now, ctx.signal);
      for (const t of result.tenantsTouched) ctx.audit.tenantsTouched.add(t);
      ctx.audit.resultCount = result.alerts;
      answer.lookback = result;
    } catch (err) {
      // the list is stored and live either way; say what did not happen
      ctx.log.warn({ err, name }, 'hot-list look-back failed');
      answer.lookback = { days: list.lookbackDays, error: (err as Error).message };
    }
  }
  return { json: answer };
}

async function getList(ctx: RequestContext): Promise<RouteResponse> {
  const name = listName(ctx);
  const system = await alertSystemFor(ctx.services);
  const loaded = system.hotlists.get(ctx.principal.tenant, name);
  if (!loaded) throw NotFound(`no hot list ${JSON.stringify(name)}`);
  const list = loaded.list; // an immutable snapshot: a concurrent replace does not change what is streamed
  ctx.audit.resultCount = list.plates.length;
  const head = JSON.stringify(describe(list));
  return {
    contentType: 'application/json; charset=utf-8',
    async stream(sink) {
      await sink.write(head.slice(0, -1) + ',"entries":[');
      const n = list.plates.length;
      for (let from = 0; from < n && !sink.signal.aborted; from += kGetChunk) {
        const parts: string[] = [];
        for (let i = from; i < Math.min(n, from + kGetChunk); i++) parts.push(entryJson(list, i));
        await sink.write((from > 0 ? ',' : '') + parts.join(','));
      }
      await sink.write(']}');
    },
  };
}

async function deleteList(ctx: RequestContext): Promise<RouteResponse> {
  const name = listName(ctx);
  const system = await alertSystemFor(ctx.services);
  if (!(await system.hotlists.delete(ctx.principal.tenant, name))) throw NotFound(`no hot list ${JSON.stringify(name)}`);
  return { status: 204, empty: true };
}

async function indexLists(ctx: RequestContext): Promise<RouteResponse> {
  const system = await alertSystemFor(ctx.services);
  const lists = system.hotlists.listsOf(ctx.principal.tenant).map((l) => describe(l.list));
  ctx.audit.resultCount = lists.length;
  return { json: { hotlists: lists } };
}

export async function setup(services: ServerServices): Promise<void> {
  await alertSystemFor(services);
}

export const routes: Route[] = [
  {
    method: 'PUT', path: '/v1/hotlists/{name}', roles: kRoles, action: 'hotlist.put', body: 'json',
    bodyLimit: kBulkBodyLimit,
    // a replace is never abandoned half-way, and a look-back search may take a while over 1M entries
    timeBudgetMs: null,
    summary: 'Create or replace a hot list (optionally searching the last lookbackDays for it)',
    handler: putList,
  },
  {
    method: 'GET', path: '/v1/hotlists/{name}', roles: kRoles, action: 'hotlist.get',
    summary: 'A hot list as stored (streamed)', handler: getList,
  },
  {
    method: 'DELETE', path: '/v1/hotlists/{name}', roles: kRoles, action: 'hotlist.delete',
    summary: 'Delete a hot list', handler: deleteList,
  },
  {
    method: 'GET', path: '/v1/hotlists', roles: kRoles, action: 'hotlist.list',
    summary: "The tenant's hot lists (names, options, counts)", handler: indexLists,
  },
];
