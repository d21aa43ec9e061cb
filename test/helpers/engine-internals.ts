/** The engine's internals the storage tests look into (its loaded shards, settling, compaction), by a cast. */
import type { Engine } from '../../src/engine/index.js';
import type { LoadedShard } from '../../src/store/shard-loader.js';

export interface EngineInternals {
  stores: Map<string, { shards: readonly LoadedShard[] }>;
  plateIndexesSettled(): Promise<void>;
  compact(tenant?: string): Promise<number>;
}

export const internals = (e: Engine) => e as unknown as EngineInternals;

/** The loaded shards of `tenant`, or of every tenant. */
export function shardsOf(e: Engine, tenant?: string): LoadedShard[] {
  return [...internals(e).stores.entries()].filter(([t]) => tenant === undefined || t === tenant).flatMap(([, s]) => [...s.shards]);
}
