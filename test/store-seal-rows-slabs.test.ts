/**
 * SealRows (src/store/seal-rows.ts) carves its column chunks from slabs of kChunksPerSlab chunks (a mapping
 * of its own for glibc, given back when the job's memory is freed): rows across chunk and slab boundaries
 * read back as added, checked against the plain values each row was made from.
 */
import { describe, expect, it } from 'vitest';
import { kChunkRows, kChunksPerSlab, SealRows } from '../src/store/seal-rows.js';

const kDayMs = 86_400_000;
const kT0 = Date.UTC(2026, 10, 2);
const labels = ['a', 'b', 'c', undefined] as const;

/** Row `s`'s fields, made from its seq alone (the reference). */
function rowOf(s: number) {
  return {
    seq: s, plate: `P${s % 977}`, ts: kT0 + (s % 3) * kDayMs + s, latE7: s * 7 - 1_000_000, lonE7: -s * 3,
    camera: `cam-${s % 13}`, region: labels[s % 4], confidence: s % 5 === 0 ? undefined : (s % 100) / 100,
    make: labels[(s + 1) % 4], color: labels[(s + 2) % 4], readId: s % 7 === 0 ? `r${s}` : undefined,
  };
}

describe('SealRows in slabs', () => {
  it('reads back every row across chunk and slab boundaries, in seq order and by day', () => {
    const n = kChunkRows * kChunksPerSlab + 3 * kChunkRows + 5; // into the second slab
    const rows = new SealRows();
    // added in descending seq: the rows' order as added is not seq order
    for (let k = 0; k < n; k++) {
      const r = rowOf(n - k);
      rows.add(r.seq, r.plate, r.ts, r.latE7, r.lonE7, r.camera, r.region, r.confidence, r.make, r.color, r.readId);
    }
    const all = rows.inSeqOrder();
    expect(all.length).toBe(n);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const want = rowOf(i + 1);
      const got = {
        seq: all.seq(i), plate: all.plate(i), ts: all.ts(i), latE7: all.latE7(i), lonE7: all.lonE7(i), camera: all.camera(i),
        region: all.region(i), confidence: all.confidence(i), make: all.make(i), color: all.color(i), readId: all.readId(i),
      };
      if (JSON.stringify(got) !== JSON.stringify(want) && bad++ < 3) expect(got).toEqual(want);
    }
    expect(bad).toBe(0);
    const { rows: counted, days } = rows.byDay();
    expect(counted).toBe(n);
    expect([...days.values()].reduce((s, d) => s + d.length, 0)).toBe(n);
    for (const [day, src] of days) for (let i = 0; i < src.length; i += 997) expect(Math.floor(src.ts(i) / kDayMs)).toBe(day);
  });
});
