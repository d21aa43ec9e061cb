/**
 * plateRunOf (src/query/plate-page.ts), the postings run an exact plate's searches read a shard through: its
 * run table when the shard has one, else the lane's own search. Against the plain definition (the rows of
 * dictionary entry d, LoadedShard.rowsOfPlate) for every entry of a loaded shard whose plates are skewed (one
 * read 700 times: a long run past the table's 255 mark, several a few hundred, most once or twice), first
 * without a table (and none is made by the lookups), then with one.
 */
import { describe, expect, it } from 'vitest';
import { ArenaSet } from '../src/core/arena.js';
import { plateRunOf } from '../src/query/plate-page.js';
import { loadShard, unloadShard } from '../src/store/shard-loader.js';
import { LocalObjectStore } from '../src/store/local-object-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { rng, tempDataDir } from './helpers/engine-data.js';
import { putShardFile } from './helpers/shard-files.js';

const kDayNo = 20_000;

describe('plateRunOf: a shard\'s postings run of an exact plate', () => {
  it('equals the plate\'s rows with and without the shard\'s run table', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
      const store = new LocalObjectStore(dir);
      const r = rng(9301);
      const t0 = kDayNo * 86_400_000;
      const plateOf = (): string => {
        const x = r();
        if (x < 0.1) return 'HEAVY1'; // ~700 rows: a long run in its 32-entry block
        if (x < 0.2) return `BUSY${Math.floor(r() * 3)}`; // ~230 each: just under the 255 mark
        return `P${Math.floor(r() * 3000)}`;
      };
      const rows: RowRecord[] = Array.from({ length: 7000 }, (_, i) => ({
        seq: i + 1, plate: plateOf(), ts: t0 + i * 1000, latE7: 377_000_000, lonE7: -1_224_000_000, camera: `c${i % 5}`,
      }));
      const { entry } = await putShardFile(dir, 's.shard', kDayNo, rows);
      const s = await loadShard(arenas, store, entry);
      const expectAll = (): void => {
        for (let d = 0; d < s.layout.dictCount; d++) {
          const want = [...s.rowsOfPlate(d)].sort((a, b) => a - b);
          const [start, end] = plateRunOf(s, d);
          const got = Array.from({ length: end - start }, (_, k) => s.postings(start + k)).sort((a, b) => a - b);
          expect(got, `entry ${d} (${s.plateAt(d)})`).toEqual(want);
        }
      };
      expect(s.hasPlateRuns).toBe(false);
      expectAll();
      expect(s.hasPlateRuns).toBe(false); // no table made on the request path
      s.plateRuns();
      expect(s.hasPlateRuns).toBe(true);
      expectAll();
      unloadShard(arenas, s);
    } finally {
      await cleanup();
    }
  });
});
