/**
 * A hot list's probe for the shards that read their plates through their tenant's dictionary
 * (docs/storage-v2.md, "Round 4", step 4 as the cheaper fallback): their 16-byte slots are out of their
 * arena region, so their tasks cannot probe them. The entries' index is probed once per query with the
 * tenant dictionary the shards read through (`probeDictionary`, src/query/hotlist-task.ts), and each
 * covered shard's task is given those (entry, plate, distance) pairs in its own codes: a pair's tenant id
 * is kept only where the shard holds the plate (its bucket's bit in the plate's shard mask, then a binary
 * search of its code → id map, which is ascending, so the probe's plate order is kept).
 */
import { lowerBound } from '../core/sorted-search.js';
import type { PlateEpoch } from '../store/plate-epoch.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { QueryBudget } from './budget.js';
import type { HotlistIndex } from './hotlist-index.js';
import { probeDictionary, type ProbePairs } from './hotlist-task.js';

/** How covered shards' pairs were made since the process started (tests and benchmarks). */
export const coveredProbeCounts = { tenantProbes: 0, shardMaps: 0 };

/** Per query: the tenant probes made once per dictionary epoch. */
export class CoveredProbes {
  private readonly byEpoch = new Map<PlateEpoch, ProbePairs | null>();

  constructor(private readonly index: HotlistIndex, private readonly budget?: QueryBudget) {}

  /** `shard`'s pairs in its own codes; undefined when it reads its own slots (not covered) or has no tenant dictionary to probe. */
  forShard(shard: LoadedShard): ProbePairs | undefined {
    const ids = shard.plateIds(), epoch = shard.readsThrough;
    if (ids === null || epoch === undefined) return undefined;
    const tenant = this.tenant(epoch);
    if (tenant === null) return undefined;
    const bucket = epoch.buckets().get(shard);
    const masks = epoch.masks;
    const word = bucket === undefined ? 0 : bucket >>> 5, bit = bucket === undefined ? 0 : 1 << (bucket & 31);
    const E = tenant.entries, P = tenant.plates, D = tenant.distances;
    const pe: number[] = [], pd: number[] = [], pdist: number[] = [];
    for (let q = 0; q < P.length; q++) {
      const t = P[q]!;
      // the plate's shard mask: most of a tenant's plates are in a few of its shards
      if (bucket !== undefined && (masks[t * 2 + word]! & bit) === 0) continue;
      const c = lowerBound(ids, t);
      if (c >= ids.length || ids[c] !== t) continue;
      pe.push(E[q]!);
      pd.push(c);
      pdist.push(D[q]!);
    }
    coveredProbeCounts.shardMaps++;
    return { entries: Int32Array.from(pe), plates: Int32Array.from(pd), distances: Int32Array.from(pdist) };
  }

  /** The index probed with `epoch`'s dictionary, once per query; null when the epoch has no slots. */
  private tenant(epoch: PlateEpoch): ProbePairs | null {
    let t = this.byEpoch.get(epoch);
    if (t !== undefined) return t;
    const bytes = epoch.bytes();
    t = epoch.count > 0 && bytes.length > 0 ? probeDictionary(this.index, bytes.buffer, bytes.byteOffset, epoch.count, this.budget) : null;
    if (t) coveredProbeCounts.tenantProbes++;
    this.byEpoch.set(epoch, t);
    return t;
  }
}
