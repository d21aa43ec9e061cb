/**
 * Binds a data dir to its key store: `D/encryption.json` holds a check key wrapped under the store's
 * `s/check` KEK. Opening a data dir that has the binding with a store that cannot open the check key is
 * refused (KeyStoreWrong), a store that is not there is refused (KeyStoreMissing), before anything is
 * written. A data dir without the binding is new, or was written by a version without encryption: the
 * store is made (file stores only) and the binding written; the store's migration
 * (src/crypto/migrate.ts) then encrypts what is there.
 *
 *   {"format": "platesearch-encryption", "version": 1, "keyStore": "file" | "pkcs11",
 *    "check": {"kek": "s/check", "wrapped": base64}}
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { KeyStoreDamaged, KeyStoreInvalid, KeyStoreWrong, UnsupportedFormat, CorruptFile } from '../errors.js';
import { DataKeys, isKeyDestroyed, wrappedFromJson, wrappedToJson, type WrappedKeyJson } from './data-keys.js';
import { FileKeyStore } from './file-key-store.js';
import { defaultKeyStoreSpec, parseKeyStoreSpec, type KeyStore } from './key-store.js';
import { kCheckKek } from './key-names.js';

export const kEncryptionFile = 'encryption.json';
const kFormat = 'platesearch-encryption';
const kVersion = 1;

interface Binding {
  format: string;
  version: number;
  keyStore: 'file' | 'pkcs11';
  check: WrappedKeyJson;
}

export interface OpenKeysOptions {
  /** Called once with a warning for the operator (the file store is for development). */
  warn?: (message: string) => void;
}

export interface DataDirKeys {
  keys: DataKeys;
  /** The binding was made by this open: the data dir is new, or plaintext to migrate. */
  fresh: boolean;
}

async function readBinding(dataDir: string): Promise<Binding | undefined> {
  const file = path.join(dataDir, kEncryptionFile);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let b: Binding;
  try {
    b = JSON.parse(text) as Binding;
  } catch {
    throw CorruptFile(`${file} is not JSON`, { file });
  }
  if (b.format !== kFormat) throw CorruptFile(`${file} is not a platesearch encryption binding`, { file });
  if (b.version !== kVersion) throw UnsupportedFormat(`${file}: version ${String(b.version)} is not supported`, { file });
  // Only encrypted data dirs open: a binding of any other kind (the overhead benchmark marks the data dirs
  // it writes with encryption off as "plaintext-benchmark") is refused before anything is read or written.
  if (b.keyStore !== 'file' && b.keyStore !== 'pkcs11') {
    throw KeyStoreInvalid(`${dataDir} is bound to a key store of kind ${JSON.stringify(b.keyStore)}: platesearch opens only data dirs encrypted under a file: or pkcs11: key store (a data dir written by a benchmark with encryption off never opens)`, { file });
  }
  if (typeof b.check?.kek !== 'string' || typeof b.check?.wrapped !== 'string') throw CorruptFile(`${file} has no check key`, { file });
  return b;
}

async function openStore(spec: string, dataDir: string, create: boolean): Promise<KeyStore & { kind: 'file' | 'pkcs11' }> {
  const parsed = parseKeyStoreSpec(spec, dataDir);
  if (parsed.kind === 'file') return FileKeyStore.open(spec, parsed.dir, create);
  const { Pkcs11KeyStore } = await import('./pkcs11-key-store.js');
  return Pkcs11KeyStore.open(parsed);
}

/**
 * Opens the key store `spec` (default: `file:<D>.keys`) for data dir `dataDir`, checking that it is the
 * data dir's own. Throws a coded error (KeyStoreMissing, KeyStoreWrong, KeyStoreDamaged,
 * KeyStoreInvalid, KeyStoreUnavailable) without writing anything when it is not.
 */
export async function openDataDirKeys(dataDir: string, spec: string | undefined, options: OpenKeysOptions = {}): Promise<DataDirKeys> {
  const storeSpec = spec ?? defaultKeyStoreSpec(dataDir);
  const binding = await readBinding(dataDir);
  const store = await openStore(storeSpec, dataDir, binding === undefined);
  try {
    if (binding) {
      try {
        await store.unwrap(binding.check.kek, wrappedFromJson(binding.check).wrapped);
      } catch (err) {
        if (isKeyDestroyed(err) || (err as { code?: string }).code === KeyStoreWrong.code) {
          throw KeyStoreWrong(`key store ${storeSpec} does not hold the keys of data dir ${dataDir}`);
        }
        throw err;
      }
    } else {
      await store.create(kCheckKek);
      const wrapped = await store.wrap(kCheckKek, randomBytes(32));
      const b: Binding = { format: kFormat, version: kVersion, keyStore: store.kind, check: wrappedToJson({ kek: kCheckKek, wrapped }) };
      await fsp.mkdir(dataDir, { recursive: true });
      const file = path.join(dataDir, kEncryptionFile);
      const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      const fh = await fsp.open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(b) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      // never over a binding another process wrote meanwhile: then that one is checked like any other
      let raced = false;
      try {
        await fsp.link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        raced = true;
      } finally {
        await fsp.unlink(tmp).catch(() => undefined);
      }
      const dh = await fsp.open(dataDir, fsc.O_RDONLY);
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
      if (raced) {
        const theirs = (await readBinding(dataDir))!;
        await store.unwrap(theirs.check.kek, wrappedFromJson(theirs.check).wrapped).catch(() => {
          throw KeyStoreWrong(`key store ${storeSpec} does not hold the keys of data dir ${dataDir}`);
        });
      }
    }
  } catch (err) {
    await store.close().catch(() => undefined);
    if ((err as { code?: string }).code?.startsWith('PS_')) throw err;
    throw KeyStoreDamaged(`key store ${storeSpec}: ${(err as Error).message}`);
  }
  if (store.kind === 'file') {
    options.warn?.(`key store ${storeSpec} keeps keys in files: for development only; use --key-store pkcs11:… (an HSM) in production`);
  }
  return { keys: new DataKeys(store), fresh: binding === undefined };
}
