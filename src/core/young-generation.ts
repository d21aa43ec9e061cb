/**
 * The main isolate's young generation, capped at run time for a long-lived server.
 *
 * V8 sizes the young generation (two semi-spaces) by itself: a semi-space starts at 1 MiB and doubles at a
 * scavenge once as many bytes have survived since its last growth as it holds, up to `--max-semi-space-size`
 * (16 MiB on 64-bit). Under HTTP ingest the server's main thread reaches that maximum in its first seconds
 * (requests and batches alive across a WAL fsync survive a scavenge or two), and the pages stay committed for
 * the process's life: 21–30 MiB resident for 1–7 MiB in use once ingest has stopped (bench/RESULTS.md, "HTTP
 * ingest RSS: the main thread's young generation"). The maximum is read once, when the isolate is made, so a
 * command cannot lower it for its own main thread (a worker's is set by `resourceLimits`, as the seal
 * worker's); but the growth factor (`--semi-space-growth-factor`, default 2) is read at each growth, so
 * setting it to 1 once the main thread's semi-space has reached kMainSemiSpaceBytes stops it there:
 *
 *   semi-space   1 MiB ──► 2 MiB ──► 4 MiB ┤ factor 1: no further growth (default: ──► 8 ──► 16 MiB)
 *   new space    2 MiB     4 MiB     8 MiB                                          (16      32 MiB)
 *
 * Watched through the `gc` performance entries (a growth happens only in a collection). V8 puts the factor
 * back to 2 whenever it makes an isolate (a worker thread starting: checked, test/young-generation-cap.test.ts),
 * so once the cap is reached the factor is set again after every collection and when a kept worker comes
 * online (src/core/kept-worker.ts, the seal worker's restarts); a growth in the few milliseconds between a
 * thread's start and the next of those would take the space one step past the cap, where it stays.
 * The flag is process-wide: while it is 1 no thread's young generation grows either. The parse and seal
 * workers have caps of their own at or below this size (src/ingest/pipeline.ts, src/store/seal-worker-host.ts);
 * the query pool's workers keep the size they had grown to, at least the initial 1 MiB a semi-space.
 *
 * An operator's own young-generation flags (in node's arguments or NODE_OPTIONS) win: nothing is changed.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * The main thread's semi-space once capped (4 MiB: a new space of 8 MiB). Each halving doubles the scavenges;
 * at 4 MiB a scavenge every ~8 MiB of allocation, ~20 a second at 300k reads/s over HTTP.
 */
export const kMainSemiSpaceBytes = 4 * 2 ** 20;

const kOwnFlags = /--(max|min)-semi-space-size|--semi-space-growth-factor/;

/** The cap in force (semi-space bytes), 0 when none. */
let capBytes = 0;

/** The main isolate's new space now: both semi-spaces' capacity, bytes. */
export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Stops the young generation's growth once the main thread's semi-space reaches `semiSpaceBytes` (at once
 * when it already has). Answers false where it was left alone (the operator set young-generation flags).
 */
export function capYoungGeneration(semiSpaceBytes = kMainSemiSpaceBytes, execArgv = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  if (execArgv.some((a) => kOwnFlags.test(a)) || kOwnFlags.test(env.NODE_OPTIONS ?? '')) return false;
  const watching = capBytes > 0;
  capBytes = semiSpaceBytes;
  holdYoungGeneration();
  if (!watching) new PerformanceObserver(holdYoungGeneration).observe({ entryTypes: ['gc'] });
  return true;
}

/**
 * Sets the growth factor to 1 again when the cap is in force and reached (V8 resets it when a thread
 * starts): after each collection, and when a worker thread comes online.
 */
export function holdYoungGeneration(): void {
  // new space = two semi-spaces
  if (capBytes > 0 && newSpaceBytes() >= 2 * capBytes) setFlagsFromString('--semi-space-growth-factor=1');
}
