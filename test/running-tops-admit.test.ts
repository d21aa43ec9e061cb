/**
 * src/query/running-tops.ts against its definition: after runs of an entry are offered in some order,
 * `admitRuns` gives, per run of a new result, how many of its rows are in the best `limit` of every row offered so far, by
 * (distance, ts desc, ordinal, seq): the naive oracle sorts the union. Entries light in some runs and heavy
 * in others, limits 1 and large, ties on ts (broken by ordinal, then seq), interleaved entries. And the
 * property the hot list relies on: every row of an entry's final best `limit` was admitted when it came.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RunningTops, type RunSet } from '../src/query/running-tops.js';

interface Row {
  d: number;
  ts: number;
  ord: number;
  seq: number;
}

const before = (a: Row, b: Row): number => a.d - b.d || b.ts - a.ts || a.ord - b.ord || a.seq - b.seq;

/** A run: rows of one source (one ordinal), sorted best first as a task sorts them, unique seqs. */
const runArb = fc
  .array(fc.record({ d: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 12 }) }), { maxLength: 40 });

interface Shard {
  ordinal: number;
  /** Per matched entry (ascending), its rows, best first. */
  runs: Array<{ entry: number; rows: Row[] }>;
}

/** Shard results in their arrival order (ordinals in another order): per shard one run an entry, as a task returns them. */
const shardsArb = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(
  fc.array(fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 3 }), runArb), { maxLength: 4, selector: (t) => t[0] }), { minLength: n, maxLength: n }),
  fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
)).map(([perShard, arrival]) => arrival.map((s): Shard => ({
  ordinal: s,
  runs: [...perShard[s]!].sort((a, b) => a[0] - b[0]).map(([entry, xs]) => ({
    entry, rows: xs.map((x, i) => ({ ...x, ord: s, seq: i })).sort(before),
  })),
})));

/** A shard's runs laid out in one set of columns, as a task result's are. */
function setOf(shard: Shard): RunSet {
  const rows = shard.runs.flatMap((r) => r.rows);
  const offsets = [0];
  for (const r of shard.runs) offsets.push(offsets[offsets.length - 1]! + r.rows.length);
  return {
    entries: Int32Array.from(shard.runs.map((r) => r.entry)), offsets: Int32Array.from(offsets),
    distances: Uint8Array.from(rows.map((r) => r.d)), ts: Float64Array.from(rows.map((r) => r.ts)),
    seqs: Float64Array.from(rows.map((r) => r.seq)), ordinal: shard.ordinal,
  };
}

describe('RunningTops.admitRuns', () => {
  it('returns the run rows in the best `limit` of every row offered so far (the sorted union), limits 1 to past every run', () => {
    fc.assert(fc.property(shardsArb, fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 30 }), fc.constant(10_000)), (shards, limit) => {
      const tops = new RunningTops(4, limit);
      const offered: Row[][] = [[], [], [], []];
      for (const shard of shards) {
        const set = setOf(shard);
        const ends = new Int32Array(shard.runs.length);
        tops.admitRuns(set, ends);
        shard.runs.forEach((run, j) => {
          const taken = ends[j]! - set.offsets[j]!;
          offered[run.entry]!.push(...run.rows);
          const best = new Set([...offered[run.entry]!].sort(before).slice(0, limit));
          expect(taken).toBe(run.rows.filter((r) => best.has(r)).length);
          // the admitted rows are the run's first ones
          expect(run.rows.slice(0, taken).every((r) => best.has(r))).toBe(true);
        });
      }
    }), { numRuns: 400, seed: 20261205 });
  });

  it('admits every row of the final best `limit` when it comes, whatever the order of the results', () => {
    fc.assert(fc.property(shardsArb, fc.integer({ min: 1, max: 25 }), (shards, limit) => {
      const tops = new RunningTops(4, limit);
      const admitted = new Set<Row>();
      for (const shard of shards) {
        const set = setOf(shard);
        const ends = new Int32Array(shard.runs.length);
        tops.admitRuns(set, ends);
        shard.runs.forEach((run, j) => {
          for (const r of run.rows.slice(0, ends[j]! - set.offsets[j]!)) admitted.add(r);
        });
      }
      for (let e = 0; e < 4; e++) {
        const all = shards.flatMap((s) => s.runs.filter((r) => r.entry === e).flatMap((r) => r.rows)).sort(before);
        for (const r of all.slice(0, limit)) expect(admitted.has(r)).toBe(true);
      }
    }), { numRuns: 300, seed: 20261206 });
  });

  it('an entry heavy in some shards and light in others: only what can still make its top, newest shards first or last', () => {
    const limit = 10;
    // shard s holds n rows of entry 0 at ts 100·s + k (a newer shard beats every row of an older one), and one of entry 1
    const shard = (s: number, n: number): Shard => ({
      ordinal: s,
      runs: [
        { entry: 0, rows: Array.from({ length: n }, (_, k) => ({ d: 0, ts: 100 * s + k, ord: s, seq: k })).sort(before) },
        { entry: 1, rows: [{ d: 1, ts: s, ord: s, seq: n }] },
      ],
    });
    const sizes = [10, 1, 10, 3, 10, 0, 2, 10];
    const admitAll = (order: number[]) => {
      const tops = new RunningTops(2, limit);
      return order.map((s) => {
        const set = setOf(shard(s, sizes[s]!));
        const ends = new Int32Array(2);
        tops.admitRuns(set, ends);
        return [ends[0]! - set.offsets[0]!, ends[1]! - set.offsets[1]!];
      });
    };
    // oldest first: each newer shard's rows all beat what is back, so all enter; entry 1 (8 rows) always all
    expect(admitAll([...sizes.keys()])).toEqual(sizes.map((n) => [n, 1]));
    // newest first: shard 7 fills the top; every older row is beaten by ten already back
    expect(admitAll([...sizes.keys()].reverse())).toEqual([[10, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]);
  });
});
