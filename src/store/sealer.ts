/**
 * Sealing and retention for one tenant: live rows → immutable day shards, and deletion before a cutoff.
 *
 * Crash safety rests on one commit point, the manifest (src/store/manifest.ts):
 *
 *   seal:  rotate WAL (old files hold exactly the rows being sealed) → put shard objects (atomic and
 *          durable: src/store/object-store.ts) → COMMIT manifest {shards += new, sealedSeq = boundary} → swap in memory →
 *          delete the old WAL files
 *   drop:  rotate WAL → copy surviving live rows of the old files into the new one (fsync) → delete the
 *          old WAL files → write rewritten shards → COMMIT manifest {shards −= old, += rewritten} → swap →
 *          delete old shard files
 *
 * Legal holds (src/model/hold.ts): a drop may be told which reads are held. A held read survives like a
 * read within retention: a day shard whose expired rows are all held stays as it is; one with some
 * unheld expired rows is rewritten keeping the held ones (instead of being deleted whole).
 *
 * Shards are reached only through the tenant's object store (`store.shardObjects`), by key = the
 * manifest entry's `file`; nothing here knows where they live.
 *
 * A crash before a commit leaves shard objects the manifest does not name: opening deletes them and the
 * WAL still holds their rows. A crash after it leaves WAL rows below `sealedSeq` (skipped on replay) or
 * old shard files (deleted on open). Nothing acknowledged is lost, nothing is stored twice.
 */
import * as path from 'node:path';
import type { ArenaSet } from '../core/arena.js';
import { compileHeld, reachOverlaps, type HeldReads } from '../model/hold.js';
import type { ShardEntry, TenantManifest } from './manifest.js';
import type { JobKey, SealJob } from './seal-worker.js';
import type { SealWorkerHost } from './seal-worker-host.js';
import { filesForRows, groupByDay, kShardRowsCap, writeDayShards } from './shard-writer.js';
import { dayOf } from './shard-format.js';
import { isKeyDestroyed, wrappedFromJson } from '../crypto/data-keys.js';
import { dayEpoch } from '../crypto/key-names.js';
import { walFileName } from './wal.js';
import { migrateShards, needsMigration } from './shard-migrate.js';
import { loadShard, unloadShard, type LoadedShard } from './shard-loader.js';
import type { ShardOpenPool } from './shard-open-pool.js';
import type { TenantStore } from './tenant-store.js';
import type { RowRecord } from './wal-record.js';
import { subsetSource, type LiveView } from './live-columns.js';
import type { ShardSource } from './shard-format.js';

/** The first `end` rows of a live view as one ShardSource per UTC day. */
function liveDaySources(view: LiveView, end: number): Map<number, ShardSource> {
  const out = new Map<number, ShardSource>();
  for (const [day, rows] of liveRowsByDay(view, end)) out.set(day, subsetSource(view, rows));
  return out;
}

/**
 * Loads the manifest's shards; damaged ones are reported and left out. Deletes orphans first, then
 * converts shards of an older format (src/store/shard-migrate.ts), each conversion committed by the manifest.
 * With `pool`, the shards are checked and decrypted on its worker threads, a few in flight at once (each
 * holds its stored bytes until opened), while this thread parses and indexes the ones done; shards keep
 * manifest order. One in flight per worker, plus two: each worker has the next shard queued behind the one it
 * opens while this thread reads a third (with one each and no queue, the workers sat idle 30–50% of a 20M open
 * while this thread read the next files and parsed the last ones). Not more: a shard in flight holds its stored
 * bytes, and since the re-encodings moved to the workers (src/store/shard-reencode.ts) its region keeps only
 * ~60 % of them once opened, so each shard waiting beyond the queue held ~30 MB that the open's peak RSS paid
 * (two in flight per worker plus two: 712–736 MiB at 20M, this: 684–716; docs/storage-v2.md, "The open's peak").
 */
