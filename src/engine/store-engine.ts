/**
 * The engine behind the `Engine` interface: a set of tenant stores under `D/tenants/`, and the query
 * layer over them. Tenancy is structural: a search reads only the stores its scopes name.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { HotlistQuery, HotlistResult, ReadFilter, SearchQuery, SearchResult, TenantScope } from '../model/query.js';
import type { Read, StoredRead } from '../model/read.js';
import { isTenantName } from '../model/tenant.js';
import { BadInput, isPlatesearchError, ShuttingDown, StorageUnavailable } from '../errors.js';
import { ensureDir } from '../store/durable-fs.js';
import { kMaxOrdinal } from '../store/ids.js';
import { TenantStore } from '../store/tenant-store.js';
import { compareHits, matchesFilter, referenceHotlistSearch, referenceSearch } from '../query/reference/index.js';
import type { AppendResult, DropResult, Engine, EngineOptions, EngineStats } from './engine.js';
import { rowToStoredRead } from '../store/tenant-store.js';

export class StoreEngine implements Engine {
  private readonly tenantsDir: string;
  private readonly stores = new Map<string, TenantStore>();
  private readonly creating = new Map<string, Promise<TenantStore>>();
  private readonly corrupt: string[] = [];
  private maxOrdinal = 0;
  private closed = false;

  private constructor(readonly options: EngineOptions) {
    this.tenantsDir = path.join(options.dataDir, 'tenants');
  }

  static async open(options: EngineOptions): Promise<StoreEngine> {
    const engine = new StoreEngine(options);
    await engine.load();
    return engine;
  }

  private async load(): Promise<void> {
    await ensureDir(this.tenantsDir);
    for (const name of (await readdir(this.tenantsDir)).sort()) {
      if (!isTenantName(name)) continue;
      try {
        const store = await TenantStore.open(this.tenantsDir, name);
        if (!store) continue;
        this.stores.set(name, store);
        this.maxOrdinal = Math.max(this.maxOrdinal, store.ordinal);
        this.corrupt.push(...store.corruptFiles);
      } catch (err) {
        if (!isPlatesearchError(err)) throw err;
        // a damaged manifest: the tenant is unavailable, and its files stay as they are
        const file = (err.details?.file as string | undefined) ?? path.join(this.tenantsDir, name);
        this.corrupt.push(file);
        this.broken.set(name, err);
      }
    }
  }

  private readonly broken = new Map<string, Error>();

  private async storeFor(tenant: string): Promise<TenantStore> {
    const have = this.stores.get(tenant);
    if (have) return have;
    if (!isTenantName(tenant)) throw BadInput(`tenant must be a tenant name: ${JSON.stringify(tenant)}`);
    const broken = this.broken.get(tenant);
    if (broken) throw StorageUnavailable(`Tenant ${tenant} cannot be opened: ${broken.message}`);
    let pending = this.creating.get(tenant);
    if (!pending) {
      if (this.maxOrdinal >= kMaxOrdinal) throw StorageUnavailable('No tenant ordinals left');
      const ordinal = ++this.maxOrdinal;
      pending = TenantStore.create(this.tenantsDir, tenant, ordinal).then((s) => {
        this.stores.set(tenant, s);
        return s;
      });
      this.creating.set(tenant, pending);
      pending.finally(() => this.creating.delete(tenant)).catch(() => undefined);
    }
    return pending;
  }

  private assertOpen(): void {
    if (this.closed) throw ShuttingDown('The engine is closed');
  }

  async append(tenant: string, reads: readonly Read[]): Promise<AppendResult> {
    this.assertOpen();
    if (reads.length === 0 && !this.stores.has(tenant)) return { stored: [], duplicates: [] };
    const store = await this.storeFor(tenant);
    return store.append(reads);
  }

  /** Every visible row of the scoped tenants, as reads (the simple path). */
  private *scopedReads(scopes: readonly TenantScope[]): Iterable<StoredRead> {
    for (const scope of scopes) {
      const store = this.stores.get(scope.tenant);
      if (!store) continue;
      for (const row of store.live.snapshot()) {
        if (row.ts >= scope.minTs) yield rowToStoredRead(store.tenant, store.ordinal, row);
      }
    }
  }

  async search(scopes: readonly TenantScope[], query: SearchQuery, signal?: AbortSignal): Promise<SearchResult> {
    this.assertOpen();
    signal?.throwIfAborted();
    return referenceSearch(this.scopedReads(scopes), scopes, query);
  }

  async searchHotlist(scopes: readonly TenantScope[], query: HotlistQuery, signal?: AbortSignal): Promise<HotlistResult> {
    this.assertOpen();
    signal?.throwIfAborted();
    return referenceHotlistSearch([...this.scopedReads(scopes)], scopes, query);
  }

  async *exportReads(scope: TenantScope, filter: ReadFilter): AsyncIterable<StoredRead> {
    this.assertOpen();
    const reads = [...this.scopedReads([scope])].filter((r) => matchesFilter(filter, r));
    reads.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const r of reads) yield r;
  }

  async dropBefore(tenant: string, cutoff: number): Promise<DropResult> {
    this.assertOpen();
    const store = this.stores.get(tenant);
    if (!store) return { shardsDeleted: 0, readsDeleted: 0 };
    return store.withExclusive(async () => {
      const { boundarySeq, oldGens } = await store.rotateWal();
      const old = store.live.rows.filter((r) => r.seq < boundarySeq);
      const dropped = old.filter((r) => r.ts < cutoff);
      if (dropped.length === 0) return { shardsDeleted: 0, readsDeleted: 0 };
      const kept = old.filter((r) => r.ts >= cutoff);
      await store.rewriteRows(kept);
      await store.deleteWalGens(oldGens);
      const gone = new Set(dropped);
      store.live.rows = store.live.rows.filter((r) => !gone.has(r));
      store.forgetReadIds(dropped);
      return { shardsDeleted: 0, readsDeleted: dropped.length };
    });
  }

  async seal(_tenant?: string): Promise<void> {
    this.assertOpen();
  }

  tenants(): string[] {
    return [...this.stores.values()].filter((s) => s.live.rows.length > 0 || s.manifest.shards.length > 0).map((s) => s.tenant).sort();
  }

  stats(): EngineStats {
    let reads = 0, live = 0, shards = 0;
    for (const s of this.stores.values()) {
      live += s.live.rows.length;
      shards += s.manifest.shards.length;
      reads += s.live.rows.length + s.manifest.shards.reduce((a, e) => a + e.rows, 0);
    }
    return { tenants: this.tenants().length, reads, shards, liveReads: live, residentBytes: 0, corruptFiles: [...this.corrupt] };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.creating.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.stores.values()].map((s) => s.close()));
  }
}

export { compareHits };
