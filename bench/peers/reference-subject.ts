/**
 * A stand-in for the engine, for checking the harness itself: keeps every read in memory and answers with
 * the reference semantics (src/query/reference), the judge of the engine's own tests. Ids have the
 * engine's shape (src/store/ids.ts: tenant ordinal ‖ append sequence, 16 hex digits). Slow by design;
 * `--subject reference` is for small runs only.
 */
import type { AppendResult, Engine, EngineStats } from '../../src/engine/engine.js';
import type { HotlistQuery, HotlistResult, SearchQuery, SearchResult, TenantScope } from '../../src/model/query.js';
import type { Read, StoredRead } from '../../src/model/read.js';
import {
  compareHits, matchesFilter, plateDistance, referenceCloned, referenceConvoy, referenceFrequent, referenceMultisite, referenceSearch,
} from '../../src/query/reference/index.js';
import type { AnalyticsQuery, AnalyticsResult } from '../../src/model/analytics.js';

/**
 * The part of the engine's API the harness drives. `settle`: what the engine's background work would do on its
 * own soon after a load (merge the days sealed in many pieces, build the tenant plate dictionaries), done now,
 * so the load ends in the state the queries and the resident figure see (DuckDB's load ends with CHECKPOINT).
 */
export type BenchSubject = Pick<Engine, 'append' | 'seal' | 'search' | 'searchHotlist' | 'analytics' | 'stats' | 'close'> & {
  settle?(): Promise<void>;
  /** Resolves once the engine's tenant plate dictionaries are built and installed (a reopened --reuse dir's are built at open). */
  indexesSettled?(): Promise<void>;
};

export class ReferenceSubject implements BenchSubject {
  private readonly reads: StoredRead[] = [];
  private readonly ordinals = new Map<string, { ordinal: number; seq: number }>();

  async append(tenant: string, reads: readonly Read[]): Promise<AppendResult> {
    let t = this.ordinals.get(tenant);
    if (!t) this.ordinals.set(tenant, (t = { ordinal: this.ordinals.size + 1, seq: 0 }));
    const stored = reads.map((r) => {
      t.seq++;
      return { ...r, tenant, id: t.ordinal.toString(16).padStart(4, '0') + t.seq.toString(16).padStart(12, '0') };
    });
    for (const s of stored) this.reads.push(s);
    return { stored, duplicates: [], duplicateIds: [] };
  }

  async seal(): Promise<void> {}

  async search(scopes: readonly TenantScope[], query: SearchQuery): Promise<SearchResult> {
    return referenceSearch(this.reads, scopes, query);
  }

  /** Per entry over the distinct plates (length-filtered), then the reads of the matching plates. */
  async searchHotlist(scopes: readonly TenantScope[], query: HotlistQuery): Promise<HotlistResult> {
    const byPlate = new Map<string, StoredRead[]>();
    for (const r of this.reads) {
      const scope = scopes.find((s) => s.tenant === r.tenant);
      if (!scope || r.ts < scope.minTs || !matchesFilter(query.filter, r)) continue;
      const list = byPlate.get(r.plate);
      if (list) list.push(r);
      else byPlate.set(r.plate, [r]);
    }
    const matches: HotlistResult['matches'] = [];
    for (const entry of query.entries) {
      const hits = [];
      const exactOnly = entry.mode === 'exact' && !entry.ocr;
      const plates = exactOnly ? [entry.pattern] : byPlate.keys();
      for (const plate of plates) {
        const reads = byPlate.get(plate);
        if (!reads) continue;
        if (entry.mode === 'fuzzy' && Math.abs(plate.length - entry.pattern.length) > entry.maxEdits) continue;
        const distance = plateDistance(entry, plate);
        if (distance < 0) continue;
        for (const r of reads) hits.push({ ...r, distance });
      }
      if (hits.length === 0) continue;
      hits.sort(compareHits);
      matches.push({
        entry: entry.pattern, total: hits.length, truncated: hits.length > query.limitPerPlate,
        hits: hits.slice(0, query.limitPerPlate),
      });
    }
    return { matches };
  }

  async analytics(scopes: readonly TenantScope[], q: AnalyticsQuery): Promise<AnalyticsResult> {
    switch (q.kind) {
      case 'convoy':
        return { kind: 'convoy', ...referenceConvoy(this.reads, scopes, q) };
      case 'multisite':
        return { kind: 'multisite', ...referenceMultisite(this.reads, scopes, q) };
      case 'frequent':
        return { kind: 'frequent', ...referenceFrequent(this.reads, scopes, q) };
      case 'cloned':
        return { kind: 'cloned', ...referenceCloned(this.reads, scopes, q) };
    }
  }

  stats(): EngineStats {
    return { tenants: this.ordinals.size, reads: this.reads.length, shards: 0, liveReads: this.reads.length, residentBytes: 0, corruptFiles: [] };
  }

  async close(): Promise<void> {}
}
