/** What the RSS benchmarks (load-open-rss.ts, seal-job-rss.ts) share: their flags and this process's memory from /proc. */
import { readFileSync } from 'node:fs';

export const MiB = 2 ** 20;

/** The value after `--name` on the command line. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** This process's resident set now (VmRSS) or at its peak (VmHWM, every thread's), in bytes. */
export function status(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
