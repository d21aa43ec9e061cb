/**
 * Wall-clock timing of one query on one peer: a warm-up, then the median of `runs` timed runs, fewer when
 * they would take longer than `budgetMs` in all (at least one timed run): a 20 s scan measured 5 times
 * says little more than measured 3 times, and the harness must finish.
 *
 * The warm-up repeats the query until `warmupMs` have passed (at least once), as tinybench's warm-up does:
 * a server answers thousands of searches, so its code is compiled and its caches are hot. One warm-up run
 * left a sub-millisecond query measured mostly in V8's interpreter (an exact plate took ~0.4 ms over 6
 * runs in a fresh process and ~0.06 ms after 12). Every system gets the same warm-up.
 */
import { performance } from 'node:perf_hooks';

export interface Timed<T> {
  medianMs: number;
  /** Every timed run, in order. */
  runsMs: number[];
  /** The answer of the first timed run. */
  result: T;
  /**
   * This process's CPU time (all threads, ms) and minor page faults per timed run: our engine's own work when it
   * is the one timed (the SQL peers' work is in their processes and threads, not only here).
   */
  cpuMsPerRun: number;
  faultsPerRun: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timeRuns<T>(runs: number, budgetMs: number, fn: () => Promise<T>, warmupMs = 0): Promise<Timed<T>> {
  // warm-up: caches, JIT, plans, pages
  const w0 = performance.now();
  do await fn();
  while (performance.now() - w0 < warmupMs);
  const runsMs: number[] = [];
  let result: T | undefined;
  let spent = 0;
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  for (let i = 0; i < runs; i++) {
    // Stop when another run as slow as the slowest so far would overrun the budget.
    if (i > 0 && spent + Math.max(...runsMs) > budgetMs) break;
    const t0 = performance.now();
    const r = await fn();
    const ms = performance.now() - t0;
    runsMs.push(ms);
    spent += ms;
    if (i === 0) result = r;
  }
  const cpu = process.cpuUsage(cpu0);
  const n = runsMs.length;
  return {
    medianMs: median(runsMs), runsMs, result: result as T,
    cpuMsPerRun: (cpu.user + cpu.system) / 1000 / n, faultsPerRun: (process.resourceUsage().minorPageFault - faults0) / n,
  };
}
