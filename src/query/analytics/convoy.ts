/**
 * Convoy (API.md `POST /v1/analytics/convoy`) in the engine, in two scans:
 *   1. the target's reads: its plate looked up in each shard's plate → rows index (no row scan);
 *   2. the companions: a kernel scan of the shards for the target's cameras over the target's time span
 *      ± the window, with the exact per-camera window test in the worker (row-scan-task.ts),
 * then grouped by plate id and camera id (integers; columns.ts).
 */
import { comparePlates, type ConvoyQuery, type ConvoyResult, type ConvoyRow } from '../../model/analytics.js';
import type { ReadFilter } from '../../model/query.js';
import { gather, IdSpace } from './columns.js';
import { cutRows, type AnalysisContext } from './context.js';

export async function runConvoy(ctx: AnalysisContext, q: ConvoyQuery): Promise<ConvoyResult> {
  const ids = new IdSpace();
  const targets = gather(ids, await ctx.scan({ filters: [q.filter], plate: q.plate }), ctx.budget);
  if (targets.n === 0) return { results: [], total: 0, truncated: false };
  const times = new Map<string, number[]>();
  let minT = Infinity, maxT = -Infinity;
  for (let k = 0; k < targets.n; k++) {
    const camera = ids.cameras.names[targets.camera[k]!]!;
    const t = targets.ts[k]!;
    const list = times.get(camera);
    if (list) list.push(t);
    else times.set(camera, [t]);
    minT = Math.min(minT, t);
    maxT = Math.max(maxT, t);
  }
  const byCamera = new Map<string, Float64Array>();
  for (const [camera, list] of times) byCamera.set(camera, Float64Array.from(list).sort());
  const ms = q.windowSeconds * 1000;
  const filter: ReadFilter = {
    from: Math.max(q.filter.from ?? -Infinity, minT - ms),
    to: Math.min(q.filter.to ?? Infinity, maxT + ms + 1),
    cameras: [...byCamera.keys()],
  };
  const comp = gather(ids, await ctx.scan({ filters: [filter], windows: { ms, byCamera } }), ctx.budget);
  const target = ids.plates.find(q.plate);
  const groups = new Map<number, { cameras: Set<number>; together: number; first: number; last: number }>();
  for (let k = 0; k < comp.n; k++) {
    ctx.budget?.tick();
    const p = comp.plate[k]!;
    if (p === target) continue;
    const t = comp.ts[k]!;
    let g = groups.get(p);
    if (!g) groups.set(p, (g = { cameras: new Set(), together: 0, first: t, last: t }));
    g.cameras.add(comp.camera[k]!);
    g.together++;
    if (t < g.first) g.first = t;
    if (t > g.last) g.last = t;
  }
  const all: ConvoyRow[] = [];
  for (const [p, g] of groups) {
    if (g.cameras.size >= q.minCameras) all.push({ plate: ids.plates.name(p), cameras: g.cameras.size, together: g.together, first: g.first, last: g.last });
  }
  all.sort((a, b) => b.cameras - a.cameras || b.together - a.together || comparePlates(a.plate, b.plate));
  return cutRows(all, q.limit);
}
