/**
 * The durable hot-list store: `D/hotlists/<tenant>/<name>.hotlist` (codec.ts), with every list loaded and
 * its matcher built in memory.
 *
 * Replace is atomic twice over. On disk: write a temp file, fsync it, rename it over the list, fsync the
 * directory, so a crash leaves the old list or the new one. In memory: the new list's matcher is built
 * completely first, then one assignment swaps the tenant's (immutable) list array; ingest matching takes
 * that array once per batch and runs synchronously, so no read is ever checked against half a list.
 * Writes to one tenant's lists are serialised.
 *
 * Encrypted at rest: each file is sealed (src/crypto/sealed-file.ts) under a fresh data key, wrapped under
 * the tenant's hot-list KEK (`t/<tenant>/h`) and carried inline in the sealed header. A plaintext file of a
 * version without encryption is read and written back sealed at open (migration).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantName } from '../model/tenant.js';
import { decodeHotlist, encodeHotlist } from './codec.js';
import { isHotlistName, type Hotlist } from './hotlist.js';
import { HotlistMatcher } from './matcher.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { openDataDirKeys } from '../crypto/data-dir-keys.js';
import { hotlistEpoch } from '../crypto/key-names.js';
import { decodeKeyRef, encodeKeyRef } from '../crypto/key-ref.js';
import { isSealed, kSealedKindHotlist, openSealedFile, readSealedHeader, sealFile } from '../crypto/sealed-file.js';
import { CorruptFile } from '../errors.js';
import { fsyncDir, writeFileAtomic } from '../store/durable-fs.js';

/** A list as the matcher sees it: the stored list and its index, never mutated after creation. */
export interface LoadedHotlist {
  readonly list: Hotlist;
  readonly matcher: HotlistMatcher;
}

const kExt = '.hotlist';
const kTmp = '.tmp';

export function buildLoaded(list: Hotlist): LoadedHotlist {
  const spec = { mode: list.mode, maxEdits: list.maxEdits, ocr: list.ocr, transpositions: list.transpositions };
  return { list, matcher: HotlistMatcher.build(list.plates, spec, list.expires ?? undefined) };
}

export class HotlistStore {
  /** tenant → its lists, sorted by name; the array is replaced, never mutated. */
  private readonly lists = new Map<string, readonly LoadedHotlist[]>();
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Files that failed to load (corrupt, unknown version): left in place, reported. */
  readonly failures: Array<{ file: string; error: string }> = [];

  private constructor(readonly root: string, private readonly keys: DataKeys) {}

  static async open(dataDir: string, keys?: DataKeys): Promise<HotlistStore> {
    const store = new HotlistStore(join(dataDir, 'hotlists'), keys ?? (await openDataDirKeys(dataDir, undefined)).keys);
    await mkdir(store.root, { recursive: true });
    for (const tenant of await readdir(store.root)) {
      if (!isTenantName(tenant)) continue;
      const dir = join(store.root, tenant);
      const loaded: LoadedHotlist[] = [];
      for (const file of await readdir(dir)) {
        if (file.endsWith(kTmp)) {
          await rm(join(dir, file), { force: true }); // an interrupted replace: the old list stands
          continue;
        }
        if (!file.endsWith(kExt) || !isHotlistName(file.slice(0, -kExt.length))) continue;
        try {
          const bytes = await readFile(join(dir, file));
          if (isSealed(bytes)) {
            loaded.push(buildLoaded(decodeHotlist(await store.openFile(join(dir, file), bytes), join(tenant, file))));
          } else {
            // written before encryption at rest: seal it now (the plaintext file is replaced atomically)
            const list = decodeHotlist(bytes, join(tenant, file));
            await writeFileAtomic(join(dir, file), await store.sealList(tenant, list), join(dir, file) + kTmp);
            loaded.push(buildLoaded(list));
          }
        } catch (err) {
          store.failures.push({ file: join(dir, file), error: (err as Error).message });
        }
      }
      if (loaded.length > 0) store.lists.set(tenant, sortByName(loaded));
    }
    return store;
  }

  /** The tenant's lists (a snapshot: later replaces do not change it). */
  listsOf(tenant: string): readonly LoadedHotlist[] {
    return this.lists.get(tenant) ?? [];
  }

  get(tenant: string, name: string): LoadedHotlist | undefined {
    return this.listsOf(tenant).find((l) => l.list.name === name);
  }

  /** Tenants holding at least one list. */
  tenants(): string[] {
    return [...this.lists.keys()];
  }

  /** Stores `list` durably (replacing any list of that name), then swaps it in. Resolves with the loaded list. */
  put(tenant: string, list: Hotlist): Promise<LoadedHotlist> {
    return this.serialise(tenant, async () => {
      const loaded = buildLoaded(list);
      const dir = join(this.root, tenant);
      await mkdir(dir, { recursive: true });
      const path = join(dir, list.name + kExt);
      await writeFileAtomic(path, await this.sealList(tenant, list), path + kTmp); // the old list or the new one, never a mix
      const others = this.listsOf(tenant).filter((l) => l.list.name !== list.name);
      this.lists.set(tenant, sortByName([...others, loaded]));
      return loaded;
    });
  }

  /** Removes the list; resolves false if there was none. */
  delete(tenant: string, name: string): Promise<boolean> {
    return this.serialise(tenant, async () => {
      if (!this.get(tenant, name)) return false;
      const dir = join(this.root, tenant);
      await rm(join(dir, name + kExt), { force: true });
      await fsyncDir(dir);
      const rest = this.listsOf(tenant).filter((l) => l.list.name !== name);
      if (rest.length > 0) this.lists.set(tenant, rest);
      else this.lists.delete(tenant);
      return true;
    });
  }

  /** The list's file bytes: sealed under a fresh key wrapped under the tenant's hot-list KEK. */
  private async sealList(tenant: string, list: Hotlist): Promise<Buffer> {
    const k = await this.keys.newKey(hotlistEpoch(tenant));
    return Buffer.concat(sealFile(kSealedKindHotlist, k.key, encodeHotlist(list), encodeKeyRef(k), undefined, this.keys.cipher));
  }

  private async openFile(file: string, bytes: Buffer): Promise<Buffer> {
    const header = readSealedHeader(file, bytes);
    const ref = decodeKeyRef(header.keyRef);
    if (!ref) throw CorruptFile(`Hot list has a damaged key reference: ${file}`, { file });
    const key = await this.keys.openKey(ref.ref);
    return Buffer.from(openSealedFile(file, bytes, key, undefined, 0, this.keys.cipher).plain);
  }

  private serialise<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(tenant) ?? Promise.resolve();
    const next = prev.then(work, work);
    this.chains.set(tenant, next.catch(() => undefined));
    return next;
  }
}

function sortByName(lists: LoadedHotlist[]): LoadedHotlist[] {
  return lists.sort((a, b) => (a.list.name < b.list.name ? -1 : a.list.name > b.list.name ? 1 : 0));
}

