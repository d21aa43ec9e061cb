/**
 * The engine's library API: what the server (and CLI) may ask of the storage and query layers.
 * HTTP stays out of it. Tenancy is decided by the caller: every search names the tenants it may see
 * (`TenantScope`, with each tenant's retention cutoff), and the engine reads only those tenants' shards.
 */
import type { BulkLoad } from '../store/bulk-load.js';
import type { DataKeys } from '../crypto/data-keys.js';
import type { HotlistQuery, HotlistResult, ReadFilter, SearchQuery, SearchResult, TenantScope } from '../model/query.js';
import type { Read, StoredRead } from '../model/read.js';
import type { AnalyticsQuery, AnalyticsResult } from '../model/analytics.js';
import type { HeldReads } from '../model/hold.js';
import type { HitSink } from '../model/hit-sink.js';
import type { HotlistSink } from '../model/hotlist-sink.js';
import type { ReadColumns } from '../store/read-columns.js';

export interface EngineOptions {
  /** Root of the data dir; the engine owns `D/tenants/<tenant>/` (WAL and shards). */
  dataDir: string;
  /** Worker threads for query execution; 0 runs kernels on the calling thread. Default: cores. */
  threads?: number;
  /**
   * Worker threads that check (CRC32C) and decrypt (AES-256-GCM) the shards while the data dir opens, so
   * opening is not one serial pass over every stored byte; 0 does it on the opening thread. Default:
   * `threads` workers, started only for a tenant with at least kOpenPoolMinBytes of shards (smaller data
   * dirs open faster without them: src/engine/store-engine.ts); given explicitly, always.
   */
  openThreads?: number;
  /** Seal a tenant's live rows into shards once it holds this many (default 1,000,000). */
  sealRows?: number;
  /** … or once its oldest live row is this old, in ms (default 600,000). 0 disables background sealing. */
  sealAgeMs?: number;
  /**
   * … or once no read has been appended to it for this long, in ms, when it holds at least `sealIdleRows` live
   * rows (default 5,000 and 65,536; 0 turns the idle seal off; off too with `sealAgeMs` 0). Ingest that pauses
   * leaves its tail sealed, not held as live rows: docs/storage-v2.md, "The idle tail sealed".
   */
  sealIdleMs?: number;
  sealIdleRows?: number;
  /** Size limit of one memory arena in bytes (default 4 GiB); tests use small ones to force several. */
  arenaBytes?: number;
  /**
   * Searches with less estimated work than this (rows to scan, or distinct plates to match, ×2 for
   * fuzzy) run on the calling thread even when `threads` > 0: a pool round trip costs ~70 µs and more
   * on a busy machine. Default 4,000,000; tests pass 0 to force the pool.
   */
  poolMinRows?: number;
  /**
   * Match a plate pattern once against each tenant's distinct plates across its shards, then read the few
   * matching plates' rows per shard (src/store/tenant-plates.ts). Default true; tests turn it off to drive
   * plate patterns through the per-shard scans (and the pool).
   */
  tenantPlates?: boolean;
  /**
   * Keep an n-gram index beside each tenant's plate dictionary (src/store/plate-grams.ts) for `contains`
   * and fuzzy patterns. Default true; the benchmarks and tests turn it off to compare with the full pass.
   */
  plateGrams?: boolean;
  /**
   * The data dir's keys (src/crypto/data-dir-keys.ts). Default: the default file key store beside the data
   * dir, `file:<dataDir>.keys`. Their cipher (`keys.cipher`) is AES-256-GCM; only the overhead benchmark
   * constructs keys with its plaintext stand-in (src/crypto/cipher.ts). No option here turns it off.
   */
  keys?: DataKeys;
}

export interface AppendResult {
  /** The reads now stored, with ids, in input order (reads whose `readId` the tenant already had are left out). */
  stored: StoredRead[];
  /** Input indexes of reads skipped because their `readId` was already stored (idempotent retry). */
  duplicates: number[];
  /**
   * For each of `duplicates`, the id of the stored read it repeats ('' if none is stored: a repeat
   * within the batch of a read that failed). A retry's hooks (alerts) can then finish what a crash cut.
   */
  duplicateIds: string[];
}

