/**
 * The top-k inside the scan (issue 12) held to its plain definition: sort every matching row by the
 * answer order and cut at `limit`, after dropping rows at or before the page boundary. RowTop (a shard
 * task's struct-of-arrays heap, src/query/row-top.ts) and TopK (the merge's heap, src/query/executor.ts),
 * on random rows with many ties on distance and ts, random limits and random boundaries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCandidates, TopK, type Candidate, type CandidateKey } from '../src/query/executor.js';
import { RowTop } from '../src/query/row-top.js';
import type { Source } from '../src/query/sources.js';

const kRuns = 400;
const rowArb = fc.record({ d: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 6 }), seq: fc.integer({ min: 1, max: 40 }) });

describe('RowTop (one shard task)', () => {
  it('keeps exactly the best limit rows after the boundary, in order, and counts all of them', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, { selector: (r) => r.seq, maxLength: 40 }), fc.integer({ min: 1, max: 12 }),
        fc.option(fc.record({ d: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 6 }), seq: fc.integer({ min: 0, max: 41 }), afterOrdinal: fc.integer({ min: 1, max: 3 }) })),
        (rows, limit, boundary) => {
          const ordinal = 2;
          const after = boundary ? { distance: boundary.d, ts: boundary.ts, seq: boundary.seq, ordinal, afterOrdinal: boundary.afterOrdinal } : undefined;
          const top = new RowTop(limit, after);
          let seqReads = 0;
          rows.forEach((r, i) => top.offer(r.d, r.ts, i, (row) => (seqReads++, rows[row]!.seq)));
          const cmp = (a: CandidateKey, b: CandidateKey) => compareCandidates(a, b);
          const key = (r: { d: number; ts: number; seq: number }): CandidateKey => ({ distance: r.d, ts: r.ts, ordinal, seq: r.seq });
          const beyond = rows.filter((r) => !boundary || cmp(key(r), { distance: boundary.d, ts: boundary.ts, ordinal: boundary.afterOrdinal, seq: boundary.seq }) > 0);
          const want = [...beyond].sort((a, b) => cmp(key(a), key(b))).slice(0, limit);
          const got = top.sorted();
          expect(got.seqs).toEqual(want.map((r) => r.seq));
          expect(got.distances).toEqual(want.map((r) => r.d));
          expect(got.ts).toEqual(want.map((r) => r.ts));
          expect(got.rows.map((i) => rows[i]!.seq)).toEqual(want.map((r) => r.seq));
          expect(top.total).toBe(rows.length);
          expect(top.beyond).toBe(beyond.length);
          expect(seqReads).toBeLessThanOrEqual(2 * rows.length);
          // kept() is the same rows in heap order (what a shard task hands the merge)
          const kept = top.kept();
          expect([...kept.seqs].sort((x, y) => x - y)).toEqual(want.map((r) => r.seq).sort((x, y) => x - y));
          expect(Array.from(kept.rows, (i) => rows[i]!.seq)).toEqual(Array.from(kept.seqs));
        },
      ),
      { numRuns: kRuns },
    );
  });
});

describe('RowTop with a bound (a full top-k elsewhere)', () => {
  it('keeps the rows of the answer that sort no later than the bound, and counts every row', () => {
    // The bound is the worst row of another heap holding `limit` rows; the answer is the best `limit` of
    // both sets together. Whatever this heap keeps, merged with the other heap, must give that answer.
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, { selector: (r) => r.seq, maxLength: 60 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1000 }),
        (all, limit, split) => {
          const ordinal = 1;
          const cmp = (a: { d: number; ts: number; seq: number }, b: { d: number; ts: number; seq: number }) =>
            compareCandidates({ distance: a.d, ts: a.ts, ordinal, seq: a.seq }, { distance: b.d, ts: b.ts, ordinal, seq: b.seq });
          const cutAt = split % (all.length + 1);
          const other = all.slice(0, cutAt), mine = all.slice(cutAt);
          const otherTop = [...other].sort(cmp).slice(0, limit);
          const bound = otherTop.length === limit ? { distance: otherTop[limit - 1]!.d, ts: otherTop[limit - 1]!.ts } : undefined;
          const top = new RowTop(limit, undefined, bound);
          mine.forEach((r, i) => top.offer(r.d, r.ts, i, (row) => mine[row]!.seq));
          expect(top.total).toBe(mine.length);
          expect(top.beyond).toBe(mine.length);
          const kept = top.sorted().seqs.map((seq) => mine.find((r) => r.seq === seq)!);
          const want = [...all].sort(cmp).slice(0, limit);
          expect([...otherTop, ...kept].sort(cmp).slice(0, limit)).toEqual(want);
          // nothing kept sorts strictly after the bound on (distance, ts)
          if (bound) for (const r of kept) expect(r.d < bound.distance || (r.d === bound.distance && r.ts >= bound.ts)).toBe(true);
          const cut = top.cut();
          if (bound) expect(cut).toBeDefined();
        },
      ),
      { numRuns: kRuns },
    );
  });
});

describe('TopK (the merge)', () => {
  it('keeps exactly the best limit candidates after the boundary, in order, and counts all of them', () => {
    const src = { kind: 'live', tenant: 't', ordinal: 1, minTs: 0, rows: [] } as unknown as Source;
    const candArb = fc.record({ distance: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 5 }), ordinal: fc.integer({ min: 1, max: 3 }), seq: fc.integer({ min: 1, max: 30 }) });
    fc.assert(
      fc.property(
        fc.uniqueArray(candArb, { selector: (c) => `${c.ordinal}/${c.seq}`, maxLength: 50 }), fc.integer({ min: 1, max: 15 }), fc.option(candArb, { nil: undefined }), fc.boolean(),
        (keys, limit, after, useWants) => {
          const top = new TopK(limit, after);
          const cands: Candidate[] = keys.map((k, row) => ({ ...k, source: src, row }));
          // as the scans feed it: a candidate TopK.wants turned away is only counted
          for (const c of cands) {
            if (useWants && !top.wants(c.distance, c.ts)) top.skipWorse();
            else top.push(c);
          }
          const beyond = cands.filter((c) => !after || compareCandidates(c, after) > 0);
          const want = [...beyond].sort(compareCandidates).slice(0, limit);
          expect(top.result()).toEqual(want);
          expect(top.total).toBe(cands.length);
          expect(top.beyond).toBe(beyond.length);
        },
      ),
      { numRuns: kRuns },
    );
  });
});
