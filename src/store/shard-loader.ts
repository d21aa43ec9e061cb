/**
 * Loads shards into arena memory: the object's bytes (src/store/object-store.ts, a ranged get into the
 * arena) land straight in an arena region (one copy, no row parsing); the format 2 header
 * (src/store/shard-format.ts) gives every lane's offset and width, which become the segment layout the
 * kernels scan (src/core/segment.ts). The plate dictionary slots and zone maps are lanes of the file, so
 * nothing besides the file is allocated. Unloading frees the region for reuse.
 *
 * Sealed shards (manifest entries with a key) are read whole into their arena region, checked against the
 * manifest (size, CRC32C of the stored bytes), and opened segment by segment (AES-256-GCM) in place. A format 3
 * file (src/store/shard-format-v3.ts) is then as memory holds it; a format 2 one is re-encoded in place first
 * (src/store/shard-reencode.ts).
 */
import type { ArenaSet, Region } from '../core/arena.js';
import { kBlockShift, kPlateSlotBytes, type CodeAt, type PlateWidth, type PostingsWidth, type RowAt, type SegmentLayout } from '../core/segment.js';
import { CorruptFile, KeyDestroyed, UnsupportedFormat } from '../errors.js';
import { isKeyDestroyed, wrappedFromJson, type DataKeys } from '../crypto/data-keys.js';
import { openSealedFile, readSealedHeader } from '../crypto/sealed-file.js';
import { crc32c } from './crc32c.js';
import type { ShardEntry } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { kShardBuildVersion, kShardVersion, shardBytesVersion, ShardView, type ShardMeta } from './shard-format.js';
import type { ShardOpenPool } from './shard-open-pool.js';
import type { LabelAt, LabelsAt } from '../core/label-lanes.js';
import { labelLanesPacked } from './shard-labels.js';
import { reencodeLanes, type ReencodeAnswer } from './shard-reencode.js';
import { findPlateSlot, slotString } from './plate-key.js';
import { plateCodeFrom } from '../query/shard-plate-code.js';
import { idLowerBound, plateIdLayout, plateIdReader, writePlateIds, type IdAt, type PlateIdLane } from './plate-id-lane.js';
import type { PlateEpoch } from './plate-epoch.js';
import { PlateRuns, plateRunsMade } from './plate-runs.js';

/**
 * Shards whose own plate slots left their region since the process started (read through their tenant's
 * dictionary), their bytes, and the leases that gathered slots back for a kernel task (tests, benchmarks).
 */
export const shardSlotsDropped = { shards: 0, bytes: 0, leases: 0 };

/** A shard resident in an arena, with JS views of its lanes (all views share the arena's memory). */
export class LoadedShard {
  /** Where the shard is, for messages (ObjectStore.locate); its key is `entry.file`. */
  readonly file: string;
  readonly entry: ShardEntry;
  readonly meta: ShardMeta;
  readonly layout: SegmentLayout;
  /** Row i's plate code (u16 or u32 as the file has it, u24 in memory where the codes fit: src/store/shard-u24.ts). */
  readonly plate: CodeAt;
  /** Row i's camera code (the file's lane, or u8 entries of run tables in memory: src/store/shard-cameras.ts). */
  readonly camera: CodeAt;
  /** The plate → rows lane's entry j (u16, u24 in memory above 65,536 rows, or u32: src/store/shard-u24.ts). */
  readonly postings: RowAt;
  /** Arena offsets of the seq and plate → rows lanes (for kernel tasks; see src/query/segment-task.ts). */
  readonly seqPtr: number;
  readonly postingsPtr: number;
  readonly zones: Float64Array;
  readonly cameras: readonly string[];
  readonly regions: readonly string[];
  readonly view: ShardView;
  readonly regions_: Region[];
  // lat / lon lanes, read inline in latE7 / lonE7: i32, or u24 offsets from per-run bases (src/store/shard-u24.ts)
  private readonly lat32: Int32Array | null;
  private readonly lon32: Int32Array | null;
  private readonly latOf: (i: number) => number;
  private readonly lonOf: (i: number) => number;
  // ts and seq lanes, read inline in tsAt / seqAt (hot in JS row loops): u32 offsets from a base, or the wide form
  private readonly tsBase: number;
  private readonly ts32: Uint32Array | null;
  private readonly tsOf: (i: number) => number;
  private readonly seqBase: number;
  private readonly seq32: Uint32Array | null;
  /** u16 offsets from the row's block base (src/store/seq-blocks.ts), or null. */
  private readonly seq16: Uint16Array | null;
  /** u24 offsets from the row's block base (read as masked u32 loads), or null. */
  private readonly seq24: DataView | null;
  private readonly seqBlocks: Uint32Array;
  /** Seq by time (src/store/seq-blocks.ts): the row's base is that of bucket floor((ts − origin) / ms); ms 0 = by block. */
  private readonly seqTimeOrigin: number;
  private readonly seqTimeMs: number;
  private readonly seqOf: (i: number) => number;
  // region, make and color codes: the file's lanes (0 = none when absent) or the labels lane's triples
  private readonly regionOf: LabelAt;
  private readonly makeOf: LabelAt;
  private readonly colorOf: LabelAt;
  private platesCache?: string[];

