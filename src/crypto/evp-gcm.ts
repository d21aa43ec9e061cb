/**
 * AES-256-GCM decryption into caller memory, and sealing of small buffers, through OpenSSL's EVP calls, bound with koffi from the OpenSSL
 * that node itself links (its symbols are exported for addons): the same library node:crypto calls, minus
 * the buffer node:crypto allocates for every `update`.
 *
 * Why: `Decipher.update` returns a fresh buffer (allocated zeroed at input + 16 bytes, then reallocated to
 * the output length and copied: two allocations a call). Opening a 20M data dir pushes 678 MB through it on
 * the shard-open workers; the buffers die young, the worker's malloc heap grows, is trimmed back at each
 * collection and grows again, and every regrowth is fresh pages: 45–60k page faults of an open (~11 µs each
 * on the benchmark VM), with the copies. Here each 64 KiB piece is decrypted into one bounce buffer the
 * thread keeps, then copied to its place (it cannot go straight there: a shard segment is opened in place,
 * its plaintext a few bytes before its ciphertext, and OpenSSL refuses partly overlapping buffers).
 *
 *   EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), key, nonce)   one context a thread, reset after each segment
 *   EVP_DecryptUpdate(ctx, NULL, aad)                         the AAD
 *   EVP_DecryptUpdate(ctx, bounce, piece) → copy to dest      a 64 KiB piece at a time, in order
 *   EVP_CIPHER_CTX_ctrl(ctx, GCM_SET_TAG, tag)
 *   EVP_DecryptFinal_ex(ctx) > 0                             authenticated, else false
 *
 * Sealing (`evpSeal`, for buffers up to a piece: an audit record's sealed fields, an alert ack) is the same
 * calls the other way, into the answer's own buffer: node:crypto's `createCipheriv` makes a cipher object, its
 * JS stream machinery and a buffer for each of update, final and the tag, and the answer is their concat; an
 * audit record is sealed on the request's critical path (src/server/audit/batch.ts), where that was 6.4–6.7 µs
 * of a 180-byte seal in a loop against 3.7–4.0 here (and ~18 µs of a one-client request's main thread in a
 * profile at load ~10, where the cold object path costs more).
 *
 *   EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), key, nonce)   the thread's one context
 *   EVP_EncryptUpdate(ctx, NULL, aad)                         the AAD
 *   EVP_EncryptUpdate(ctx, out, plain)                        ciphertext at out[0, n)
 *   EVP_EncryptFinal_ex(ctx)                                  nothing more for GCM
 *   EVP_CIPHER_CTX_ctrl(ctx, GCM_GET_TAG, 16, out + n)        the tag after the ciphertext
 *
 * Where it cannot bind (no koffi binary, an OpenSSL without these symbols), `evpOpenInto` and `evpSeal`
 * answer undefined and the caller uses node:crypto (src/crypto/aead.ts openIntoNode and sealBytesNode, also
 * the definitions the tests hold these to).
 */
import { createRequire } from 'node:module';
import { debuglog } from 'node:util';

const log = debuglog('platesearch');

// 64 KiB: as aead.ts's pieces (the bounce buffer stays in cache); OpenSSL's int lengths are far above it
const kPieceBytes = 64 << 10;
const kGcmTagBytes = 16;
// include/openssl/evp.h: EVP_CTRL_AEAD_SET_TAG (= EVP_CTRL_GCM_SET_TAG), EVP_CTRL_AEAD_GET_TAG
const kCtrlSetTag = 0x11;
const kCtrlGetTag = 0x10;
/** The largest plaintext `evpSeal` takes (one call of int length, the piece the bounce buffer is sized for elsewhere). */
export const kEvpSealMaxBytes = kPieceBytes;

type Fn = (...args: unknown[]) => number;

interface Evp {
  ctx: unknown;
  cipher: unknown;
  init: Fn;
  update: Fn;
  ctrl: Fn;
  final: Fn;
  reset: Fn;
  sealInit: Fn;
  sealUpdate: Fn;
  sealFinal: Fn;
  bounce: Uint8Array;
  outLength: Int32Array;
}

let evp: Evp | undefined | null = null; // null: not yet bound

