/**
 * Cloned plates (API.md `POST /v1/analytics/cloned`) from the engine's row stream alone: the way cloned.ts
 * takes when it cannot run its own tasks (no kernels over an arena, a shard without a plate → rows lane). One
 * kernel scan of the window (on the worker pool), then on this thread, on compact integer plate ids:
 *   1. every passing row's plate id (a shard's dictionary entry translated once, columns.ts) and the count
 *      of rows per plate;
 *   2. only the rows of plates read twice or more (a week's plates are mostly read once: they cannot make a
 *      pair) are fetched, straight into their plate's range (a counting sort fused with the fetch): time,
 *      position, and where the row is;
 *   3. each plate's range ordered by ts then id (tenant ordinal, seq: the id's own order; read only on equal
 *      times), and consecutive pairs tested with the reference's haversine on the stored coordinates.
 * Only the fastest pair of each listed plate is materialised as hits.
 */
import { kCoordScale } from '../../core/segment.js';
import { comparePlates, speedKmh, type ClonedQuery, type ClonedResult, type ClonedRow } from '../../model/analytics.js';
import type { Hit } from '../../model/query.js';
import { materialise } from '../executor.js';
import { haversineM } from '../reference/geo.js';
import type { Source } from '../sources.js';
import { IdSpace } from './columns.js';
import { cutRows, type AnalysisContext } from './context.js';

/** The fetched rows of plates with two or more, each plate's rows contiguous: [start[p], start[p + 1]). */
interface PlateRows {
  ts: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  source: Int32Array;
  row: Uint32Array;
  sources: Source[];
}

function seqOf(src: Source, i: number): number {
  return src.kind === 'shard' ? src.shard.seqAt(i) : src.view.seq(i);
}

/** Whether fetched row a comes after b in read order (ts, then id = (ordinal, seq)). */
function after(r: PlateRows, a: number, b: number): boolean {
  const d = r.ts[a]! - r.ts[b]!;
  if (d !== 0) return d > 0;
  const sa = r.sources[r.source[a]!]!, sb = r.sources[r.source[b]!]!;
  if (sa.ordinal !== sb.ordinal) return sa.ordinal > sb.ordinal;
  return seqOf(sa, r.row[a]!) > seqOf(sb, r.row[b]!);
}

/**
 * Sorts perm[lo, hi) (one plate's rows) into read order. They arrive mostly in order (sources come shard by
 * shard, day by day, and a shard's rows hour by hour), so an insertion sort is about linear on them and
 * allocates nothing; a range that turns out far from order goes to the library sort.
 */
function sortRange(r: PlateRows, perm: Int32Array, lo: number, hi: number): void {
  let moves = 0;
  const limit = 4 * (hi - lo) + 64;
  for (let i = lo + 1; i < hi; i++) {
    const x = perm[i]!;
    let j = i - 1;
    while (j >= lo && after(r, perm[j]!, x)) {
      perm[j + 1] = perm[j]!;
      j--;
      if (++moves > limit) {
        perm[j + 1] = x; // a permutation again
        perm.set(Array.from(perm.subarray(lo, hi)).sort((a, b) => (after(r, a, b) ? 1 : after(r, b, a) ? -1 : 0)), lo);
        return;
      }
    }
    perm[j + 1] = x;
  }
}

function hit(r: PlateRows, k: number): Hit {
  const source = r.sources[r.source[k]!]!;
  const row = r.row[k]!;
  return materialise({ distance: 0, ts: r.ts[k]!, ordinal: source.ordinal, seq: seqOf(source, row), source, row });
}

