/**
 * Where a tenant plate is in a shard's own dictionary, without searching it: the plate's rank among the
 * tenant plates of the shard's bucket (src/store/tenant-plates.ts, the shard masks).
 *
 * A shard's dictionary is sorted the way the tenant's is, and (when its bucket is its own and was fresh
 * when the shard was merged in) the tenant plates whose mask has the shard's bucket are exactly the
 * shard's plates. Then the shard code of tenant plate d is the number of tenant plates before d with that
 * bucket: a rank over the bucket's column of the masks. The masks are stored plate by plate (two words a
 * plate), so the column's rank comes from a table of counts every kBlock plates plus a walk over the
 * plates of d's block:
 *
 *   counts u32[(blocks + 1) · 64]   counts[k·64 + b] = plates before plate k·kBlock whose mask has bucket b
 *   rank(d, b) = counts[(d / kBlock)·64 + b] + #{ j in [block start, d) : masks of j have b }
 *              = counts[(d / kBlock + 1)·64 + b] − #{ j in [d, block end) : masks of j have b }
 *
 * (whichever walk is shorter: at most kBlock / 2 plates). 64 / kBlock · 4 = 2 bytes a plate, built with the
 * masks (src/store/plate-index-build.ts, off the thread).
 *
 * The rank is only a guess the caller checks (src/query/shard-plates.ts): a bucket whose shard is gone
 * keeps its plates' bits until the next rebuild, and past 64 shards two shards share one; the bits are then
 * a superset of the shard's plates, so the true code is at most the rank, and the caller searches down from
 * it. The binary search over the shard's whole dictionary this replaces is ~17 random reads at 150,000
 * plates a shard; the rank is one read of the table and a sequential walk of at most kBlock · 8 bytes.
 */
/** Buckets a mask has (TenantPlates' kShardBuckets; not imported: the plate-index worker loads this file). */
const kShardBuckets = 64;

/** Plates per block of the counts table. */
export const kRankBlock = 128;

/** The counts table of `masks` (two words a plate, `count` plates). */
export function buildPlateRanks(masks: Uint32Array, count: number): Uint32Array {
  const blocks = Math.ceil(count / kRankBlock);
  const counts = new Uint32Array((blocks + 1) * kShardBuckets);
  const run = new Uint32Array(kShardBuckets);
  for (let d = 0; d < count; d++) {
    if (d % kRankBlock === 0) counts.set(run, (d / kRankBlock) * kShardBuckets);
    for (let w = 0; w < 2; w++) {
      let bits = masks[2 * d + w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        run[w * 32 + 31 - Math.clz32(low)]!++;
        bits ^= low;
      }
    }
  }
  counts.set(run, blocks * kShardBuckets); // the end of the last block
  return counts;
}

/**
 * Tenant plates before plate `d` whose mask has bucket `b` (`counts` from buildPlateRanks over `masks`,
 * `count` plates).
 */
export function plateRank(counts: Uint32Array, masks: Uint32Array, count: number, d: number, b: number): number {
  const block = Math.floor(d / kRankBlock);
  const start = block * kRankBlock, end = Math.min(count, start + kRankBlock);
  const word = b >>> 5, bit = 1 << (b & 31);
  if (d - start <= end - d) {
    let r = counts[block * kShardBuckets + b]!;
    for (let j = start; j < d; j++) if ((masks[2 * j + word]! & bit) !== 0) r++;
    return r;
  }
  let r = counts[(block + 1) * kShardBuckets + b]!;
  for (let j = d; j < end; j++) if ((masks[2 * j + word]! & bit) !== 0) r--;
  return r;
}