  constructor(init: { file: string; entry: ShardEntry; view: ShardView; layout: SegmentLayout; regions: Region[] }) {
    const v = init.view;
    this.file = init.file;
    this.entry = init.entry;
    this.view = v;
    this.meta = v.header.meta;
    this.layout = init.layout;
    this.regions_ = init.regions;
    const n = this.meta.rows;
    this.lat32 = v.width('lat') === 4 ? new Int32Array(v.bytes.buffer, v.ptr('lat'), n) : null;
    this.lon32 = v.width('lon') === 4 ? new Int32Array(v.bytes.buffer, v.ptr('lon'), n) : null;
    this.latOf = v.coordReader('lat');
    this.lonOf = v.coordReader('lon');
    this.plate = v.plateReader();
    this.camera = v.cameraReader();
    this.regionOf = v.labelReader('region');
    this.makeOf = v.labelReader('make');
    this.colorOf = v.labelReader('color');
    this.postings = v.postingsReader();
    this.seqPtr = v.ptr('seq');
    this.postingsPtr = v.ptr('postings');
    this.zones = v.f64('zones');
    this.dictBytes = new Uint8Array(v.bytes.buffer, v.ptr('slots'), this.meta.dictCount * kPlateSlotBytes);
    this.dictWords = new Uint32Array(v.bytes.buffer, v.ptr('slots'), this.meta.dictCount * (kPlateSlotBytes / 4));
    this.cameras = v.header.dicts.camera;
    this.regions = v.header.dicts.region;
    this.tsOf = v.tsReader();
    this.seqOf = v.seqReader();
    this.tsBase = v.header.tsBase;
    this.ts32 = v.width('ts') === 4 ? new Uint32Array(v.bytes.buffer, v.ptr('ts'), n) : null;
    this.seqBase = v.header.seqBase;
    this.seq32 = v.width('seq') === 4 ? new Uint32Array(v.bytes.buffer, v.ptr('seq'), n) : null;
    this.seq16 = v.width('seq') === 2 ? new Uint16Array(v.bytes.buffer, v.ptr('seq'), n) : null;
    this.seq24 = v.width('seq') === 3 ? new DataView(v.bytes.buffer, v.ptr('seq'), 3 * n + 1) : null;
    const sb = v.header.seqBlocks;
    this.seqBlocks = sb ? new Uint32Array(v.bytes.buffer, v.bytes.byteOffset + sb.at, sb.bytes / 4) : new Uint32Array(0);
    this.seqTimeOrigin = v.header.seqTime?.origin ?? 0;
    this.seqTimeMs = v.header.seqTime?.ms ?? 0;
  }

  get rows(): number {
    return this.meta.rows;
  }

  /**
   * Row i's region, make and color codes (ids into `regions`, `attributes().makes` / `colors`; 0 = none), whether
   * the shard holds three lanes or one labels lane (src/core/label-lanes.ts): the one way JS reads these fields.
   */
  regionAt(i: number): number {
    return this.regionOf(i);
  }

  makeAt(i: number): number {
    return this.makeOf(i);
  }

  colorAt(i: number): number {
    return this.colorOf(i);
  }

  // made on first use (a shard whose rows are written as hits): null when the shard keeps three lanes
  private labels_: LabelsAt | null | undefined;

  /**
   * The labels lane and its triple table, so that a row's region, make and color codes cost one read of the lane
   * (`regionAt`, `makeAt` and `colorAt` read it once each); undefined when the shard keeps three lanes.
   */
  labels(): LabelsAt | undefined {
    if (this.labels_ === undefined) this.labels_ = this.view.labelsReader() ?? null;
    return this.labels_ ?? undefined;
  }

  private pins = 0;
  private onFree: (() => void) | undefined;
  private freed = false;

  /** Keeps the arena regions alive until unpin(), across awaits. */
  pin(): void {
    this.pins++;
  }

  unpin(): void {
    if (--this.pins !== 0) return;
    this.freeRetiredMaps();
    if (this.onFree) this.free();
    else if (this.dropPending) this.dropSlots();
  }

  /** Called by unloadShard: frees now, or at the last unpin. */
  retire(free: () => void): void {
    this.onFree = free;
    if (this.pins === 0) this.free();
  }

