/**
 * `--probe`: our engine's small queries timed at each phase of a run (after its own load, after each peer's
 * load, after each quiesce step), to see what the phases do to them (issue 12). Logged only; the report's rows
 * are the query loop's. Beside the wall-clock median it logs the process's CPU per run (all threads) and the
 * page faults and involuntary context switches per run, which tell waiting (preempted, faulting) from working.
 */
import { performance } from 'node:perf_hooks';
import type { Peer } from './peer.js';
import type { BenchQuery } from './query-set.js';
import { median } from './timing.js';

// Row names of the probed queries: the sub-millisecond rows a run with --pg showed slower (issue 12).
const kProbed = ['exact plate, all time', 'contains', 'busy exact'];
const kWarmupMs = 250;
const kRuns = 31;

export function probedQueries(queries: readonly BenchQuery[]): BenchQuery[] {
  return queries.filter((q) => kProbed.some((w) => q.name.startsWith(w)));
}

/** One line per query: `name: median ms, CPU ms/run, faults/run, preempted/run`. */
export async function probe(engine: Peer, queries: readonly BenchQuery[]): Promise<string[]> {
  const lines: string[] = [];
  for (const q of queries) {
    const w0 = performance.now();
    do await engine.run(q);
    while (performance.now() - w0 < kWarmupMs);
    const runsMs: number[] = [];
    const cpu0 = process.cpuUsage();
    const ru0 = process.resourceUsage();
    for (let i = 0; i < kRuns; i++) {
      const t0 = performance.now();
      await engine.run(q);
      runsMs.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    const ru = process.resourceUsage();
    const per = (n: number) => (n / kRuns).toFixed(1);
    lines.push(`${q.name}: ${median(runsMs).toFixed(3)} ms median, CPU ${((cpu.user + cpu.system) / 1000 / kRuns).toFixed(3)} ms/run ` +
      `(sys ${(cpu.system / 1000 / kRuns).toFixed(3)}), faults ${per(ru.minorPageFault - ru0.minorPageFault)}+${per(ru.majorPageFault - ru0.majorPageFault)} major/run, ` +
      `preempted ${per(ru.involuntaryContextSwitches - ru0.involuntaryContextSwitches)}/run`);
  }
  return lines;
}
