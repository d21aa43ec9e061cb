/**
 * A hot list's probe for the shards that read their plates through their tenant's dictionary
 * (docs/storage-v2.md, "Round 4", step 4 as the cheaper fallback): their 16-byte slots are out of their
 * arena region, so their tasks cannot probe them as they are. Per query and tenant dictionary epoch, the
 * cheaper of two ways, both in the shards' tasks (on the pool's workers side by side, where this thread
 * once probed the tenant's and mapped every shard's pairs one after the other before the tasks started:
 * docs/storage-v2.md, "The covered shards' hot-list probe back in their tasks"):
 *
 *   through   each task probes its shard's plates read through its code → id map in the tenant's slots
 *             (`probeThrough`): the tasks' plates in all, as before step 4, none here
 *   pairs     the index probed once here with the tenant dictionary (`probeDictionary`), put once in
 *             shared memory; each task keeps the pairs whose plate its map holds, in its own codes
 *             (src/query/shard-pairs.ts): the tenant's plates once, on this thread
 *
 * `through` while the covered shards in scope hold at most `parallelism` × the tenant's plate count (their
 * plates are probed side by side on that many workers; a plate in several shards is probed in each).
 */
import type { PlateEpoch } from '../store/plate-epoch.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { QueryBudget } from './budget.js';
import type { HotlistIndex } from './hotlist-index.js';
import { probeDictionary, type HotlistTask } from './hotlist-task.js';
import { shareTenantPairs, type TenantPairs } from './shard-pairs.js';

/** How covered shards' tasks were given their probe since the process started (tests and benchmarks). */
export const coveredProbeCounts = { tenantProbes: 0, shardMaps: 0, shardProbes: 0 };

/** `force`: that way whatever the sizes (tests of each way on the same data). */
export const coveredProbeWay: { force?: 'through' | 'pairs' } = {};

/** Per query: each tenant dictionary epoch's way, and its probe when made once here. */
export class CoveredProbes {
  private readonly byEpoch = new Map<PlateEpoch, { slots: Uint8Array } | { pairs: TenantPairs } | null>();
  /** Per epoch, the plates of the covered shards in scope reading through it. */
  private readonly shardPlates = new Map<PlateEpoch, number>();

  /** `shards`: those in scope; `parallelism`: the workers their tasks run on side by side (1: this thread). */
  constructor(private readonly index: HotlistIndex, shards: readonly LoadedShard[], private readonly parallelism: number, private readonly budget?: QueryBudget) {
    for (const s of shards) {
      const e = s.readsThrough;
      if (e && s.plateIds()) this.shardPlates.set(e, (this.shardPlates.get(e) ?? 0) + s.layout.dictCount);
    }
  }

  /** What `shard`'s task probes; undefined when it reads its own slots (not covered) or has no tenant dictionary to probe. */
  forShard(shard: LoadedShard): HotlistTask['through'] {
    const ids = shard.plateIdLane(), epoch = shard.readsThrough;
    if (ids === undefined || epoch === undefined) return undefined;
    const way = this.way(epoch);
    if (way === null) return undefined;
    if ('slots' in way) coveredProbeCounts.shardProbes++;
    else coveredProbeCounts.shardMaps++;
    return { ids, ...way };
  }

  /** `epoch`'s way, chosen (and the tenant probe made) once per query; null when the epoch has no slots. */
  private way(epoch: PlateEpoch): { slots: Uint8Array } | { pairs: TenantPairs } | null {
    let w = this.byEpoch.get(epoch);
    if (w !== undefined) return w;
    const slots = epoch.bytes();
    if (epoch.count === 0 || slots.length === 0) w = null;
    else if (coveredProbeWay.force ? coveredProbeWay.force === 'through' : (this.shardPlates.get(epoch) ?? 0) <= this.parallelism * epoch.count) w = { slots };
    else {
      w = { pairs: shareTenantPairs(probeDictionary(this.index, slots.buffer, slots.byteOffset, epoch.count, this.budget)) };
      coveredProbeCounts.tenantProbes++;
    }
    this.byEpoch.set(epoch, w);
    return w;
  }
}
