/**
 * A query's time budget, as long synchronous work sees it. The server's budget is a timer that aborts the
 * request's AbortSignal, but a timer cannot fire while a scan holds the thread (a JS scan, or one
 * WebAssembly call over a whole chunk of rows): so the deadline also rides along with the signal, and
 * the scans compare the clock with it between units of work.
 *
 * The engine API stays `search(scopes, query, signal)`: the deadline is attached to the signal
 * (`attachDeadline`) by whoever sets the budget, and `QueryBudget.of(signal)` finds it again.
 */
import { performance } from 'node:perf_hooks';

interface Deadline {
  /** performance.now() at which the budget is spent. */
  at: number;
  /** The error a spent budget throws (the caller's coded error). */
  error: () => Error;
}

const deadlines = new WeakMap<AbortSignal, Deadline>();

/** Makes `signal` carry a deadline: work checking it throws `error()` from `at` (performance.now() ms) on. */
export function attachDeadline(signal: AbortSignal, at: number, error: () => Error): void {
  deadlines.set(signal, { at, error });
}

// clock reads in `tick`: one per this many calls (a power of two); performance.now() costs ~30 ns
const kTickStride = 256;

export class QueryBudget {
  private ticks = 0;

  private constructor(private readonly signal: AbortSignal, private readonly deadline: Deadline | undefined) {}

  /** The budget of `signal`, or undefined when there is nothing to check. */
  static of(signal: AbortSignal | undefined): QueryBudget | undefined {
    return signal ? new QueryBudget(signal, deadlines.get(signal)) : undefined;
  }

  /** Throws if the signal was aborted or the deadline passed. */
  check(): void {
    this.signal.throwIfAborted();
    if (this.deadline && performance.now() >= this.deadline.at) throw this.deadline.error();
  }

  /** `check`, but reading the clock only every kTickStride calls: cheap enough for a per-row loop. */
  tick(): void {
    if ((++this.ticks & (kTickStride - 1)) === 0) this.check();
  }
}
