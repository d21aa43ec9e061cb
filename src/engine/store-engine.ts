/**
 * The engine behind the `Engine` interface: tenant stores under `D/tenants/`, arenas holding their
 * shards, a background sealer, and the query layer over them. Tenancy is structural: a search reads only
 * the stores its scopes name (the planner, src/query/planner.ts, builds sources from scopes alone).
 */
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { ArenaSet, type Region } from '../core/arena.js';
import { IdleRelease } from '../core/idle-release.js';
import { Kernels } from '../core/kernels.js';
import { kernelModule } from '../core/module.js';
import type { HitSink } from '../model/hit-sink.js';
import type { HotlistSink } from '../model/hotlist-sink.js';
import type { HotlistQuery, HotlistResult, PlateMatch, ReadFilter, SearchQuery, SearchResult, TenantScope } from '../model/query.js';
import type { Read, StoredRead } from '../model/read.js';
import type { HeldReads } from '../model/hold.js';
import { isTenantName } from '../model/tenant.js';
import { BadInput, isPlatesearchError, ShuttingDown, StorageUnavailable } from '../errors.js';
import { ensureDir } from '../store/durable-fs.js';
import { kMaxOrdinal } from '../store/ids.js';
import { ShardOpenPool } from '../store/shard-open-pool.js';
import { CoveredDistances } from '../query/covered-distances.js';
import { adoptShards, compactTenant, dropTenantBefore, encryptPlainShards, openShards, rewriteLiveLog, sealTenant } from '../store/sealer.js';
import type { BulkLoad } from '../store/bulk-load.js';
import { dayOf } from '../store/shard-format.js';
import { expiredKeks, liveHoldsDay, prepareDayShred, rewrapDayShards } from '../crypto/shred.js';
import { columnsRowToStoredRead, TenantStore } from '../store/tenant-store.js';
import { readColumnsOf, type ReadColumns } from '../store/read-columns.js';
import { readIdOf } from '../store/ids.js';
import { candidateKeyOf, executeSearch, readByPlate, shardTask, wantsKernel, type TenantMatches } from '../query/executor.js';
import { isLookup } from '../query/plate-matcher.js';
import { matchTenantPlates } from '../query/tenant-match.js';
import { shardsHoldingPlate } from '../query/plate-shards.js';
import { TenantPlates } from '../store/tenant-plates.js';
import type { PlateEpoch } from '../store/plate-epoch.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { PlateIndexThread } from '../store/plate-index-thread.js';
import { SealWorkerHost } from '../store/seal-worker-host.js';
import { ExecutorPool } from '../query/pool.js';
import type { SegmentTask, SegmentTaskResult } from '../query/segment-task.js';
import type { Source } from '../query/sources.js';
import { executeHotlistJoin, kHotlistPoolMinPlates } from '../query/hotlist-join.js';
import type { HotlistTask, HotlistTaskResult } from '../query/hotlist-task.js';
import type { LiveHotlistTask } from '../query/live-hotlist-task.js';
import { exportTenant } from '../query/export.js';
import type { AnalyticsQuery, AnalyticsResult } from '../model/analytics.js';
import { QueryBudget } from '../query/budget.js';
import { scanRows, type RowScanSpec, type SourceRows } from '../query/analytics/row-scan.js';
import { planningWindow, runAnalysis } from '../query/analytics/run.js';
import type { AnalysisEngine } from '../query/analytics/context.js';
import { planSources } from '../query/planner.js';
import type { LiveView } from '../store/live-columns.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { openDataDirKeys } from '../crypto/data-dir-keys.js';
import type { AppendResult, ColumnsAppendResult, DropResult, Engine, EngineOptions, EngineStats } from './engine.js';

const kDefaultSealRows = 1_000_000;
/**
 * Scratch per kernel instance (the calling thread's and each pool worker's, per arena), resident for the
 * arena's life. A worker's task needs one chunk's output (5 B a row, 65,536 rows: 320 KiB) and, for a shard
 * that still reads its own plate slots, that dictionary's distances (1 B a plate); shards reading their plates
 * through the tenant dictionary get the distances from the calling thread's tenant match. 1 MiB holds a shard of
 * ~700k distinct plates (bench:peers' 20M data: at most 287k; the highest use over all its rows: 321 KiB in a
 * worker, convoy's row scan; 1,010 KiB on the calling thread, fuzzy k=2's n-gram candidates). A bigger request spills into the
 * arena on the calling thread (src/core/scratch.ts); a worker's task that does not fit runs on the calling thread.
 * Why not more: each MiB here is 3 MiB resident in a 2-thread engine (0.16 B/read at 20M).
 */