export async function openShards(store: TenantStore, arenas: ArenaSet, pool?: ShardOpenPool): Promise<void> {
  const objects = store.shardObjects;
  await objects.recover();
  const named = new Set(store.manifest.shards.map((e) => e.file));
  const orphans = (await objects.list()).filter((n) => !named.has(n));
  await objects.delete(orphans);
  if (store.manifest.shards.some(needsMigration)) await migrateShards(store);
  const entries = store.manifest.shards;
  const loaded: Array<LoadedShard | undefined> = new Array(entries.length);
  const failed: Array<{ file: string; err: unknown } | undefined> = new Array(entries.length);
  // with workers, in openOrder (largest first after one small shard a worker); `loaded` and `failed` stay in manifest order
  const order = pool ? openOrder(entries, pool.threads) : entries.map((_, i) => i);
  let next = 0;
  const lane = async () => {
    while (next < order.length) {
      const i = order[next++]!;
      try {
        loaded[i] = await loadShard(arenas, objects, entries[i]!, store.keys, pool, true);
      } catch (err) {
        failed[i] = { file: objects.locate(entries[i]!.file), err };
      }
    }
  };
  await Promise.all(Array.from({ length: pool ? pool.threads + 2 : 1 }, lane));
  const shards: LoadedShard[] = [];
  for (let i = 0; i < entries.length; i++) {
    const shard = loaded[i];
    if (shard) {
      shards.push(shard);
      store.addKnownReadIds(shard.readIds());
      continue;
    }
    const { file, err } = failed[i]!;
    if (isKeyDestroyed(err)) {
      // shredded by retention or purge (an older copy of the data dir): gone by design, not damage
      store.shreddedFiles.push(file);
      continue;
    }
    if (!(err as { code?: string }).code?.startsWith('PS_')) {
      for (const s of loaded) if (s) unloadShard(arenas, s);
      throw err;
    }
    store.corruptFiles.push(file);
    store.corruptErrors.push(err as Error);
  }
  store.shards = shards;
}

/**
 * The order a data dir's shards are read and handed to `threads` shard-open workers: the smallest `threads` first,
 * then the rest largest first (Graham's LPT order), ties in manifest order. The open is CPU-bound on the workers.
 * In manifest order a 73 MB shard was often handed out last, and one worker finished it while the other sat idle
 * (~150 ms of a 20M open's ~1.85 s); largest first, the small shards come last and even the two out. But the first
 * reads are what the workers wait for once started: four 73 MB files read at once reached the first worker
 * ~330 ms after the pool started (~110 ms in manifest order), ~180 ms after it was ready. So each worker's first shard
 * is a small one.
 */
export function openOrder(entries: readonly ShardEntry[], threads: number): number[] {
  const bySize = entries.map((_, i) => i).sort((a, b) => entries[b]!.bytes - entries[a]!.bytes || a - b);
  const first = bySize.splice(Math.max(0, bySize.length - threads)).reverse();
  return [...first, ...bySize];
}

/** Loads freshly written shard files; on failure unloads what was loaded. */
async function loadEntries(store: TenantStore, arenas: ArenaSet, entries: readonly ShardEntry[]): Promise<LoadedShard[]> {
  const loaded: LoadedShard[] = [];
  try {
    for (const e of entries) loaded.push(await loadShard(arenas, store.shardObjects, e, store.keys));
  } catch (err) {
    for (const s of loaded) unloadShard(arenas, s);
    throw err;
  }
  return loaded;
}

/** Loads shards a bulk load committed (src/store/bulk-load.ts) and makes them searchable. */
export async function adoptShards(store: TenantStore, arenas: ArenaSet, entries: readonly ShardEntry[]): Promise<void> {
  await store.withExclusive(async () => {
    const loaded = await loadEntries(store, arenas, entries);
    store.shards = [...store.shards, ...loaded];
  });
}

/** Writes rows as shards on this thread (fallback, and for retention rewrites), then loads them. */
async function writeShards(store: TenantStore, arenas: ArenaSet, byDay: Map<number, readonly RowRecord[] | ShardSource>, manifest: TenantManifest): Promise<LoadedShard[]> {
  const firstGen = manifest.nextShardGen ?? 1;
  const entries = await writeDayShards(store.shardObjects, store.tenant, store.ordinal, byDay, firstGen, (day) => store.keys.newKey(dayEpoch(store.tenant, day)), store.keys.cipher);
  manifest.nextShardGen = firstGen + entries.length;
  return loadEntries(store, arenas, entries);
}

/**
 * Builds the shards of a job in the engine's seal worker (src/store/seal-worker-host.ts), with the store's
 * cipher (AES-256-GCM; a benchmark's stand-in names its module: src/crypto/cipher.ts); undefined if it cannot.
 */
