/** Latency samples of one phase and their percentiles (nearest rank). */

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p% of the samples at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function summarise(samples: readonly number[]): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? NaN) };
}
