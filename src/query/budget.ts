/**
 * A query's time budget, as long synchronous work sees it. The server's budget is a timer that aborts the
 * request's AbortSignal, but a timer cannot fire while a scan holds the thread (a JS scan, or one
 * WebAssembly call over a whole chunk of rows): so the deadline also rides along with the signal, and
 * the scans compare the clock with it between units of work.
 *
 * The engine API stays `search(scopes, query, signal)`: the deadline is attached to the signal
 * (`attachDeadline`) by whoever sets the budget, and `QueryBudget.of(signal)` finds it again.
 *
 * Pool workers cannot see the signal. They get a `SharedBudget` instead (`shareBudget`): a flag in shared
 * memory the caller raises when the signal aborts, and the deadline on a clock every thread shares
 * (performance.timeOrigin + performance.now(): each thread's performance.now() has its own origin). A
 * worker that finds it spent stops at its next check and says so; it is never terminated for it (a
 * terminated worker costs a respawn and a module instantiation).
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

/** Takes the deadline off `signal` (a request's controller kept for the next request: src/server/request-signals.ts). */
export function detachDeadline(signal: AbortSignal): void {
  deadlines.delete(signal);
}

/** A query's budget as a worker thread sees it (structured-cloneable; the flag's memory is shared). */
export interface SharedBudget {
  /** [0] !== 0: the caller gave up on the query (budget, client gone, shutdown). */
  flag: Int32Array;
  /** Epoch ms (timeOrigin + now) at which the budget is spent; undefined: no deadline. */
  deadline?: number;
}

/** What a worker throws when its `SharedBudget` is spent; the caller answers with its own error. */
export class BudgetSpent extends Error {
  constructor() {
    super('The query was cancelled');
    this.name = 'BudgetSpent';
  }
}

/** The clock of `SharedBudget.deadline`: the same in every thread of the process. */
function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The shared form of `signal`'s budget for pool workers. `release()` detaches it from the signal once the
 * workers are done with it.
 */
export function shareBudget(signal: AbortSignal | undefined): { budget: SharedBudget; release: () => void } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const budget: SharedBudget = { flag };
  if (!signal) return { budget, release: () => {} };
  const deadline = deadlines.get(signal);
  if (deadline) budget.deadline = performance.timeOrigin + deadline.at;
  const raise = (): void => void Atomics.store(flag, 0, 1);
  if (signal.aborted) raise();
  else signal.addEventListener('abort', raise, { once: true });
  return { budget, release: () => signal.removeEventListener('abort', raise) };
}

// clock reads in `tick`: one per this many calls (a power of two); performance.now() costs ~30 ns
const kTickStride = 256;

export class QueryBudget {
  private ticks = 0;

  /**
   * `spent()` returns what to throw once the budget is spent, else undefined; `overdue()` is the
   * error of a budget found spent elsewhere (by a worker) when this thread does not see it spent yet.
   */
  private constructor(private readonly spent: () => unknown, private readonly overdue: () => unknown) {}

  /** The budget of `signal`, or undefined when there is nothing to check. */
  static of(signal: AbortSignal | undefined): QueryBudget | undefined {
    if (!signal) return undefined;
    const deadline = deadlines.get(signal);
    return new QueryBudget(
      () => {
        if (signal.aborted) return signal.reason as unknown; // never undefined: abort() defaults it to an AbortError
        if (deadline && performance.now() >= deadline.at) return deadline.error();
        return undefined;
      },
      () => (deadline ? deadline.error() : new BudgetSpent()),
    );
  }

  /** A worker's view of a shared budget: throws BudgetSpent once the flag is raised or the deadline passed. */
  static ofShared(shared: SharedBudget | undefined): QueryBudget | undefined {
    if (!shared) return undefined;
    const { flag, deadline } = shared;
    const spent = (): unknown =>
      Atomics.load(flag, 0) !== 0 || (deadline !== undefined && sharedNow() >= deadline) ? new BudgetSpent() : undefined;
    return new QueryBudget(spent, () => new BudgetSpent());
  }

  /** Throws if the signal was aborted or the deadline passed. */
  check(): void {
    const err = this.spent();
    if (err !== undefined) throw err;
  }

  /**
   * The error to answer a query with that a worker found spent: the signal's reason, or the deadline's
   * error (a worker's clock may pass the deadline a hair before this thread's does).
   */
  spentError(): unknown {
    return this.spent() ?? this.overdue();
  }

  /** `check`, but reading the clock only every kTickStride calls: cheap enough for a per-row loop. */
  tick(): void {
    if ((++this.ticks & (kTickStride - 1)) === 0) this.check();
  }
}
