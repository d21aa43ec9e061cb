/**
 * AES-256-GCM (FIPS 197 + SP 800-38D) through node:crypto (OpenSSL), the one cipher of encryption at rest.
 *
 * Nonces are 96-bit counters under a key that is used for one file (or one lane of one file) only:
 *
 *   nonce = lane:u32 BE ‖ counter:u64 BE        (12 bytes)
 *
 * A data key is made fresh for every file it encrypts, so (key, nonce) never repeats as long as a writer
 * never hands out a counter twice; writers advance the counter when they encrypt, not when a write
 * becomes durable, and a writer that restarts after a crash takes a new file and a new key. Random
 * nonces are used only by key wrapping (a key-encryption key wraps at most a few million data keys, far
 * below the 2^32 bound of SP 800-38D §8.3 for random 96-bit nonces).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { evpOpenInto, evpSeal } from './evp-gcm.js';

export const kKeyBytes = 32;
export const kNonceBytes = 12;
export const kTagBytes = 16;

/** A fresh random 256-bit data key. */
export function newDataKey(): Buffer {
  return randomBytes(kKeyBytes);
}

export function counterNonce(lane: number, counter: number): Buffer {
  const n = Buffer.alloc(kNonceBytes);
  n.writeUInt32BE(lane >>> 0, 0);
  n.writeBigUInt64BE(BigInt(counter), 4);
  return n;
}

/**
 * Encrypts `plain`; returns ciphertext ‖ tag. One buffer up to 64 KiB goes through OpenSSL's EVP calls
 * (evp-gcm.ts evpSeal: no cipher object and no buffer per step), the rest through node:crypto (sealBytesNode,
 * the definition).
 */
export function sealBytes(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array | readonly Uint8Array[], aad?: Uint8Array): Buffer {
  return (plain instanceof Uint8Array ? evpSeal(key, nonce, plain, aad) : undefined) ?? sealBytesNode(key, nonce, plain, aad);
}

/** sealBytes through node:crypto: the definition evpSeal is held to (test/evp-gcm-open.test.ts). */
export function sealBytesNode(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array | readonly Uint8Array[], aad?: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) c.setAAD(aad);
  const parts: Buffer[] = [];
  if (plain instanceof Uint8Array) parts.push(c.update(plain));
  else for (const p of plain) parts.push(c.update(p));
  parts.push(c.final(), c.getAuthTag());
  return Buffer.concat(parts);
}

/** Decrypts ciphertext ‖ tag; undefined when it does not authenticate (wrong key, damage, reordering). */
export function openBytes(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer | undefined {
  if (sealed.length < kTagBytes) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    if (aad) d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - kTagBytes));
    const out = d.update(sealed.subarray(0, sealed.length - kTagBytes));
    d.final();
    return out;
  } catch {
    return undefined;
  }
}

// Output piece of openInto and sealInto: node:crypto allocates every update's output, and an output of 1 MiB is a fresh
// mapping (page faults on every byte, then an unmap); 64 KiB pieces come from the allocator's reused heap.
// Measured on 64 MiB of shard segments: 200-350 ms of CPU whole, 32-35 ms in 64 KiB pieces (AES itself ~20).
const kOpenPiece = 64 << 10;

/**
 * Decrypts ciphertext ‖ tag straight into `dest` at `at` (shard segments go into arena memory), in pieces;
 * false when it does not authenticate. On false, `dest[at, at + length)` holds unauthenticated bytes: the
 * caller must discard that region (shard loading frees it and reports the file).
 */
export function openInto(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, dest: Uint8Array, at: number): boolean {
  return evpOpenInto(key, nonce, sealed, aad, dest, at) ?? openIntoNode(key, nonce, sealed, aad, dest, at);
}

/** openInto through node:crypto: where EVP is not bound, and the definition evp-gcm.ts is held to. */
export function openIntoNode(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, dest: Uint8Array, at: number): boolean {
  if (sealed.length < kTagBytes) return false;
  const body = sealed.length - kTagBytes;
  const out = Buffer.from(dest.buffer, dest.byteOffset, dest.byteLength);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    if (aad) d.setAAD(aad);
    d.setAuthTag(sealed.subarray(body));
    let w = at;
    for (let off = 0; off < body; off += kOpenPiece) w += d.update(sealed.subarray(off, Math.min(body, off + kOpenPiece))).copy(out, w);
    w += d.final().copy(out, w);
    return w === at + body;
  } catch {
    return false;
  }
}

/**
 * Encrypts `plain` straight into `dest` at `at` as ciphertext ‖ tag, in pieces (as openInto: a whole segment's
 * update output and its concat were two fresh 1 MiB mappings a segment, faulted in page by page: ~150k page
 * faults of a 20M bulk load's sealing); returns the bytes written (plain.length + kTagBytes).
 */
export function sealInto(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, aad: Uint8Array | undefined, dest: Uint8Array, at: number): number {
  const out = Buffer.from(dest.buffer, dest.byteOffset, dest.byteLength);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) c.setAAD(aad);
  let w = at;
  for (let off = 0; off < plain.length; off += kOpenPiece) w += c.update(plain.subarray(off, Math.min(plain.length, off + kOpenPiece))).copy(out, w);
  w += c.final().copy(out, w);
  w += c.getAuthTag().copy(out, w);
  return w - at;
}

/** Wraps with a random nonce (key wrapping only): nonce ‖ ciphertext ‖ tag. */
export function sealRandom(key: Uint8Array, plain: Uint8Array, aad?: Uint8Array): Buffer {
  const nonce = randomBytes(kNonceBytes);
  return Buffer.concat([nonce, sealBytes(key, nonce, plain, aad)]);
}

export function openRandom(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer | undefined {
  if (sealed.length < kNonceBytes + kTagBytes) return undefined;
  return openBytes(key, sealed.subarray(0, kNonceBytes), sealed.subarray(kNonceBytes), aad);
}
