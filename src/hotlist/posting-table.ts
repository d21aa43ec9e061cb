/**
 * A static multimap from 32-bit key hashes to entry ids, built once and probed many times: the shared
 * index structure of the hot-list matcher (deletion variants → entries, wildcard factors → entries).
 *
 *   slots (open addressing, linear probing, capacity a power of two ≥ 1.5 × keys)
 *   ┌────────────┬──────────────┐
 *   │ slotKey[s] │ slotBucket[s]│  bucket b + 1, or 0 when the slot is empty
 *   └────────────┴──────────────┘
 *   postings (CSR): bucket b owns ids[bucketStart[b] … bucketStart[b + 1])
 *
 * Keys are hashes, not the strings themselves: a collision only adds a candidate, and every candidate
 * is verified with the exact distance afterwards, so the table never decides a match on its own.
 * Building takes the (hash, id) pairs as two typed arrays: ~12 bytes a pair while building, 4 after.
 */

// load factor ≤ 2/3 keeps linear-probe chains short (≈ 2 probes on a hit) while a 1M-entry k = 2 list
// (~30M keys) still fits in ~0.5 GiB of slots
const kMinCapacity = 16;

export class PostingTable {
  private constructor(
    private readonly mask: number,
    private readonly slotKey: Uint32Array,
    private readonly slotBucket: Uint32Array,
    private readonly bucketStart: Uint32Array,
    /** Entry ids, grouped by bucket. */
    readonly ids: Uint32Array,
  ) {}

  /** Number of (key, id) pairs held. */
  get size(): number {
    return this.ids.length;
  }

  /**
   * Builds the table from parallel arrays of pairs: `hashes[i]` → `ids[i]`. Two passes (count, fill)
   * and no rehashing: the slot array is sized once from the number of pairs.
   */
  static build(hashes: Uint32Array, ids: Uint32Array): PostingTable {
    const pairs = hashes.length;
    let capacity = kMinCapacity;
    while (capacity < pairs * 1.5) capacity *= 2;
    const mask = capacity - 1;
    const slotKey = new Uint32Array(capacity);
    const slotBucket = new Uint32Array(capacity);
    // bucket of pair i, remembered so that pass 2 does not probe again
    const pairBucket = new Uint32Array(pairs);
    const counts = new Uint32Array(pairs + 1);
    let buckets = 0;

    // pass 1: distinct keys get a bucket each; count the pairs of every bucket
    for (let i = 0; i < pairs; i++) {
      const hash = hashes[i]!;
      let s = hash & mask;
      for (;;) {
        const b = slotBucket[s]!;
        if (b === 0) {
          slotKey[s] = hash;
          slotBucket[s] = ++buckets;
          pairBucket[i] = buckets - 1;
          counts[buckets - 1] = 1;
          break;
        }
        if (slotKey[s] === hash) {
          pairBucket[i] = b - 1;
          counts[b - 1]!++;
          break;
        }
        s = (s + 1) & mask;
      }
    }

    // prefix sums → bucket starts; pass 2 walks each bucket's cursor forward
    const bucketStart = new Uint32Array(buckets + 1);
    for (let b = 0; b < buckets; b++) bucketStart[b + 1] = bucketStart[b]! + counts[b]!;
    const fill = bucketStart.slice(0, buckets);
    const postings = new Uint32Array(pairs);
    for (let i = 0; i < pairs; i++) postings[fill[pairBucket[i]!]!++] = ids[i]!;
    return new PostingTable(mask, slotKey, slotBucket, bucketStart, postings);
  }

  /**
   * Finds the postings of `hash`: returns the start index into `ids` and stores the end in `range[0]`,
   * or returns -1 when the key is absent. Allocation-free, for the ingest hot path.
   */
  find(hash: number, range: Uint32Array): number {
    const key = hash >>> 0;
    let s = key & this.mask;
    for (;;) {
      const b = this.slotBucket[s]!;
      if (b === 0) return -1;
      if (this.slotKey[s] === key) {
        range[0] = this.bucketStart[b]!;
        return this.bucketStart[b - 1]!;
      }
      s = (s + 1) & this.mask;
    }
  }

  /** Bytes held by the typed arrays (for stats and the benchmark). */
  get bytes(): number {
    return this.slotKey.byteLength + this.slotBucket.byteLength + this.bucketStart.byteLength + this.ids.byteLength;
  }
}
