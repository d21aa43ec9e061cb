/**
 * A worker batch's hot-list results handed back to the calling thread by transfer, not by copy (piscina's
 * `move`): a result is a handful of typed arrays (hotlist-task.ts HotlistTaskResult and its KeptFields), ~57 B
 * a kept row, so the 100k exact list of bench:peers at 20M reads returns ~18 MB a query. Cloned, every byte
 * was copied into the message in the worker and out of it into fresh buffers on the calling thread (new pages:
 * page faults, and the calling thread is the one that also builds every hit); transferred, the buffers change
 * owner and nothing is copied.
 *
 * Only buffers a result owns alone are moved: a SharedArrayBuffer cannot be transferred (and crosses by
 * reference anyway), and a buffer listed twice fails the transfer, so each is listed once. The worker never
 * touches a result again once it is returned.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';

/** The distinct transferable ArrayBuffers under the typed arrays of `results` (one level deep, and `fields`). */
export function ownedBuffers(results: readonly unknown[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) seen.add(v.buffer);
  };
  for (const r of results) {
    if (r === null || typeof r !== 'object') continue;
    for (const v of Object.values(r)) {
      add(v);
      if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) for (const w of Object.values(v)) add(w);
    }
  }
  return [...seen];
}

/** `results` as a worker's return value whose typed arrays' buffers are transferred (piscina unwraps it to `results`). */
export function movedResults<T>(results: T[]): T[] {
  const transferable = { [transferableSymbol]: ownedBuffers(results), [valueSymbol]: results };
  return move(transferable as never) as unknown as T[];
}