async function sealInWorker(store: TenantStore, worker: SealWorkerHost | undefined, job: SealJob): Promise<{ rows: number; entries: ShardEntry[] } | undefined> {
  if (!worker) return undefined;
  const cipherModule = store.keys.cipher.workerModule;
  return worker.run(cipherModule === undefined ? job : { ...job, cipherModule });
}

/**
 * Fresh data keys for a job's output shards: per day, one for every file its rows may become (made on this
 * thread, which holds the key store; the worker gets them in its job).
 */
async function outputKeys(store: TenantStore, rowsPerDay: ReadonlyMap<number, number>): Promise<Record<string, JobKey[]>> {
  const out: Record<string, JobKey[]> = {};
  for (const [day, rows] of rowsPerDay) {
    const list: JobKey[] = [];
    for (let i = 0; i < filesForRows(rows); i++) {
      const k = await store.keys.newKey(dayEpoch(store.tenant, day));
      list.push({ kek: k.kek, wrapped: k.wrapped.toString('base64'), key: k.key.toString('base64') });
    }
    out[String(day)] = list;
  }
  return out;
}

/** Rows per UTC day of the first `end` rows of a live view. */
function countByDay(view: LiveView, end: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let g = 0; g < end; g++) {
    const d = dayOf(view.ts(g));
    m.set(d, (m.get(d) ?? 0) + 1);
  }
  return m;
}

/** Row indexes of the first `end` rows of a live view, by UTC day (ascending within a day). */
function liveRowsByDay(view: LiveView, end: number): Map<number, Uint32Array> {
  const counts = countByDay(view, end);
  const out = new Map<number, Uint32Array>();
  const fill = new Map<number, number>();
  for (const [d, n] of counts) {
    out.set(d, new Uint32Array(n));
    fill.set(d, 0);
  }
  for (let g = 0; g < end; g++) {
    const d = dayOf(view.ts(g));
    const at = fill.get(d)!;
    out.get(d)![at] = g;
    fill.set(d, at + 1);
  }
  return out;
}

/** Rows per day of loaded shards (an upper bound of what a rewrite of them writes). */
function shardRowsByDay(shards: readonly LoadedShard[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of shards) m.set(s.meta.day, (m.get(s.meta.day) ?? 0) + s.rows);
  return m;
}

/** The shard files of a job, each with its opened data key (base64). */
async function jobShardFiles(store: TenantStore, shards: readonly LoadedShard[]): Promise<NonNullable<SealJob['shardFiles']>> {
  const out: NonNullable<SealJob['shardFiles']> = [];
  for (const s of shards) {
    const e = s.entry;
    out.push({ file: e.file, crc: e.crc, ...(e.key ? { key: (await store.keys.openKey(wrappedFromJson(e.key))).toString('base64') } : {}) });
  }
  return out;
}

/** Seals every live row appended before the call into day shards (in `worker` when given and built). */
export async function sealTenant(store: TenantStore, arenas: ArenaSet, worker?: SealWorkerHost): Promise<number> {
  return store.withExclusive(async () => {
    const { boundarySeq, oldGens } = await store.rotateWal();
    // live rows are in seq order and only grow at the end while we hold the tenant: rows [0, cut) are sealed
    const view = store.live.view();
    const cut = view.firstAtOrAbove(boundarySeq);
    const rowCount = cut;
    if (rowCount === 0) {
      await store.deleteWalGens(oldGens);
      return 0;
    }
    const next: TenantManifest = { ...store.manifest, shards: [...store.manifest.shards] };
    const firstGen = next.nextShardGen ?? 1;
    const job: SealJob = {
      walFiles: oldGens.filter((g) => !store.isBadWalGen(g)).map((g) => path.join(store.walDir, walFileName(g))),
      fromSeq: store.manifest.sealedSeq, toSeq: boundarySeq, shards: store.shardObjects.spec,
      tenant: store.tenant, ordinal: store.ordinal, firstGen,
      walKeys: store.keys.openedKeys(), outKeys: await outputKeys(store, countByDay(view, cut)),
    };
    let loaded: LoadedShard[];
    const viaWorker = store.hasBadWalGens() ? undefined : await sealInWorker(store, worker, job);
    if (viaWorker && viaWorker.rows === rowCount) {
      next.nextShardGen = firstGen + viaWorker.entries.length;
      loaded = await loadEntries(store, arenas, viaWorker.entries);
    } else {
      // no worker (not built) or a disagreement: build from the live columns (index lists per day, no row copy)
      loaded = await writeShards(store, arenas, liveDaySources(view, cut), next);
    }
    next.shards.push(...loaded.map((s) => s.entry));
    next.sealedSeq = Math.max(next.sealedSeq, boundarySeq);
    try {
      await store.saveManifest(next);
    } catch (err) {
      for (const s of loaded) unloadShard(arenas, s);
      throw err;
    }
    // one synchronous step: searches see these rows either live or sealed, never both or neither
    store.shards = [...store.shards, ...loaded];
    // the rows appended since the rotate start the next generation (its dictionaries hold only their values)
    store.live.keepOnly((g) => g >= cut);
    store.liveSince = store.live.length > 0 ? Date.now() : 0;
    await store.deleteWalGens(oldGens);
    return rowCount;
  });
}

