/**
 * Key stores: where key-encryption keys (KEKs) live, never in the data dir. One interface, two kinds:
 *
 *   file:DIR                                   one 32-byte key per file, mode 0600 (development; warns)
 *   pkcs11:module=PATH;token=LABEL;pin-file=P  an HSM through PKCS#11: keys are non-extractable AES
 *                                              objects, data keys are wrapped and unwrapped inside it
 *
 * KEKs are named by the key hierarchy (src/crypto/key-names.ts); a store knows nothing of tenants.
 * Data keys never reach a key store except to be wrapped or unwrapped.
 */
import * as path from 'node:path';
import { KeyStoreInvalid } from '../errors.js';

export interface KeyStore {
  /** The spec it was opened from (for messages; holds no secret: the PIN stays in its file). */
  readonly spec: string;
  /** 'plaintext-benchmark': the overhead benchmark's stand-in (bench/plaintext-keys.ts); no spec opens one. */
  readonly kind: 'file' | 'pkcs11' | 'plaintext-benchmark';
  /** Creates a new KEK; an existing one of that name is left as it is. */
  create(name: string): Promise<void>;
  has(name: string): Promise<boolean>;
  /** Names of the KEKs whose name starts with `prefix`. */
  list(prefix: string): Promise<string[]>;
  /** Destroys a KEK for good (missing is fine). */
  destroy(name: string): Promise<void>;
  wrap(name: string, dataKey: Uint8Array): Promise<Buffer>;
  /** Unwraps; throws KeyDestroyed when the KEK is gone, KeyStoreWrong when the wrapping does not open. */
  unwrap(name: string, wrapped: Uint8Array): Promise<Buffer>;
  close(): Promise<void>;
}

export type KeyStoreSpec =
  | { kind: 'file'; dir: string; spec: string }
  | { kind: 'pkcs11'; module: string; token: string; pinFile: string; spec: string };

/** The default key store of a data dir: beside it, never inside it. */
export function defaultKeyStoreSpec(dataDir: string): string {
  return `file:${path.resolve(dataDir)}.keys`;
}

/** Parses a --key-store value; a file store inside the data dir is refused. */
export function parseKeyStoreSpec(spec: string, dataDir: string): KeyStoreSpec {
  if (spec.startsWith('file:')) {
    const dir = spec.slice('file:'.length);
    if (dir === '') throw KeyStoreInvalid('--key-store file:DIR needs a directory');
    const abs = path.resolve(dir);
    const data = path.resolve(dataDir);
    const rel = path.relative(data, abs);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
      throw KeyStoreInvalid(`--key-store ${spec}: keys must live outside the data dir ${data}`);
    }
    return { kind: 'file', dir: abs, spec };
  }
  if (spec.startsWith('pkcs11:')) {
    const fields = new Map<string, string>();
    for (const part of spec.slice('pkcs11:'.length).split(';')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) throw KeyStoreInvalid(`--key-store ${spec}: "${part}" is not key=value`);
      fields.set(part.slice(0, eq), part.slice(eq + 1));
    }
    const module = fields.get('module'), token = fields.get('token'), pinFile = fields.get('pin-file');
    if (!module || !token || !pinFile) throw KeyStoreInvalid(`--key-store ${spec}: pkcs11 needs module=PATH;token=LABEL;pin-file=PATH`);
    for (const k of fields.keys()) {
      if (!['module', 'token', 'pin-file'].includes(k)) throw KeyStoreInvalid(`--key-store ${spec}: unknown field ${k}`);
    }
    return { kind: 'pkcs11', module, token, pinFile, spec };
  }
  throw KeyStoreInvalid(`--key-store must be file:DIR or pkcs11:module=PATH;token=LABEL;pin-file=PATH, not ${JSON.stringify(spec)}`);
}
