/**
 * What a query runs over: the sources the planner picked for the caller's scopes. A source is one
 * tenant's live rows or one loaded shard, with that tenant's retention floor (`minTs`).
 * The planner only ever builds sources from tenants in scope: tenant isolation is structural.
 */
import type { LoadedShard } from '../store/shard-loader.js';
import type { LivePlateIndex } from '../store/tenant-store.js';
import type { RowRecord } from '../store/wal-record.js';

export interface LiveSource {
  kind: 'live';
  tenant: string;
  ordinal: number;
  minTs: number;
  rows: readonly RowRecord[];
  /** The distinct plates of `rows` with their positions (captured with it): exact plates skip the scan. */
  plateIndex?: LivePlateIndex;
}

export interface ShardSource {
  kind: 'shard';
  tenant: string;
  ordinal: number;
  minTs: number;
  shard: LoadedShard;
}

export type Source = LiveSource | ShardSource;