/** The rows of a loaded shard as row records (for a retention rewrite). */
function shardRows(s: LoadedShard): RowRecord[] {
  const out: RowRecord[] = [];
  const plates = s.plates();
  for (let i = 0; i < s.rows; i++) {
    const r: RowRecord = {
      seq: s.seqAt(i), plate: plates[s.plate(i)]!, ts: s.tsAt(i), latE7: s.latE7(i), lonE7: s.lonE7(i), camera: s.cameras[s.camera(i)]!,
    };
    const region = s.regionAt(i);
    if (region !== 0) r.region = s.regions[region]!;
    Object.assign(r, s.extras(i));
    out.push(r);
  }
  return out;
}

export interface DropOutcome {
  shardsDeleted: number;
  readsDeleted: number;
}

/**
 * Per shard, the last hold revision and cutoff under which every expired row of it was found held: while
 * the holds are unchanged such a shard (all rows older than that cutoff) needs no second look.
 */
const whollyHeld = new WeakMap<LoadedShard, { revision: string; cutoff: number }>();

/**
 * Deletes every row with ts < cutoff, except those `held` reaches: from the WAL (rewritten), and shards
 * (deleted, or rewritten without the deleted rows).
 */
export async function dropTenantBefore(store: TenantStore, arenas: ArenaSet, cutoff: number, held?: HeldReads, worker?: SealWorkerHost): Promise<DropOutcome> {
  return store.withExclusive(async () => {
    let readsDeleted = 0;
    let shardsDeleted = 0;
    const isHeld = held && held.reaches.length > 0 ? compileHeld(held.reaches) : undefined;
    const expired = (plate: string, ts: number): boolean => ts < cutoff && !(isHeld && isHeld(plate, ts));
    // live rows: rewrite the log without them (old WAL files stay untouched unless rows are dropped)
    const before = store.live.view();
    if (before.some((g) => expired(before.plate(g), before.ts(g)))) {
      const { boundarySeq, oldGens } = await store.rotateWal();
      // rows appended meanwhile went to the new log file; the generation does not change while we hold the tenant
      const view = store.live.view();
      const end = view.firstAtOrAbove(boundarySeq);
      const droppedLive: number[] = [];
      for (let g = 0; g < end; g++) if (expired(view.plate(g), view.ts(g))) droppedLive.push(g);
      const gone = new Uint8Array(view.length);
      for (const g of droppedLive) gone[g] = 1;
      await store.rewriteLiveRows(view, end, (g) => gone[g] === 0);
      // the manifest's nextSeq covers the dropped rows' seqs before their log goes: ids are never given out
      // again, and the acknowledgement mark (TenantStore.checkAckMark) does not mistake the drop for a cut log
      await store.saveManifest({ ...store.manifest });
      await store.deleteWalGens(oldGens);
      store.forgetReadIds(view, droppedLive);
      store.live.keepOnly((g) => g >= gone.length || gone[g] === 0);
      readsDeleted += droppedLive.length;
    }

    // shards: whole ones go, straddling ones are rewritten (in the worker when it is there)
    const whole: LoadedShard[] = [];
    const straddling: LoadedShard[] = [];
    const forget: string[] = [];
    let kept = 0;
    for (const s of store.shards) {
      if (s.meta.minTs >= cutoff) continue;
      const mayHold = isHeld !== undefined && held!.reaches.some((r) => reachOverlaps(r, s.meta.minTs, s.meta.maxTs));
      if (!mayHold) {
        if (s.meta.maxTs < cutoff) {
          whole.push(s);
          readsDeleted += s.rows;
          for (const [id] of s.readIds()) forget.push(id);
          continue;
        }
        straddling.push(s);
        for (let i = 0; i < s.rows; i++) {
          if (s.tsAt(i) >= cutoff) kept++;
          else {
            readsDeleted++;
            const id = s.extras(i).readId;
            if (id !== undefined) forget.push(id);
          }
        }
        continue;
      }
      const memo = whollyHeld.get(s);
      if (memo && memo.revision === held!.revision && s.meta.maxTs < memo.cutoff) continue;
      // held reads may be in it: look at each expired row
      const plates = s.plates();
      const deleted: number[] = [];
      for (let i = 0; i < s.rows; i++) if (expired(plates[s.plate(i)]!, s.tsAt(i))) deleted.push(i);
      if (deleted.length === 0) {
        whollyHeld.set(s, { revision: held!.revision, cutoff });
        continue;
      }
      readsDeleted += deleted.length;
      for (const i of deleted) {
        const id = s.extras(i).readId;
        if (id !== undefined) forget.push(id);
      }
      if (deleted.length === s.rows) {
        whole.push(s);
        continue;
      }
      straddling.push(s);
      kept += s.rows - deleted.length;
    }
    const doomed = [...whole, ...straddling];
    if (doomed.length === 0) return { shardsDeleted, readsDeleted };
    shardsDeleted += whole.length;
    const doomedFiles = new Set(doomed.map((s) => s.entry.file));
    const next: TenantManifest = { ...store.manifest, shards: store.manifest.shards.filter((e) => !doomedFiles.has(e.file)) };
    const rewritten = await rewriteShards(store, arenas, worker, straddling, cutoff, kept, next, held);
    next.shards.push(...rewritten.map((s) => s.entry));
    try {
      await store.saveManifest(next);
    } catch (err) {
      for (const s of rewritten) unloadShard(arenas, s);
      throw err;
    }
    const doomedSet = new Set(doomed);
    store.shards = [...store.shards.filter((s) => !doomedSet.has(s)), ...rewritten];
    for (const id of forget) store.forgetReadId(id);
    // freed now, or when the last search or export holding them lets go
    for (const s of doomed) unloadShard(arenas, s);
    await store.shardObjects.delete(doomed.map((s) => s.entry.file));
    return { shardsDeleted, readsDeleted };
  });
}

