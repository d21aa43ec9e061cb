/**
 * The planner: from the caller's tenant scopes (decided by the server: own tenant plus grants, each with
 * its retention floor) to the sources a query reads. Only stores named by a scope are touched; shards
 * whose time range misses [max(minTs, from), to) are left out before any of their bytes are looked at.
 * Blocks inside a shard are pruned later by zone maps (src/query/executor.ts).
 */
import type { ReadFilter, TenantScope } from '../model/query.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Source } from './sources.js';

/**
 * `shardsOf(store)`: the shards of a store that may hold what the query asks for (default: all of them);
 * an exact plate passes the few its tenant dictionary names (src/query/plate-shards.ts).
 */
export function planSources(
  stores: ReadonlyMap<string, TenantStore>, scopes: readonly TenantScope[], filter: ReadFilter,
  shardsOf: (store: TenantStore) => readonly LoadedShard[] = (store) => store.shards,
): Source[] {
  const out: Source[] = [];
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (seen.has(scope.tenant)) continue; // the first scope of a tenant decides, as in the reference
    seen.add(scope.tenant);
    const store = stores.get(scope.tenant);
    if (!store) continue;
    const lo = Math.max(scope.minTs, filter.from ?? -Infinity);
    const hi = filter.to ?? Infinity;
    if (!(lo < hi)) continue;
    for (const shard of shardsOf(store)) {
      if (shard.meta.maxTs < lo || shard.meta.minTs >= hi) continue;
      out.push({ kind: 'shard', tenant: store.tenant, ordinal: store.ordinal, minTs: scope.minTs, shard });
    }
    if (store.live.length > 0) {
      out.push({ kind: 'live', tenant: store.tenant, ordinal: store.ordinal, minTs: scope.minTs, view: store.live.view() });
    }
  }
  return out;
}
