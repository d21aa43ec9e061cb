/**
 * The shards an exact plate can have rows in, from the tenant dictionary's shard masks
 * (src/store/tenant-plates.ts): a covered shard whose bucket the plate's mask lacks holds none of its rows,
 * so it is never planned, and its dictionary never searched.
 *
 * An exact plate over all time used to cost two binary searches in every shard of the tenant (its
 * dictionary, then its plate → rows lane): ~100 shards at 20M reads for a vehicle seen 5 times, most of the
 * query's time while the code is cold (bench/RESULTS.md, "Exact plates by day"). With the masks it costs one
 * binary search in the tenant's dictionary and the searches of the few shards that hold the plate; and
 * since the holders are read off the mask's bits (TenantPlates.shardsHolding) before planning, the other
 * shards cost nothing at all: no source planned, no bucket looked up (bench/RESULTS.md, "Exact plates by
 * their holders").
 *
 * Live rows are planned as always (the masks cover sealed shards only), and so is every shard the
 * dictionary does not cover yet (sealed while its build runs) and every shard of a tenant without one.
 */
import type { PlateMatch } from '../model/query.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { TenantPlates } from '../store/tenant-plates.js';
import type { TenantStore } from '../store/tenant-store.js';
import { isLookup } from './plate-matcher.js';

/** Shards a tenant must have before its dictionary is consulted (one shard: one search either way). */
const kMinShards = 2;

/** Shards left out by the masks since the process started (tests: the pruning ran). */
export const plateShardsPruned = { shards: 0 };

/**
 * The shards of `store` that can hold `match`'s plate (an exact lookup; other patterns: all of them), for
 * the planner (src/query/planner.ts). `platesOf(store)` gives the tenant's dictionary as it is now, or
 * undefined (then every shard is kept).
 */
export function shardsHoldingPlate(store: TenantStore, match: PlateMatch, platesOf: (store: TenantStore) => TenantPlates | undefined): readonly LoadedShard[] {
  const all = store.shards;
  if (!isLookup(match) || all.length < kMinShards) return all;
  const plates = platesOf(store);
  if (!plates) return all;
  const held = plates.shardsHolding(match.pattern, all);
  plateShardsPruned.shards += all.length - held.length;
  return held;
}
