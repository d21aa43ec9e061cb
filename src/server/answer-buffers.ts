/**
 * Buffers that answers' JSON bytes are written into (src/server/json-bytes.ts), kept for the next answers once
 * the socket has taken them. A 1,000-hit answer is ~230 KB: a fresh buffer an answer is external memory V8
 * counts towards its next full collection, which over a server's heap (the shards' dictionaries, the hit
 * objects) cost about as much main-thread time as writing the text (bench/RESULTS.md, "Search answers'
 * JSON written as bytes"). A buffer is given back only after the answer it held was written to the socket
 * (`res.end`'s callback) or dropped, so no answer is ever sent from a buffer being rewritten.
 */

// as many as answers in flight at once in the bench's 8 clients, and some
const kKept = 16;
// bigger ones (a 10,000-hit page, a hot list's) are left to the collector
const kMaxKeptBytes = 4 * 1024 * 1024;

const kept: ArrayBuffer[] = [];
// the memory takeBuffer handed out and not yet given back: giveBack keeps nothing else (a slice of Node's
// shared pool or a caller's own bytes given back by mistake must never be written into)
const lent = new WeakSet<ArrayBuffer>();

/** A buffer of at least `n` bytes, all of its own memory (never a slice of Node's shared pool). */
export function takeBuffer(n: number): Buffer {
  for (let i = kept.length - 1; i >= 0; i--) {
    const b = kept[i]!;
    if (b.byteLength >= n) {
      kept.splice(i, 1);
      lent.add(b);
      return Buffer.from(b);
    }
  }
  const fresh = Buffer.allocUnsafeSlow(n);
  lent.add(fresh.buffer as ArrayBuffer);
  return fresh;
}

/** Gives back the memory of `bytes` (a view of takeBuffer's; anything else is ignored): not to be used after. */
export function giveBack(bytes: Uint8Array): void {
  const b = bytes.buffer as ArrayBuffer;
  if (!lent.delete(b) || b.byteLength > kMaxKeptBytes) return;
  if (kept.length >= kKept) kept.shift();
  kept.push(b);
}
