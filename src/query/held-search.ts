/**
 * Searches that reach held reads past retention (API.md v1.1 "Legal hold"): a search stating case C over
 * its own tenant T also sees T's reads older than T's retention cutoff that one of T's holds for case C
 * reaches. Everything else about the search is unchanged: same filters, same ordering, exact `total`.
 *
 * Held reads are found through the engine's own search calls, never by a second code path over storage.
 * The held region (the union of the holds' reaches, below the cutoff) is cut into disjoint pieces:
 *
 *   time ──────────────────────────────────────────────────────► cutoff (T's retention)
 *   U:   [====)   [=======)            holds without plates: every plate in these windows
 *   p1:     [==========)               a plate's windows minus U (so no read is in two pieces)
 *   p2:  [=====)
 *
 * An all-plate piece is a search of T with the window clipped to it; plate pieces are exact-plate hot-list
 * searches (plates grouped by identical windows), each plate's distance to the query's pattern taken from
 * the same matcher the engine uses. The pieces and the ordinary search (ts ≥ cutoff) are disjoint, so
 * totals add up and the top `limit` of the merge is the top `limit` of the union.
 */
import type { Engine } from '../engine/engine.js';
import type { HitSink } from '../model/hit-sink.js';
import type { HotlistSink } from '../model/hotlist-sink.js';
import type { HoldReach } from '../model/hold.js';
import type { Hit, HotlistMatch, HotlistQuery, HotlistResult, PlateMatch, ReadFilter, SearchKey, SearchQuery, SearchResult, TenantScope } from '../model/query.js';
import { compilePlateMatch } from './plate-matcher.js';

/** What a search may see past retention: `tenant`'s reads with ts < `cutoff` that `reaches` reach. */
export interface HeldScope {
  tenant: string;
  cutoff: number;
  reaches: readonly HoldReach[];
}

/** A half-open window [from, to). */
type Window = [number, number];

/** One disjoint part of the held region: a window, for every plate or for the listed plates. */
interface Piece {
  from: number;
  to: number;
  plates?: string[];
}

function mergeWindows(ws: Window[]): Window[] {
  const sorted = ws.filter(([a, b]) => a < b).sort((x, y) => x[0] - y[0]);
  const out: Window[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else out.push([w[0], w[1]]);
  }
  return out;
}

/** `ws` minus `minus` (both merged, sorted). */
function subtractWindows(ws: readonly Window[], minus: readonly Window[]): Window[] {
  const out: Window[] = [];
  for (const [a0, b] of ws) {
    let a = a0;
    for (const [c, d] of minus) {
      if (d <= a || c >= b) continue;
      if (c > a) out.push([a, c]);
      a = Math.max(a, d);
      if (a >= b) break;
    }
    if (a < b) out.push([a, b]);
  }
  return out;
}

/** The held region as disjoint pieces (exported for its property test). */
export function heldPieces(held: HeldScope): Piece[] {
  const clip = (r: HoldReach): Window => [r.from ?? -Infinity, Math.min(r.to ?? Infinity, held.cutoff)];
  const all = mergeWindows(held.reaches.filter((r) => r.plates === undefined).map(clip));
  // plates reached by the same holds share their windows: group them first (a hold of thousands of plates
  // is then one group, and the windows are worked out once per group, not once per plate)
  const signature = new Map<string, string>();
  held.reaches.forEach((r, i) => {
    if (r.plates === undefined) return;
    const mark = `${i},`;
    for (const p of r.plates) {
      const sig = signature.get(p) ?? ',';
      if (!sig.endsWith(`,${mark}`)) signature.set(p, sig + mark);
    }
  });
  const bySignature = new Map<string, string[]>();
  for (const [plate, sig] of signature) {
    let list = bySignature.get(sig);
    if (!list) bySignature.set(sig, (list = []));
    list.push(plate);
  }
  const groups = new Map<string, { windows: Window[]; plates: string[] }>();
  for (const [sig, plates] of bySignature) {
    const reaches = sig.split(',').filter((x) => x !== '').map((i) => held.reaches[Number(i)]!);
    const windows = subtractWindows(mergeWindows(reaches.map(clip)), all);
    if (windows.length === 0) continue;
    const key = JSON.stringify(windows);
    const g = groups.get(key);
    if (g) g.plates.push(...plates);
    else groups.set(key, { windows, plates: [...plates] });
  }
  const pieces: Piece[] = all.map(([from, to]) => ({ from, to }));
  for (const g of groups.values()) for (const [from, to] of g.windows) pieces.push({ from, to, plates: g.plates });
  return pieces;
}

