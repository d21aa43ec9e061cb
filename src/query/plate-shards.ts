/**
 * The shards an exact plate can have rows in, from the tenant dictionary's shard masks
 * (src/store/tenant-plates.ts): a covered shard whose bucket the plate's mask lacks holds none of its rows,
 * so it is left out before its dictionary is searched.
 *
 * An exact plate over all time used to cost two binary searches in every shard of the tenant (its
 * dictionary, then its plate → rows lane): ~100 shards at 20M reads for a vehicle seen 5 times, most of the
 * query's time while the code is cold (bench/RESULTS.md, "Exact plates by day"). With the masks it costs one
 * binary search in the tenant's dictionary and the searches of the few shards that hold the plate.
 *
 * Live rows are kept (the masks cover sealed shards only), and so is every shard the dictionary does not
 * cover yet (sealed while its build runs) and every shard of a tenant without a dictionary.
 */
import type { PlateMatch } from '../model/query.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { TenantPlates } from '../store/tenant-plates.js';
import { isLookup } from './plate-matcher.js';
import type { Source } from './sources.js';

/** Shards a tenant must have in the plan before its masks are consulted (one shard: one search either way). */
const kMinShards = 2;

/** Shards left out by the masks since the process started (tests: the pruning ran). */
export const plateShardsPruned = { shards: 0 };

/**
 * `sources` without the shards that cannot hold `match`'s plate (an exact lookup; other patterns: all
 * sources). `platesOf(tenant)` gives the tenant's dictionary as it is now, or undefined (then its shards
 * are all kept).
 */
export function shardsHoldingPlate(sources: readonly Source[], match: PlateMatch, platesOf: (tenant: string) => TenantPlates | undefined): readonly Source[] {
  if (!isLookup(match)) return sources;
  const planned = new Map<string, number>();
  for (const s of sources) if (s.kind === 'shard') planned.set(s.tenant, (planned.get(s.tenant) ?? 0) + 1);
  let holders: Map<string, (shard: LoadedShard) => boolean> | undefined;
  for (const [tenant, n] of planned) {
    if (n < kMinShards) continue;
    const plates = platesOf(tenant);
    if (plates) (holders ??= new Map()).set(tenant, plates.holdersOf(match.pattern));
  }
  if (!holders) return sources;
  const out = sources.filter((s) => {
    if (s.kind !== 'shard') return true;
    const holds = holders.get(s.tenant);
    return holds === undefined || holds(s.shard);
  });
  plateShardsPruned.shards += sources.length - out.length;
  return out;
}