  private freeRetiredMaps(): void {
    for (const { region, epoch } of this.retiredMaps.splice(0)) {
      if (region) this.arenas!.free(region);
      epoch?.unpin();
    }
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.freeRetiredMaps();
    this.onFree!();
    if (this.idsRegion) this.arenas!.free(this.idsRegion);
    this.idsRegion = undefined;
    this.epoch?.unpin();
    this.epoch = undefined;
  }

  tsAt(i: number): number {
    return this.ts32 !== null ? this.tsBase + this.ts32[i]! : this.tsOf(i);
  }

  /** Latitude of row i in 1e-7° (the stored i32). */
  latE7(i: number): number {
    return this.lat32 !== null ? this.lat32[i]! : this.latOf(i);
  }

  /** Longitude of row i in 1e-7° (the stored i32). */
  lonE7(i: number): number {
    return this.lon32 !== null ? this.lon32[i]! : this.lonOf(i);
  }

  seqAt(i: number): number {
    if (this.seqTimeMs !== 0) return this.seqBase + this.seqBlocks[Math.floor((this.tsAt(i) - this.seqTimeOrigin) / this.seqTimeMs)]! + this.seq16![i]!;
    if (this.seq16 !== null) return this.seqBase + this.seqBlocks[i >>> kBlockShift]! + this.seq16[i]!;
    if (this.seq24 !== null) return this.seqBase + this.seqBlocks[i >>> kBlockShift]! + (this.seq24.getUint32(3 * i, true) & 0xffffff);
    return this.seq32 !== null ? this.seqBase + this.seq32[i]! : this.seqOf(i);
  }

  /** The plate dictionary as JS strings (sorted), decoded on first use. */
  plates(): string[] {
    if (!this.platesCache) {
      const out = new Array<string>(this.layout.dictCount);
      for (let d = 0; d < out.length; d++) out[d] = slotString(this.dictBytes, this.slotAt(d));
      this.platesCache = out;
    }
    return this.platesCache;
  }

  private runsTable?: PlateRuns;

  /**
   * Where each dictionary entry's rows start in the plate → rows lane (src/store/plate-runs.ts), kept while
   * the shard is loaded: searches that read many plates' runs (a `contains` pattern matched tenant-wide)
   * find each in one read. Made by the tenant dictionary's build on the plate-index worker, or here (one
   * pass over the plate lane) when a search finds none.
   */
  plateRuns(): PlateRuns {
    if (!this.runsTable) {
      this.runsTable = PlateRuns.build(this.plate, this.rows, this.layout.dictCount);
      plateRunsMade.bySearch++;
    }
    return this.runsTable;
  }

  /** Has the run table been made (a tenant dictionary's build makes it off the thread)? */
  get hasPlateRuns(): boolean {
    return this.runsTable !== undefined;
  }

  /** Installs a run table made off the thread from this shard's plate lane (the first one made stays). */
  setPlateRuns(runs: PlateRuns): void {
    if (this.runsTable) return;
    this.runsTable = runs;
    plateRunsMade.byBuild++;
  }

