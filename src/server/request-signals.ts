/**
 * The requests' AbortControllers (ctx.signal: aborted by the time budget or by the client going away), kept
 * for the next requests. A fresh one costs its signal, an EventTarget with two maps of its own, ~3 µs of the
 * main thread a request (bench/RESULTS.md, "Issue 12: exact plate at 8 clients, the main thread's fixed
 * cost"), for a signal that nearly always ends as it started: not aborted, nothing listening.
 *
 * A controller is given back only by the pipeline, only after its request's handler resolved and its answer
 * was handed to the socket (so nothing of that request checks the signal any more), and the pipeline drops
 * its own reference first (a late 'close' of the old request cannot abort the new one). Kept only if it is
 * exactly as a fresh one would be: not aborted, no listener left (a pool task's budget that was not
 * released; an `onabort` handler is one of those listeners too); its deadline (query/budget.ts) is taken off.
 */
import { getEventListeners } from 'node:events';
import { detachDeadline } from '../query/budget.js';

// more than the requests in flight at once in the bench's 8 clients; beyond it they are left to the collector
const kKept = 64;

const kept: AbortController[] = [];

/** A controller whose signal is not aborted, has no listener and no deadline. */
export function takeController(): AbortController {
  return kept.pop() ?? new AbortController();
}

/** Gives back a request's controller once nothing of its request can see it: not to be used after. */
export function giveBackController(c: AbortController): void {
  const signal = c.signal;
  if (kept.length >= kKept || signal.aborted || getEventListeners(signal, 'abort').length > 0) return;
  detachDeadline(signal);
  kept.push(c);
}
