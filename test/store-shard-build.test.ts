import { describe, expect, it } from 'vitest';
import { buildShard, ShardView, sortOrder, type ShardSource } from '../src/store/shard-format.js';
import { lastBySeq } from '../src/store/rows-by-seq.js';
import { toE7 } from '../src/store/tenant-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { makeReads } from './helpers/engine-data.js';

function rowsOf(n: number, seed: number): RowRecord[] {
  return makeReads({ seed, reads: n, days: 1 }).map((r, i) => {
    const row: RowRecord = { seq: 7 + 2 * i, plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera: r.camera };
    if (r.region) row.region = r.region;
    if (r.confidence !== undefined && i % 3 !== 0) row.confidence = r.confidence;
    if (r.make) row.make = r.make;
    if (r.color && i % 5 !== 0) row.color = r.color;
    if (i % 4 === 0) row.readId = `rid-${i}`;
    return row;
  });
}

/** The same rows as a ShardSource of plain closures (the shape bulk loads and live views hand the builder). */
function closureSource(rows: readonly RowRecord[]): ShardSource {
  return {
    length: rows.length,
    seq: (i) => rows[i]!.seq, ts: (i) => rows[i]!.ts, latE7: (i) => rows[i]!.latE7, lonE7: (i) => rows[i]!.lonE7,
    plate: (i) => rows[i]!.plate, camera: (i) => rows[i]!.camera, region: (i) => rows[i]!.region,
    confidence: (i) => rows[i]!.confidence, make: (i) => rows[i]!.make, color: (i) => rows[i]!.color, readId: (i) => rows[i]!.readId,
  };
}

describe('shard builder', () => {
  it('builds the same bytes from row records and from a source of the same rows, and they read back as those rows', () => {
    for (const [n, seed] of [[1, 1], [257, 2], [20_000, 3]] as const) {
      const rows = rowsOf(n, seed);
      const a = buildShard('pd-a', 3, Math.floor(rows[0]!.ts / 86_400_000), rows);
      const b = buildShard('pd-a', 3, Math.floor(rows[0]!.ts / 86_400_000), closureSource(rows));
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      const back = new ShardView('x', a.bytes).rowRecords().sort((x, y) => x.seq - y.seq);
      expect(back).toEqual(rows);
    }
  });

  it('lays the rows out in the order rowOrder gives (bench/seq-order.ts), sortOrder when none', () => {
    const rows = rowsOf(20_000, 4);
    const day = Math.floor(rows[0]!.ts / 86_400_000);
    const inRowOrder = (bytes: Uint8Array) => new ShardView('x', bytes).rowRecords();
    // (ts, seq) order, as the bench builds it, and a shuffle (an order no sort gives)
    const byTs = (src: ShardSource) => Uint32Array.from({ length: src.length }, (_, i) => i).sort((a, b) => src.ts(a) - src.ts(b) || a - b);
    let seed = 9;
    const shuffled = Uint32Array.from(rows.keys());
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    for (const order of [byTs(closureSource(rows)), shuffled]) {
      expect(inRowOrder(buildShard('pd-a', 3, day, rows, () => order).bytes)).toEqual([...order].map((i) => rows[i]));
    }
    expect(inRowOrder(buildShard('pd-a', 3, day, rows, sortOrder).bytes)).toEqual(inRowOrder(buildShard('pd-a', 3, day, rows).bytes));
  });
});

describe('seal worker rows', () => {
  const row = (seq: number, plate: string): RowRecord => ({ seq, plate, ts: 0, latE7: 0, lonE7: 0, camera: 'c' });

  it('keeps rows already in seq order as they are', () => {
    const rows = [row(1, 'A'), row(2, 'B'), row(5, 'C')];
    expect(lastBySeq(rows.slice())).toEqual(rows);
  });

  it('sorts by seq and keeps the last copy read of a repeated seq (as a Map by seq did)', () => {
    // per-day records of one batch come day by day, not in seq order; a rewrite may repeat a seq
    const input = [row(4, 'D1'), row(1, 'A'), row(3, 'C'), row(4, 'D2'), row(2, 'B'), row(1, 'A2'), row(4, 'D3')];
    const byMap = new Map<number, RowRecord>();
    for (const r of input) byMap.set(r.seq, r);
    const expected = [...byMap.values()].sort((a, b) => a.seq - b.seq);
    expect(lastBySeq(input.slice())).toEqual(expected);
    expect(lastBySeq(input.slice()).map((r) => r.plate)).toEqual(['A2', 'B', 'C', 'D3']);
  });

  it('agrees with a Map by seq on random inputs', () => {
    let s = 12345;
    const rand = (k: number) => ((s = (s * 1103515245 + 12345) >>> 0) % k);
    for (let t = 0; t < 200; t++) {
      const input = Array.from({ length: rand(60) }, (_, i) => row(rand(40), `P${i}`));
      const byMap = new Map<number, RowRecord>();
      for (const r of input) byMap.set(r.seq, r);
      expect(lastBySeq(input.slice())).toEqual([...byMap.values()].sort((a, b) => a.seq - b.seq));
    }
  });
});
