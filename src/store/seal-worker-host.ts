/**
 * The engine's seal worker (src/store/seal-worker.ts), one thread kept while it has work (it ends after
 * kSealWorkerIdleMs idle): seals, compactions and retention rewrites go to it as messages. A fresh worker per job spent ~8% of its time
 * starting (loading the crypto, object store, WAL and hold modules) before reading a row.
 *
 * Crash safety is the sealer's and unchanged (src/store/sealer.ts): a job's shards count only once the
 * main thread commits the manifest. If the worker errors or exits, the jobs it held answer `undefined`
 * (the sealer then builds on its own thread, or skips a compaction, as when no worker is built) and the
 * next job starts a new worker. The worker is referenced only while a job is in flight, so an idle one
 * never keeps a process alive; `close` ends it.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { KeptWorker } from '../core/kept-worker.js';
import { builtWorkerPath } from '../core/worker-path.js';
import { storeFsIsReal } from './fs.js';
import type { ShardEntry } from './manifest.js';
import type { SealAnswer, SealJob } from './seal-worker.js';

/**
 * The compiled seal worker, or undefined when not built (running from src/ without dist/), or while a
 * test's file system is installed (src/store/fs.ts: a worker thread would write to the real disk).
 */
function sealWorkerPath(): string | undefined {
  if (!storeFsIsReal()) return undefined;
  return builtWorkerPath(import.meta.url, '../../dist/src/store/seal-worker.js', './seal-worker.js');
}

/**
 * An idle seal worker ends after this long: its jobs come every ~1M reads and leave its heap grown (38–46 MiB
 * resident, 9 MiB used after its idle GC, at 2M reads over HTTP: bench/RESULTS.md "Where the RSS of HTTP
 * ingest goes"), which a kept thread held for the process's life. The price: a seal after a pause starts a
 * thread again, 0.3–0.5 s of CPU (module loading; measured at load 17) where a warm worker answers in ms.
 * 10 s, not less: under steady ingest (~300k reads/s over HTTP, a seal every ~3 s) the worker must stay, or
 * every seal pays that start (~6 % of the ingest's CPU); a server whose ingest paused gives the heap back.
 */
const kSealWorkerIdleMs = 10_000;

/**
 * The seal worker's V8 heap limits: its young generation capped. A job's garbage is short-lived and
 * small per object (rows are typed-array chunks off the heap, src/store/seal-rows.ts), but V8 grew the new
 * space to its default 16 MiB semi-spaces (48 MiB young generation) and kept it committed while the thread
 * lived: 38–47 MiB resident for 9 MiB in use.
 */
export const kSealWorkerLimits: ResourceLimits = { maxYoungGenerationSizeMb: 6 };

export class SealWorkerHost {
  private readonly worker = new KeptWorker<{ job: SealJob }, SealAnswer>('seal worker', sealWorkerPath, kSealWorkerIdleMs, kSealWorkerLimits);

  /** Workers started (for tests: one per engine unless a worker died). */
  get started(): number {
    return this.worker.started;
  }

  /** Whether the thread is up now. */
  get running(): boolean {
    return this.worker.running;
  }

  /** Runs `job` on the worker; undefined when there is none or the job failed (the caller falls back). */
  run(job: SealJob): Promise<{ rows: number; entries: ShardEntry[] } | undefined> {
    return this.worker.call({ job }).then(
      (m) => (m?.ok ? { rows: m.rows, entries: m.entries } : undefined),
      () => undefined,
    );
  }

  /** Ends the thread now if it has no job (the engine's idle seal: ingest paused); the next job starts another. */
  endIfIdle(): void {
    this.worker.endIfIdle();
  }

  /** Ends the worker (jobs in flight answer undefined). */
  close(): Promise<void> {
    return this.worker.close();
  }
}