  /** Row indexes of dictionary entry `d` (ascending), from the plate → rows lane. */
  rowsOfPlate(d: number): Uint32Array {
    const post = this.postings, plate = this.plate, n = this.rows;
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (plate(post(mid)) < d) lo = mid + 1;
      else hi = mid;
    }
    const start = lo;
    hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (plate(post(mid)) <= d) lo = mid + 1;
      else hi = mid;
    }
    const out = new Uint32Array(lo - start);
    for (let j = start; j < lo; j++) out[j - start] = post(j);
    return out;
  }

  /**
   * Where the plate API reads a code's 16-byte slot (src/core/segment.ts): in the shard's own sorted slots
   * (a lane of its file, in its region) until its tenant's dictionary covers it, then in that dictionary
   * (`readThrough`): `ids` maps each code to its position there (ascending, as the codes), and the shard's
   * own slots are dropped from its region (docs/storage-v2.md, "Round 4", step 4 as built). The codes, the
   * plate lane and the plate → rows lane never change; only where a code's characters are read does.
   * Read only by the plate API below (findPlate, plateAt, plateChars, plateRange, plates, plateCodeOf,
   * rowsOfPlate) and, on the kernels' side, through `layout.dict`, which after the drop is readable only
   * under a lease (`leaseSlots`).
   */
  private dictBytes: Uint8Array;
  private dictWords: Uint32Array;
  /** Code → slot in `dictBytes`, or null: the code is the slot (the shard's own dictionary). */
  private ids: IdAt | null = null;
  /** The map as stored in `idsRegion` (src/store/plate-id-lane.ts), for tasks that read it on the pool. */
  private idLane: PlateIdLane | undefined;
  /** The tenant dictionary `dictBytes` is in, pinned while the shard reads through it. */
  private epoch: PlateEpoch | undefined;
  private arenas: ArenaSet | undefined;
  /** The arena region holding `ids` (2–4 B a shard plate: what replaces the slots' 16). */
  private idsRegion: Region | undefined;
  /** Are the own slots still in the region (read by kernel tasks until dropped)? */
  private ownSlots = true;
  /** The own slots go at the last unpin (a reader holding the shard may be reading them). */
  private dropPending = false;
  /** Maps and epochs replaced while the shard was pinned, freed (unpinned) at its last unpin. */
  private retiredMaps: Array<{ region: Region | undefined; epoch: PlateEpoch | undefined }> = [];
  /** Kernel tasks holding `layout.dict` readable (`leaseSlots`), and the slots gathered for them. */
  private leases = 0;
  private leaseRegion: Region | undefined;

  /** Offset in `dictBytes` of code `d`'s slot. */
  private slotAt(d: number): number {
    return (this.ids === null ? d : this.ids(d)) * kPlateSlotBytes;
  }

  /** Is the shard read through its tenant's dictionary (`readThrough`)? */
  get readsThrough(): PlateEpoch | undefined {
    return this.epoch;
  }

  /** Are the shard's own plate slots out of its region? */
  get slotsDropped(): boolean {
    return !this.ownSlots;
  }

  /**
   * Reads the shard's plates through `epoch` (a tenant dictionary holding all of them) from now on: `ids[d]`
   * is code d's position in it (ascending; one per code). The epoch stays pinned until the shard is freed or
   * reads through a later one. The own slots leave the region at once, or at the last unpin when a reader
   * holds the shard (a pool task may be reading them through `layout.dict`). Throws RangeError when no arena
   * has room for the map (the shard then reads as before).
   */
  readThrough(arenas: ArenaSet, epoch: PlateEpoch, ids: Uint32Array): void {
    const n = this.layout.dictCount;
    if (ids.length !== n) throw new Error(`a plate id map of ${ids.length} codes for a dictionary of ${n}: ${this.file}`);
    if (this.freed) return;
    let region: Region | undefined;
    let lane: PlateIdLane = { bytes: new Uint8Array(0), count: 0, width: 4 };
    if (n > 0) {
      const { width, bytes } = plateIdLayout(ids);
      region = arenas.alloc(bytes, 16);
      lane = writePlateIds(ids, arenas.arena(region.arena).bytes(region.ptr, bytes), width);
    }
    const prevEpoch = this.epoch, prevRegion = this.idsRegion;
    this.arenas = arenas;
    this.epoch = epoch.pin();
    this.ids = plateIdReader(lane);
    this.idLane = lane;
    this.idsRegion = region;
    this.dictBytes = epoch.bytes();
    this.dictWords = new Uint32Array(this.dictBytes.buffer, this.dictBytes.byteOffset, this.dictBytes.length / 4);
    // a pinned shard's task may read the map and dictionary it was given (slotsThrough): they go at the last unpin
    // a pinned shard's readers may still hold the replaced map: it goes at the last unpin
    this.retiredMaps.push({ region: prevRegion, epoch: prevEpoch });
    if (this.pins === 0) this.freeRetiredMaps();
    if (this.ownSlots) {
      this.dropPending = true;
      if (this.pins === 0) this.dropSlots();
    }
  }

  /**
   * Where a kernel task reads the shard's plate slots once they are dropped: the tenant dictionary's slots
   * (`dictCount` of them) and the code → slot map (u32 a code), as arena offsets; valid while the shard is
   * pinned (a later install frees them at the last unpin). Undefined while it reads its own slots.
   */
  slotsThrough(): { dictArena: number; dict: number; dictCount: number; idsArena: number; ids: number; idsWidth: PlateIdLane['width'] } | undefined {
    const e = this.epoch, ids = this.idsRegion;
    if (!e?.region || !ids) return undefined;
    return { dictArena: e.region.arena, dict: e.region.ptr, dictCount: e.count, idsArena: ids.arena, ids: ids.ptr, idsWidth: this.idLane!.width };
  }

  /**
   * Every arena region the shard holds now, by what it is (bench/resident-breakdown.ts): its file's lanes
   * (`regions_`: two once the own slots are punched out), its code → id map, the slots gathered for a lease,
   * and maps replaced while it was pinned (freed at its last unpin).
   */
  arenaRegions(): Array<{ part: 'lanes' | 'plate ids' | 'slot lease' | 'retired plate ids'; region: Region }> {
    const out: Array<{ part: 'lanes' | 'plate ids' | 'slot lease' | 'retired plate ids'; region: Region }> = [];
    if (this.freed) return out;
    for (const region of this.regions_) out.push({ part: 'lanes', region });
    if (this.idsRegion) out.push({ part: 'plate ids', region: this.idsRegion });
    if (this.leaseRegion) out.push({ part: 'slot lease', region: this.leaseRegion });
    for (const { region } of this.retiredMaps) if (region) out.push({ part: 'retired plate ids', region });
    return out;
  }

  /** The code → id map through the epoch read now (covered distances, the install's growth remap, tests). */
  plateIds(): IdAt | null {
    return this.ids;
  }

  /** The same map as stored (its bytes in arena memory, codes and width), for a task on the pool (covered probes). */
  plateIdLane(): PlateIdLane | undefined {
    return this.ids === null ? undefined : this.idLane;
  }

  private dropSlots(): void {
    this.dropPending = false;
    if (!this.ownSlots || this.freed) return;
    this.ownSlots = false;
    if (this.leases === 0) this.layout.dict = 0;
    const bytes = this.layout.dictCount * kPlateSlotBytes;
    if (bytes === 0) return;
    const from = this.view.ptr('slots');
    // their pages given back now, not at the next idle release: an install drops every covered shard's slots at
    // once (5.6M slots, 88 MiB at a 20M open), which stayed resident beside the new dictionary until then and
    // made the peak of the open's dictionary install (docs/storage-v2.md, "The open's peak")
    const { head, tail } = this.arenas!.punch(this.regions_[0]!, from, from + bytes, true);
    this.regions_[0] = head;
    if (tail) this.regions_.push(tail);
    shardSlotsDropped.shards++;
    shardSlotsDropped.bytes += bytes;
  }

  /**
   * Makes `layout.dict` hold the shard's sorted slots until the returned release is called, for a job that
   * reads the dictionary in arena memory: only a rebuild of the tenant dictionary does now (after retention
   * or compaction left over half its entries gone; tenant-plates.ts). Query tasks read no slot of a covered
   * shard: a pattern's distances and a hot list's pairs come from the tenant dictionary, matched once per
   * query (src/query/covered-distances.ts, covered-probes.ts), and a cloned task reads its slots through the
   * map (slotsThrough). Once the own slots are dropped they are gathered
   * from the tenant dictionary into a region of the shard's arena (16 B a shard plate, for the lease's
   * length only). Pins the shard meanwhile. Throws RangeError when the arena has no room.
   */
  leaseSlots(): () => void {
    this.pin();
    let done = false;
    const unpinOnly = () => {
      if (done) return;
      done = true;
      this.unpin();
    };
    if (this.ownSlots || this.layout.dictCount === 0) return unpinOnly;
    if (this.leases === 0) {
      const n = this.layout.dictCount, arenas = this.arenas!;
      const ptr = arenas.allocIn(this.layout.arena, n * kPlateSlotBytes, 16);
      if (ptr < 0) {
        this.unpin();
        throw new RangeError(`no room in arena ${this.layout.arena} for the plate slots of ${this.file}`);
      }
      const out = new Uint32Array(arenas.arena(this.layout.arena).memory.buffer, ptr, n * 4);
      const src = this.dictWords, ids = this.ids!;
      for (let d = 0, o = 0; d < n; d++, o += 4) {
        const s = ids(d) * 4;
        out[o] = src[s]!;
        out[o + 1] = src[s + 1]!;
        out[o + 2] = src[s + 2]!;
        out[o + 3] = src[s + 3]!;
      }
      this.leaseRegion = { arena: this.layout.arena, ptr, bytes: n * kPlateSlotBytes };
      this.layout.dict = ptr;
      shardSlotsDropped.leases++;
    }
    this.leases++;
    return () => {
      if (done) return;
      done = true;
      if (--this.leases === 0 && this.leaseRegion) {
        this.arenas!.free(this.leaseRegion);
        this.leaseRegion = undefined;
        this.layout.dict = 0;
      }
      this.unpin();
    };
  }

  /** Dictionary index of `p`, or -1 (a binary search over the slots in the arena). */
  findPlate(p: string): number {
    if (this.ids === null) return findPlateSlot(this.dictBytes, this.layout.dictCount, p);
    // the tenant dictionary's position of p: searched once per plate for all the shards reading through it
    const j = this.epoch ? this.epoch.indexOf(p) : findPlateSlot(this.dictBytes, this.dictBytes.length / kPlateSlotBytes, p);
    if (j < 0) return -1;
    const n = this.layout.dictCount;
    const d = idLowerBound(this.idLane!, this.ids, j);
    return d < n && this.ids(d) === j ? d : -1;
  }

  /**
   * The code of plate `k` of `words` (16-byte slots as words, e.g. a tenant match's), or -1, searched from
   * `guess` (src/query/shard-plate-code.ts).
   */
  plateCodeOf(words: Uint32Array, k: number, guess: number): number {
    return plateCodeFrom(this.dictWords, this.layout.dictCount, words, k, guess, this.ids);
  }

  /** Plate of dictionary entry `d`, decoded from its slot. */
  plateAt(d: number): string {
    if (this.platesCache) return this.platesCache[d]!;
    return slotString(this.dictBytes, this.slotAt(d));
  }

  /** Writes the characters of dictionary entry `d` into `out` (≥ 10 bytes); returns the plate's length. */
  plateChars(d: number, out: Uint8Array): number {
    const slots = this.dictBytes, base = this.slotAt(d);
    const len = slots[base + kPlateSlotBytes - 1]!;
    for (let j = 0; j < len; j++) out[j] = slots[base + j]!;
    return len;
  }

  /** The dictionary entries [lo, hi) whose plates start with `prefix` (plate characters only; lo = hi when none). */
  plateRange(prefix: string): [lo: number, hi: number] {
    const slots = this.dictBytes, len = prefix.length;
    const cmp = (d: number): number => {
      const base = this.slotAt(d);
      for (let j = 0; j < len; j++) {
        const c = slots[base + j]! - prefix.charCodeAt(j);
        if (c !== 0) return c;
      }
      return 0;
    };
    const first = (strict: boolean): number => {
      let lo = 0, hi = this.layout.dictCount;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const c = cmp(mid);
        if (c < 0 || (strict && c === 0)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [first(false), first(true)];
  }

  /** The make and color dictionaries (id 0 = none), for `makes`/`colors` filters (codes: makeAt / colorAt). */
  attributes(): { makes: readonly string[]; colors: readonly string[] } {
    const d = this.view.header.dicts;
    return { makes: d.make, colors: d.color };
  }

  /** Optional fields of row `i`, for materialising a hit (direct views of the lanes). */
  extras(i: number): { confidence?: number; make?: string; color?: string; readId?: string } {
    const x = (this.extraCols ??= this.makeExtraCols());
    const out: { confidence?: number; make?: string; color?: string; readId?: string } = {};
    const c = x.conf(i);
    if (c !== undefined) out.confidence = c;
    const m = this.makeAt(i);
    if (m !== 0) out.make = x.makes[m]!;
    const k = this.colorAt(i);
    if (k !== 0) out.color = x.colors[k]!;
    const id = x.readId(i);
    if (id !== undefined) out.readId = id;
    return out;
  }

  /**
   * The lanes `extras` reads (confidence and read id readers, the make and color dictionaries),
   * for code that builds many hits of this shard and wants no object per row (src/query/shard-hits.ts).
   */
  extraLanes(): Readonly<NonNullable<LoadedShard['extraCols']>> {
    return (this.extraCols ??= this.makeExtraCols());
  }

  private extraCols?: {
    conf: (i: number) => number | undefined; makes: string[]; colors: string[];
    readId: (i: number) => string | undefined;
  };

  private makeExtraCols(): NonNullable<LoadedShard['extraCols']> {
    const v = this.view;
    return {
      conf: v.confidenceReader(),
      makes: v.header.dicts.make,
      colors: v.header.dicts.color,
      readId: v.readIdReader(),
    };
  }

  /** The client readIds of the shard's rows, with the rows' seqs (for the tenant's dedupe set). */
  *readIds(): Iterable<[readId: string, seq: number]> {
    if (!this.view.header.lanes.readIdOffsets) return;
    const rid = this.view.readIdReader();
    for (let i = 0; i < this.rows; i++) {
      const v = rid(i);
      if (v !== undefined) yield [v, this.seqAt(i)];
    }
  }
}

/**
 * A format 3 shard's labels as the load-time packing would have counted them in `labelLanesPacked` (packed, of them
 * by runs, or kept as lanes when two or more are present): the counts stay a process's tally of its shards' forms.
 */
function countPackedLabels(view: ShardView): void {
  const lanes = view.header.lanes;
  if (lanes.labels) {
    labelLanesPacked.shards++;
    if (lanes.labelRuns) labelLanesPacked.runs++;
  } else if (view.rows > 0 && [lanes.region, lanes.make, lanes.color].filter(Boolean).length >= 2) labelLanesPacked.kept++;
}

/**
 * Reads shard object `entry.file` of `objects` into `arenas` and verifies it against its manifest entry
 * (size, CRC32C) and its own metadata. Any failure frees what was allocated and throws a coded error
 * naming the shard (its ObjectStore.locate name). With `pool` (while a data dir opens), a sealed shard's
 * checksum and decryption run on a worker thread (src/store/shard-open-pool.ts). With `releaseTails` (a data
 * dir's open), the pages of the region's tail that each shrink gives back are released to the OS at once
 * (Arena.shrink): an open reads ~14 shards a few at a time, each into a region of its stored size that its
 * re-encoding then shrinks by ~40 %, and the tails kept resident until the open's end were ~240 MiB of its
 * peak RSS at 20M (docs/storage-v2.md, "The open's peak: the shrunk tails released at once").
 */
export async function loadShard(
  arenas: ArenaSet, objects: ObjectStore, entry: ShardEntry, keys?: DataKeys, pool?: ShardOpenPool, releaseTails = false,
): Promise<LoadedShard> {
  const regions: Region[] = [];
  const file = objects.locate(entry.file);
  try {
    const format = entry.format ?? 1;
    if (format !== kShardVersion && format !== kShardBuildVersion && !entry.key) {
      throw UnsupportedFormat(`Shard format version ${format} is read only by the migration: ${file}`, { file });
    }
    // format 3 stores the lanes re-encoded (src/store/shard-format-v3.ts): nothing to do to them here or on a worker
    const stored3 = format === kShardVersion;
    let bytes: Uint8Array;
    let region: Region;
    // the lanes re-encoded by the worker that opened the shard (src/store/shard-reencode.ts), when it did
    let reencoded: ReencodeAnswer | undefined;
    if (entry.key) {
      // sealed: the stored bytes are read straight into the arena region, checked (size, CRC32C) and opened
      // in place (each segment's plaintext lands at or before where its ciphertext was: sealed-file.ts), then
      // the region shrinks to the plaintext; no buffer of the file outside the arena
      if (!keys) throw CorruptFile(`Shard is encrypted and no key store was given: ${file}`, { file });
      const stored = await objects.head(entry.file);
      if (stored === undefined) throw CorruptFile(`Shard is missing: ${file}`, { file });
      if (stored !== entry.bytes) throw CorruptFile(`Shard size ${stored} differs from the manifest's ${entry.bytes}: ${file}`, { file });
      region = arenas.alloc(Math.max(16, Math.ceil(stored / 64) * 64), 64);
      regions.push(region);
      const memory = arenas.arena(region.arena).memory;
      // the file fills the region: map its pages in one call, not a fault a page in the read (page-populate.ts)
      await arenas.arena(region.arena).populate(region.ptr, stored);
      try {
        await objects.getRange(entry.file, 0, stored, new Uint8Array(memory.buffer, region.ptr, stored));
      } catch (err) {
        if ((err as { code?: string }).code === 'ERANGE') throw CorruptFile(`Shard shorter than expected: ${file}`, { file });
        throw err;
      }
      const key = await keys.openKey(wrappedFromJson(entry.key)).catch((err: unknown) => {
        if (isKeyDestroyed(err)) throw KeyDestroyed(`Shard ${file} was shredded (its day key is destroyed)`, { file });
        throw err;
      });
      // views are made after the awaits: a grown memory has a new buffer object
      const size = readSealedHeader(file, new Uint8Array(memory.buffer, region.ptr, stored)).plainBytes;
      if (entry.plainBytes !== undefined && size !== entry.plainBytes) throw CorruptFile(`Shard plaintext size differs from the manifest: ${file}`, { file });
      if (pool) reencoded = await pool.open({ file, stored, crc: entry.crc, key, memory, ptr: region.ptr, ...(stored3 ? {} : { reencodePlainBytes: size }) });
      else {
        const view = new Uint8Array(memory.buffer, region.ptr, stored);
        if (crc32c(view) !== entry.crc) throw CorruptFile(`Shard checksum mismatch: ${file}`, { file });
        openSealedFile(file, view, key, new Uint8Array(memory.buffer), region.ptr, keys.cipher);
      }
      region = regions[0] = arenas.shrink(region, Math.max(16, Math.ceil(size / 64) * 64), releaseTails);
      bytes = new Uint8Array(memory.buffer).subarray(region.ptr, region.ptr + size);
    } else {
      // plaintext (a data dir written before encryption at rest, until its migration rewrites it)
      const size = await objects.head(entry.file);
      if (size === undefined) throw CorruptFile(`Shard is missing: ${file}`, { file });
      if (size !== entry.bytes) throw CorruptFile(`Shard size ${size} differs from the manifest's ${entry.bytes}: ${file}`, { file });
      region = arenas.alloc(Math.max(16, Math.ceil(size / 64) * 64), 64);
      regions.push(region);
      await arenas.arena(region.arena).populate(region.ptr, size);
      bytes = new Uint8Array(arenas.arena(region.arena).memory.buffer, region.ptr, size);
      try {
        await objects.getRange(entry.file, 0, size, bytes);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERANGE') throw CorruptFile(`Shard shorter than expected: ${file}`, { file });
        throw err;
      }
      if (crc32c(bytes) !== entry.crc) throw CorruptFile(`Shard checksum mismatch: ${file}`, { file });
    }
    // region, make and color as one labels lane (src/store/shard-labels.ts), ts, lat, lon as u24 offsets from
    // per-run bases (src/store/shard-u24.ts), then seq as u16 offsets from block bases (src/store/seq-blocks.ts),
    // here or already on the worker that opened the shard: the region shrinks to what is left
    let lanes = reencoded ? reencoded.lanes : undefined;
    if (reencoded) {
      labelLanesPacked.shards += reencoded.packed;
      labelLanesPacked.kept += reencoded.kept;
      labelLanesPacked.runs += reencoded.runs;
    }
    let view = lanes ? new ShardView(file, bytes.subarray(0, lanes.bytes), lanes.header) : new ShardView(file, bytes);
    const meta = view.header.meta;
    if (meta.rows !== entry.rows) throw CorruptFile(`Shard row count differs from the manifest: ${file}`, { file });
    if (meta.dictCount !== entry.dictCount) throw CorruptFile(`Shard plate dictionary size differs from its manifest entry: ${file}`, { file });
    const slots = new Uint8Array(bytes.buffer, view.ptr('slots'), meta.dictCount * kPlateSlotBytes);
    for (let d = 0; d < meta.dictCount; d++) {
      const len = slots[d * kPlateSlotBytes + 15]!;
      if (len < 1 || len > 10) throw CorruptFile(`Shard plate dictionary entry ${d} has length ${len}: ${file}`, { file });
    }
    if (stored3) {
      if (shardBytesVersion(bytes) !== kShardVersion) throw CorruptFile(`Shard is not of the format its manifest entry names (${kShardVersion}): ${file}`, { file });
      countPackedLabels(view);
    } else if (!reencoded) {
      lanes = reencodeLanes(view);
      if (lanes) view = new ShardView(file, bytes.subarray(0, lanes.bytes), lanes.header);
    }
    if (lanes) region = regions[0] = arenas.shrink(region, Math.max(16, Math.ceil(view.bytes.length / 64) * 64), releaseTails);
    const { rows: _, ...labelLanes } = view.labelLanes();
    const { rows: __, ...cameraLanes } = view.cameraLanes();
    const layout: SegmentLayout = {
      arena: region.arena, rows: meta.rows,
      ts: view.ptr('ts'), lat: view.ptr('lat'), lon: view.ptr('lon'), plate: view.ptr('plate'),
      dict: view.ptr('slots'), dictCount: meta.dictCount, zones: view.ptr('zones'),
      blocks: Math.ceil(meta.rows / view.header.blockRows),
      tsWidth: view.width('ts') as 3 | 4 | 8, tsBase: view.header.tsBase,
      latWidth: view.width('lat') as 3 | 4, lonWidth: view.width('lon') as 3 | 4,
      ...(view.header.bases ? { bases: view.basesPtr() } : {}),
      plateWidth: view.width('plate') as PlateWidth, ...(view.header.lanes.plate!.bits ? { plateBits: view.header.lanes.plate!.bits } : {}), ...cameraLanes,
      regionWidth: 1, makeWidth: 1, colorWidth: 1, ...labelLanes,
      seq: view.ptr('seq'), seqWidth: view.width('seq') as 2 | 3 | 4 | 8, seqBase: view.header.seqBase,
      ...(view.header.seqBlocks ? { seqBlocks: view.bytes.byteOffset + view.header.seqBlocks.at } : {}),
      ...(view.header.seqTime ? { seqTime: { ...view.header.seqTime, buckets: view.header.seqBlocks!.bytes / 4 } } : {}),
      postings: view.ptr('postings'), postingsWidth: view.width('postings') as PostingsWidth,
      ...(view.header.lanes.postings!.bits ? { postingsBits: view.header.lanes.postings!.bits } : {}),
    };
    return new LoadedShard({ file, entry, view, layout, regions });
  } catch (err) {
    for (const r of regions) arenas.free(r);
    if ((err as { code?: string }).code?.startsWith('PS_')) throw err;
    throw CorruptFile(`Shard cannot be loaded: ${file} (${(err as Error).message})`, { file });
  }
}

/**
 * Frees a shard's arena regions for reuse. If a reader has pinned it (an export in progress, a task on
 * the pool), the regions are freed when the last pin goes.
 */
export function unloadShard(arenas: ArenaSet, shard: LoadedShard): void {
  shard.retire(() => {
    for (const r of shard.regions_) arenas.free(r);
  });
}

