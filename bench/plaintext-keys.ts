/**
 * BENCHMARKS ONLY: encryption turned off, in the same build, to measure what encryption costs
 * (issue 13's overhead targets; bench/enc-overhead.ts). Nothing under src/ imports this file, and no CLI
 * flag, environment variable or key-store URI reaches it (docs/SECURITY.md, "Encryption cannot be turned
 * off"); a benchmark process constructs it in-process and injects it where the production code takes its
 * `DataKeys` (engine, server, commands through src/cli/command.ts's CommandContext).
 *
 * - `plaintextCipher`: "seals" by copying the plaintext and appending 16 zero bytes where the GCM tag goes,
 *   so every file keeps its framing and size and every code path stays the same; only AES-GCM is gone.
 *   Opening checks the 16 zero bytes (an AES-sealed file does not open with it) and copies the bytes out,
 *   as AES-GCM writes its output.
 * - `PlaintextKeyStore`: no KEKs; a "wrapped" data key is the key itself; destroying a KEK is remembered
 *   for the life of the process only (enough for a benchmark's retention sweep).
 * - `openPlaintextKeys(D)`: marks D as written with encryption off (`D/encryption.json` with key store kind
 *   "plaintext-benchmark", which every production command refuses: src/crypto/data-dir-keys.ts) and
 *   refuses a data dir that is bound to a real key store (its files are encrypted).
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Cipher } from '../src/crypto/cipher.js';
import { kTagBytes } from '../src/crypto/aead.js';
import { DataKeys } from '../src/crypto/data-keys.js';
import type { KeyStore } from '../src/crypto/key-store.js';
import { kEncryptionFile } from '../src/crypto/data-dir-keys.js';
import { KeyDestroyed } from '../src/errors.js';

const kZeroTag = Buffer.alloc(kTagBytes);

export const cipher: Cipher = Object.freeze({
  name: 'plaintext-benchmark',
  seal(_key: Uint8Array, _nonce: Uint8Array, plain: Uint8Array | readonly Uint8Array[]): Buffer {
    const parts = plain instanceof Uint8Array ? [plain] : plain;
    return Buffer.concat([...parts, kZeroTag]);
  },
  open(_key: Uint8Array, _nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
    if (sealed.length < kTagBytes) return undefined;
    const body = sealed.length - kTagBytes;
    for (let i = body; i < sealed.length; i++) if (sealed[i] !== 0) return undefined;
    return Buffer.from(sealed.subarray(0, body)); // a copy, as a decipher's output is
  },
  openInto(_key: Uint8Array, _nonce: Uint8Array, sealed: Uint8Array, _aad: Uint8Array | undefined, dest: Uint8Array, at: number): boolean {
    if (sealed.length < kTagBytes) return false;
    const body = sealed.length - kTagBytes;
    for (let i = body; i < sealed.length; i++) if (sealed[i] !== 0) return false;
    Buffer.from(sealed.buffer, sealed.byteOffset, body).copy(Buffer.from(dest.buffer, dest.byteOffset, dest.byteLength), at);
    return true;
  },
  workerModule: import.meta.url,
});

export const plaintextCipher = cipher;

export class PlaintextKeyStore implements KeyStore {
  readonly spec = 'plaintext-benchmark:';
  readonly kind = 'plaintext-benchmark' as const;
  private readonly made = new Set<string>();
  private readonly destroyed = new Set<string>();

  async create(name: string): Promise<void> {
    this.made.add(name);
    this.destroyed.delete(name);
  }
  async has(name: string): Promise<boolean> {
    return !this.destroyed.has(name);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.made].filter((n) => n.startsWith(prefix) && !this.destroyed.has(n));
  }
  async destroy(name: string): Promise<void> {
    this.made.delete(name);
    this.destroyed.add(name);
  }
  async wrap(_name: string, dataKey: Uint8Array): Promise<Buffer> {
    return Buffer.from(dataKey);
  }
  async unwrap(name: string, wrapped: Uint8Array): Promise<Buffer> {
    if (this.destroyed.has(name)) throw KeyDestroyed(`KEK ${name} was destroyed`);
    return Buffer.from(wrapped);
  }
  async close(): Promise<void> {}
}

const kMarker = { format: 'platesearch-encryption', version: 1, keyStore: 'plaintext-benchmark' };

/** Keys with encryption off for data dir `dataDir` (new, or written by this module before). */
export async function openPlaintextKeys(dataDir: string): Promise<DataKeys> {
  const file = path.join(dataDir, kEncryptionFile);
  let text: string | undefined;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    const b = JSON.parse(text) as { keyStore?: string };
    if (b.keyStore !== kMarker.keyStore) throw new Error(`${dataDir} is encrypted (key store ${String(b.keyStore)}): the plaintext benchmark does not write into it`);
  } else {
    await fsp.mkdir(dataDir, { recursive: true });
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    await fsp.writeFile(tmp, JSON.stringify(kMarker) + '\n');
    await fsp.rename(tmp, file);
  }
  return new DataKeys(new PlaintextKeyStore(), cipher);
}