const kScratchBytes = 1024 * 1024;
const kDefaultPoolMinRows = 4_000_000;
const kDefaultSealAgeMs = 600_000;
/**
 * The idle seal: a tenant that has had no read appended for this long is sealed when it holds at least
 * kDefaultSealIdleRows live rows. Why: a live row costs ~56 B of arena lanes plus its plate's tables and string
 * (~70–90 B in all at 1M live rows), the same read sealed ~25 B, so the up to 1M rows a paused ingest leaves
 * live (whatever arrived after the last size seal: 21k–973k in 5M runs over HTTP, by timing) are 40–60 MiB
 * more than they need; and a crash replays that tail from the WAL. Stores with a write buffer do the same on
 * inactivity (InfluxDB's cache snapshot when cold, Elasticsearch's flush of an inactive shard). 5 s: past the
 * gaps of steady ingest (a client's next batch comes in ms), short enough that the memory comes back while the
 * pause lasts. docs/storage-v2.md, "The idle tail sealed".
 */
export const kDefaultSealIdleMs = 5_000;
/**
 * Below this many live rows a paused tenant is not sealed for idleness (8 live blocks, ~6 MiB at most): a
 * tenant of a few cameras pausing every few seconds would otherwise make a shard, a data key and a manifest
 * commit per pause, and compaction would merge them again. The age seal still takes such a tail.
 */
export const kDefaultSealIdleRows = 65_536;
// how often the background sealer looks at the tenants
const kSealCheckMs = 1000;
// acknowledgement marks lag the WAL by at most this (a cut-short log loses at most this much unnoticed)
const kAckMarkMs = 1000;

/** Pins the live views of planned sources (their arena regions stay while a search awaits); returns them to unpin. */
function pinLive(sources: readonly Source[]): LiveView[] {
  const views = sources.flatMap((s) => (s.kind === 'live' ? [s.view] : []));
  for (const v of views) v.pin();
  return views;
}

/**
 * Sealed shard bytes of a tenant from which opening starts the shard-open workers (unless `openThreads` is
 * given). Below it the workers' start costs more than they save: at 1M reads (64 MB sealed) opening on the
 * calling thread took 0.84-1.2 s of CPU and with two workers 1.4-1.8 s, with no gain in wall time on two
 * cores (bench/RESULTS.md, "Encryption overhead"); AES-GCM and CRC32C of 256 MiB are ~0.1 s on one core.
 */
export const kOpenPoolMinBytes = 256 << 20;

/** An arena region and what holds it (StoreEngine.residentRegions). */
export interface ResidentRegion extends Region {
  owner: 'scratch' | 'worker scratch' | 'tenant plates' | 'tenant plates (older epoch)' | 'live' | `shard ${ReturnType<LoadedShard['arenaRegions']>[number]['part']}`;
  tenant?: string;
  shard?: LoadedShard;
}

export class StoreEngine implements Engine {
  private readonly tenantsDir: string;
  private readonly stores = new Map<string, TenantStore>();
  private readonly creating = new Map<string, Promise<TenantStore>>();
  private readonly broken = new Map<string, Error>();
  private readonly corrupt: string[] = [];
  readonly arenas: ArenaSet;
  private maxOrdinal = 0;
  private closed = false;
  private sealTimer: NodeJS.Timeout | undefined;
  /** Writes the tenants' acknowledgement marks (TenantStore.writeAckMark) about once a second. */
  private markTimer: NodeJS.Timeout | undefined;
  /** The arenas' free pages and malloc's free memory given back to the OS once the engine goes quiet. */
  readonly idleRelease: IdleRelease;
  private sealing: Promise<unknown> = Promise.resolve();
  private readonly shredListeners: Array<(tenant: string, day: number) => Promise<void>> = [];
  private readonly sealRows: number;
  private readonly sealAgeMs: number;
  private readonly sealIdleMs: number;
  private readonly sealIdleRows: number;
  /** Calling-thread kernels per arena (null: that arena has no room for scratch, or no module). */
  private readonly kernels = new Map<number, Kernels | null>();
  private readonly scratch = new Map<number, { ptr: number; bytes: number }>();
  /** Per tenant, its distinct plates across shards (kept up to date lazily, by the searches that use them). */
  private readonly tenantPlates = new Map<string, TenantPlates>();
  /** Where tenant plate dictionaries and their n-gram indexes are built (a worker thread; see TenantPlates.refresh). */
  private readonly plateIndexThread: PlateIndexThread;
  /** The seal worker, one thread for the engine's life (seals, compactions, retention rewrites). */
  readonly sealWorker = new SealWorkerHost();
  private readonly workerSlots = new Map<number, Array<{ ptr: number; bytes: number }>>();
  private readonly threads: number;
  /** Worker threads that check and decrypt shards while the data dir opens (0: the opening thread). */
  private readonly openThreads: number;
  private readonly poolMinRows: number;
  private readonly useTenantPlates: boolean;
  private pool: ExecutorPool | undefined;
  private poolFailed = false;
  /** Shard scans run by the kernels vs by the JS fallback (for stats and tests). */
  private readonly counters = { kernelTasks: 0, poolTasks: 0, rowsCountedOnly: 0 };
  /** Errors of background sealing (surfaced in stats, retried on the next tick). */
  lastSealError: Error | undefined;

  /** The data dir's keys. */
  get keys(): DataKeys {
    return this.options.keys!;
  }

