/**
 * Live `contains`, fuzzy and wildcard patterns matched through a generation's n-gram indexes (one per slot
 * chunk, src/store/live-plate-grams.ts; verified by the dictionary kernel, src/query/live-task.ts
 * matchByGrams) against the reference, while reads keep arriving: a full first chunk, a last chunk whose
 * index leaves a tail for the kernels until it is rebuilt, live rows beside sealed shards, radius searches
 * whose blocks the zone maps skip, and cursors walked to the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { Hit, PlateMatch, ReadFilter, SearchKey, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { ArenaSet } from '../src/core/arena.js';
import { LiveRows, kSlotChunk } from '../src/store/live-columns.js';
import { liveChunkGrams } from '../src/store/live-plate-grams.js';
import { gramKey } from '../src/store/plate-grams.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { liveMatchCounts } from '../src/query/live-task.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const kTenant = 'pd-a';

/** Every page of `q` (limit `limit`) walked by cursor, each equal to the reference's; the pages concatenated. */
async function walk(engine: Engine, stored: readonly StoredRead[], scopes: TenantScope[], q: SearchQuery, limit: number): Promise<Hit[]> {
  const pages: Hit[] = [];
  let after: SearchKey | undefined;
  for (let n = 0; n < 200; n++) {
    const query: SearchQuery = after ? { ...q, limit, after } : { ...q, limit };
    const got = await engine.search(scopes, query);
    const want = referenceSearch(stored, scopes, query);
    expect({ pattern: q.plate?.pattern, total: got.total, truncated: got.truncated }).toEqual({ pattern: q.plate?.pattern, total: want.total, truncated: want.truncated });
    expect(got.hits).toEqual(want.hits);
    pages.push(...got.hits);
    if (!got.truncated) return pages;
    const last = got.hits.at(-1)!;
    after = { distance: last.distance, ts: last.ts, id: last.id };
  }
  throw new Error('too many pages');
}

function patterns(plates: readonly string[], b: number): PlateMatch[] {
  const p = (i: number) => plates[(i * 7919 + b * 104_729) % plates.length]!;
  const m = (pattern: string, mode: PlateMatch['mode'], maxEdits = 0, ocr = false, transpositions = false): PlateMatch => ({ pattern, mode, maxEdits, ocr, transpositions });
  return [
    m(`*${p(1).slice(1, 4)}*`, 'wildcard'),
    m(`*${p(2).slice(2, 4)}*`, 'wildcard'),
    m(`*${p(3).slice(0, 3)}?${p(3).slice(4, 5)}*`, 'wildcard'),
    m(`*${p(4).slice(1, 5)}`, 'wildcard'),
    m(p(5), 'fuzzy', 1),
    m(p(6).slice(0, -1) + 'Q', 'fuzzy', 1),
    m(p(7), 'fuzzy', 2, true, false),
    m(p(8), 'fuzzy', 1, false, true),
    m(p(9), 'fuzzy', 2, false, true),
    m('ZZ9Q9', 'fuzzy', 1),
  ];
}

describe('live contains and fuzzy search through the n-gram indexes vs the reference, as the dictionary grows', () => {
  let engine: Engine;
  let cleanup: () => Promise<void>;
  const stored: StoredRead[] = [];
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-live-grams-');
    cleanup = tmp.cleanup;
    engine = await openEngine({ dataDir: tmp.dir, threads: 0, sealRows: 1e12, sealAgeMs: 0 });
  });
  afterAll(async () => {
    await engine?.close();
    await cleanup?.();
  });

  it('answers equal after each batch, pages walked to the end; then with sealed shards beside live rows', async () => {
    const scopes: TenantScope[] = [{ tenant: kTenant, minTs: 0 }];
    // ~12,000 distinct plates: a full first chunk (8,192) and a second one that keeps filling
    const reads = makeReads({ seed: 21, reads: 50_000, vehicles: 12_000, days: 6, start: kT0 });
    const filters: ReadFilter[] = [{}, { from: kT0 + 4 * kDay }, { from: kT0 + kDay, to: kT0 + 2 * kDay }];
    const grams0 = liveMatchCounts.grams;
    for (let b = 0; b < 6; b++) {
      // batch 3 is sealed: sealed shards beside the live rows of the later batches
      if (b === 3) await engine.seal();
      const batch = reads.slice(b * 10_000, (b + 1) * 10_000);
      if (batch.length) stored.push(...(await engine.append(kTenant, batch)).stored);
      const plates = [...new Set(stored.map((r) => r.plate))];
      for (const plate of patterns(plates, b)) {
        for (const filter of filters) {
          const q: SearchQuery = { plate, filter, limit: 10_000 };
          const all = await walk(engine, stored, scopes, q, 10_000);
          await walk(engine, stored, scopes, q, Math.max(1, Math.ceil(all.length / 6)));
        }
      }
      // a radius over a couple of hours: the blocks outside it skipped by their zone maps
      const r = stored[(b * 3571) % stored.length]!;
      for (const hours of [2, 30]) {
        const q: SearchQuery = { filter: { near: { lat: r.lat, lon: r.lon, radiusM: 2000 }, from: r.ts - hours * 3_600_000, to: r.ts + 3_600_000 }, limit: 10_000 };
        const all = await walk(engine, stored, scopes, q, 10_000);
        await walk(engine, stored, scopes, q, Math.max(1, Math.ceil(all.length / 5)));
      }
    }
    // the indexes served (not only the kernel pass)
    expect(liveMatchCounts.grams - grams0).toBeGreaterThan(50);
  }, 900_000);
});

describe('the live chunk n-gram index', () => {
  it('never misses a plate of its chunk holding a gram, keeps a full chunk, rebuilds the last past its tail', () => {
    const live = new LiveRows(new ArenaSet());
    const reads = makeReads({ seed: 22, reads: 30_000, vehicles: 20_000, days: 2, start: kT0 });
    const covered: number[] = [];
    reads.forEach((r, i) => {
      live.push({ seq: i + 1, plate: r.plate, ts: r.ts, latE7: Math.round(r.lat * 1e7), lonE7: Math.round(r.lon * 1e7), camera: r.camera });
      if (i % 1500 !== 1499) return;
      const cols = live.view().cols;
      const count = cols.plateCount;
      const last = Math.floor((count - 1) / kSlotChunk);
      for (let c = 0; c <= last; c++) {
        const inChunk = Math.min(kSlotChunk, count - c * kSlotChunk);
        const grams = liveChunkGrams(cols, c, inChunk);
        if (c < last) expect(grams.plates).toBe(kSlotChunk);
        else covered.push(grams.plates);
        // a bigram and a trigram of plates of the chunk (plates of 1–10 characters: skip grams cut short)
        const grams2 = [cols.plates[c * kSlotChunk]!.slice(0, 2), cols.plates[c * kSlotChunk + inChunk - 1]!.slice(1, 4), cols.plates[c * kSlotChunk + (i % inChunk)]!.slice(-3)];
        for (const gram of grams2.filter((g) => g.length >= 2 && (g.length === 2 || g.length === 3))) {
          const ids = [...grams.postingsOf(gramKey(gram))];
          const want = cols.plates.slice(c * kSlotChunk, c * kSlotChunk + grams.plates).flatMap((p, id) => (p.includes(gram) ? [id] : []));
          expect(ids).toEqual(want);
        }
      }
    });
    // the last chunk's index left with a tail while it is small, rebuilt when it is not
    expect(covered.some((c, i) => i > 0 && c === covered[i - 1])).toBe(true);
    expect(new Set(covered).size).toBeGreaterThan(2);
  });
});
