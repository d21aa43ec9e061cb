/**
 * A static multimap from 32-bit key hashes to entry ids, built once and probed many times: the shared
 * index structure of the hot-list matcher (deletion variants → entries, wildcard factors → entries).
 *
 *   slots (open addressing, linear probing, capacity a power of two ≥ 1.5 × keys), two u32 per slot,
 *   interleaved so that a probe costs one cache miss:
 *   ┌──────────┬──────────────────────────────────────────────────────────────────┐
 *   │ key hash │ 0 = empty │ 0x80000000 | id: the key's only entry │ b + 1: bucket b │
 *   └──────────┴──────────────────────────────────────────────────────────────────┘
 *   postings (CSR) of multi-entry keys: bucket b owns ids[bucketStart[b] … bucketStart[b + 1])
 *
 * Most deletion variants belong to one entry, so most hits are answered from the slot itself; a probe
 * for an absent key (the usual case for a read) touches one cache line.
 * Keys are hashes, not the strings themselves: a collision only adds a candidate, and every candidate
 * is verified with the exact distance afterwards, so the table never decides a match on its own.
 * Building takes the (hash, id) pairs as two typed arrays: ~20 bytes a pair while building.
 */

// load factor ≤ 2/3 keeps linear-probe chains short (≈ 2 probes on a hit) while a 1M-entry k = 2 list
// (~30M keys) still fits in ~0.5 GiB of slots
const kMinCapacity = 16;
const kSingle = 0x80000000;
// Bits per key of the presence filter in front of the slots: a read's variants are almost all absent,
// and a 1 MiB bitset (800k keys) stays in cache where the slots (16 MiB) do not; ~12% false positives.
const kFilterBitsPerKey = 8;
// beyond this the filter no longer fits in cache and only adds a miss: no filter
const kMaxFilterBytes = 4 << 20;

export class PostingTable {
  private constructor(
    private readonly mask: number,
    /** [key, value] per slot; see the layout above. */
    private readonly slots: Uint32Array,
    private readonly bucketStart: Uint32Array,
    /** Entry ids of multi-entry keys, grouped by bucket. */
    readonly ids: Uint32Array,
    /** Number of (key, id) pairs held. */
    readonly size: number,
    /** One bit per (hash >>> filterShift), or empty when the table is too big for a cached filter. */
    private readonly filter: Uint32Array,
    private readonly filterShift: number,
  ) {}

  /**
   * Builds the table from parallel arrays of pairs: `hashes[i]` → `ids[i]`. Two passes (count, fill)
   * and no rehashing: the slot array is sized once from the number of pairs.
   */
  static build(hashes: Uint32Array, ids: Uint32Array): PostingTable {
    const pairs = hashes.length;
    let capacity = kMinCapacity;
    while (capacity < pairs * 1.5) capacity *= 2;
    const mask = capacity - 1;
    const slots = new Uint32Array(capacity * 2);
    // distinct key k: its slot, and how many pairs it has
    const keySlot = new Uint32Array(pairs);
    const counts = new Uint32Array(pairs);
    const pairKey = new Uint32Array(pairs);
    let keys = 0;

    // pass 1: distinct keys; count the pairs of each (value = key index + 1 while building)
    for (let i = 0; i < pairs; i++) {
      const hash = hashes[i]!;
      let s = hash & mask;
      for (;;) {
        const v = slots[2 * s + 1]!;
        if (v === 0) {
          slots[2 * s] = hash;
          slots[2 * s + 1] = ++keys;
          keySlot[keys - 1] = s;
          counts[keys - 1] = 1;
          pairKey[i] = keys - 1;
          break;
        }
        if (slots[2 * s] === hash) {
          pairKey[i] = v - 1;
          counts[v - 1]!++;
          break;
        }
        s = (s + 1) & mask;
      }
    }

    // pass 2: single-entry keys keep their id in the slot; the others get a bucket in the postings
    const bucketOf = new Uint32Array(keys);
    let buckets = 0, posted = 0;
    for (let k = 0; k < keys; k++) {
      if (counts[k]! > 1) {
        bucketOf[k] = buckets++;
        posted += counts[k]!;
      }
    }
    const bucketStart = new Uint32Array(buckets + 1);
    for (let k = 0; k < keys; k++) {
      if (counts[k]! > 1) bucketStart[bucketOf[k]! + 1] = bucketStart[bucketOf[k]!]! + counts[k]!;
    }
    const fill = bucketStart.slice(0, buckets);
    const postings = new Uint32Array(posted);
    for (let i = 0; i < pairs; i++) {
      const k = pairKey[i]!;
      if (counts[k] === 1) slots[2 * keySlot[k]! + 1] = (kSingle | ids[i]!) >>> 0;
      else postings[fill[bucketOf[k]!]!++] = ids[i]!;
    }
    for (let k = 0; k < keys; k++) if (counts[k]! > 1) slots[2 * keySlot[k]! + 1] = bucketOf[k]! + 1;

    // presence filter over the high bits of the hash (the slot index uses the low ones)
    let filterBits = 1 << 10, filterShift = 22;
    while (filterBits < keys * kFilterBitsPerKey) {
      filterBits *= 2;
      filterShift--;
    }
    let filter = new Uint32Array(0);
    if (filterBits / 8 <= kMaxFilterBytes) {
      filter = new Uint32Array(filterBits / 32);
      for (let k = 0; k < keys; k++) {
        const bit = slots[2 * keySlot[k]!]! >>> filterShift;
        filter[bit >>> 5] = filter[bit >>> 5]! | (1 << (bit & 31));
      }
    }
    return new PostingTable(mask, slots, bucketStart, postings, pairs, filter, filterShift);
  }

  /**
   * The presence filter alone: false means the key is certainly absent. Cheap (one bit in a cached
   * bitset), so batch probes run it over all their keys first and look up only the survivors.
   */
  mayContain(hash: number): boolean {
    if (this.filter.length === 0) return true;
    const bit = (hash >>> 0) >>> this.filterShift;
    return (this.filter[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /**
   * Looks `hash` up, allocation-free, for the ingest hot path. Returns how many entries the key has
   * (0 when absent). With one, `out[0]` is that entry's id; with more, they are
   * `ids[out[0] … out[0] + count)`.
   */
  find(hash: number, out: Uint32Array): number {
    const key = hash >>> 0;
    if (this.filter.length > 0) {
      const bit = key >>> this.filterShift;
      if ((this.filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return 0;
    }
    const slots = this.slots;
    let s = key & this.mask;
    for (;;) {
      const v = slots[2 * s + 1]!;
      if (v === 0) return 0;
      if (slots[2 * s] === key) {
        if (v >= kSingle) {
          out[0] = v - kSingle;
          return 1;
        }
        const start = this.bucketStart[v - 1]!;
        out[0] = start;
        return this.bucketStart[v]! - start;
      }
      s = (s + 1) & this.mask;
    }
  }

  /** Bytes held by the typed arrays (for stats and the benchmark). */
  get bytes(): number {
    return this.slots.byteLength + this.bucketStart.byteLength + this.ids.byteLength + this.filter.byteLength;
  }
}