/** What appending a batch of columns did (Engine.appendColumns). */
export interface ColumnsAppendResult {
  /** Reads now stored (reads whose `readId` the tenant already had are left out). */
  storedCount: number;
  /** The stored reads with ids, in input order, made on demand: an object per read only for a hook that asks. */
  stored(): StoredRead[];
  /** Rows of the batch skipped because their `readId` was already stored (idempotent retry). */
  duplicates: number[];
  /** For each of `duplicates`, the id of the stored read it repeats ('' if none). */
  duplicateIds: string[];
  /** Row `i` of the batch as the stored read `id` (a retry stands for the stored read). */
  readAt(i: number, id: string): StoredRead;
}

export interface DropResult {
  shardsDeleted: number;
  readsDeleted: number;
  /** Key-encryption keys destroyed by this drop (crypto-shredding, src/crypto/shred.ts). */
  keysDestroyed: string[];
}

export interface EngineStats {
  tenants: number;
  reads: number;
  shards: number;
  liveReads: number;
  residentBytes: number;
  corruptFiles: string[];
  /** Shard scans run by the WebAssembly kernels so far (the rest ran the JS fallback). */
  kernelTasks?: number;
  /** Shard scans run on the worker pool so far. */
  poolTasks?: number;
  /**
   * Matching rows of shard tasks counted by the kernel alone so far (whole blocks that sort after the page:
   * issue 12, "cost by the page"); the rest of `total` went through the top-k one by one.
   */
  rowsCountedOnly?: number;
}

export interface Engine {
  /**
   * Appends validated reads to `tenant`. When the promise resolves they are durable (fsync'd WAL)
   * and visible to every later search.
   */
  append(tenant: string, reads: readonly Read[]): Promise<AppendResult>;

  /**
   * `append` for reads already validated into columns (src/store/read-columns.ts; the HTTP ingest's parse
   * workers make them): the same guarantees, without an object per read. Optional: a caller without it
   * appends objects.
   */
  appendColumns?(tenant: string, columns: ReadColumns): Promise<ColumnsAppendResult>;

  /**
   * One search over the scoped tenants; hits ordered by distance, ts desc, id; exact `total`. `sink`: where a
   * page may be written from its rows instead of built as objects (src/model/hit-sink.ts; the result then
   * says `written`, or gives the page `pending`: the caller must then write or release it); an engine may ignore it.
   */
  search(scopes: readonly TenantScope[], query: SearchQuery, signal?: AbortSignal, sink?: HitSink): Promise<SearchResult>;

  /**
   * Many patterns at once (`/v1/search/hotlist`); `matches` in entry order, only entries with hits. `sink`:
   * where the matches may be written instead of built as objects (src/model/hotlist-sink.ts; the result then
   * says `written`); an engine may ignore it.
   */
  searchHotlist(scopes: readonly TenantScope[], query: HotlistQuery, signal?: AbortSignal, sink?: HotlistSink): Promise<HotlistResult>;

  /**
   * One investigative analysis (convoy, multisite, frequent, cloned) over the scoped tenants, computed from
   * the engine's row scans (src/query/analytics/); results ordered and cut as API.md says, exact `total`.
   */
  analytics(scopes: readonly TenantScope[], query: AnalyticsQuery, signal?: AbortSignal): Promise<AnalyticsResult>;

  /** Every retained read of one tenant that passes `filter`, ordered by ts then id, streamed. */
  exportReads(scope: TenantScope, filter: ReadFilter): AsyncIterable<StoredRead>;

  /**
   * Deletes from disk and memory every read of `tenant` with `ts < cutoff` (whole shards, rewritten logs),
   * except the reads `held` reaches (legal holds): those stay, however old.
   */
  dropBefore(tenant: string, cutoff: number, held?: HeldReads): Promise<DropResult>;

  /**
   * Starts a bulk load of one tenant (`platesearch ingest`, src/store/bulk-load.ts): reads go straight into
   * shards, committed at `finish()`; appends to the tenant are refused meanwhile. `offThreadRows`: shards of
   * at least this many rows are built on the build thread (src/store/bulk-build-thread.ts; 0 in tests: all).
   */
  bulkLoad(tenant: string, options?: { flushRows?: number; load?: boolean; offThreadRows?: number }): Promise<BulkLoad>;

  /**
   * Registers a listener run after a day's retained reads were rewritten under a new key generation and
   * before the old generation is destroyed (the alert logs rewrite what they hold of that day).
   */
  onShred?(listener: (tenant: string, day: number) => Promise<void>): void;

  /** Seals live reads into immutable shards now (normally done in the background). */
  seal(tenant?: string): Promise<void>;

  /** Tenants that have any data. */
  tenants(): string[];

  stats(): EngineStats;

  /** Flushes and closes; searches after close reject. */
  close(): Promise<void>;
}
