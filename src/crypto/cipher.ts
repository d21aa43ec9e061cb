/**
 * The data cipher as an object: what every encrypted file of a data dir is sealed and opened with
 * (WAL and alert-log blocks, shard and hot-list segments, audit fields, alert acks, export spool frames).
 *
 * Production has exactly one: `aesGcm` (AES-256-GCM, src/crypto/aead.ts). It is what `DataKeys` carries
 * unless a caller constructs `DataKeys` with another cipher in-process, and nothing in src/ does: no CLI
 * flag, environment variable, key-store URI or file in the data dir selects a cipher. The one other cipher
 * is the benchmarks' plaintext stand-in (bench/plaintext-keys.ts), which the overhead benchmark injects to
 * measure what encryption costs in the same build (docs/SECURITY.md, "Encryption cannot be turned off").
 *
 * Worker threads cannot receive an object with functions: a cipher that is not AES-256-GCM names the
 * module that exports it (`workerModule`, a file: URL), and `cipherInWorker` imports it there. AES-256-GCM
 * has no module URL, so a job without one (every job production makes) is sealed with AES-256-GCM.
 */
import { randomBytes } from 'node:crypto';
import { kNonceBytes, kTagBytes, openBytes, openInto, sealBytes, sealInto } from './aead.js';

export interface Cipher {
  /** 'aes-256-gcm' for production; written into nothing, for messages and benchmark reports only. */
  readonly name: string;
  /** Encrypts `plain` (one buffer or chunks laid end to end); returns ciphertext ‖ 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array | readonly Uint8Array[], aad?: Uint8Array): Buffer;
  /** Opens ciphertext ‖ tag; undefined when it does not authenticate. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer | undefined;
  /**
   * Opens ciphertext ‖ tag into `dest` at `at` without a buffer of the whole output; false when it does not
   * authenticate (then that range of `dest` holds garbage the caller must discard).
   */
  openInto(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, dest: Uint8Array, at: number): boolean;
  /**
   * Seals `plain` as ciphertext ‖ tag into `dest` at `at` without a buffer of the whole output; returns the bytes
   * written. Optional: without it, sealFile copies `seal`'s output.
   */
  sealInto?(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, aad: Uint8Array | undefined, dest: Uint8Array, at: number): number;
  /** For worker threads: a file: URL of a module that exports this cipher as `cipher`; absent for AES-256-GCM. */
  readonly workerModule?: string;
}

/** AES-256-GCM through node:crypto: the production cipher. */
export const aesGcm: Cipher = Object.freeze({ name: 'aes-256-gcm', seal: sealBytes, open: openBytes, openInto, sealInto });

/** Seals with a random nonce (files whose appends may be retried at the same offset): nonce ‖ ciphertext ‖ tag. */
export function sealWithRandomNonce(cipher: Cipher, key: Uint8Array, plain: Uint8Array, aad?: Uint8Array): Buffer {
  const nonce = randomBytes(kNonceBytes);
  return Buffer.concat([nonce, cipher.seal(key, nonce, plain, aad)]);
}

export function openWithRandomNonce(cipher: Cipher, key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer | undefined {
  if (sealed.length < kNonceBytes + kTagBytes) return undefined;
  return cipher.open(key, sealed.subarray(0, kNonceBytes), sealed.subarray(kNonceBytes), aad);
}

/** The cipher a worker thread uses for a job: AES-256-GCM unless the job names another cipher's module. */
export async function cipherInWorker(workerModule: string | undefined): Promise<Cipher> {
  if (workerModule === undefined) return aesGcm;
  const mod = (await import(workerModule)) as { cipher?: Cipher };
  if (!mod.cipher || typeof mod.cipher.seal !== 'function' || typeof mod.cipher.open !== 'function' || typeof mod.cipher.openInto !== 'function') {
    throw new Error(`${workerModule} exports no cipher`);
  }
  return mod.cipher;
}
