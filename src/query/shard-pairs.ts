/**
 * A covered shard's hot-list pairs, made in its task (docs/storage-v2.md, "The covered shards' pairs mapped in
 * their tasks"): the entries' index is probed once per query with the tenant dictionary the shard reads
 * through (src/query/covered-probes.ts), and each shard's task keeps the (entry, plate, distance) pairs
 * whose tenant plate id its code → id map holds, with the plate replaced by the shard's code. Done in the
 * task, so the shards' mappings run on the pool's workers side by side instead of one after the other on
 * the calling thread.
 *
 * Both sides are ascending: the map always, the pairs within each run (a probe pass finds its pairs in
 * dictionary order; a few exact entries searched one by one find theirs in entry order, runs of one), so a
 * run is intersected with the map by galloping on whichever side is behind: ~min(pairs, shard plates) ×
 * log(ratio) reads, where a binary search of the map per tenant pair read the tenant's every pair per shard.
 * The pairs keep their order, so the task sees what probing the shard's own slots in that order would give.
 */
import { gallopAtLeast, gallopFrom } from '../core/sorted-search.js';
import type { IdAt } from '../store/plate-id-lane.js';
import { int32List } from '../core/typed-list.js';
import type { ProbePairs } from './hotlist-task.js';

/** A tenant probe's pairs as posted to every covered shard's task: in shared memory, with their runs. */
export interface TenantPairs extends ProbePairs {
  /** Starts of the pairs' non-decreasing runs of plate ids, then the pair count. */
  runs: Int32Array;
}

/** `pairs` in one SharedArrayBuffer (posted to the workers without a copy), with their plate runs. */
export function shareTenantPairs(pairs: ProbePairs): TenantPairs {
  const n = pairs.entries.length, P = pairs.plates;
  const starts = int32List();
  for (let q = 0; q < n; q++) if (q === 0 || P[q]! < P[q - 1]!) starts.push(q);
  starts.push(n);
  const r = starts.length;
  const buf = new SharedArrayBuffer(4 * Math.max(1, 3 * n + r));
  const entries = new Int32Array(buf, 0, n), plates = new Int32Array(buf, 4 * n, n), distances = new Int32Array(buf, 8 * n, n);
  const runs = new Int32Array(buf, 12 * n, r);
  entries.set(pairs.entries);
  plates.set(P);
  distances.set(pairs.distances);
  runs.set(starts.items.subarray(0, r));
  return { entries, plates, distances, runs };
}

/** The tenant's pairs whose plate `ids` (a shard's ascending code → tenant id map, `m` codes) holds, in the shard's codes. */
export function pairsInShard(tenant: TenantPairs, ids: IdAt, m: number): ProbePairs {
  const E = tenant.entries, P = tenant.plates, D = tenant.distances, runs = tenant.runs;
  const pe = int32List(), pd = int32List(), pdist = int32List();
  for (let r = 0; r + 1 < runs.length; r++) {
    let q = runs[r]!, c = 0;
    const end = runs[r + 1]!;
    while (q < end && c < m) {
      const t = P[q]!, id = ids(c);
      if (id < t) c = gallopFrom(m, c, (j) => ids(j) < t);
      else if (id > t) q = gallopAtLeast(P, q, end, id);
      else {
        pe.push(E[q]!);
        pd.push(c);
        pdist.push(D[q]!);
        q++; // the next pair may be another entry's of the same plate: c stays
      }
    }
  }
  return { entries: pe.done(), plates: pd.done(), distances: pdist.done() };
}
