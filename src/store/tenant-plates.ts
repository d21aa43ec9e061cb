/**
 * One tenant's distinct plates across all its shards, as one sorted dictionary of 16-byte slots in an
 * arena (the layout of a shard's dictionary, src/core/segment.ts), so that a plate pattern is matched
 * once per tenant by the SIMD kernel instead of once per day shard (a tenant keeps ~30 of them, whose
 * dictionaries mostly repeat the same vehicles). The few matching plates are then found in each shard
 * by binary search (LoadedShard.findPlate) and their rows read through its plate → rows index.
 *
 * It is a superset of the plates of the tenant's current shards: shards sealed or compacted since the
 * last update are merged in (tens of ms for a million plates); a plate whose shards are gone (retention)
 * stays until the dictionary is rebuilt, which happens once the gone shards' entries reach half its size
 * (a rebuild from ~30 shards takes ~0.7 s for 10M reads: not on every compaction). A plate it holds that no
 * shard has simply finds no rows.
 *
 * Beside it, an n-gram index of the same plates (src/store/plate-grams.ts), rebuilt whenever the
 * dictionary is (its ids are positions in it), so `contains` and fuzzy patterns look up candidates
 * instead of passing over every plate (src/query/gram-match.ts).
 *
 * And per plate, a 64-bit mask of the shards that hold it: each shard the dictionary covers has a bucket
 * (0–63; shards share one only past 64 shards), and a plate's mask has the buckets of the shards it came
 * from. A matched plate is then looked up only in the shards whose bucket it has, not in all ~30 of the
 * tenant: each lookup is a binary search over a shard's slots and its plate → rows lane, a handful of
 * cache misses, and most plates a pattern matches are read on a few days only (at 2M reads, `*E55*`
 * found its 71 plates in 275 of the 2,130 shard lookups it made). A bit may be stale (a shard gone, its
 * bucket reused): the lookup then finds nothing, so the masks only have to never miss a shard.
 *
 * An exact plate reads its holders straight off its mask (`shardsHolding`): the covered shards listed by
 * bucket once per change of the tenant's shard list or of the dictionary, so a search costs one binary
 * search here and a walk of the mask's set bits, not a pass over the tenant's ~30-100 shards; and a search
 * finds the dictionary current with one comparison (`currentWith`: the store replaces its shard list on
 * every change, never edits it in place), not by re-planning an update over every shard.
 *
 * Off the engine's thread: the engine brings it up to date with `refresh`, which hands the merge and the
 * index build to the plate-index worker (src/store/plate-index-thread.ts) and installs the answer when it
 * comes; a build of a 750k-plate tenant takes seconds. Until then searches use the current dictionary for
 * the shards it covers (`buckets()`: its plates are a superset of theirs) and read the shards it does not
 * cover yet the per-shard way (src/query/executor.ts), so every answer stays exact during a rebuild.
 */
import type { ArenaSet, Region } from '../core/arena.js';
import { kPlateSlotBytes } from '../core/segment.js';
import type { LoadedShard } from './shard-loader.js';
import { PlateEpoch } from './plate-epoch.js';
import { PlateGrams } from './plate-grams.js';
import { PlateRuns } from './plate-runs.js';
import { buildPlateIndex, type PlateIndexBuilt, type PlateIndexJob } from './plate-index-build.js';

const kWords = kPlateSlotBytes / 4;

/** Buckets of shard masks (two 32-bit words a plate). */
export const kShardBuckets = 64;

/**
 * Runs a build job somewhere (a worker thread) and answers its result; undefined: abandoned (the engine
 * is closing), nothing to install. A rejection makes the caller build on its own thread.
 */
export type PlateIndexBuilder = (job: PlateIndexJob) => Promise<PlateIndexBuilt | undefined>;

/**
 * A planned update: the job, the buckets it gives the shards, the shards to keep alive while it runs, and
 * the release of the slots gathered for the parts of shards that read through the current dictionary
 * (a rebuild: their own slots are dropped; LoadedShard.leaseSlots), called once the build is installed or dropped.
 */
interface Plan {
  job: PlateIndexJob;
  buckets: Map<LoadedShard, number>;
  shards: LoadedShard[];
  release: () => void;
  /** The epoch whose dictionary is the job's last part (an incremental merge), if any. */
  current: PlateEpoch | undefined;
}

