/**
 * What the peer harness compares: the part of an answer that API.md fixes exactly. For a search, the exact
 * `total` and the ordered ids of the returned hits (distance, ts desc, id; cut at `limit`); for a hot-list
 * search, per entry (in entry order) its `total` and its ordered hit ids (cut at `limitPerPlate`).
 * Ids are the engine's own: the peers are loaded with the ids the engine assigned, so ties on `ts` break
 * the same way everywhere.
 */

export interface SearchAnswer {
  kind: 'search';
  total: number;
  ids: string[];
}

export interface HotlistEntryAnswer {
  entry: string;
  total: number;
  ids: string[];
}

export interface HotlistAnswer {
  kind: 'hotlist';
  matches: HotlistEntryAnswer[];
}

/**
 * An analysis (API.md "Investigative analytics"): `total` and the ordered result rows, each written as one
 * canonical line (times in epoch ms; cloned: plate, pairs, the fastest pair's ids, its speed to 9 significant
 * digits, since a peer's libm may differ from V8's in the last bit).
 */
export interface AnalyticsAnswer {
  kind: 'analytics';
  total: number;
  rows: string[];
}

export type Answer = SearchAnswer | HotlistAnswer | AnalyticsAnswer;

/** One analytics result row as the harness compares it. */
export function analyticsRow(fields: ReadonlyArray<string | number | readonly number[]>): string {
  return fields.map((f) => (Array.isArray(f) ? `[${f.join(',')}]` : typeof f === 'number' && !Number.isInteger(f) ? f.toPrecision(9) : String(f))).join(' ');
}

/** A one-line summary for the log: totals and hit counts. */
export function describeAnswer(a: Answer): string {
  if (a.kind === 'search') return `total ${a.total}, ${a.ids.length} hits`;
  if (a.kind === 'analytics') return `total ${a.total}, ${a.rows.length} results`;
  const total = a.matches.reduce((s, m) => s + m.total, 0);
  return `${a.matches.length} entries matched, total ${total}`;
}

function firstIdDifference(a: readonly string[], b: readonly string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `hit ${i}: ${a[i] ?? '(none)'} vs ${b[i] ?? '(none)'} (${a.length} vs ${b.length} hits)`;
  }
  return undefined;
}

/** Undefined when `a` and `b` are the same answer, else where they first differ. */
export function differenceBetween(a: Answer, b: Answer): string | undefined {
  if (a.kind !== b.kind) return `answer kinds differ: ${a.kind} vs ${b.kind}`;
  if (a.kind === 'search' && b.kind === 'search') {
    if (a.total !== b.total) return `total ${a.total} vs ${b.total}`;
    return firstIdDifference(a.ids, b.ids);
  }
  if (a.kind === 'analytics' && b.kind === 'analytics') {
    if (a.total !== b.total) return `total ${a.total} vs ${b.total}`;
    const d = firstIdDifference(a.rows, b.rows);
    return d?.replace(/^hit/, 'result');
  }
  const am = (a as HotlistAnswer).matches;
  const bm = (b as HotlistAnswer).matches;
  const n = Math.max(am.length, bm.length);
  for (let i = 0; i < n; i++) {
    const x = am[i];
    const y = bm[i];
    if (!x || !y) return `matched entries ${am.length} vs ${bm.length}; first unpaired: ${(x ?? y)!.entry}`;
    if (x.entry !== y.entry) return `match ${i}: entry ${x.entry} vs ${y.entry}`;
    if (x.total !== y.total) return `entry ${x.entry}: total ${x.total} vs ${y.total}`;
    const d = firstIdDifference(x.ids, y.ids);
    if (d) return `entry ${x.entry}: ${d}`;
  }
  return undefined;
}

/** Groups SQL rows (entry, total, id), each entry's ids in rank order, into a hot-list answer in `entries` order. */
export function hotlistAnswerFromRows(
  entries: readonly string[], rows: Iterable<readonly [string, number, string]>,
): HotlistAnswer {
  const byEntry = new Map<string, HotlistEntryAnswer>();
  for (const [entry, total, id] of rows) {
    let m = byEntry.get(entry);
    if (!m) byEntry.set(entry, (m = { entry, total, ids: [] }));
    m.ids.push(id);
  }
  const matches: HotlistEntryAnswer[] = [];
  for (const e of entries) {
    const m = byEntry.get(e);
    if (m) matches.push(m);
  }
  return { kind: 'hotlist', matches };
}
