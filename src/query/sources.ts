/**
 * What a query runs over: the sources the planner picked for the caller's scopes. A source is one
 * tenant's live rows or one loaded shard, with that tenant's retention floor (`minTs`).
 * The planner only ever builds sources from tenants in scope: tenant isolation is structural.
 */
import type { LoadedShard } from '../store/shard-loader.js';
import type { LiveView } from '../store/live-columns.js';

export interface LiveSource {
  kind: 'live';
  tenant: string;
  ordinal: number;
  minTs: number;
  /**
   * The tenant's live rows as captured when the query was planned (src/store/live-columns.ts): a consistent
   * snapshot while appends go on; pin it across awaits.
   */
  view: LiveView;
}

export interface ShardSource {
  kind: 'shard';
  tenant: string;
  ordinal: number;
  minTs: number;
  shard: LoadedShard;
}

export type Source = LiveSource | ShardSource;