export class TenantPlates {
  /**
   * The dictionary as installed (slots, n-gram index, shard masks: src/store/plate-epoch.ts). Replaced by
   * each install, never changed in place; the one replaced is freed once no search pins it.
   */
  private epoch: PlateEpoch;
  /**
   * The shards whose plates the dictionary holds, with their buckets. Replaced, never changed in place: a
   * search that awaits the pool between matching and reading keeps the buckets its masks were made with.
   */
  private shards: ReadonlyMap<LoadedShard, number> = new Map();
  /** Dictionary entries of the shards gone since the last rebuild (an upper bound of the stale plates). */
  private goneEntries = 0;
  /** Buckets handed out when all 64 are taken (round robin). */
  private shared = 0;
  /** The build running off the thread, if any (its parts must stay alive until it answers). */
  private running: Promise<void> | undefined;
  /** Shards changed while a build ran: refresh again when it is installed. */
  private again = false;
  /** The store's shard list the dictionary was last found up to date with (`currentWith`). */
  private checked: readonly LoadedShard[] | undefined;
  /** The holders of a plate by bucket, worked out for one shard list and one coverage (`shardsHolding`). */
  private holders: HolderIndex | undefined;

  constructor(private readonly arenas: ArenaSet, private readonly options: { grams?: boolean } = {}) {
    this.epoch = PlateEpoch.empty(arenas);
  }

  /** Where the current slots are: an arena region (the kernels read them there). */
  get region(): Region | undefined {
    return this.epoch.region;
  }

  get count(): number {
    return this.epoch.count;
  }

  /** The n-gram index of exactly the current `count` plates (undefined while there are none). */
  get grams(): PlateGrams | undefined {
    return this.epoch.grams;
  }

  /** Per plate, the buckets of the shards holding it: words 2d (buckets 0–31) and 2d + 1 (32–63). */
  get masks(): Uint32Array {
    return this.epoch.masks;
  }

  /** The masks' rank counts (src/store/plate-ranks.ts), replaced with them. */
  get ranks(): Uint32Array {
    return this.epoch.ranks;
  }

  /** The current epoch, pinned: it stays readable across awaits and installs until the caller unpins it. */
  pin(): PlateEpoch {
    return this.epoch.pin();
  }

  /** The covered shards' buckets as of now (a snapshot: later updates replace the map). */
  buckets(): ReadonlyMap<LoadedShard, number> {
    return this.shards;
  }

  /** Is a build running off the thread? */
  get building(): boolean {
    return this.running !== undefined;
  }

  /**
   * Is the dictionary up to date with `shards` (the list it was last found up to date with, and no build
   * running)? One comparison: a search asks this before `refresh`, which plans over every shard.
   */
  currentWith(shards: readonly LoadedShard[]): boolean {
    return this.running === undefined && this.checked === shards;
  }

  /** Brings the dictionary up to date with `shards` on this thread (merging new ones in, rebuilding when mostly stale). */
  update(shards: readonly LoadedShard[]): void {
    if (this.running) return; // a build reads the current dictionary: it stays until that build is installed
    const plan = this.plan(shards);
    if (!plan) return;
    try {
      this.install(plan, buildPlateIndex(plan.job, (a) => this.arenas.arena(a).memory));
    } finally {
      plan.release();
    }
  }

