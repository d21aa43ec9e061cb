/**
 * A shard's row order (sortOrder, src/store/shard-format.ts: a radix sort on hour and Z-order cell) against
 * its definition, the order shards were first written in: one native sort of packed 64-bit keys
 * hour (5 bits) ‖ cell (32 bits) ‖ input index (27 bits). Random rows: many equal cells (ties keep input
 * order), hours beyond the 32nd (they share the last bucket), cells across all 37 key bits.
 */
import { describe, expect, it } from 'vitest';
import { sortOrder, type ShardSource } from '../src/store/shard-format.js';
import { cellOf, kTimeBucketMs } from '../src/store/spatial.js';
import { rng } from './helpers/engine-data.js';

function packedOrder(ts: Float64Array, lat: Int32Array, lon: Int32Array): Uint32Array {
  const n = ts.length;
  const keys = new BigUint64Array(n);
  const k32 = new Uint32Array(keys.buffer);
  let first = Infinity;
  for (let i = 0; i < n; i++) first = Math.min(first, Math.floor(ts[i]! / kTimeBucketMs));
  for (let i = 0; i < n; i++) {
    const hour = Math.min(31, Math.floor(ts[i]! / kTimeBucketMs) - first);
    const cell = cellOf(lat[i]!, lon[i]!);
    k32[2 * i + 1] = ((hour << 27) | (cell >>> 5)) >>> 0;
    k32[2 * i] = (((cell & 31) << 27) | i) >>> 0;
  }
  keys.sort();
  return Uint32Array.from(k32.filter((_, j) => j % 2 === 0), (w) => w & ((1 << 27) - 1));
}

describe('sortOrder = the packed 64-bit key sort', () => {
  it.each([0, 1, 2, 7, 1000, 60_000])('%i rows', (n) => {
    const rnd = rng(n + 1);
    for (const shape of ['ties', 'spread', 'long'] as const) {
      const ts = new Float64Array(n), lat = new Int32Array(n), lon = new Int32Array(n);
      const t0 = 1.7e12 + Math.floor(rnd() * 1e10);
      // a few places (many rows in one cell), or anywhere on the globe; within a day or over 40 hours
      const places = Array.from({ length: 20 }, () => [Math.round((rnd() * 180 - 90) * 1e7), Math.round((rnd() * 360 - 180) * 1e7)] as const);
      for (let i = 0; i < n; i++) {
        ts[i] = t0 + Math.floor(rnd() * (shape === 'long' ? 40 : 24) * kTimeBucketMs);
        const p = shape === 'ties' ? places[Math.floor(rnd() * places.length)]! : [Math.round((rnd() * 180 - 90) * 1e7), Math.round((rnd() * 360 - 180) * 1e7)];
        lat[i] = p[0]!;
        lon[i] = p[1]!;
      }
      const src = { length: n, ts: (i: number) => ts[i]!, latE7: (i: number) => lat[i]!, lonE7: (i: number) => lon[i]! } as unknown as ShardSource;
      expect(sortOrder(src), shape).toEqual(packedOrder(ts, lat, lon));
    }
  });
});
