/**
 * One installed state of a tenant's plate dictionary (src/store/tenant-plates.ts): the sorted 16-byte
 * slots in an arena region, the n-gram index of exactly those plates, each plate's shard mask, and the
 * shards it covers with their buckets. Immutable: an update builds the next epoch and swaps it in one
 * synchronous step; the old one is retired and its region freed at its last unpin.
 *
 * Why pinning: a search matches a pattern against the dictionary, then awaits the pool before it reads
 * the shards and materialises hits. Today it turns the matched ids into strings before any await, so
 * freeing the old region at once was safe; once shards' plate lanes hold ids into the tenant dictionary
 * (docs/storage-v2.md, "Round 4"), hits are materialised through the dictionary the search planned with,
 * after the await, and that dictionary must outlive any swap in between. A search pins the epochs it
 * reads (`TenantPlates.pin`) and unpins them when it is done, as it pins shards and live views.
 *
 * A covered shard pins the epoch it reads its plates through (LoadedShard.readThrough: its own slots are
 * dropped, its codes map to positions here) until it moves to the next epoch at the next install or is
 * freed: an epoch outlives its replacement for as long as a shard still reads through it.
 */
import type { ArenaSet, Region } from '../core/arena.js';
import { kPlateSlotBytes } from '../core/segment.js';
import { findPlateSlot, slotString } from './plate-key.js';
import type { PlateGrams } from './plate-grams.js';
import type { LoadedShard } from './shard-loader.js';

export class PlateEpoch {
  private pins = 0;
  private retired = false;
  private freed = false;
  /** indexOf's last plate and its answer. */
  private lastPlate: string | undefined;
  private lastIndex = -1;

  constructor(
    private readonly arenas: ArenaSet,
    /** Where the slots are (the kernels read them there); undefined when there are no plates. */
    readonly region: Region | undefined,
    readonly count: number,
    /** The n-gram index of exactly these `count` plates (undefined without one). */
    readonly grams: PlateGrams | undefined,
    /** Per plate, the buckets of the shards holding it: words 2d (buckets 0–31) and 2d + 1 (32–63). */
    readonly masks: Uint32Array,
    /** The shards whose plates the dictionary holds, with their buckets. */
    private readonly covered: ReadonlyMap<LoadedShard, number>,
    /** The masks' rank counts (src/store/plate-ranks.ts), made with them. */
    readonly ranks: Uint32Array = new Uint32Array(0),
  ) {}

  /** An epoch without plates (nothing built yet). */
  static empty(arenas: ArenaSet): PlateEpoch {
    return new PlateEpoch(arenas, undefined, 0, undefined, new Uint32Array(0), new Map());
  }

  /** The covered shards' buckets. */
  buckets(): ReadonlyMap<LoadedShard, number> {
    return this.covered;
  }

  /** Keeps the region alive until unpin(), across awaits and swaps. */
  pin(): this {
    this.pins++;
    return this;
  }

  unpin(): void {
    if (--this.pins === 0 && this.retired) this.free();
  }

  /** Called when the next epoch is installed (or the dictionary dropped): frees now, or at the last unpin. */
  retire(): void {
    this.retired = true;
    if (this.pins === 0) this.free();
  }

  /** Is the region gone (retired and unpinned)? */
  get isFreed(): boolean {
    return this.freed;
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lastPlate = undefined;
    if (this.region) this.arenas.free(this.region);
  }

  /** The slots as bytes (a view into the arena). */
  bytes(): Uint8Array {
    return this.region && !this.freed ? this.arenas.arena(this.region.arena).bytes(this.region.ptr, this.count * kPlateSlotBytes) : new Uint8Array(0);
  }

  /**
   * Position of `plate` in the sorted slots, or -1 (a binary search). The last answer is kept: an exact
   * plate is looked up here once to find its holders and then once by every holder reading through this
   * dictionary (LoadedShard.findPlate), ~30 binary searches of the same plate in an all-time search at 1M
   * reads (bench/RESULTS.md, branch `exact-eight`). The slots never change while the epoch lives.
   */
  indexOf(plate: string): number {
    if (plate === this.lastPlate) return this.lastIndex;
    const slots = this.bytes();
    const j = findPlateSlot(slots, slots.length / kPlateSlotBytes, plate);
    if (!this.freed) {
      this.lastPlate = plate;
      this.lastIndex = j;
    }
    return j;
  }

  plateAt(d: number): string {
    return slotString(this.bytes(), d * kPlateSlotBytes);
  }

  /**
   * A test of which shards can hold `plate`: a shard the epoch covers holds it only if the plate's mask has
   * the shard's bucket (every plate of a covered shard was merged in with that bucket); a shard not covered
   * (sealed while a build runs) may hold it.
   */
  holdersOf(plate: string): (shard: LoadedShard) => boolean {
    const buckets = this.covered, masks = this.masks;
    const d = this.indexOf(plate);
    return (s) => {
      const b = buckets.get(s);
      if (b === undefined) return true;
      return d >= 0 && ((masks[2 * d + (b >>> 5)]! >>> (b & 31)) & 1) === 1;
    };
  }
}