  private constructor(readonly options: EngineOptions) {
    this.tenantsDir = path.join(options.dataDir, 'tenants');
    this.threads = Math.max(0, Math.floor(options.threads ?? availableParallelism()));
    this.openThreads = Math.max(0, Math.floor(options.openThreads ?? this.threads));
    this.poolMinRows = options.poolMinRows ?? kDefaultPoolMinRows;
    this.useTenantPlates = options.tenantPlates ?? true;
    this.arenas = new ArenaSet({
      ...(options.arenaBytes !== undefined ? { arenaBytes: options.arenaBytes } : {}),
      // scratch for the calling thread's kernels is carved the moment an arena opens, so it always fits
      onArena: (arena) => {
        const bytes = Math.max(16 * 1024, Math.min(kScratchBytes, Math.floor(arena.maxBytes / 16 / 16) * 16));
        const ptr = arena.alloc(bytes, 64);
        if (ptr >= 0) this.scratch.set(arena.index, { ptr, bytes });
        // and one slot per pool worker, handed to the pool when it starts (ExecutorPool.slotCount). No spares: they
        // were 4 MiB that no worker held in a 2-thread engine (0.21 B/read at 20M, bench/resident-breakdown.ts)
        const slots: Array<{ ptr: number; bytes: number }> = [];
        for (let i = 0; i < this.threads; i++) {
          const p = arena.alloc(bytes, 64);
          if (p >= 0) slots.push({ ptr: p, bytes });
        }
        this.workerSlots.set(arena.index, slots);
        this.pool?.addArena(arena.index, slots);
      },
    });
    this.sealRows = options.sealRows ?? kDefaultSealRows;
    this.sealAgeMs = options.sealAgeMs ?? kDefaultSealAgeMs;
    // the idle seal is a seal by time: off when sealing by time is (sealAgeMs 0: tests and benches that keep live rows)
    this.sealIdleMs = this.sealAgeMs > 0 ? (options.sealIdleMs ?? kDefaultSealIdleMs) : 0;
    this.sealIdleRows = Math.max(1, options.sealIdleRows ?? kDefaultSealIdleRows);
    this.plateIndexThread = new PlateIndexThread(this.arenas);
    this.idleRelease = new IdleRelease(this.arenas, { collect: true });
  }

  static async open(options: EngineOptions): Promise<StoreEngine> {
    const keys = options.keys ?? (await openDataDirKeys(options.dataDir, undefined)).keys;
    const engine = new StoreEngine({ ...options, keys });
    await engine.load();
    // the open's transients are freed by now (re-encoded lanes' trimmed tails, the reserve's surplus, the
    // shard-open workers' buffers): give them back before the tenant dictionaries' builds add theirs, so the
    // peak after opening is the resident plus one build, not plus both (src/core/idle-release.ts)
    engine.idleRelease.release();
    if (engine.useTenantPlates) for (const store of engine.stores.values()) if (store.shards.length > 1) engine.refreshTenantPlates(store);
    engine.markTimer = setInterval(() => {
      for (const store of engine.stores.values()) void store.writeAckMark();
    }, kAckMarkMs);
    engine.markTimer.unref();
    if (engine.sealAgeMs > 0 || options.sealRows !== undefined) {
      engine.sealTimer = setInterval(() => engine.sealInBackground(), kSealCheckMs);
      engine.sealTimer.unref();
    }
    return engine;
  }

  private async load(): Promise<void> {
    await ensureDir(this.tenantsDir);
    // the shards' checks and decryption on worker threads while the data dir opens (src/store/shard-open-pool.ts)
    const pool: { pool?: ShardOpenPool } = {};
    try {
      await this.loadTenants(pool);
    } finally {
      await pool.pool?.close();
    }
  }

  private async loadTenants(pool: { pool?: ShardOpenPool }): Promise<void> {
    // every tenant's manifest first: whether the workers pay for their start depends on the data dir's sealed
    // bytes, not on the first tenant's (a tenant under the threshold was opened on this thread alone)
    const opened: TenantStore[] = [];
    for (const name of (await readdir(this.tenantsDir)).sort()) {
      if (!isTenantName(name)) continue;
      try {
        const store = await TenantStore.open(this.tenantsDir, name, this.keys, this.arenas);
        if (store) opened.push(store);
      } catch (err) {
        this.markBroken(name, err);
      }
    }
    const sealedBytes = opened.reduce((n, store) => n + store.manifest.shards.reduce((m, e) => m + (e.key ? e.bytes : 0), 0), 0);
    if (this.options.openThreads !== undefined || sealedBytes >= kOpenPoolMinBytes) {
      pool.pool = ShardOpenPool.start(this.openThreads, this.keys.cipher);
    }
    // the shards' regions made room for at once: one grow and one huge-page advice, not one a shard (Arena.reserve)
    this.arenas.reserve(opened.reduce((n, store) => n + store.manifest.shards.reduce((m, e) => m + Math.ceil(e.bytes / 64) * 64, 0), 0));
    for (const store of opened) {
      try {
        await openShards(store, this.arenas, pool.pool);
        if (store.plainWalGens.size > 0 || store.shards.some((s) => !s.entry.key)) {
          // written before encryption at rest: seal the plaintext log and rewrite plaintext shards sealed,
          // each step committed by the manifest (a crash in between is finished at the next open)
          await sealTenant(store, this.arenas, this.sealWorker);
          await encryptPlainShards(store, this.arenas, this.sealWorker);
        }
        this.stores.set(store.tenant, store);
        this.maxOrdinal = Math.max(this.maxOrdinal, store.ordinal);
        this.corrupt.push(...store.corruptFiles);
      } catch (err) {
        this.markBroken(store.tenant, err);
      }
    }
  }