  /**
   * Brings the dictionary up to date with `current()` through `build` (a worker thread); resolves once
   * what was asked is installed. Searches meanwhile use the current dictionary for the shards it covers.
   * If the build fails, this thread builds instead.
   */
  refresh(current: () => readonly LoadedShard[], build: PlateIndexBuilder): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    let plan: Plan | undefined;
    try {
      plan = this.plan(current());
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return Promise.resolve(); // no room to gather a rebuild's slots: the current dictionary stays
    }
    if (!plan) return Promise.resolve();
    for (const s of plan.shards) s.pin();
    const run = (async () => {
      try {
        let built: PlateIndexBuilt | undefined;
        try {
          built = await build(plan.job);
          if (!built) return; // abandoned: the engine is closing
        } catch {
          built = buildPlateIndex(plan.job, (a) => this.arenas.arena(a).memory); // no worker: on this thread
        }
        this.install(plan, built);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err; // no arena room: the current dictionary stays
      } finally {
        plan.release();
        for (const s of plan.shards) s.unpin();
      }
    })();
    this.running = run.finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        return this.refresh(current, build);
      }
      return undefined;
    });
    return this.running;
  }

  /** Waits for a running build (and the ones it chains) to be installed. */
  async settled(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** What an update to `shards` has to build, or undefined when the dictionary is up to date. */
  private plan(shards: readonly LoadedShard[]): Plan | undefined {
    const current = new Set(shards);
    let kept: Map<LoadedShard, number> | undefined;
    for (const s of this.shards.keys()) {
      if (current.has(s)) continue;
      this.goneEntries += s.layout.dictCount;
      (kept ??= new Map(this.shards)).delete(s);
    }
    if (kept) this.shards = kept;
    const rebuild = this.goneEntries > 0 && this.goneEntries * 2 > this.count;
    const added = shards.filter((s) => !this.shards.has(s));
    if (!rebuild && added.length === 0) {
      this.checked = shards;
      return undefined;
    }
    this.checked = undefined;
    if (rebuild) this.goneEntries = 0;
    const buckets = rebuild ? new Map<LoadedShard, number>() : new Map(this.shards);
    const from = rebuild ? [...shards] : added;
    for (const s of from) buckets.set(s, this.freeBucket(buckets));
    // a shard reading through the current dictionary (its own slots dropped) gives its slots gathered back
    // for the job's length: only a rebuild merges covered shards again
    const releases: Array<() => void> = [];
    const release = () => {
      for (const r of releases.splice(0)) r();
    };
    let parts: PlateIndexJob['parts'];
    try {
      parts = from.map((s) => {
        releases.push(s.leaseSlots());
        return {
          arena: s.layout.arena, ptr: s.layout.dict, count: s.layout.dictCount, masks: null, bucket: buckets.get(s)!,
          // the shard's run table made by the build too (src/store/plate-runs.ts), off the thread
          ...(s.hasPlateRuns ? {} : { plate: { ptr: s.layout.plate, width: s.layout.plateWidth ?? 4, rows: s.rows, ...(s.layout.plateBits ? { bits: s.layout.plateBits } : {}) } }),
        };
      });
    } catch (err) {
      release();
      throw err;
    }
    const withCurrent = !rebuild && this.region !== undefined;
    if (withCurrent) parts.push({ arena: this.region!.arena, ptr: this.region!.ptr, count: this.count, masks: this.masks, bucket: -1 });
    // each part's positions in the merged dictionary: the covered shards' code → id maps (readThrough)
    const job: PlateIndexJob = { parts, grams: this.options.grams ?? true, sameCount: withCurrent && this.grams !== undefined ? this.count : 0, ids: true };
    return { job, buckets, shards: from, release, current: withCurrent ? this.epoch : undefined };
  }

  /** Puts a build in place of the current dictionary (the slots copied into an arena region). */
  private install(plan: Plan, built: PlateIndexBuilt): void {
    const region = built.count > 0 ? this.arenas.alloc(built.count * kPlateSlotBytes, 16) : undefined;
    if (region) new Uint32Array(this.arenas.arena(region.arena).memory.buffer, region.ptr, built.count * kWords).set(built.words.subarray(0, built.count * kWords));
    const grams = built.same ? this.grams : built.grams ? PlateGrams.of(built.count, built.grams.offsets, built.grams.postings) : undefined;
    const old = this.epoch;
    const epoch = (this.epoch = new PlateEpoch(this.arenas, region, built.count, grams, built.masks, plan.buckets, built.ranks));
    this.shards = plan.buckets;
    // the shards' parts come first in the job, in plan.shards' order
    plan.shards.forEach((s, k) => {
      const r = built.runs?.[k];
      if (r) s.setPlateRuns(PlateRuns.of(r, s.layout.dictCount));
    });
    this.readThrough(plan, built, epoch);
    old.retire();
  }

  /**
   * Every covered shard reads its plates through the new epoch (LoadedShard.readThrough), which drops its
   * own slots: a newly merged shard with its part's ids, one already reading through the old epoch with its
   * ids carried through the growth map (the old dictionary's part: old id → new id, monotone). A shard left
   * as it was (no room for its map) stays exact: it reads through whatever it read through before, which
   * it keeps pinned.
   */
  private readThrough(plan: Plan, built: PlateIndexBuilt, epoch: PlateEpoch): void {
    if (!built.ids || epoch.count === 0) return;
    const merged = new Set(plan.shards);
    const growth = plan.current ? built.ids[plan.shards.length] : undefined;
    const move = (s: LoadedShard, ids: Uint32Array) => {
      try {
        s.readThrough(this.arenas, epoch, ids);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
      }
    };
    plan.shards.forEach((s, k) => move(s, built.ids![k]!));
    for (const s of plan.buckets.keys()) {
      if (merged.has(s)) continue;
      const before = s.plateIds();
      // only ids into the dictionary this one was merged from can be carried; a shard reading through an
      // older one (no room for its map at an earlier install) keeps it
      if (!before || !growth || s.readsThrough !== plan.current) continue;
      const ids = new Uint32Array(s.layout.dictCount);
      for (let d = 0; d < ids.length; d++) ids[d] = growth[before(d)]!;
      move(s, ids);
    }
  }

  /** The lowest bucket no shard of `taken` has; past 64 shards, buckets are shared round robin. */
  private freeBucket(taken: ReadonlyMap<LoadedShard, number>): number {
    const used = new Uint8Array(kShardBuckets);
    for (const b of taken.values()) used[b] = 1;
    const free = used.indexOf(0);
    return free >= 0 ? free : this.shared++ % kShardBuckets;
  }

  /** Position of `plate` in the current sorted slots, or -1. */
  indexOf(plate: string): number {
    return this.epoch.indexOf(plate);
  }

  /**
   * A test of which shards can hold `plate`, as of now (PlateEpoch.holdersOf): taken as a snapshot, so a
   * build installed while the caller awaits does not change its answer.
   */
  holdersOf(plate: string): (shard: LoadedShard) => boolean {
    return this.epoch.holdersOf(plate);
  }

  /**
   * The shards of `current` (the store's list) that can hold `plate`: the covered ones whose bucket its
   * mask has, read off the mask's set bits, and every shard the dictionary does not cover yet (sealed
   * while a build runs). A superset of the shards holding it (a shared or stale bucket adds shards that
   * then find nothing), in no particular order; the same answer as filtering `current` by `holdersOf`.
   */
  shardsHolding(plate: string, current: readonly LoadedShard[]): readonly LoadedShard[] {
    let h = this.holders;
    if (!h || h.current !== current || h.covered !== this.shards) this.holders = h = holderIndex(current, this.shards);
    const d = this.indexOf(plate);
    if (d < 0) return h.uncovered;
    const out = h.uncovered.length > 0 ? [...h.uncovered] : [];
    for (let w = 0; w < 2; w++) {
      let bits = this.masks[2 * d + w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        const inBucket = h.byBucket[w * 32 + 31 - Math.clz32(low)];
        if (inBucket) for (const s of inBucket) out.push(s);
        bits ^= low;
      }
    }
    return out;
  }

  /** The current slots as bytes (a view into the arena). */
  bytes(): Uint8Array {
    return this.epoch.bytes();
  }

  plateAt(d: number): string {
    return this.epoch.plateAt(d);
  }

  /** Drops the dictionary (its region freed once no search pins it). */
  free(): void {
    this.epoch.retire();
    this.epoch = PlateEpoch.empty(this.arenas);
  }
}

/** A shard list split by the dictionary's coverage: the covered shards by bucket, and the others. */
interface HolderIndex {
  current: readonly LoadedShard[];
  covered: ReadonlyMap<LoadedShard, number>;
  byBucket: Array<LoadedShard[] | undefined>;
  uncovered: LoadedShard[];
}

function holderIndex(current: readonly LoadedShard[], covered: ReadonlyMap<LoadedShard, number>): HolderIndex {
  const byBucket: Array<LoadedShard[] | undefined> = new Array(kShardBuckets).fill(undefined);
  const uncovered: LoadedShard[] = [];
  for (const s of current) {
    const b = covered.get(s);
    if (b === undefined) uncovered.push(s);
    else (byBucket[b] ??= []).push(s);
  }
  return { current, covered, byBucket, uncovered };
}