/**
 * Rewrites the live log: rotate, append every live row of the old files to the new one (fresh lanes,
 * so fresh data keys under the current KEK generations), delete the old files. Retention runs it after a
 * new generation of a day's KEK, so no live row stays under the generation about to be destroyed.
 */
export async function rewriteLiveLog(store: TenantStore): Promise<void> {
  await store.withExclusive(async () => {
    const { boundarySeq, oldGens } = await store.rotateWal();
    const view = store.live.view();
    await store.rewriteLiveRows(view, view.firstAtOrAbove(boundarySeq), () => true);
    await store.saveManifest({ ...store.manifest });
    await store.deleteWalGens(oldGens);
  });
}

/**
 * Rewrites `shards` keeping rows with ts ≥ `minTs` or reached by `held` (expected: `expectRows` of them) as
 * new shard files, in the seal worker when it is built (else on this thread); loads them. The manifest is
 * the caller's.
 */
async function rewriteShards(store: TenantStore, arenas: ArenaSet, worker: SealWorkerHost | undefined, shards: readonly LoadedShard[], minTs: number, expectRows: number, next: TenantManifest, held?: HeldReads): Promise<LoadedShard[]> {
  if (shards.length === 0 || expectRows === 0) return [];
  const firstGen = next.nextShardGen ?? 1;
  const job: SealJob = {
    walFiles: [], shardFiles: await jobShardFiles(store, shards), minTs,
    fromSeq: 0, toSeq: Infinity, shards: store.shardObjects.spec, tenant: store.tenant, ordinal: store.ordinal, firstGen,
    walKeys: {}, outKeys: await outputKeys(store, shardRowsByDay(shards)),
  };
  if (held && held.reaches.length > 0) job.held = held.reaches;
  const viaWorker = await sealInWorker(store, worker, job);
  if (viaWorker && viaWorker.rows === expectRows) {
    next.nextShardGen = firstGen + viaWorker.entries.length;
    return loadEntries(store, arenas, viaWorker.entries);
  }
  const isHeld = job.held ? compileHeld(job.held) : undefined;
  const rows = shards.flatMap((s) => shardRows(s)).filter((r) => r.ts >= minTs || (isHeld && isHeld(r.plate, r.ts))).sort((a, b) => a.seq - b.seq);
  return writeShards(store, arenas, groupByDay(rows), next);
}

