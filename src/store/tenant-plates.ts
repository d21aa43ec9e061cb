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
 * A whole build (at open: every shard of the tenant) can run on another thread (buildPlateSet, on the
 * builder of src/store/tenant-plates-builder.ts): it reads the shards' slots where they are, in shared
 * arena memory, and its answer is installed with `adopt`. At 2M reads the merge and the index took
 * ~0.3 s each on the opening thread, ~40% of an open (docs/storage-v2.md, "Opening a data dir").
 */
import type { ArenaSet, Region } from '../core/arena.js';
import { kPlateSlotBytes } from '../core/segment.js';
import type { LoadedShard } from './shard-loader.js';
import { PlateGrams } from './plate-grams.js';

const kWords = kPlateSlotBytes / 4;

interface Slots {
  words: Uint32Array;
  count: number;
}

function slotsOf(s: LoadedShard): Slots {
  const bytes = s.slots;
  return { words: new Uint32Array(bytes.buffer, bytes.byteOffset, s.layout.dictCount * kWords), count: s.layout.dictCount };
}

/** Byte order of slots `i` of `a` and `j` of `b` (the plates' string order: zero padding sorts first). */
function compare(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const x = i * kWords, y = j * kWords;
  for (let w = 0; w < kWords - 1; w++) {
    const u = a[x + w]!, v = b[y + w]!;
    if (u === v) continue;
    // little-endian words: the first differing byte decides
    for (let k = 0; k < 32; k += 8) {
      const c = ((u >>> k) & 0xff) - ((v >>> k) & 0xff);
      if (c !== 0) return c;
    }
  }
  return 0;
}

/** The sorted union of two sorted, duplicate-free slot arrays. */
function merge(a: Slots, b: Slots): Slots {
  const out = new Uint32Array((a.count + b.count) * kWords);
  let i = 0, j = 0, n = 0;
  const take = (from: Uint32Array, k: number) => {
    const s = k * kWords, d = n * kWords;
    for (let w = 0; w < kWords; w++) out[d + w] = from[s + w]!;
    n++;
  };
  while (i < a.count && j < b.count) {
    const c = compare(a.words, i, b.words, j);
    if (c <= 0) {
      take(a.words, i++);
      if (c === 0) j++;
    } else take(b.words, j++);
  }
  while (i < a.count) take(a.words, i++);
  while (j < b.count) take(b.words, j++);
  return { words: out, count: n };
}

/** Merges many sorted slot arrays pairwise (a balanced tree of merges: O(total · log shards)). */
function mergeAll(parts: Slots[]): Slots {
  let level = parts;
  if (level.length === 0) return { words: new Uint32Array(0), count: 0 };
  while (level.length > 1) {
    const next: Slots[] = [];
    for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? merge(level[k]!, level[k + 1]!) : level[k]!);
    level = next;
  }
  return level[0]!;
}

/** A whole build of a tenant's dictionary: each shard's sorted slots, where they are in arena memory. */
export interface PlateSetJob {
  parts: Array<{ memory: WebAssembly.Memory; ptr: number; count: number }>;
  grams: boolean;
}

/** The built dictionary: `count` slots as words (own buffer, transferable), and its n-gram index's arrays. */
export interface PlateSetAnswer {
  words: Uint32Array;
  count: number;
  grams?: { offsets: Uint32Array; postings: Uint32Array };
}

/** Builds a PlateSetJob on any thread (the parts' memories are shared). */
export function buildPlateSet(job: PlateSetJob): PlateSetAnswer {
  const merged = mergeAll(job.parts.filter((p) => p.count > 0).map((p) => ({ words: new Uint32Array(p.memory.buffer, p.ptr, p.count * kWords), count: p.count })));
  // exactly `count` slots in a buffer of their own (a single part is still a view of the arena; merges over-allocate)
  const words = merged.words.slice(0, merged.count * kWords);
  if (!job.grams || merged.count === 0) return { words, count: merged.count };
  const g = PlateGrams.build(new Uint8Array(words.buffer, 0, merged.count * kPlateSlotBytes), merged.count);
  return { words, count: merged.count, grams: { offsets: g.offsets, postings: g.postings } };
}

