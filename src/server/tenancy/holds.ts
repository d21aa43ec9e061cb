/**
 * The legal holds of every tenant (src/model/hold.ts), durable: one file per tenant,
 * `D/control/holds/<tenant>.json`, replaced atomically and durably (temp, fsync, rename, fsync dir) before
 * a change is answered. Its plaintext is
 *
 *   { "format": "platesearch-holds", "version": 1, "tenant": "pd-a", "holds": [Hold…] }
 *
 * and the file is that JSON sealed (src/crypto/inline-sealed.ts, kind 3) under a fresh data key wrapped
 * under the tenant's holds KEK `t/<tenant>/holds`: a hold names plates and a case, which API.md keeps off
 * the disk in clear. A plaintext file of a version without encryption is read and written back sealed at
 * open (the name stays, so the migration is one atomic replace and no window holds two files).
 *
 * Kept apart from control/directory.json: holds are written only by the server (no CLI command), and a
 * tenant's hold list may be large (plates). A released hold is removed from the file (its placing and its
 * release stay in the audit log, actions `hold.put` / `hold.release`).
 *
 * Fail closed: a file that cannot be read or has an unknown version marks its tenant `unreadable`; the
 * retention sweep then deletes nothing of that tenant (holds must never be lost by a parse error), and
 * hold routes for it answer 503 until the file is repaired.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageUnavailable } from '../../errors.js';
import type { DataKeys } from '../../crypto/data-keys.js';
import { openDataDirKeys } from '../../crypto/data-dir-keys.js';
import { openInline, sealInline } from '../../crypto/inline-sealed.js';
import { holdsEpoch } from '../../crypto/key-names.js';
import { isSealed, kSealedKindHolds } from '../../crypto/sealed-file.js';
import type { HeldReads, Hold, HoldReach } from '../../model/hold.js';
import type { HeldScope } from '../../query/held-search.js';
import { isTenantName } from '../../model/tenant.js';
import { writeFileDurable } from './durable-file.js';

export const kHoldsFormat = 'platesearch-holds';
export const kHoldsVersion = 1;

interface TenantHolds {
  holds: Map<string, Hold>;
  revision: number;
  held?: HeldReads;
}

export class HoldStore {
  private readonly tenants = new Map<string, TenantHolds>();
  /** Tenants whose file could not be read, with the reason. */
  private readonly unreadable = new Map<string, string>();
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string, private readonly keys: DataKeys) {}

  /** Loads every tenant's holds (a few small files, once at startup), sealing any plaintext file found. */
  static async open(dataDir: string, keys?: DataKeys): Promise<HoldStore> {
    const store = new HoldStore(join(dataDir, 'control', 'holds'), keys ?? (await openDataDirKeys(dataDir, undefined)).keys);
    let names: string[] = [];
    try {
      names = await readdir(store.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const tenant = name.slice(0, -5);
      if (!isTenantName(tenant)) continue;
      const path = join(store.dir, name);
      try {
        const bytes = await readFile(path);
        let holds: Map<string, Hold>;
        if (isSealed(bytes)) holds = parseHoldsFile(tenant, (await openInline(store.keys, kSealedKindHolds, path, bytes)).toString('utf8'));
        else {
          // written before encryption at rest: parsed first (an unreadable one stays as it is), then sealed
          holds = parseHoldsFile(tenant, bytes.toString('utf8'));
          await store.writeTenant(tenant, holds);
        }
        store.tenants.set(tenant, { holds, revision: 1 });
      } catch (err) {
        store.unreadable.set(tenant, `${path}: ${(err as Error).message}`);
      }
    }
    return store;
  }

  /** Tenants with a holds file (readable or not). */
  tenantsWithHolds(): string[] {
    return [...new Set([...this.tenants.keys(), ...this.unreadable.keys()])].sort();
  }

  /** Writes the tenant's holds again under a fresh key (key rotation: the current KEK generation). */
  reseal(tenant: string): Promise<void> {
    return this.mutate(tenant, () => undefined);
  }

  private async writeTenant(tenant: string, holds: Map<string, Hold>): Promise<void> {
    const file = { format: kHoldsFormat, version: kHoldsVersion, tenant, holds: [...holds.values()] };
    const plain = Buffer.from(JSON.stringify(file) + '\n', 'utf8');
    await writeFileDurable(join(this.dir, `${tenant}.json`), await sealInline(this.keys, kSealedKindHolds, holdsEpoch(tenant), plain));
  }

  /** The tenant's active holds, by id. */
  list(tenant: string): Hold[] {
    this.assertReadable(tenant);
    return [...(this.tenants.get(tenant)?.holds.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(tenant: string, id: string): Hold | undefined {
    this.assertReadable(tenant);
    return this.tenants.get(tenant)?.holds.get(id);
  }

  /** The tenant's active holds whose `case` is exactly `caseId`. */
  forCase(tenant: string, caseId: string): Hold[] {
    if (this.unreadable.has(tenant)) return [];
    return [...(this.tenants.get(tenant)?.holds.values() ?? [])].filter((h) => h.case === caseId);
  }

  /**
   * What retention must keep of `tenant`: undefined when it has no hold. Throws PS_STORAGE_UNAVAILABLE
   * when its holds file is unreadable, so the sweep deletes nothing rather than something held.
   */
  heldReads(tenant: string): HeldReads | undefined {
    this.assertReadable(tenant);
    const t = this.tenants.get(tenant);
    if (!t || t.holds.size === 0) return undefined;
    t.held ??= {
      revision: `${tenant}:${t.revision}`,
      reaches: [...t.holds.values()].map((h) => {
        const r: HeldReads['reaches'][number] = {};
        if (h.plates !== undefined) r.plates = h.plates;
        if (h.from !== undefined) r.from = h.from;
        if (h.to !== undefined) r.to = h.to;
        return r;
      }),
    };
    return t.held;
  }

  /** Places or replaces hold `hold.id`; durable when it resolves. Returns whether it was new. */
  put(tenant: string, hold: Hold): Promise<boolean> {
    return this.mutate(tenant, (holds) => {
      const existed = holds.has(hold.id);
      holds.set(hold.id, hold);
      return !existed;
    });
  }

  /** Releases hold `id`; durable when it resolves. Returns the released hold, or undefined if none. */
  release(tenant: string, id: string): Promise<Hold | undefined> {
    return this.mutate(tenant, (holds) => {
      const hold = holds.get(id);
      holds.delete(id);
      return hold;
    });
  }

  private assertReadable(tenant: string): void {
    const why = this.unreadable.get(tenant);
    if (why !== undefined) throw StorageUnavailable(`The legal holds of ${tenant} cannot be read: ${why}`, { tenant });
  }

  /** Applies `change` to a copy, writes it durably, then adopts it (so a failed write changes nothing). */
  private mutate<T>(tenant: string, change: (holds: Map<string, Hold>) => T): Promise<T> {
    const run = async (): Promise<T> => {
      this.assertReadable(tenant);
      const current = this.tenants.get(tenant);
      const next = new Map(current?.holds ?? []);
      const result = change(next);
      await this.writeTenant(tenant, next);
      this.tenants.set(tenant, { holds: next, revision: (current?.revision ?? 0) + 1 });
      return result;
    };
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => undefined);
    return p;
  }
}

function parseHoldsFile(tenant: string, text: string): Map<string, Hold> {
  const raw = JSON.parse(text) as { format?: unknown; version?: unknown; tenant?: unknown; holds?: unknown };
  if (raw === null || typeof raw !== 'object' || raw.format !== kHoldsFormat) throw new Error('not a holds file');
  if (raw.version !== kHoldsVersion) throw new Error(`version ${JSON.stringify(raw.version)} is not supported (expected ${kHoldsVersion})`);
  if (raw.tenant !== tenant) throw new Error(`the file names tenant ${JSON.stringify(raw.tenant)}`);
  if (!Array.isArray(raw.holds)) throw new Error('holds is not a list');
  const holds = new Map<string, Hold>();
  for (const h of raw.holds as Hold[]) {
    if (typeof h?.id !== 'string' || typeof h.case !== 'string') throw new Error('a hold without id or case');
    holds.set(h.id, h);
  }
  return holds;
}

const opening = new WeakMap<object, Promise<HoldStore>>();
const stores = new WeakMap<object, HoldStore>();

/**
 * Opens the HoldStore of a running server once (keyed by its services; tests run several servers in one
 * process). Route modules that need it await this in `setup`, so handlers find it open.
 */
export function openHoldsFor(services: { dataDir: string; keys: DataKeys }): Promise<HoldStore> {
  let p = opening.get(services);
  if (!p) {
    p = HoldStore.open(services.dataDir, services.keys).then((s) => {
      stores.set(services, s);
      return s;
    });
    opening.set(services, p);
  }
  return p;
}

/** The HoldStore of a running server, opened by a route module's setup (openHoldsFor). */
export function holdsFor(services: { dataDir: string; keys: DataKeys }): HoldStore {
  const store = stores.get(services);
  if (!store) throw StorageUnavailable('The legal holds are not open yet');
  return store;
}

/**
 * What a search by `tenant` stating `caseId` may see past retention: its own reads that its holds for that
 * case reach (never another tenant's, whatever case a partner states: case numbers are each agency's own).
 * Undefined when there is nothing to add (no such hold, or no retention). `holds` names the holds, for the
 * audit record.
 */
export function heldScopeFor(
  store: HoldStore, tenant: string, caseId: string, scopes: readonly { tenant: string; minTs: number }[],
): (HeldScope & { holds: string[] }) | undefined {
  const own = scopes.find((s) => s.tenant === tenant);
  if (!own || !(own.minTs > -Infinity)) return undefined;
  const holds = store.forCase(tenant, caseId);
  if (holds.length === 0) return undefined;
  return {
    tenant, cutoff: own.minTs, holds: holds.map((h) => h.id),
    reaches: holds.map((h) => {
      const r: HoldReach = {};
      if (h.plates !== undefined) r.plates = h.plates;
      if (h.from !== undefined) r.from = h.from;
      if (h.to !== undefined) r.to = h.to;
      return r;
    }),
  };
}
