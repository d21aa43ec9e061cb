/**
 * The file key store, `file:DIR` (development and tests): one KEK per file, beside the data dir.
 *
 *   DIR/                     mode 0700
 *   DIR/keystore.json        {"format": "platesearch-keystore", "version": 1, "id": <random hex>}
 *   DIR/<name>.kek           32 random bytes, mode 0600; <name> is the KEK's name with "/" as "~"
 *
 * Wrapping is AES-256-GCM under the KEK with a random nonce and the KEK's name as associated data, so a
 * wrapped key moved to another name does not open. Destroying overwrites the file with zeros, syncs it and
 * unlinks it (on flash and copy-on-write file systems the old blocks may survive: production keys belong
 * in an HSM, which is why the server warns at start that this store is for development).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { KeyDestroyed, KeyStoreDamaged, KeyStoreMissing, KeyStoreWrong } from '../errors.js';
import { kKeyBytes, openRandom, sealRandom } from './aead.js';
import type { KeyStore } from './key-store.js';

const kMetaFile = 'keystore.json';
const kFormat = 'platesearch-keystore';
const kVersion = 1;
const kExt = '.kek';

function fileOf(name: string): string {
  if (!/^[A-Za-z0-9._/-]+$/.test(name) || name.includes('..')) throw new Error(`not a key name: ${name}`);
  return name.replaceAll('/', '~') + kExt;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fsc.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes a secret file durably and never over an existing one (a key is never replaced): temp file,
 * fsync, hard link to the final name (fails if it exists), unlink the temp, fsync the directory. Returns
 * false when the name existed (another process made it first: theirs stands).
 */
export async function writeSecret(file: string, bytes: Uint8Array): Promise<boolean> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  let made = true;
  try {
    await fsp.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    made = false;
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
  await syncDir(path.dirname(file));
  return made;
}

export class FileKeyStore implements KeyStore {
  readonly kind = 'file' as const;
  /** KEKs read so far (a destroyed one is dropped). */
  private readonly cache = new Map<string, Buffer>();

  private constructor(readonly spec: string, readonly dir: string, readonly id: string) {}

  /**
   * Opens DIR; with `create`, makes it (mode 0700) when it does not exist. A missing DIR without `create`
   * is KeyStoreMissing; a DIR that is not a key store is KeyStoreDamaged.
   */
  static async open(spec: string, dir: string, create: boolean): Promise<FileKeyStore> {
    let meta: string | undefined;
    try {
      meta = await fsp.readFile(path.join(dir, kMetaFile), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw KeyStoreDamaged(`key store ${spec}: ${(err as Error).message}`);
    }
    if (meta === undefined) {
      let exists = true;
      let empty = true;
      try {
        empty = (await fsp.readdir(dir)).length === 0;
      } catch {
        exists = false;
      }
      if (!create) {
        if (!exists) throw KeyStoreMissing(`key store ${spec} does not exist`);
        throw KeyStoreDamaged(`key store ${spec} has no ${kMetaFile}`);
      }
      if (exists && !empty && !(await fsp.readdir(dir)).every((f) => f.includes('.tmp-'))) {
        // another process creating the store at once may have linked its meta file after our read: open theirs
        const appeared = await fsp.access(path.join(dir, kMetaFile)).then(() => true, () => false);
        if (appeared) return FileKeyStore.open(spec, dir, false);
        throw KeyStoreDamaged(`key store ${spec} is not empty and has no ${kMetaFile}`);
      }
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      await fsp.chmod(dir, 0o700);
      const id = randomBytes(16).toString('hex');
      // two processes creating the store at once (parallel `token create` on a new data dir): one id wins
      if (!(await writeSecret(path.join(dir, kMetaFile), Buffer.from(JSON.stringify({ format: kFormat, version: kVersion, id }) + '\n')))) {
        return FileKeyStore.open(spec, dir, false);
      }
      await syncDir(path.dirname(dir));
      return new FileKeyStore(spec, dir, id);
    }
    let parsed: { format?: unknown; version?: unknown; id?: unknown };
    try {
      parsed = JSON.parse(meta) as typeof parsed;
    } catch {
      throw KeyStoreDamaged(`key store ${spec}: ${kMetaFile} is not JSON`);
    }
    if (parsed.format !== kFormat || parsed.version !== kVersion || typeof parsed.id !== 'string') {
      throw KeyStoreDamaged(`key store ${spec}: ${kMetaFile} is not a platesearch key store of version ${kVersion}`);
    }
    return new FileKeyStore(spec, dir, parsed.id);
  }

  private async kek(name: string): Promise<Buffer> {
    const have = this.cache.get(name);
    if (have) return have;
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(path.join(this.dir, fileOf(name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw KeyDestroyed(`key ${name} does not exist in ${this.spec}`, { key: name });
      throw KeyStoreDamaged(`key ${name} of ${this.spec} cannot be read: ${(err as Error).message}`);
    }
    if (bytes.length !== kKeyBytes) throw KeyStoreDamaged(`key ${name} of ${this.spec} has ${bytes.length} bytes, not ${kKeyBytes}`, { key: name });
    this.cache.set(name, bytes);
    return bytes;
  }

  async create(name: string): Promise<void> {
    if (await this.has(name)) return;
    await writeSecret(path.join(this.dir, fileOf(name)), randomBytes(kKeyBytes)); // an existing key is never replaced
  }

  async has(name: string): Promise<boolean> {
    if (this.cache.has(name)) return true;
    try {
      await fsp.access(path.join(this.dir, fileOf(name)));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for (const f of await fsp.readdir(this.dir)) {
      if (!f.endsWith(kExt) || f.includes('.tmp-')) continue;
      const name = f.slice(0, -kExt.length).replaceAll('~', '/');
      if (name.startsWith(prefix)) names.push(name);
    }
    return names.sort();
  }

  async destroy(name: string): Promise<void> {
    this.cache.delete(name);
    const file = path.join(this.dir, fileOf(name));
    try {
      const fh = await fsp.open(file, 'r+');
      try {
        await fh.write(Buffer.alloc(kKeyBytes), 0, kKeyBytes, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    await syncDir(this.dir);
  }

  async wrap(name: string, dataKey: Uint8Array): Promise<Buffer> {
    return sealRandom(await this.kek(name), dataKey, Buffer.from(name));
  }

  async unwrap(name: string, wrapped: Uint8Array): Promise<Buffer> {
    const key = openRandom(await this.kek(name), wrapped, Buffer.from(name));
    if (!key) throw KeyStoreWrong(`a key wrapped under ${name} does not open with ${this.spec}`, { key: name });
    return key;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
