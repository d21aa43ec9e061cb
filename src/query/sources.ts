/**
 * What a query runs over: the sources the planner picked for the caller's scopes. A source is one
 * tenant's live rows or one loaded shard, with that tenant's retention floor (`minTs`).
 * The planner only ever builds sources from tenants in scope: tenant isolation is structural.
 */
import type { LoadedShard } from '../store/shard-loader.js';
import type { RowRecord } from '../store/wal-record.js';

export interface LiveSource {
  kind: 'live';
  tenant: string;
  ordinal: number;
  minTs: number;
  rows: readonly RowRecord[];
  /** Plate → positions in `rows` (captured with it): exact plates skip the scan. */
  byPlate?: ReadonlyMap<string, readonly number[]>;
}

export interface ShardSource {
  kind: 'shard';
  tenant: string;
  ordinal: number;
  minTs: number;
  shard: LoadedShard;
}

export type Source = LiveSource | ShardSource;
