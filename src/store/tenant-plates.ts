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
 * And per plate, the days it was read on, as a 32-bit mask (bit `day mod 32`, src/store/shard-format.ts
 * dayOf): an exact plate then probes only the shards of those days (src/query/plate-days.ts), ~5 of a
 * tenant's ~30–100 for a typical vehicle, instead of binary-searching every shard's dictionary and
 * postings. The masks ride along the merges (a new shard ORs its day's bit into its plates), so they
 * cost nothing extra to keep current; 4 bytes a plate, in JS memory. A bit may be stale (its shard is gone,
 * or another day mod 32 set it: more than 32 days retained): that costs a probe finding nothing. A plate
 * of a current shard never lacks its shard's bit, so no shard holding the plate is skipped.
 */
import type { ArenaSet, Region } from '../core/arena.js';
import { kPlateSlotBytes } from '../core/segment.js';
import type { LoadedShard } from './shard-loader.js';
import { PlateGrams } from './plate-grams.js';

const kWords = kPlateSlotBytes / 4;

interface Slots {
  words: Uint32Array;
  count: number;
  /** Day mask per slot, or one mask for every slot (a shard's plates: its day). */
  days: Uint32Array | number;
}

/** The bit of a shard's day in a plate's day mask. */
export function dayBit(shard: LoadedShard): number {
  return (1 << (shard.entry.day % 32)) >>> 0;
}

function slotsOf(s: LoadedShard): Slots {
  const bytes = s.slots;
  return { words: new Uint32Array(bytes.buffer, bytes.byteOffset, s.layout.dictCount * kWords), count: s.layout.dictCount, days: dayBit(s) };
}

function daysAt(s: Slots, i: number): number {
  return typeof s.days === 'number' ? s.days : s.days[i]!;
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
  const days = new Uint32Array(a.count + b.count);
  let i = 0, j = 0, n = 0;
  const take = (from: Uint32Array, k: number, mask: number) => {
    const s = k * kWords, d = n * kWords;
    for (let w = 0; w < kWords; w++) out[d + w] = from[s + w]!;
    days[n++] = mask;
  };
  while (i < a.count && j < b.count) {
    const c = compare(a.words, i, b.words, j);
    if (c < 0) take(a.words, i, daysAt(a, i++));
    else if (c > 0) take(b.words, j, daysAt(b, j++));
    else take(a.words, i, daysAt(a, i++) | daysAt(b, j++));
  }
  while (i < a.count) take(a.words, i, daysAt(a, i++));
  while (j < b.count) take(b.words, j, daysAt(b, j++));
  return { words: out, count: n, days };
}

/** Merges many sorted slot arrays pairwise (a balanced tree of merges: O(total · log shards)). */
function mergeAll(parts: Slots[]): Slots {
  let level = parts;
  if (level.length === 0) return { words: new Uint32Array(0), count: 0, days: new Uint32Array(0) };
  while (level.length > 1) {
    const next: Slots[] = [];
    for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? merge(level[k]!, level[k + 1]!) : level[k]!);
    level = next;
  }
  return level[0]!;
}

export class TenantPlates {
  /** Where the slots are: an arena region (the kernels read them there). */
  region: Region | undefined;
  count = 0;
  /** The n-gram index of exactly these `count` plates (undefined while there are none). */
  grams: PlateGrams | undefined;
  /** Per plate, the bits (dayBit) of the days of the shards holding it (a superset, see above). */
  private days = new Uint32Array(0);
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
    if (!rebuild && this.region) parts.push({ words: this.words(), count: this.count, days: this.days });
    if (rebuild) this.goneEntries = 0;
    const merged = mergeAll(parts);
    // shards whose plates were all known already (a compaction, a seal of known vehicles): the merged
    // dictionary equals the old one slot for slot, and so does its index
    const same = !rebuild && this.grams !== undefined && merged.count === this.count;
    const grams = same ? this.grams : merged.count > 0 && (this.options.grams ?? true) ? PlateGrams.build(new Uint8Array(merged.words.buffer, merged.words.byteOffset, merged.count * kPlateSlotBytes), merged.count) : undefined;
    // the slots are copied out of the shards' arenas before the old region is freed
    const region = merged.count > 0 ? this.arenas.alloc(merged.count * kPlateSlotBytes, 16) : undefined;
    if (region) new Uint32Array(this.arenas.arena(region.arena).memory.buffer, region.ptr, merged.count * kWords).set(merged.words.subarray(0, merged.count * kWords));
    this.free();
    this.region = region;
    this.count = merged.count;
    this.grams = grams;
    // one shard alone is not merged: its mask is still one number
    this.days = typeof merged.days === 'number' ? new Uint32Array(merged.count).fill(merged.days) : merged.days.slice(0, merged.count);
    this.shards.clear();
    for (const s of shards) this.shards.add(s);
  }

  /** The slots as bytes (a view into the arena). */
  bytes(): Uint8Array {
    return this.region ? this.arenas.arena(this.region.arena).bytes(this.region.ptr, this.count * kPlateSlotBytes) : new Uint8Array(0);
  }

  /**
   * The day mask (dayBit) of `plate`: every current shard holding it has its bit set; 0 when no shard
   * merged in holds it. A binary search over the sorted slots, as LoadedShard.findPlate.
   */
  daysOf(plate: string): number {
    const slots = this.bytes();
    const n = this.count;
    const len = plate.length;
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const base = mid * kPlateSlotBytes;
      let c = 0;
      for (let j = 0; j < 10 && c === 0; j++) c = slots[base + j]! - (j < len ? plate.charCodeAt(j) : 0);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= n) return 0;
    const base = lo * kPlateSlotBytes;
    if (slots[base + 15] !== len) return 0;
    for (let j = 0; j < len; j++) if (slots[base + j] !== plate.charCodeAt(j)) return 0;
    return this.days[lo]!;
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
    this.days = new Uint32Array(0);
  }

  private words(): Uint32Array {
    const b = this.bytes();
    return new Uint32Array(b.buffer, b.byteOffset, this.count * kWords);
  }
}
