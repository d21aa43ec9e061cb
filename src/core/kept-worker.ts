/**
 * One worker thread kept for the engine's life and fed jobs as messages `{id, ...request}`, each answered
 * by a message with the same id: how the seal worker (src/store/seal-worker-host.ts) and the plate-index
 * thread (src/store/plate-index-thread.ts) run. Starting a thread per job costs its module loading each
 * time; a kept one pays it once.
 *
 * The thread starts on first need, is referenced only while a job is in flight (an idle worker never keeps
 * the process alive), and is replaced by the next job if it errors or exits. A job it held then rejects;
 * after `close` every job answers undefined (the engine is closing: nothing to install).
 *
 * With `idleMs`, a thread that has had no job for that long ends, and the next job starts another: a
 * worker whose jobs are rare and big (the seal worker: a job every ~1M reads, its heap grown to tens of MiB
 * by each) then gives its heap back to the system between jobs instead of keeping it for the process's life.
 */
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';

export class KeptWorker<Request extends object, Answer extends { id: number }> {
  private worker: Worker | undefined;
  private closed = false;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (a: Answer | undefined) => void; reject: (e: Error) => void }>();
  /** Threads started (tests: one per engine unless a worker died). */
  started = 0;

  /** `script()`: the compiled worker script, or undefined when it cannot run here (then every job rejects). */
  private idleTimer: NodeJS.Timeout | undefined;

  /** Whether a thread is up now (tests: ended for idleness or by endIfIdle). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** `resourceLimits`: the thread's V8 heap limits (the seal worker caps its young generation). */
  constructor(private readonly name: string, private readonly script: () => string | undefined, private readonly idleMs?: number,
    private readonly resourceLimits?: ResourceLimits) {}

  /** Posts `request` to the worker; resolves with its answer, rejects when there is no worker or it failed. */
  call(request: Request, transfer?: readonly TransferListItem[]): Promise<Answer | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const w = this.start();
    if (!w) return Promise.reject(new Error(`${this.name} not available`));
    const id = this.nextId++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, ...request }, transfer);
    });
  }

  /** Ends the worker; jobs in flight answer undefined. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    this.settleAll(new Error(`${this.name} closed`));
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    const file = this.script();
    if (!file) return undefined;
    const w = new Worker(file, this.resourceLimits ? { resourceLimits: this.resourceLimits } : undefined);
    this.started++;
    w.unref();
    w.on('message', (m: Answer) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      // only the kept thread is unreferenced when idle: one being ended (close, idleness) is held by its
      // terminate() until its exit, and an answer it posted just before must not let go of the loop then (a
      // `node` script awaiting `engine.close()` at its top level exited 13 with the exit never seen: CI, stop 31)
      if (this.waiting.size === 0 && this.worker === w) {
        w.unref();
        this.endWhenIdle(w);
      }
      p.resolve(this.closed ? undefined : m);
    });
    const gone = (err: Error) => {
      // a thread ended by close or for idleness is no longer this.worker: its exit must not fail the jobs of
      // the one started after it (close answers its own)
      if (this.worker !== w) return;
      this.worker = undefined;
      this.settleAll(err);
    };
    w.on('error', gone);
    w.on('exit', () => gone(new Error(`${this.name} exited`)));
    this.worker = w;
    return w;
  }

  /** With `idleMs`: ends `w` unless a job arrives first (the timer does not keep the process alive). */
  private endWhenIdle(w: Worker): void {
    if (this.idleMs === undefined) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.worker === w) this.endIfIdle();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** Ends the thread now unless a job is in flight (the owner knows no job is coming soon); the next job starts another. */
  endIfIdle(): void {
    const w = this.worker;
    if (!w || this.waiting.size > 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.worker = undefined;
    void w.terminate();
  }

  private settleAll(err: Error): void {
    for (const p of this.waiting.values()) {
      if (this.closed) p.resolve(undefined);
      else p.reject(err);
    }
    this.waiting.clear();
  }
}
