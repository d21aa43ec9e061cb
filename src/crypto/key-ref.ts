/**
 * An inline wrapped key, as files that carry their own key store it (hot lists, WAL and alert-log key
 * records):  kekLen:u16 LE ‖ kek (UTF-8) ‖ wrappedLen:u16 LE ‖ wrapped.
 */
import type { WrappedKey } from './data-keys.js';

export function encodeKeyRef(k: WrappedKey): Buffer {
  const kek = Buffer.from(k.kek, 'utf8');
  const out = Buffer.alloc(4 + kek.length + k.wrapped.length);
  out.writeUInt16LE(kek.length, 0);
  kek.copy(out, 2);
  out.writeUInt16LE(k.wrapped.length, 2 + kek.length);
  k.wrapped.copy(out, 4 + kek.length);
  return out;
}

/** Decodes a key ref at `off`; returns it and the offset after it, or undefined when it does not fit. */
export function decodeKeyRef(buf: Uint8Array, off = 0): { ref: WrappedKey; end: number } | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (off + 2 > b.length) return undefined;
  const kl = b.readUInt16LE(off);
  if (off + 4 + kl > b.length) return undefined;
  const kek = b.toString('utf8', off + 2, off + 2 + kl);
  const wl = b.readUInt16LE(off + 2 + kl);
  const end = off + 4 + kl + wl;
  if (end > b.length) return undefined;
  return { ref: { kek, wrapped: Buffer.from(b.subarray(off + 4 + kl, end)) }, end };
}
