/**
 * AES-256-GCM opened through OpenSSL's EVP calls (src/crypto/evp-gcm.ts) held to node:crypto (aead.ts
 * openIntoNode, the definition): on random keys, nonces, AAD and lengths around the 64 KiB piece, sealed bytes
 * intact or with one bit flipped (ciphertext, tag, AAD, nonce, key), into a separate buffer or in place as a
 * shard segment is opened, both answer the same and write the same bytes. And sealing through EVP (evpSeal,
 * what sealBytes takes for one buffer up to 64 KiB) held to node:crypto (sealBytesNode): the same bytes for
 * random keys, nonces, AAD and lengths, and node:crypto opens what it seals.
 */
import { platform } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openBytes, openIntoNode, sealBytes, sealBytesNode } from '../src/crypto/aead.js';
import { evpAvailable, evpOpenInto, evpSeal, kEvpSealMaxBytes } from '../src/crypto/evp-gcm.js';

const kPiece = 64 << 10;
const lengths = fc.oneof(
  fc.constantFrom(0, 1, 15, 16, 17, kPiece - 1, kPiece, kPiece + 1, 2 * kPiece, 3 * kPiece + 17),
  fc.integer({ min: 0, max: 5 * kPiece }),
);
const flips = fc.constantFrom('none', 'body', 'tag', 'aad', 'nonce', 'key');

function flipBit(bytes: Uint8Array, at: number): void {
  if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << (at % 8);
}

describe('evpOpenInto', () => {
  it.runIf(platform() === 'linux')('binds where koffi ships', () => {
    expect(evpAvailable()).toBe(true);
  });

  it('answers and writes as node:crypto does, into another buffer and in place', () => {
    fc.assert(
      fc.property(lengths, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 60 }),
        flips, fc.nat(), fc.integer({ min: 0, max: 200 }), fc.boolean(), fc.integer({ min: 0, max: 255 }),
        (length, key, nonce, aad, flip, where, gap, inPlace, seed) => {
          const plain = new Uint8Array(length);
          for (let i = 0; i < length; i++) plain[i] = (i * 131 + seed) & 0xff;
          const sealed = new Uint8Array(sealBytesNode(key, nonce, plain, aad));
          const [k, n, a] = [key.slice(), nonce.slice(), aad.slice()];
          if (flip === 'body') flipBit(sealed.subarray(0, length), where);
          if (flip === 'tag') flipBit(sealed.subarray(length), where);
          if (flip === 'aad') flipBit(a, where);
          if (flip === 'nonce') flipBit(n, where);
          if (flip === 'key') flipBit(k, where);
          // the same starting memory for both: dest holds noise; in place, the sealed bytes sit `gap` bytes after the output
          const at = 3;
          const size = at + gap + sealed.length + 7;
          const make = () => {
            const dest = new Uint8Array(size);
            for (let i = 0; i < size; i++) dest[i] = (i * 7 + 1) & 0xff;
            if (inPlace) dest.set(sealed, at + gap);
            return { dest, input: inPlace ? dest.subarray(at + gap, at + gap + sealed.length) : sealed.slice() };
          };
          const viaEvp = make();
          const viaNode = make();
          const got = evpOpenInto(k, n, viaEvp.input, a.length > 0 ? a : undefined, viaEvp.dest, at);
          const want = openIntoNode(k, n, viaNode.input, a.length > 0 ? a : undefined, viaNode.dest, at);
          expect(got).toBe(want);
          expect(want).toBe(flip === 'none' || (flip === 'aad' && a.length === 0) || (flip === 'body' && length === 0)); // nothing to flip
          if (want) {
            expect(Buffer.compare(viaEvp.dest, viaNode.dest)).toBe(0);
            expect(Buffer.compare(viaEvp.dest.subarray(at, at + length), plain)).toBe(0);
          }
        }),
      { numRuns: 300 },
    );
  });

  it('refuses what node:crypto refuses: short input, a wrong-sized key or nonce, a destination too small', () => {
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(12).fill(2);
    const sealed = new Uint8Array(sealBytes(key, nonce, new Uint8Array(100).fill(3)));
    const dest = new Uint8Array(200);
    expect(evpOpenInto(key, nonce, sealed.subarray(0, 15), undefined, dest, 0)).toBe(false);
    expect(evpOpenInto(key.subarray(0, 16), nonce, sealed, undefined, dest, 0)).toBe(false);
    expect(evpOpenInto(key, nonce.subarray(0, 8), sealed, undefined, dest, 0)).toBe(false);
    expect(evpOpenInto(key, nonce, sealed, undefined, dest, 150)).toBe(false);
    expect(openIntoNode(key, nonce, sealed, undefined, dest, 150)).toBe(false);
    expect(evpOpenInto(key, nonce, sealed, undefined, dest, 100)).toBe(true);
  });
});

describe('evpSeal', () => {
  const sealLengths = fc.oneof(
    fc.constantFrom(0, 1, 15, 16, 17, 180, 4095, 4096, 4097, kEvpSealMaxBytes - 1, kEvpSealMaxBytes),
    fc.integer({ min: 0, max: 2048 }),
  );

  it('seals byte for byte as node:crypto does, and node:crypto opens it', () => {
    fc.assert(
      fc.property(sealLengths, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 60 }),
        fc.integer({ min: 0, max: 255 }), (length, key, nonce, aad, seed) => {
          const plain = new Uint8Array(length);
          for (let i = 0; i < length; i++) plain[i] = (i * 131 + seed) & 0xff;
          const a = aad.length > 0 ? aad : undefined;
          const want = sealBytesNode(key, nonce, plain, a);
          const got = evpSeal(key, nonce, plain, a);
          expect(got).toBeDefined();
          expect(Buffer.compare(got!, want)).toBe(0);
          // what every caller gets: the same bytes, whichever way sealBytes took
          expect(Buffer.compare(sealBytes(key, nonce, plain, a), want)).toBe(0);
          expect(Buffer.compare(openBytes(key, nonce, got!, a)!, plain)).toBe(0);
        }),
      { numRuns: 300 },
    );
  });

  it('leaves to node:crypto what it does not take: a longer buffer, a wrong-sized key or nonce; sealBytes answers the same', () => {
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(12).fill(2);
    const long = new Uint8Array(kEvpSealMaxBytes + 1).fill(3);
    expect(evpSeal(key, nonce, long, undefined)).toBeUndefined();
    expect(evpSeal(key.subarray(0, 16), nonce, long.subarray(0, 10), undefined)).toBeUndefined();
    expect(evpSeal(key, nonce.subarray(0, 8), long.subarray(0, 10), undefined)).toBeUndefined();
    expect(Buffer.compare(sealBytes(key, nonce, long), sealBytesNode(key, nonce, long))).toBe(0);
    // chunks (the WAL's) go through node:crypto, as one buffer of the same bytes would seal
    const chunks = [long.subarray(0, 100), long.subarray(100, 300)];
    expect(Buffer.compare(sealBytes(key, nonce, chunks), sealBytesNode(key, nonce, long.subarray(0, 300)))).toBe(0);
  });
});