/** The query's filter narrowed to a piece's window; undefined when nothing is left. */
function clipFilter(filter: ReadFilter, piece: Piece): ReadFilter | undefined {
  const from = Math.max(filter.from ?? -Infinity, piece.from);
  const to = Math.min(filter.to ?? Infinity, piece.to);
  if (!(from < to)) return undefined;
  const out: ReadFilter = { ...filter };
  delete out.from;
  delete out.to;
  if (Number.isFinite(from)) out.from = from;
  if (Number.isFinite(to)) out.to = to;
  return out;
}

/**
 * The page boundary of an exact lookup whose hits all get distance `d`: the engine sees them at distance 0,
 * so a boundary at another distance is all-before (a key past every distance-0 hit) or all-after (none).
 */
function lookupAfter(after: SearchKey | undefined, d: number): SearchKey | undefined {
  if (!after || after.distance < d) return undefined;
  if (after.distance > d) return { distance: 1, ts: after.ts, id: after.id };
  return { ...after, distance: 0 };
}

function exact(plate: string): PlateMatch {
  return { pattern: plate, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false };
}

/** API.md ordering: distance ascending, ts descending, id ascending (string order). */
export function compareHits(a: Hit, b: Hit): number {
  return a.distance - b.distance || b.ts - a.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

type SearchEngine = Pick<Engine, 'search' | 'searchHotlist'>;

// up to this many held plates matching a query are looked up one by one (measured on 500k reads in 10 day
// shards: one exact lookup ≈ 0.07 ms, one hot-list pass over the held days ≈ 7 ms)
const kLookupPlates = 16;

/**
 * `engine.search`, plus the held reads `held` lets this search see (none when `held` is undefined). `sink`
 * (src/model/hit-sink.ts) is offered to the engine only when no held read can join the page: the merge below
 * needs the hits as objects.
 */
export async function searchWithHeld(
  engine: SearchEngine, scopes: readonly TenantScope[], query: SearchQuery, signal: AbortSignal | undefined, held: HeldScope | undefined,
  sink?: HitSink,
): Promise<SearchResult & { heldTotal: number }> {
  const pastCutoff = held !== undefined && held.cutoff > -Infinity;
  const base = await engine.search(scopes, query, signal, pastCutoff ? undefined : sink);
  if (!held || !pastCutoff) return withHeldTotal(base, 0);
  const past: TenantScope[] = [{ tenant: held.tenant, minTs: -Infinity }];
  const matcher = query.plate ? compilePlateMatch(query.plate) : undefined;
  const parts: SearchResult[] = [];
  for (const piece of heldPieces(held)) {
    const filter = clipFilter(query.filter, piece);
    if (!filter) continue;
    if (piece.plates === undefined) {
      parts.push(await engine.search(past, { ...query, filter }, signal));
      continue;
    }
    const distance = new Map<string, number>();
    for (const p of piece.plates) {
      const d = matcher ? matcher(p) : 0;
      if (d >= 0) distance.set(p, d);
    }
    if (distance.size === 0) continue;
    if (distance.size <= kLookupPlates || query.after) {
      // a few plates (an exact or narrow pattern): exact-plate searches are index lookups, far cheaper than
      // a hot-list pass over every held shard's dictionary. A page after a cursor takes this path too: the
      // hot-list pass has no page boundary, a lookup does (the boundary seen at the plate's own distance).
      for (const [p, d] of distance) {
        const after = lookupAfter(query.after, d);
        const found = await engine.search(past, { plate: exact(p), filter, limit: query.limit, ...(after ? { after } : {}) }, signal);
        parts.push({ ...found, hits: found.hits.map((h) => ({ ...h, distance: d })) });
      }
      continue;
    }
    const found = await engine.searchHotlist(past, { entries: [...distance.keys()].map(exact), filter, limitPerPlate: query.limit }, signal);
    const hits: Hit[] = [];
    let total = 0;
    for (const m of found.matches) {
      total += m.total;
      const d = distance.get(m.entry)!;
      for (const h of m.hits) hits.push({ ...h, distance: d });
    }
    parts.push({ hits, total, truncated: total > hits.length });
  }
  if (parts.length === 0) return withHeldTotal(base, 0);
  const heldTotal = parts.reduce((n, p) => n + p.total, 0);
  const total = base.total + heldTotal;
  const merged = [base.hits, ...parts.map((p) => p.hits)].flat().sort(compareHits);
  const hits = merged.slice(0, query.limit);
  // with a page boundary `total` counts reads before it too: more follow when any part had more after it
  const truncated = merged.length > hits.length || base.truncated || parts.some((p) => p.truncated);
  return { hits, total, truncated, heldTotal };
}

/**
 * `r` with `heldTotal`, its fields named one by one rather than spread: this copy is made for every search, and
 * V8 (Node 20) makes `{ ...r, heldTotal }` slowly whatever r's shapes (1.4–1.6 µs in a loop, against ~10 ns for
 * this); it was 3.5–5 µs of the server's main thread a request in two profiles of exact plate × 8 (bench/RESULTS.md,
 * "Issue 12: exact plate × 8, the request path's small costs"). Every field of SearchResult is named
 * (Required<…>): one added there fails to compile here rather than being dropped.
 */
function withHeldTotal(r: SearchResult, heldTotal: number): SearchResult & { heldTotal: number } {
  const out: { [K in keyof Required<SearchResult>]: SearchResult[K] } & { heldTotal: number } = {
    hits: r.hits, total: r.total, truncated: r.truncated, written: r.written, pending: r.pending, heldTotal,
  };
  return out;
}

/** As withHeldTotal, for a hot list's result. */
function hotlistWithHeldTotal(r: HotlistResult, heldTotal: number): HotlistResult & { heldTotal: number } {
  const out: { [K in keyof Required<HotlistResult>]: HotlistResult[K] } & { heldTotal: number } = { matches: r.matches, written: r.written, heldTotal };
  return out;
}

/**
 * `engine.searchHotlist`, plus the held reads `held` lets this search see. `sink` (src/model/hotlist-sink.ts)
 * is offered to the engine only when no held read can join the answer: the merge below needs hit objects.
 */
export async function searchHotlistWithHeld(engine: SearchEngine, scopes: readonly TenantScope[], query: HotlistQuery, signal: AbortSignal | undefined, held: HeldScope | undefined,
  sink?: HotlistSink): Promise<HotlistResult & { heldTotal: number }> {
  const pastCutoff = held !== undefined && held.cutoff > -Infinity;
  const base = await engine.searchHotlist(scopes, query, signal, pastCutoff ? undefined : sink);
  if (!held || !pastCutoff) return hotlistWithHeldTotal(base, 0);
  const past: TenantScope[] = [{ tenant: held.tenant, minTs: -Infinity }];
  const acc = new Map<string, { total: number; hits: Hit[] }>();
  const add = (entry: string, total: number, hits: readonly Hit[]): void => {
    let a = acc.get(entry);
    if (!a) acc.set(entry, (a = { total: 0, hits: [] }));
    a.total += total;
    a.hits.push(...hits);
  };
  let heldTotal = 0;
  let matchers: Array<(plate: string) => number> | undefined;
  for (const piece of heldPieces(held)) {
    const filter = clipFilter(query.filter, piece);
    if (!filter) continue;
    if (piece.plates === undefined) {
      const found = await engine.searchHotlist(past, { ...query, filter }, signal);
      for (const m of found.matches) {
        add(m.entry, m.total, m.hits);
        heldTotal += m.total;
      }
      continue;
    }
    matchers ??= query.entries.map((e) => compilePlateMatch(e));
    // entry → its matching plates with their distances; the plates are searched once for all entries
    const perEntry: Array<Array<[string, number]>> = query.entries.map(() => []);
    const plates = new Set<string>();
    for (const p of piece.plates) {
      for (let e = 0; e < matchers.length; e++) {
        const d = matchers[e]!(p);
        if (d < 0) continue;
        perEntry[e]!.push([p, d]);
        plates.add(p);
      }
    }
    if (plates.size === 0) continue;
    const found = await engine.searchHotlist(past, { entries: [...plates].map(exact), filter, limitPerPlate: query.limitPerPlate }, signal);
    const byPlate = new Map(found.matches.map((m) => [m.entry, m]));
    query.entries.forEach((entry, e) => {
      for (const [p, d] of perEntry[e]!) {
        const m = byPlate.get(p);
        if (!m) continue;
        add(entry.pattern, m.total, m.hits.map((h) => ({ ...h, distance: d })));
        heldTotal += m.total;
      }
    });
  }
  if (acc.size === 0) return hotlistWithHeldTotal(base, 0);
  for (const m of base.matches) add(m.entry, m.total, m.hits);
  const matches: HotlistMatch[] = [];
  for (const e of query.entries) {
    const a = acc.get(e.pattern);
    if (!a || a.total === 0) continue;
    const hits = a.hits.sort(compareHits).slice(0, query.limitPerPlate);
    matches.push({ entry: e.pattern, total: a.total, truncated: a.total > hits.length, hits });
  }
  return { matches, heldTotal };
}
