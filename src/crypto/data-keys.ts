/**
 * Data keys and the KEKs that wrap them, for one data dir and its key store.
 *
 * A data key is 32 random bytes, made for one file (or one lane of a log file), stored only wrapped under
 * the current KEK generation of its epoch (src/crypto/key-names.ts): in the file's keyring (a shard's
 * manifest entry, a WAL or alert-log key record, a hot-list header, the audit keyring). Unwrapped keys are
 * cached in memory for the life of the process; destroying a KEK drops the keys it wrapped from the cache.
 */
import { createHash } from 'node:crypto';
import { KeyDestroyed } from '../errors.js';
import { newDataKey } from './aead.js';
import type { KeyStore } from './key-store.js';
import { aesGcm, type Cipher } from './cipher.js';
import { splitKekName } from './key-names.js';

/** A data key as stored: the KEK it is wrapped under and the wrapped bytes. */
export interface WrappedKey {
  kek: string;
  wrapped: Buffer;
}

export interface FileKey extends WrappedKey {
  key: Buffer;
}

/** A wrapped key as JSON keeps it (manifests, keyrings). */
export interface WrappedKeyJson {
  kek: string;
  wrapped: string;
}

export function wrappedToJson(k: WrappedKey): WrappedKeyJson {
  return { kek: k.kek, wrapped: k.wrapped.toString('base64') };
}

export function wrappedFromJson(j: WrappedKeyJson): WrappedKey {
  return { kek: j.kek, wrapped: Buffer.from(j.wrapped, 'base64') };
}

function cacheKey(k: WrappedKey): string {
  return `${k.kek}\u0000${k.wrapped.toString('base64')}`;
}

export class DataKeys {
  /** epoch → its current KEK name (the highest generation). */
  private readonly current = new Map<string, string>();
  private readonly opened = new Map<string, Buffer>();
  /** Serialises KEK creation per epoch (two files of one new day must not make two generations). */
  private readonly making = new Map<string, Promise<string>>();

  /**
   * `cipher` is what the files are sealed with: AES-256-GCM; only a benchmark process constructs DataKeys
   * with another (src/crypto/cipher.ts).
   */
  constructor(readonly store: KeyStore, readonly cipher: Cipher = aesGcm) {}

  /** The current KEK of `epoch`, made (generation 1) when the epoch has none yet. */
  currentKek(epoch: string): Promise<string> {
    const have = this.current.get(epoch);
    if (have) return Promise.resolve(have);
    let p = this.making.get(epoch);
    if (!p) {
      p = (async () => {
        const gens = await this.generations(epoch);
        let name: string;
        if (gens.length > 0) name = `${epoch}/${gens[gens.length - 1]}`;
        else {
          name = `${epoch}/1`;
          await this.store.create(name);
        }
        this.current.set(epoch, name);
        return name;
      })().finally(() => this.making.delete(epoch));
      this.making.set(epoch, p);
    }
    return p;
  }

  /** Generations of `epoch` in the key store, ascending. */
  async generations(epoch: string): Promise<number[]> {
    const gens: number[] = [];
    for (const name of await this.store.list(epoch + '/')) {
      const s = splitKekName(name);
      if (s && s.epoch === epoch) gens.push(s.gen);
    }
    return gens.sort((a, b) => a - b);
  }

  /** A fresh data key for one file, wrapped under the current KEK of `epoch`. */
  async newKey(epoch: string): Promise<FileKey> {
    const kek = await this.currentKek(epoch);
    const key = newDataKey();
    const wrapped = await this.store.wrap(kek, key);
    this.opened.set(cacheKey({ kek, wrapped }), key);
    return { kek, wrapped, key };
  }

  /** The data key of a stored wrapped key; KeyDestroyed when its KEK was destroyed. */
  async openKey(ref: WrappedKey): Promise<Buffer> {
    const ck = cacheKey(ref);
    const have = this.opened.get(ck);
    if (have) return have;
    const key = await this.store.unwrap(ref.kek, ref.wrapped);
    this.opened.set(ck, key);
    return key;
  }

  /** Wraps an existing data key again under the current KEK of `epoch` (key rotation, cutoff days). */
  async rewrap(ref: WrappedKey, epoch: string): Promise<WrappedKey> {
    const key = await this.openKey(ref);
    const kek = await this.currentKek(epoch);
    if (kek === ref.kek) return ref;
    const wrapped = await this.store.wrap(kek, key);
    this.opened.set(cacheKey({ kek, wrapped }), key);
    return { kek, wrapped };
  }

  /** Makes a new generation of `epoch` current; returns its name. */
  async bump(epoch: string): Promise<string> {
    const gens = await this.generations(epoch);
    const name = `${epoch}/${(gens[gens.length - 1] ?? 0) + 1}`;
    await this.store.create(name);
    this.current.set(epoch, name);
    return name;
  }

  /** Destroys KEKs by name; forgets the data keys they wrapped. */
  async destroy(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await this.store.destroy(name);
      const s = splitKekName(name);
      if (s && this.current.get(s.epoch) === name) this.current.delete(s.epoch);
      for (const k of [...this.opened.keys()]) if (k.startsWith(name + '\u0000')) this.opened.delete(k);
    }
  }

  /** Every generation of `epoch` but the current one (they wrap nothing the data dir still needs after a rewrite). */
  async olderGenerations(epoch: string): Promise<string[]> {
    const cur = await this.currentKek(epoch);
    return (await this.store.list(epoch + '/')).filter((n) => n !== cur && splitKekName(n)?.epoch === epoch);
  }

  /** Every KEK under a prefix (a tenant's, an epoch's). */
  list(prefix: string): Promise<string[]> {
    return this.store.list(prefix);
  }

  /** Whether a wrapped key's KEK still exists (a destroyed one means the data was shredded). */
  async isShredded(ref: WrappedKey): Promise<boolean> {
    return !(await this.store.has(ref.kek));
  }

  /**
   * The data keys opened so far, wrapped-bytes → key (both base64): handed to the seal worker, which
   * decrypts WAL lanes without a key store of its own.
   */
  openedKeys(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.opened) out[k.slice(k.indexOf('\u0000') + 1)] = v.toString('base64');
    return out;
  }
}

/** Joins two data keys into one: destroying either KEK then makes the data unreadable. */
export function jointKey(a: Uint8Array, b: Uint8Array): Buffer {
  return createHash('sha256').update('platesearch joint key\n').update(a).update(b).digest();
}

export function isKeyDestroyed(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === KeyDestroyed.code;
}