export async function runClonedFromRows(ctx: AnalysisContext, q: ClonedQuery): Promise<ClonedResult> {
  const budget = ctx.budget;
  const ids = new IdSpace();
  const scanned = await ctx.scan({ filters: [q.filter] });

  // 1. plate id of every row, and rows per plate
  let total = 0;
  for (const s of scanned) total += s.rows[0]!.length;
  const pid = new Int32Array(total);
  let count = new Int32Array(1024);
  let o = 0;
  for (const s of scanned) {
    const rows = s.rows[0]!;
    const src = s.src;
    if (src.kind === 'shard') {
      const dict = src.shard.plate;
      const plateIds = ids.platesOf(src);
      for (let j = 0; j < rows.length; j++, o++) {
        budget?.tick();
        const d = dict(rows[j]!);
        let p = plateIds[d]!;
        if (p < 0) plateIds[d] = p = ids.shardPlate(src, d);
        pid[o] = p;
      }
    } else {
      for (let j = 0; j < rows.length; j++, o++) {
        budget?.tick();
        pid[o] = ids.plates.id(src.view.plate(rows[j]!));
      }
    }
  }
  const n = ids.plates.size;
  if (count.length < n + 1) count = new Int32Array(n + 1);
  for (let k = 0; k < total; k++) count[pid[k]!]!++;

  // 2. the rows of plates with two or more, fetched into their plate's range
  const start = new Int32Array(n + 1);
  for (let p = 0; p < n; p++) start[p + 1] = start[p]! + (count[p]! >= 2 ? count[p]! : 0);
  const m = start[n]!;
  const r: PlateRows = {
    ts: new Float64Array(m), lat: new Float64Array(m), lon: new Float64Array(m),
    source: new Int32Array(m), row: new Uint32Array(m), sources: scanned.map((s) => s.src),
  };
  const fill = start.slice(0, n);
  o = 0;
  scanned.forEach((s, si) => {
    const rows = s.rows[0]!;
    const src = s.src;
    if (src.kind === 'shard') {
      const sh = src.shard;
      for (let j = 0; j < rows.length; j++, o++) {
        const p = pid[o]!;
        if (count[p]! < 2) continue;
        budget?.tick();
        const i = rows[j]!;
        const at = fill[p]!++;
        r.ts[at] = sh.tsAt(i);
        r.lat[at] = sh.latE7(i) / kCoordScale;
        r.lon[at] = sh.lonE7(i) / kCoordScale;
        r.source[at] = si;
        r.row[at] = i;
      }
    } else {
      for (let j = 0; j < rows.length; j++, o++) {
        const p = pid[o]!;
        if (count[p]! < 2) continue;
        budget?.tick();
        const i = rows[j]!;
        const view = src.view;
        const at = fill[p]!++;
        r.ts[at] = view.ts(i);
        r.lat[at] = view.latE7(i) / kCoordScale;
        r.lon[at] = view.lonE7(i) / kCoordScale;
        r.source[at] = si;
        r.row[at] = i;
      }
    }
  });

  // 3. per plate, in read order, the consecutive pairs
  const perm = new Int32Array(m);
  for (let k = 0; k < m; k++) perm[k] = k;
  const { ts, lat, lon } = r;
  const all: ClonedRow[] = [];
  for (let p = 0; p < n; p++) {
    const lo = start[p]!, hi = start[p + 1]!;
    if (hi - lo < 2) continue;
    budget?.tick();
    sortRange(r, perm, lo, hi);
    let pairs = 0, best = -1, bestSpeed = 0;
    for (let j = lo + 1; j < hi; j++) {
      const a = perm[j - 1]!, b = perm[j]!;
      const d = haversineM(lat[a]!, lon[a]!, lat[b]!, lon[b]!);
      if (d < q.minDistanceM) continue;
      const speed = speedKmh(d, ts[b]! - ts[a]!);
      if (!(speed > q.maxSpeedKmh)) continue;
      pairs++;
      if (best < 0 || speed > bestSpeed) {
        best = j;
        bestSpeed = speed;
      }
    }
    if (best >= 0) all.push({ plate: ids.plates.name(p), pairs, maxSpeedKmh: bestSpeed, example: [hit(r, perm[best - 1]!), hit(r, perm[best]!)] });
  }
  all.sort((a, b) => b.pairs - a.pairs || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
