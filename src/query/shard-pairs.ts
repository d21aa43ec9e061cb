/**
 * A covered shard's hot-list pairs, made in its task (docs/storage-v2.md, "The covered shards' pairs mapped in
 * their tasks"): the entries' index is probed once per query with the tenant dictionary the shard reads
 * through (src/query/covered-probes.ts), and each shard's task keeps the (entry, plate, distance) pairs
 * whose tenant plate id its code → id map holds, with the plate replaced by the shard's code. Done in the
 * task, so the shards' mappings run on the pool's workers side by side instead of one after the other on
 * the calling thread.
 *
 * The tenant's pairs are sorted by plate id once, when they are shared (`shareTenantPairs`): a probe finds
 * its pairs in dictionary order pass by pass, but a few exact entries searched one by one find theirs in
 * entry order, and a list of 10,000 entries then gave 5,000 runs of one pair, each searched for from the
 * map's start in every shard (~2 log2(shard plates) reads a pair, in each of 31 shards), then each pair's rows
 * by a binary search over all the shard's rows: about a third of the heavy list's task time at 5M reads
 * (docs/hotlist-search.md, "The tenant pairs sorted once"). Sorted, each shard's map and the
 * pairs are two ascending sequences intersected in one pass, galloping on whichever side is behind:
 * ~min(pairs, shard plates) × log(ratio) reads; and the shard's pairs come out in its code order, so the
 * task finds each plate's rows by galloping forward from the last one. The order of the pairs changes no
 * answer: each entry's rows go to one bounded heap, whatever order its pairs come in (hotlist-task.ts).
 */
import { gallopAtLeast } from '../core/sorted-search.js';
import type { IdCursor } from '../store/plate-id-lane.js';
import { int32List } from '../core/typed-list.js';
import { ascendingOrder } from '../core/ascending-order.js';
import type { ProbePairs } from './hotlist-task.js';

/** A tenant probe's pairs as posted to every covered shard's task: in shared memory, ascending by plate id. */
export type TenantPairs = ProbePairs;

/** `pairs` sorted by plate id (ties in their order) in one SharedArrayBuffer, posted to the workers without a copy. */
export function shareTenantPairs(pairs: ProbePairs): TenantPairs {
  const n = pairs.entries.length, P = pairs.plates;
  const order = ascendingOrder(P);
  const buf = new SharedArrayBuffer(4 * Math.max(1, 3 * n));
  const entries = new Int32Array(buf, 0, n), plates = new Int32Array(buf, 4 * n, n), distances = new Int32Array(buf, 8 * n, n);
  for (let q = 0; q < n; q++) {
    const o = order === null ? q : order[q]!;
    entries[q] = pairs.entries[o]!;
    plates[q] = P[o]!;
    distances[q] = pairs.distances[o]!;
  }
  return { entries, plates, distances };
}

/**
 * The tenant's pairs (ascending by plate id) whose plate a shard's ascending code → id map holds (through `ids`, a
 * cursor over it), in the shard's codes. Each pair's plate id is looked up at or after the last (the cursor keeps
 * its place: an Elias–Fano map continues from the last answer's bit); a map id past the pair's skips the pairs
 * below it by a gallop.
 */
export function pairsInShard(tenant: TenantPairs, ids: IdCursor): ProbePairs {
  const E = tenant.entries, P = tenant.plates, D = tenant.distances;
  const pe = int32List(), pd = int32List(), pdist = int32List();
  const end = P.length, m = ids.count;
  let q = 0;
  while (q < end) {
    const t = P[q]!, c = ids.atLeast(t);
    if (c >= m) break;
    const id = ids.at(c);
    if (id > t) q = gallopAtLeast(P, q, end, id);
    else {
      pe.push(E[q]!);
      pd.push(c);
      pdist.push(D[q]!);
      q++; // the next pair may be another entry's of the same plate: the cursor stays at c
    }
  }
  return { entries: pe.done(), plates: pd.done(), distances: pdist.done() };
}
