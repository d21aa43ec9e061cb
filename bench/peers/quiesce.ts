/**
 * The machine brought to one quiet state after every load and before any system is timed (issue 12).
 *
 * Loading PostgreSQL at 20M writes gigabytes (heap, four indexes, WAL, VACUUM's hint bits) through the page
 * cache with fsync off, so when its load returns 1.4–1.5 GB are still dirty in the kernel (measured), and more in
 * shared_buffers. The kernel writes them back on its own schedule (30 s later, in ~5 s on a fast disk; longer in
 * one of this VM's slow disk phases, not measured), on the same two cores as the timed queries, and whatever is
 * timed meanwhile shares the machine with it: before this step, our engine, first in every row (issue 12: a quiet
 * `--pg` run had our sub-millisecond rows 3–5× slower than a run without PostgreSQL; bench/RESULTS.md's pg-bench
 * section has what was and was not reproduced).
 *
 *   CHECKPOINT (PostgreSQL's dirty buffers to the OS) ─► sync (the OS's dirty pages to the disk)
 *     ─► wait until /proc/meminfo Dirty + Writeback ≤ kDrainedBytes (what other processes keep writing)
 *
 * The state it leaves is the machine's, not any one system's: every system is timed after it, in the same
 * order as before. Nothing is dropped from any cache (each system's warm-up still loads what it reads).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

// What counts as drained: a background trickle (other processes' logs, a busy neighbour) stays under this, while
// a load's writeback is gigabytes.
const kDrainedBytes = 64 * 2 ** 20;
// The drain gives up after this long and the run goes on, saying so: a neighbour writing without pause must not
// hang the harness.
const kDrainTimeoutMs = 10 * 60_000;
const kPollMs = 500;

export interface QuiesceStep {
  step: 'checkpoint' | 'sync' | 'drain';
  ms: number;
  /** /proc/meminfo Dirty + Writeback after the step, bytes. */
  dirtyBytes: number;
}

export interface QuiesceReport {
  /** Dirty + Writeback when the loads had returned, bytes. */
  dirtyBeforeBytes: number;
  steps: QuiesceStep[];
  /** False when the drain hit its timeout. */
  drained: boolean;
  timeoutMs: number;
}

/** Dirty + Writeback of a /proc/meminfo text, in bytes. */
export function dirtyBytesOf(meminfo: string): number {
  let kib = 0;
  for (const m of meminfo.matchAll(/^(Dirty|Writeback):\s+(\d+) kB$/gm)) kib += Number(m[2]);
  return kib * 1024;
}

/** The machine's Dirty + Writeback now; 0 where there is no /proc (the harness then just syncs). */
export function dirtyBytes(): number {
  try {
    return dirtyBytesOf(readFileSync('/proc/meminfo', 'utf8'));
  } catch {
    return 0;
  }
}

export interface QuiesceOptions {
  /** Each SQL peer's own flush of its dirty buffers to the OS (PostgreSQL's CHECKPOINT). */
  checkpoint: () => Promise<void>;
  /** Called after each step (the harness's `--probe` times our engine there). */
  afterStep?: (s: QuiesceStep) => Promise<void>;
  /** The OS's flush (default: the `sync` command). */
  sync?: () => Promise<void>;
  /** Dirty + Writeback now (default: /proc/meminfo's). */
  dirty?: () => number;
  drainedBytes?: number;
  timeoutMs?: number;
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CHECKPOINT, sync, drain (see the file comment), in that order; each step's time and what was left dirty. */
export async function quiesce(o: QuiesceOptions): Promise<QuiesceReport> {
  const dirty = o.dirty ?? dirtyBytes;
  const drainedBytes = o.drainedBytes ?? kDrainedBytes, timeoutMs = o.timeoutMs ?? kDrainTimeoutMs, pollMs = o.pollMs ?? kPollMs;
  const report: QuiesceReport = { dirtyBeforeBytes: dirty(), steps: [], drained: true, timeoutMs };
  const step = async (name: QuiesceStep['step'], fn: () => Promise<void>) => {
    const t0 = performance.now();
    await fn();
    const s = { step: name, ms: performance.now() - t0, dirtyBytes: dirty() };
    report.steps.push(s);
    await o.afterStep?.(s);
  };
  await step('checkpoint', o.checkpoint);
  await step('sync', o.sync ?? (async () => void (await promisify(execFile)('sync'))));
  await step('drain', async () => {
    const deadline = performance.now() + timeoutMs;
    while (dirty() > drainedBytes) {
      if (performance.now() > deadline) {
        report.drained = false;
        return;
      }
      await sleep(pollMs);
    }
  });
  return report;
}

export function describeQuiesce(r: QuiesceReport): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return `dirty + writeback ${mb(r.dirtyBeforeBytes)} after the loads; ` +
    r.steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s → ${mb(s.dirtyBytes)}`).join(', ') +
    (r.drained ? '' : ` (the drain gave up after ${(r.timeoutMs / 1000).toFixed(0)} s)`);
}
