/**
 * The seam between the store and where sealed shards live: a small interface for immutable objects, byte
 * oriented, with no file paths in it. Everything above it (the sealer, the shard loader, the seal worker,
 * bulk ingest) names shards by key and hands over or receives bytes, so the same shards can later live in
 * an object store (S3, GCS, Azure Blob) or be wrapped (encrypted segments) by an implementation of this
 * interface that wraps another one.
 *
 * Contract, as object stores give it:
 *
 * - Objects are immutable: `put` of a key writes the whole object at once; a reader sees the old object
 *   (or none) or the new one, never a mix, and once `put` resolves the object is durable. The store
 *   never overwrites a live key (shard names carry a generation that is never reused), so "replace" is
 *   never needed for correctness; an implementation may still allow it.
 * - `get` and `getRange` return the stored bytes; a missing key is an `ObjectNotFound` error (code
 *   `ENOENT`, as node:fs and S3 SDK shims name it). Integrity is the caller's: the manifest keeps every
 *   shard's size and CRC32C and the loader checks them.
 * - `list` is every key under a prefix, in no promised order; objects mid-`put` are not listed.
 * - `delete` removes keys (missing ones are fine) durably: after it resolves they stay gone after a crash.
 * - `locate` names an object for people (error messages, `/healthz`): a path here, a URL elsewhere.
 *   Nothing may open what it returns.
 *
 * Keys are `/`-separated segments of [A-Za-z0-9._-], no segment starting with a dot (so no `..`, and room
 * for an implementation's own hidden names, as the local one keeps its temp files).
 */

/** Where and how a store lives, small and serialisable: worker threads open their own store from it. */
export interface ObjectStoreSpec {
  kind: 'local';
  /** The directory the local store keeps its objects in. */
  root: string;
}

export interface ObjectStore {
  /** The store's description, to open the same store on another thread (see objectStoreFromSpec). */
  readonly spec: ObjectStoreSpec;
  /** Writes an object atomically and durably; `bytes` may come in pieces (written in order, as one object). */
  put(key: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** The whole object. */
  get(key: string): Promise<Uint8Array>;
  /**
   * `length` bytes from `offset`. With `into` (at least `length` bytes), the bytes land there and a view of
   * it is returned: a loader places a shard straight into arena memory with no second copy. Fewer bytes
   * than asked (a shorter object) is an error with code `ERANGE`.
   */
  getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Size of an object in bytes, or undefined when there is none (HEAD). */
  head(key: string): Promise<number | undefined>;
  /** Keys under `prefix` (default: all). */
  list(prefix?: string): Promise<string[]>;
  /** Removes objects; missing keys are fine. Durable when it resolves. */
  delete(keys: readonly string[]): Promise<void>;
  /** A human-readable name of an object, for messages only. */
  locate(key: string): string;
  /**
   * After a crash: removes what interrupted puts left behind (the local store's temp files). Called by the
   * store's owner at open, before any put.
   */
  recover(): Promise<void>;
}

const kKeySegment = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Throws unless `key` is a valid object key (see the file comment). */
export function checkObjectKey(key: string): void {
  if (key.length === 0 || key.length > 1024 || !key.split('/').every((s) => kKeySegment.test(s))) {
    throw new RangeError(`not an object key: ${JSON.stringify(key)}`);
  }
}

/** A missing object, coded as node:fs codes it so callers have one check. */
export function objectNotFound(where: string): Error {
  return Object.assign(new Error(`no such object: ${where}`), { code: 'ENOENT' });
}