function bind(): Evp | undefined {
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(path: string | null): { func(decl: string): Fn } };
    const lib = koffi.load(null); // the process itself: node and the OpenSSL it links
    const ctx = lib.func('void *EVP_CIPHER_CTX_new(void)')();
    const cipher = lib.func('void *EVP_aes_256_gcm(void)')();
    if (!ctx || !cipher) throw new Error('EVP_CIPHER_CTX_new or EVP_aes_256_gcm answered NULL');
    return {
      ctx,
      cipher,
      init: lib.func('int EVP_DecryptInit_ex(void *ctx, void *cipher, void *impl, const uint8_t *key, const uint8_t *iv)'),
      update: lib.func('int EVP_DecryptUpdate(void *ctx, uint8_t *out, int *outl, const uint8_t *in, int inl)'),
      ctrl: lib.func('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, void *ptr)'),
      final: lib.func('int EVP_DecryptFinal_ex(void *ctx, uint8_t *out, int *outl)'),
      reset: lib.func('int EVP_CIPHER_CTX_reset(void *ctx)'),
      sealInit: lib.func('int EVP_EncryptInit_ex(void *ctx, void *cipher, void *impl, const uint8_t *key, const uint8_t *iv)'),
      sealUpdate: lib.func('int EVP_EncryptUpdate(void *ctx, uint8_t *out, int *outl, const uint8_t *in, int inl)'),
      sealFinal: lib.func('int EVP_EncryptFinal_ex(void *ctx, uint8_t *out, int *outl)'),
      bounce: new Uint8Array(kPieceBytes + 64),
      outLength: new Int32Array(1),
    };
  } catch (err) {
    log(`evp-gcm: OpenSSL's EVP calls not bound (${(err as Error).message}); AES-GCM opens through node:crypto`);
    return undefined;
  }
}

/** Whether this thread decrypts through EVP (the tests check that it binds where koffi ships). */
export function evpAvailable(): boolean {
  if (evp === null) evp = bind();
  return evp !== undefined;
}

/**
 * aead.ts openInto through EVP: decrypts ciphertext ‖ tag into `dest` at `at`; true when it authenticates,
 * false when not (then `dest[at, at + length)` holds unauthenticated bytes, as in openInto), undefined when
 * EVP is not bound. Each piece is read before its output is written, so `sealed` may lie in `dest` at or
 * after `at` (in place).
 */
export function evpOpenInto(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, dest: Uint8Array, at: number): boolean | undefined {
  if (evp === null) evp = bind();
  const e = evp;
  if (!e) return undefined;
  if (sealed.length < kGcmTagBytes || key.length !== 32 || nonce.length !== 12) return false;
  const body = sealed.length - kGcmTagBytes;
  if (at < 0 || at + body > dest.length) return false;
  try {
    return decryptPieces(e, key, nonce, sealed, body, aad, dest, at);
  } finally {
    // the key schedule does not outlive the segment in the context the thread keeps (the bounce buffer holds
    // plaintext that is in `dest` anyway)
    e.reset(e.ctx);
  }
}

function decryptPieces(e: Evp, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, body: number, aad: Uint8Array | undefined, dest: Uint8Array, at: number): boolean {
  const n = e.outLength;
  // the tag is taken first, as node:crypto's setAuthTag does
  const tag = e.bounce.subarray(kPieceBytes, kPieceBytes + kGcmTagBytes);
  tag.set(sealed.subarray(body));
  if (e.init(e.ctx, e.cipher, null, key, nonce) !== 1) return false;
  if (aad && aad.length > 0 && e.update(e.ctx, null, n, aad, aad.length) !== 1) return false;
  let w = at;
  for (let off = 0; off < body; off += kPieceBytes) {
    const len = Math.min(kPieceBytes, body - off);
    if (e.update(e.ctx, e.bounce, n, sealed.subarray(off, off + len), len) !== 1 || n[0] !== len) return false;
    dest.set(e.bounce.subarray(0, len), w);
    w += len;
  }
  if (e.ctrl(e.ctx, kCtrlSetTag, kGcmTagBytes, tag) !== 1) return false;
  return e.final(e.ctx, e.bounce, n) > 0 && n[0] === 0;
}

/**
 * aead.ts sealBytes through EVP: ciphertext ‖ 16-byte tag of `plain` (at most kEvpSealMaxBytes) in a buffer of
 * its own; undefined when EVP is not bound or a call failed (the caller seals through node:crypto then).
 */
export function evpSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, aad: Uint8Array | undefined): Buffer | undefined {
  if (evp === null) evp = bind();
  const e = evp;
  if (!e || key.length !== 32 || nonce.length !== 12 || plain.length > kEvpSealMaxBytes) return undefined;
  const n = e.outLength;
  // as node:crypto's concat of the pieces: a small answer is a slice of Buffer's pool
  const out = Buffer.allocUnsafe(plain.length + kGcmTagBytes);
  try {
    if (e.sealInit(e.ctx, e.cipher, null, key, nonce) !== 1) return undefined;
    if (aad && aad.length > 0 && e.sealUpdate(e.ctx, null, n, aad, aad.length) !== 1) return undefined;
    // GCM is a stream mode: update writes the whole ciphertext, final writes nothing
    if (plain.length > 0 && (e.sealUpdate(e.ctx, out, n, plain, plain.length) !== 1 || n[0] !== plain.length)) return undefined;
    if (e.sealFinal(e.ctx, e.bounce, n) !== 1 || n[0] !== 0) return undefined;
    if (e.ctrl(e.ctx, kCtrlGetTag, kGcmTagBytes, out.subarray(plain.length)) !== 1) return undefined;
    return out;
  } finally {
    // as in evpOpenInto: the key schedule does not outlive the call in the context the thread keeps
    e.reset(e.ctx);
  }
}
