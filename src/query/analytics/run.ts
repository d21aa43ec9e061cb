/**
 * One analysis, dispatched by kind (the engine calls this with its row scan; see StoreEngine.analytics).
 */
import type { AnalyticsQuery, AnalyticsResult } from '../../model/analytics.js';
import type { ReadFilter } from '../../model/query.js';
import { runCloned } from './cloned.js';
import type { AnalysisContext } from './context.js';
import { runConvoy } from './convoy.js';
import { runFrequent } from './frequent.js';
import { runMultisite, siteFilter } from './multisite.js';

export async function runAnalysis(ctx: AnalysisContext, q: AnalyticsQuery): Promise<AnalyticsResult> {
  switch (q.kind) {
    case 'convoy':
      return { kind: 'convoy', ...(await runConvoy(ctx, q)) };
    case 'multisite':
      return { kind: 'multisite', ...(await runMultisite(ctx, q)) };
    case 'frequent':
      return { kind: 'frequent', ...(await runFrequent(ctx, q)) };
    case 'cloned':
      return { kind: 'cloned', ...(await runCloned(ctx, q)) };
  }
}

/**
 * The time span every row an analysis can read lies in, for planning sources (shards outside it are never
 * touched): the request's window, or for multisite the union of the sites' windows within it.
 */
export function planningWindow(q: AnalyticsQuery): ReadFilter {
  if (q.kind !== 'multisite') return { ...(q.filter.from !== undefined ? { from: q.filter.from } : {}), ...(q.filter.to !== undefined ? { to: q.filter.to } : {}) };
  const sites = q.sites.map((s) => siteFilter(s, q.filter));
  const out: ReadFilter = {};
  if (sites.every((s) => s.from !== undefined)) out.from = Math.min(...sites.map((s) => s.from!));
  if (sites.every((s) => s.to !== undefined)) out.to = Math.max(...sites.map((s) => s.to!));
  if (out.from !== undefined && out.to !== undefined && out.to < out.from) out.to = out.from;
  return out;
}