  /** A tenant whose manifest or shards cannot be opened: unavailable, its files left as they are. */
  private markBroken(name: string, err: unknown): void {
    if (!isPlatesearchError(err)) throw err;
    const file = (err.details?.file as string | undefined) ?? path.join(this.tenantsDir, name);
    this.corrupt.push(file);
    this.broken.set(name, err);
  }

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
      pending = TenantStore.create(this.tenantsDir, tenant, ordinal, this.keys, this.arenas).then((s) => {
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

  /**
   * The reads go in as one batch of columns (readColumnsOf, 52 B a row), down appendColumns's path: no row
   * object per read beside the caller's own, and the stored reads made only if the caller reads `stored`.
   */
  async append(tenant: string, reads: readonly Read[]): Promise<AppendResult> {
    this.assertOpen();
    if (reads.length === 0) return { stored: [], duplicates: [], duplicateIds: [] };
    const r = await this.appendColumns(tenant, readColumnsOf(reads));
    let stored: StoredRead[] | undefined;
    return {
      get stored() {
        return (stored ??= r.stored());
      },
      duplicates: r.duplicates,
      duplicateIds: r.duplicateIds,
    };
  }

  async appendColumns(tenant: string, columns: ReadColumns): Promise<ColumnsAppendResult> {
    this.assertOpen();
    const none = { storedCount: 0, stored: () => [], duplicates: [], duplicateIds: [], readAt: () => { throw new Error('no rows'); } };
    if (columns.length === 0) return none;
    const store = await this.storeFor(tenant);
    const r = await store.appendColumns(columns);
    if (store.live.length >= this.sealRows) this.sealInBackground();
    const ordinal = store.ordinal;
    return {
      storedCount: r.rows.length,
      stored: () => Array.from(r.rows, (i, k) => columnsRowToStoredRead(tenant, readIdOf(ordinal, r.firstSeq + k), columns, i)),
      duplicates: r.duplicates,
      duplicateIds: r.duplicateIds,
      readAt: (i, id) => columnsRowToStoredRead(tenant, id, columns, i),
    };
  }

  /**
   * A search over a tenant whose store could not be opened (a damaged manifest) would answer as if that
   * tenant had no reads: refuse it instead (503), so no investigator mistakes a gap for an absence.
   */
  private assertReadable(scopes: readonly TenantScope[]): void {
    for (const s of scopes) {
      const broken = this.broken.get(s.tenant);
      if (broken) throw StorageUnavailable(`Tenant ${s.tenant}'s reads cannot be read: ${broken.message}`, { tenant: s.tenant });
    }
  }

  async search(scopes: readonly TenantScope[], query: SearchQuery, signal?: AbortSignal, sink?: HitSink): Promise<SearchResult> {
    this.assertOpen();
    this.assertReadable(scopes);
    signal?.throwIfAborted();
    // an exact plate plans only the shards holding it (src/query/plate-shards.ts)
    const lookup = query.plate && this.useTenantPlates && isLookup(query.plate) ? query.plate : undefined;
    const sources = lookup
      ? planSources(this.stores, scopes, query.filter, (store) => shardsHoldingPlate(store, lookup, (s) => this.refreshTenantPlates(s)))
      : planSources(this.stores, scopes, query.filter);
    // the tenant dictionaries matched stay pinned until the search is done (src/store/plate-epoch.ts)
    const epochs: PlateEpoch[] = [];
    try {
      const byPlate = query.plate && this.useTenantPlates ? this.tenantMatches(sources, query.plate, epochs) : undefined;
      return await this.searchSources(sources, query, byPlate, signal, sink);
    } finally {
      for (const e of epochs) e.unpin();
    }
  }

  private async searchSources(sources: readonly Source[], query: SearchQuery, byPlate: Map<string, TenantMatches> | undefined, signal?: AbortSignal, sink?: HitSink): Promise<SearchResult> {
    const kernelShards = sources.filter((s): s is Source & { kind: 'shard' } => {
      if (!wantsKernel(s, query.plate)) return false;
      const m = byPlate?.get(s.tenant);
      return !m || !readByPlate(m, s.shard);
    });
    // a pattern over shards reading through their tenant's dictionary: matched once per tenant, each such
    // shard's task given its codes' distances (src/query/covered-distances.ts)
    const covered = query.plate && kernelShards.some((s) => s.shard.readsThrough) ? new CoveredDistances(this.arenas, query.plate, (a) => this.kernelsFor(a)) : undefined;
    try {
      return await this.searchKernelShards(sources, kernelShards, query, byPlate, covered, signal, sink);
    } finally {
      covered?.release();
    }
  }

  private async searchKernelShards(
    sources: readonly Source[], heavy: Array<Source & { kind: 'shard' }>, query: SearchQuery, byPlate: Map<string, TenantMatches> | undefined,
    covered: CoveredDistances | undefined, signal?: AbortSignal, sink?: HitSink,
  ): Promise<SearchResult> {
    // work estimate in "rows": a plate query first scans distinct plates (SIMD, cheap unless fuzzy);
    // a query without a plate scans rows. Below the threshold a pool round trip costs more than it saves.
    const work = heavy.reduce((n, s) => n + (query.plate ? s.shard.layout.dictCount * (query.plate.mode === 'fuzzy' ? 2 : 1) : s.shard.rows), 0);
    const pool = heavy.length > 0 && work >= this.poolMinRows ? this.poolOrUndefined() : undefined;
    const after = query.after ? candidateKeyOf(query.after) : undefined;
    // the one-page exact plate (src/query/plate-page.ts) runs here, on this thread, with every shard it reads
    // in place: only this call writes to `sink` (the pooled path below reads shards across an await); a
    // scan's page comes back pending either way, its shards pinned until it is written (src/query/kept-page.ts)
    if (!pool) return executeSearch(sources, query.plate, query.filter, query.limit, signal, (a) => this.kernelsFor(a), undefined, byPlate, after, this.counters, covered, sink);
    // every planned shard stays resident across the await, even if retention drops it meanwhile
    const pinned = sources.filter((s): s is Source & { kind: 'shard' } => s.kind === 'shard');
    for (const s of pinned) s.shard.pin();
    const live = pinLive(sources);
    try {
      // a covered shard's task reads its codes' distances from a region of its arena (freed with `covered`);
      // one without room, or whose slots are gone with no distances, is left to the calling thread
      const tasks: SegmentTask[] = [], pooled: Array<Source & { kind: 'shard' }> = [];
      for (const s of heavy) {
        const dist = covered && s.shard.readsThrough ? covered.inRegion(s.shard) : undefined;
        if (query.plate && s.shard.slotsDropped && !dist) continue;
        tasks.push(shardTask(s, query.plate, query.filter, query.limit, after, undefined, dist));
        pooled.push(s);
      }
      const results = await pool.run(tasks, signal);
      const done = new Map<Source, SegmentTaskResult>();
      pooled.forEach((s, i) => {
        if (results[i]) done.set(s, results[i]!);
      });
      this.counters.poolTasks += done.size;
      this.assertOpen();
      return executeSearch(sources, query.plate, query.filter, query.limit, signal, (a) => this.kernelsFor(a), done, byPlate, after, this.counters, covered, sink);
    } finally {
      for (const s of pinned) s.shard.unpin();
      for (const v of live) v.unpin();
    }
  }

  /**
   * For a plate pattern (not a plain plate), the tenants whose shards are better read by plate: their
   * whole dictionary matched once (query/tenant-match.ts) gave few plates. Tenants with one shard in the
   * plan, or too many matching plates, are left to the per-shard scan.
   */
  private tenantMatches(sources: readonly Source[], match: PlateMatch, pinned: PlateEpoch[]): Map<string, TenantMatches> | undefined {
    if (isLookup(match)) return undefined;
    const shardsPlanned = new Map<string, number>();
    for (const s of sources) if (s.kind === 'shard') shardsPlanned.set(s.tenant, (shardsPlanned.get(s.tenant) ?? 0) + 1);
    let out: Map<string, TenantMatches> | undefined;
    for (const [tenant, planned] of shardsPlanned) {
      const store = this.stores.get(tenant);
      if (!store || planned < 2) continue;
      const plates = this.refreshTenantPlates(store);
      if (plates.buckets().size === 0) continue; // nothing covered yet (the first build runs): per shard
      const epoch = plates.pin();
      pinned.push(epoch);
      const k = epoch.region ? this.kernelsFor(epoch.region.arena) : undefined;
      const m = k ? matchTenantPlates(epoch, match, k) : undefined;
      if (m) (out ??= new Map()).set(tenant, m);
    }
    return out;
  }

  /**
   * Starts bringing `store`'s tenant-wide plate dictionary up to date with its shards (made on first
   * need), on the plate-index thread; done at open and after seals, compactions, bulk loads and retention
   * too, so a search rarely finds it behind. Returns it as it is now: it covers the shards it was built
   * from (`buckets()`), and a search reads the others the per-shard way until the build is installed.
   */
  private refreshTenantPlates(store: TenantStore): TenantPlates {
    let plates = this.tenantPlates.get(store.tenant);
    if (!plates) this.tenantPlates.set(store.tenant, (plates = new TenantPlates(this.arenas, { grams: this.options.plateGrams ?? true })));
    // the common case, on every search: nothing changed since the dictionary was last found current
    if (plates.currentWith(store.shards)) return plates;
    plates.refresh(() => store.shards, (job) => this.plateIndexThread.build(job)).catch((err: unknown) => {
      this.lastSealError = err as Error; // surfaced like a background seal's error; searches stay exact without it
    });
    return plates;
  }

  /** Resolves once no tenant plate dictionary is being rebuilt (tests and benchmarks that want the index in place). */
  async plateIndexesSettled(): Promise<void> {
    for (const p of this.tenantPlates.values()) await p.settled();
  }

  /** The worker pool, started on first need; undefined with `threads: 0` or when it cannot start. */
  private poolOrUndefined(): ExecutorPool | undefined {
    if (this.threads === 0 || this.poolFailed) return undefined;
    if (!this.pool) {
      try {
        this.pool = new ExecutorPool(this.arenas, this.threads);
        for (const [index, slots] of this.workerSlots) this.pool.addArena(index, slots);
      } catch {
        this.poolFailed = true; // e.g. dist/ not built: the calling thread serves
        return undefined;
      }
    }
    return this.pool;
  }

  /** The calling thread's kernels over arena `index`, made on first use. */
  kernelsFor(index: number): Kernels | undefined {
    let k = this.kernels.get(index);
    if (k === undefined) {
      k = null;
      const scratch = this.scratch.get(index);
      try {
        const arena = this.arenas.arena(index);
        const overflow = { alloc: (bytes: number, align: number) => arena.alloc(bytes, Math.max(64, align)), free: (ptr: number) => arena.free(ptr) };
        if (scratch) k = new Kernels(kernelModule(), arena.memory, scratch, overflow);
      } catch {
        k = null; // no built module: the JS scan serves
      }
      this.kernels.set(index, k);
    }
    if (k) this.counters.kernelTasks++;
    return k ?? undefined;
  }

  async searchHotlist(scopes: readonly TenantScope[], query: HotlistQuery, signal?: AbortSignal, sink?: HotlistSink): Promise<HotlistResult> {
    this.assertOpen();
    this.assertReadable(scopes);
    signal?.throwIfAborted();
    const sources = planSources(this.stores, scopes, query.filter);
    // the join's shard and live tasks go to the pool when their dictionaries are big enough to pay for the
    // round trip (a live view's plates: an upper bound of those its window reaches)
    const shards = sources.filter((s): s is Source & { kind: 'shard' } => s.kind === 'shard');
    const work = sources.reduce((n, s) => n + (s.kind === 'shard' ? s.shard.layout.dictCount : s.view.plateCount), 0);
    const pool = work >= Math.min(this.poolMinRows, kHotlistPoolMinPlates) ? this.poolOrUndefined() : undefined;
    // every planned shard and live view stays resident across the await, even if retention drops it or a seal
    // retires the view's generation meanwhile
    for (const s of shards) s.shard.pin();
    const live = pinLive(sources);
    try {
      const runTasks = pool
        ? async (tasks: ReadonlyArray<HotlistTask | LiveHotlistTask>, sig?: AbortSignal, onResult?: (task: number, r: HotlistTaskResult) => void) => {
          const results = await pool.runHotlists(tasks, sig, onResult);
          this.counters.poolTasks += results.filter((r) => r !== undefined).length;
          return results;
        }
        : undefined;
      // a sink is written while the planned shards are pinned: it takes their dictionary strings, not their memory
      const result = await executeHotlistJoin(sources, query, signal, runTasks ? { runTasks, liveTaskParts: 2 * pool!.threads, workers: pool!.threads, sink } : { sink });
      this.assertOpen();
      return result;
    } finally {
      for (const s of shards) s.shard.unpin();
      for (const v of live) v.unpin();
    }
  }

  async analytics(scopes: readonly TenantScope[], query: AnalyticsQuery, signal?: AbortSignal): Promise<AnalyticsResult> {
    return this.withRows(scopes, planningWindow(query), signal, (scan, engine) => runAnalysis({ scan, budget: QueryBudget.of(signal), engine }, query));
  }

  /**
   * The row stream the analytics are built on: every row of the scoped tenants (never past retention) passing
   * each filter of `spec`, as row indexes per source (src/query/analytics/row-scan.ts). `use` runs while the
   * planned shards are pinned, so it may read their columns; it may scan several times (convoy does), or
   * run tasks of its own over the planned sources with the engine's kernels and pool (`engine`; cloned does).
   * `window` bounds the time of every row any of its scans can want, for planning.
   */
  async withRows<R>(
    scopes: readonly TenantScope[], window: ReadFilter, signal: AbortSignal | undefined,
    use: (scan: (spec: RowScanSpec) => Promise<SourceRows[]>, engine: AnalysisEngine) => Promise<R>,
  ): Promise<R> {
    this.assertOpen();
    this.assertReadable(scopes);
    signal?.throwIfAborted();
    const sources = planSources(this.stores, scopes, window);
    const pinned = sources.filter((s): s is Source & { kind: 'shard' } => s.kind === 'shard');
    for (const s of pinned) s.shard.pin();
    const live = pinLive(sources);
    const env = {
      kernelsFor: (a: number) => this.kernelsFor(a),
      pool: () => this.poolOrUndefined(),
      poolMinRows: this.poolMinRows,
      countPoolTasks: (n: number) => void (this.counters.poolTasks += n),
    };
    try {
      return await use(async (spec) => {
        const rows = await scanRows(env, sources, spec, signal);
        this.assertOpen();
        return rows;
      }, { sources, env, signal });
    } finally {
      for (const s of pinned) s.shard.unpin();
      for (const v of live) v.unpin();
    }
  }

  async *exportReads(scope: TenantScope, filter: ReadFilter): AsyncIterable<StoredRead> {
    this.assertOpen();
    this.assertReadable([scope]);
    const store = this.stores.get(scope.tenant);
    if (!store) return;
    yield* exportTenant(store, scope.minTs, filter);
  }

  async dropBefore(tenant: string, cutoff: number, held?: HeldReads): Promise<DropResult> {
    this.assertOpen();
    const store = this.stores.get(tenant);
    if (!store) return { shardsDeleted: 0, readsDeleted: 0, keysDestroyed: [] };
    // crypto-shredding around the drop (src/crypto/shred.ts): a new key generation for the cutoff's day
    // first, the rewrite under it, then the old keys go
    const plan = await prepareDayShred(store, cutoff);
    const dropped = await dropTenantBefore(store, this.arenas, cutoff, held, this.sealWorker);
    if (plan.bumped) {
      if (liveHoldsDay(store, plan.cutDay)) await rewriteLiveLog(store);
      await rewrapDayShards(store, plan.cutDay);
      for (const l of this.shredListeners) await l(tenant, plan.cutDay);
    }
    // legal holds: a day that still holds reads past the cutoff (kept by a hold) keeps its keys until the
    // hold is released; the next sweep after the release destroys them (docs/SECURITY.md)
    const heldDays = new Set<number>();
    for (const sh of store.shards) if (sh.entry.minTs < cutoff) heldDays.add(sh.entry.day);
    const live = store.live.view();
    for (let g = 0; g < live.length; g++) {
      const t = live.ts(g);
      if (t < cutoff) heldDays.add(dayOf(t));
    }
    if (this.tenantPlates.has(tenant)) this.refreshTenantPlates(store);
    const doomed = await expiredKeks(store, plan, (day) => heldDays.has(day));
    await store.keys.destroy(doomed);
    return { ...dropped, keysDestroyed: doomed };
  }

  /** The tenant's store, if it has one (key rotation and purge work on it directly). */
  storeOf(tenant: string): TenantStore | undefined {
    return this.stores.get(tenant);
  }

  /** Runs `listener` after a day's retained reads moved to a new key generation, before the old one is destroyed. */
  onShred(listener: (tenant: string, day: number) => Promise<void>): void {
    this.shredListeners.push(listener);
  }

  async seal(tenant?: string): Promise<void> {
    this.assertOpen();
    const stores = tenant === undefined ? [...this.stores.values()] : [this.stores.get(tenant)].filter((s) => s !== undefined);
    for (const s of stores) {
      await sealTenant(s, this.arenas, this.sealWorker);
      // an explicit seal (the end of a load) also starts the tenant's plate dictionary build, off the
      // thread, so the first pattern search finds it in place instead of reading every shard
      if (this.useTenantPlates && (this.tenantPlates.has(s.tenant) || s.shards.length > 1)) this.refreshTenantPlates(s);
    }
  }

  /**
   * Starts a bulk load of `tenant` (src/store/bulk-load.ts): its live rows are sealed first, and appends to
   * it are refused until the load finishes or aborts. With `load: false` the committed shards are not
   * loaded into memory (a CLI that closes the engine right after); they are searchable after a reopen.
   */
  async bulkLoad(tenant: string, options: { flushRows?: number; load?: boolean; offThreadRows?: number } = {}): Promise<BulkLoad> {
    this.assertOpen();
    const store = await this.storeFor(tenant);
    await sealTenant(store, this.arenas, this.sealWorker);
    const bulk = store.beginBulkLoad(options.flushRows, options.offThreadRows);
    if (options.load ?? true) {
      bulk.onCommit = async (entries) => {
        await adoptShards(store, this.arenas, entries);
        if (this.tenantPlates.has(store.tenant)) this.refreshTenantPlates(store);
      };
    }
    return bulk;
  }

  /** Merges days made of many small shards (background sealing does this on its own). */
  async compact(tenant?: string): Promise<number> {
    this.assertOpen();
    const stores = tenant === undefined ? [...this.stores.values()] : [this.stores.get(tenant)].filter((s) => s !== undefined);
    let merged = 0;
    for (const s of stores) {
      merged += await compactTenant(s, this.arenas, this.sealWorker);
      if (this.tenantPlates.has(s.tenant)) this.refreshTenantPlates(s);
    }
    return merged;
  }

  /** Seals tenants over the size or age threshold, or idle (kDefaultSealIdleMs), one at a time, off the request path. */
  private sealInBackground(): void {
    if (this.closed) return;
    this.sealing = this.sealing.then(async () => {
      let idleSeals = 0;
      for (const s of this.stores.values()) {
        if (this.closed) return;
        const n = s.live.length;
        const now = Date.now();
        const old = this.sealAgeMs > 0 && n > 0 && now - s.liveSince >= this.sealAgeMs;
        const idle = this.isIdle(s, now);
        try {
          if (n >= this.sealRows || old || idle) {
            await sealTenant(s, this.arenas, this.sealWorker);
            this.lastSealError = undefined;
            if (idle) idleSeals++;
          }
          if (this.closed) return;
          await compactTenant(s, this.arenas, this.sealWorker);
          if (this.tenantPlates.has(s.tenant)) this.refreshTenantPlates(s);
        } catch (err) {
          this.lastSealError = err as Error;
        }
      }
      // an idle seal means ingest has paused: the seal worker's next job is ≥ sealRows reads away, so its heap
      // (~20 MiB) goes back now instead of at its own idle end (kSealWorkerIdleMs) — unless a tenant still
      // appends (its next size seal would start the thread again)
      const now = Date.now();
      if (idleSeals > 0 && [...this.stores.values()].every((s) => now - s.lastAppendAt >= this.sealIdleMs)) this.sealWorker.endIfIdle();
    });
  }

  /** Whether tenant `s` is due an idle seal: ≥ sealIdleRows live rows and no append for sealIdleMs. */
  private isIdle(s: TenantStore, now: number): boolean {
    return this.sealIdleMs > 0 && s.live.length >= this.sealIdleRows && now - s.lastAppendAt >= this.sealIdleMs;
  }

  tenants(): string[] {
    return [...this.stores.values()].filter((s) => s.live.length > 0 || s.shards.length > 0).map((s) => s.tenant).sort();
  }

  stats(): EngineStats {
    let reads = 0, live = 0, shards = 0;
    const corrupt = new Set(this.corrupt);
    for (const s of this.stores.values()) {
      live += s.live.length;
      shards += s.shards.length;
      reads += s.live.length + s.shards.reduce((a, sh) => a + sh.rows, 0);
      for (const f of s.corruptFiles) corrupt.add(f);
    }
    return {
      tenants: this.tenants().length, reads, shards, liveReads: live,
      residentBytes: this.arenas.allocatedBytes, corruptFiles: [...corrupt],
      kernelTasks: this.counters.kernelTasks,
      poolTasks: this.counters.poolTasks,
      rowsCountedOnly: this.counters.rowsCountedOnly,
    };
  }

  /**
   * Every arena region the engine knows it holds, with its owner: what `stats().residentBytes` sums, for
   * bench/resident-breakdown.ts (a region of the arenas that none of these names is a leak or a transient).
   */
  residentRegions(): ResidentRegion[] {
    const out: ResidentRegion[] = [];
    for (const [arena, { ptr, bytes }] of this.scratch) out.push({ owner: 'scratch', arena, ptr, bytes });
    for (const [arena, slots] of this.workerSlots) for (const { ptr, bytes } of slots) out.push({ owner: 'worker scratch', arena, ptr, bytes });
    const epochs = new Map<PlateEpoch, string>();
    for (const [tenant, plates] of this.tenantPlates) {
      const r = plates.region;
      if (r) out.push({ owner: 'tenant plates', tenant, ...r });
      const e = plates.pin();
      epochs.set(e, tenant);
      e.unpin();
    }
    for (const store of this.stores.values()) {
      for (const r of store.live.arenaRegions()) out.push({ owner: 'live', tenant: store.tenant, ...r });
      for (const shard of store.shards) {
        for (const { part, region } of shard.arenaRegions()) out.push({ owner: `shard ${part}`, tenant: store.tenant, shard, ...region });
        // an older dictionary a shard still reads through (no room for its map at the last install)
        const e = shard.readsThrough;
        if (e?.region && !e.isFreed && !epochs.has(e)) {
          epochs.set(e, store.tenant);
          out.push({ owner: 'tenant plates (older epoch)', tenant: store.tenant, ...e.region });
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sealTimer) clearInterval(this.sealTimer);
    if (this.markTimer) clearInterval(this.markTimer);
    this.idleRelease.close();
    await this.sealing.catch(() => undefined);
    await Promise.all([...this.creating.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.stores.values()].map((s) => s.close()));
    await this.sealWorker.close();
    await this.pool?.close();
    // builds in flight are abandoned (their shards unpinned), then the dictionaries freed
    await this.plateIndexThread.close();
    for (const p of this.tenantPlates.values()) {
      await p.settled();
      p.free();
    }
    for (const s of this.stores.values()) {
      for (const sh of s.shards) for (const r of sh.regions_) this.arenas.free(r);
      s.shards = [];
    }
  }
}