/**
 * Migration of a data dir written before encryption at rest: rewrites the shards that have no key
 * (manifest version 1 entries) as sealed shards, through the same commit as compaction (new files, manifest,
 * then the old files go), so a crash leaves either the plaintext shards or the sealed ones, never neither.
 */
export async function encryptPlainShards(store: TenantStore, arenas: ArenaSet, worker?: SealWorkerHost): Promise<number> {
  return store.withExclusive(async () => {
    const plain = store.shards.filter((s) => !s.entry.key);
    if (plain.length === 0) return 0;
    const names = new Set(plain.map((s) => s.entry.file));
    const next: TenantManifest = { ...store.manifest, shards: store.manifest.shards.filter((e) => !names.has(e.file)) };
    const rows = plain.reduce((a, s) => a + s.rows, 0);
    const rewritten = await rewriteShards(store, arenas, worker, plain, -Infinity, rows, next);
    await replaceShards(store, arenas, plain, rewritten, next);
    return plain.length;
  });
}

/**
 * The commit of a shard rewrite: `next` (without `old`'s entries) gains `loaded`'s and is saved; then the
 * store swaps them in, frees `old` and deletes its objects. A failed save unloads `loaded` and leaves all
 * as it was (the new objects are orphans, deleted at the next open).
 */
async function replaceShards(store: TenantStore, arenas: ArenaSet, old: readonly LoadedShard[], loaded: readonly LoadedShard[], next: TenantManifest): Promise<void> {
  next.shards.push(...loaded.map((s) => s.entry));
  try {
    await store.saveManifest(next);
  } catch (err) {
    for (const s of loaded) unloadShard(arenas, s);
    throw err;
  }
  const oldSet = new Set(old);
  store.shards = [...store.shards.filter((s) => !oldSet.has(s)), ...loaded];
  for (const s of old) unloadShard(arenas, s);
  await store.shardObjects.delete(old.map((s) => s.entry.file));
}

/** A day with at least this many shards (many small seals) gets its shards merged. */
const kCompactAt = 4;

/**
 * Merges a day's small shards into one (up to kShardRowsCap rows), in the seal worker; without a built
 * worker nothing is merged (compaction is an optimisation). Returns the number of shards merged away.
 */
export async function compactTenant(store: TenantStore, arenas: ArenaSet, worker?: SealWorkerHost): Promise<number> {
  return store.withExclusive(async () => {
    const byDay = new Map<number, LoadedShard[]>();
    for (const s of store.shards) byDay.set(s.meta.day, [...(byDay.get(s.meta.day) ?? []), s]);
    let merged = 0;
    for (const list of byDay.values()) {
      if (list.length < kCompactAt) continue;
      const picked: LoadedShard[] = [];
      let total = 0;
      for (const s of [...list].sort((a, b) => a.rows - b.rows)) {
        if (total + s.rows > kShardRowsCap) break;
        picked.push(s);
        total += s.rows;
      }
      if (picked.length < 2) continue;
      const names = new Set(picked.map((s) => s.entry.file));
      const next: TenantManifest = { ...store.manifest, shards: store.manifest.shards.filter((e) => !names.has(e.file)) };
      const firstGen = next.nextShardGen ?? 1;
      const viaWorker = await sealInWorker(store, worker, {
        walFiles: [], shardFiles: await jobShardFiles(store, picked), minTs: -Infinity,
        fromSeq: 0, toSeq: Infinity, shards: store.shardObjects.spec, tenant: store.tenant, ordinal: store.ordinal, firstGen,
        walKeys: {}, outKeys: await outputKeys(store, shardRowsByDay(picked)),
      });
      if (!viaWorker || viaWorker.rows !== total) continue;
      next.nextShardGen = firstGen + viaWorker.entries.length;
      const loaded = await loadEntries(store, arenas, viaWorker.entries);
      await replaceShards(store, arenas, picked, loaded, next);
      merged += picked.length - loaded.length;
    }
    return merged;
  });
}