export class TenantPlates {
  /** Where the slots are: an arena region (the kernels read them there). */
  region: Region | undefined;
  count = 0;
  /** The n-gram index of exactly these `count` plates (undefined while there are none). */
  grams: PlateGrams | undefined;
  private readonly shards = new Set<LoadedShard>();
  /** Dictionary entries of the shards gone since the last rebuild (an upper bound of the stale plates). */
  private goneEntries = 0;

  constructor(private readonly arenas: ArenaSet, private readonly options: { grams?: boolean } = {}) {}

  /** Brings the dictionary up to date with `shards` (merging new ones in, rebuilding when mostly stale). */
  update(shards: readonly LoadedShard[]): void {
    const current = new Set(shards);
    for (const s of this.shards) {
      if (current.has(s)) continue;
      this.goneEntries += s.layout.dictCount;
      this.shards.delete(s);
    }
    const rebuild = this.goneEntries > 0 && this.goneEntries * 2 > this.count;
    const added = shards.filter((s) => !this.shards.has(s));
    if (!rebuild && added.length === 0) return;
    const parts = (rebuild ? shards : added).filter((s) => s.layout.dictCount > 0).map(slotsOf);
    if (!rebuild && this.region) parts.push({ words: this.words(), count: this.count });
    if (rebuild) this.goneEntries = 0;
    const merged = mergeAll(parts);
    // shards whose plates were all known already (a compaction, a seal of known vehicles): the merged
    // dictionary equals the old one slot for slot, and so does its index
    const same = !rebuild && this.grams !== undefined && merged.count === this.count;
    const grams = same ? this.grams : merged.count > 0 && (this.options.grams ?? true) ? PlateGrams.build(new Uint8Array(merged.words.buffer, merged.words.byteOffset, merged.count * kPlateSlotBytes), merged.count) : undefined;
    this.install(merged.words, merged.count, grams, shards);
  }

  /** The job that builds this dictionary afresh from `shards` on another thread (buildPlateSet); they must stay loaded (pinned) until it is done. */
  jobFor(shards: readonly LoadedShard[]): PlateSetJob {
    return {
      parts: shards.filter((s) => s.layout.dictCount > 0).map((s) => ({ memory: this.arenas.arena(s.layout.arena).memory, ptr: s.slots.byteOffset, count: s.layout.dictCount })),
      grams: this.options.grams ?? true,
    };
  }

  /** Installs a build of `jobFor(shards)` as the dictionary of exactly `shards` (later updates merge from there). */
  adopt(shards: readonly LoadedShard[], built: PlateSetAnswer): void {
    const grams = built.grams ? PlateGrams.of(built.count, built.grams.offsets, built.grams.postings) : undefined;
    this.goneEntries = 0;
    this.install(built.words, built.count, grams, shards);
  }

  private install(words: Uint32Array, count: number, grams: PlateGrams | undefined, shards: readonly LoadedShard[]): void {
    // the slots are copied out of the shards' arenas before the old region is freed
    const region = count > 0 ? this.arenas.alloc(count * kPlateSlotBytes, 16) : undefined;
    if (region) new Uint32Array(this.arenas.arena(region.arena).memory.buffer, region.ptr, count * kWords).set(words.subarray(0, count * kWords));
    this.free();
    this.region = region;
    this.count = count;
    this.grams = grams;
    this.shards.clear();
    for (const s of shards) this.shards.add(s);
  }

  /** The slots as bytes (a view into the arena). */
  bytes(): Uint8Array {
    return this.region ? this.arenas.arena(this.region.arena).bytes(this.region.ptr, this.count * kPlateSlotBytes) : new Uint8Array(0);
  }

  plateAt(d: number): string {
    const b = this.bytes();
    const base = d * kPlateSlotBytes;
    return String.fromCharCode(...b.subarray(base, base + b[base + 15]!));
  }

  free(): void {
    if (this.region) this.arenas.free(this.region);
    this.region = undefined;
    this.count = 0;
    this.grams = undefined;
  }

  private words(): Uint32Array {
    const b = this.bytes();
    return new Uint32Array(b.buffer, b.byteOffset, this.count * kWords);
  }
}
