/**
 * What an analysis runs on: the engine's row scan over the sources planned for the caller's scopes
 * (row-scan.ts; shards stay pinned for the whole analysis), and the query's time budget, checked in
 * every per-row loop so a long analysis answers 503 PS_QUERY_TIMEOUT promptly.
 */
import type { QueryBudget } from '../budget.js';
import type { Source } from '../sources.js';
import type { RowScanEnv, RowScanSpec, SourceRows } from './row-scan.js';

/** What an analysis running its own engine tasks needs (cloned.ts): the planned sources, kernels and pool. */
export interface AnalysisEngine {
  sources: readonly Source[];
  env: RowScanEnv;
  signal: AbortSignal | undefined;
}

export interface AnalysisContext {
  scan(spec: RowScanSpec): Promise<SourceRows[]>;
  budget: QueryBudget | undefined;
  /** Absent: the analysis works from `scan` alone. */
  engine?: AnalysisEngine;
}

/** Sorted rows cut at `limit`, with the exact total. */
export function cutRows<R>(all: R[], limit: number): { results: R[]; total: number; truncated: boolean } {
  return { results: all.length > limit ? all.slice(0, limit) : all, total: all.length, truncated: all.length > limit };
}
