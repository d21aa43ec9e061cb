/**
 * A matched tenant plate found in a shard from its rank in the shard's bucket (src/store/plate-ranks.ts,
 * src/query/shard-plate-code.ts) instead of a binary search of the shard's dictionary:
 *
 *   - the rank counts against a plain count over random masks (block edges, empty and full masks);
 *   - the search from a guess against a linear scan of random sorted slots, with right, wrong, absent and
 *     out-of-range guesses, plates present and absent;
 *   - the engine against the reference on random data and random `contains`, wildcard and fuzzy patterns,
 *     truncated answers paged to the end through their cursors: over more than 64 shards a tenant (shared
 *     buckets: the rank is a guess the search corrects), with live rows beside them, after compaction and a
 *     retention drop (stale bits in reused buckets), more shards merged in, and after a reopen. Each stage
 *     asserts that both the exact guesses and the corrected ones happened.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { Hit, PlateMatch, ReadFilter, SearchKey, SearchQuery, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { plateCodeFrom, shardPlateLookups } from '../src/query/shard-plate-code.js';
import { tenantMatchCounts } from '../src/query/tenant-match.js';
import { buildPlateRanks, kRankBlock, plateRank } from '../src/store/plate-ranks.js';
import { filterArb, kDay, kT0, makeReads, mutatePlate, rng, tempDataDir } from './helpers/engine-data.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261205;

describe('plate ranks', () => {
  it('equal a plain count of the bucket column before each plate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * kRankBlock + 5 }), fc.integer({ min: 0, max: 6 }), fc.nat(), (count, density, s) => {
        const r = rng(s);
        const masks = new Uint32Array(count * 2);
        for (let i = 0; i < masks.length; i++) for (let b = 0; b < 32; b++) if (r() * 8 < density) masks[i]! |= 1 << b;
        const counts = buildPlateRanks(masks, count);
        for (let t = 0; t < 40 && count > 0; t++) {
          const d = Math.floor(r() * count), b = Math.floor(r() * 64);
          let want = 0;
          for (let j = 0; j < d; j++) if ((masks[2 * j + (b >>> 5)]! >>> (b & 31)) & 1) want++;
          expect(plateRank(counts, masks, count, d, b)).toBe(want);
        }
      }),
      { numRuns: 200, seed },
    );
  });
});

/** Plates as 16-byte slots (characters, zero padding, length in byte 15), four words a plate. */
function slotsOf(plates: readonly string[]): Uint32Array {
  const bytes = new Uint8Array(plates.length * 16);
  plates.forEach((p, i) => {
    for (let j = 0; j < p.length; j++) bytes[i * 16 + j] = p.charCodeAt(j);
    bytes[i * 16 + 15] = p.length;
  });
  return new Uint32Array(bytes.buffer);
}

describe('plate code from a guess', () => {
  it('equals a linear scan of the sorted slots, whatever the guess', () => {
    const alphabet = 'AB0Z9';
    const plateArb = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.uniqueArray(plateArb, { maxLength: 300 }), fc.array(plateArb, { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: -3, max: 320 }), { minLength: 1 }), (dict, probes, guesses) => {
        dict.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const slots = slotsOf(dict);
        const all = [...probes, ...dict.slice(0, 20)];
        const words = slotsOf(all);
        all.forEach((p, k) => {
          const want = dict.indexOf(p);
          for (const g of [...guesses, want, want - 1, want + 1]) expect(plateCodeFrom(slots, dict.length, words, k, g), `${p} from ${g}`).toBe(want);
        });
      }),
      { numRuns: 300, seed },
    );
  });
});

const kDays = 36;

async function append(engine: Engine, tenant: string, reads: Read[], into: StoredRead[], seal: boolean): Promise<void> {
  for (let i = 0; i < reads.length; i += 1200) {
    into.push(...(await engine.append(tenant, reads.slice(i, i + 1200))).stored);
    if (seal) await engine.seal(tenant);
  }
}

function matchArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  const long = plates.filter((p) => p.length >= 5);
  const base = fc.constantFrom(...long);
  const contains = fc
    .record({ p: base, at: fc.nat(9), len: fc.integer({ min: 2, max: 5 }), s: fc.nat(), ocr: fc.boolean() })
    .map(({ p, at, len, s, ocr }): PlateMatch => {
      const i = at % (p.length - 1);
      let piece = p.slice(i, i + len);
      if (s % 4 === 0) piece = mutatePlate(rng(s), piece).slice(0, 5) || piece;
      return { pattern: `*${piece}*`, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false };
    });
  const fuzzy = base.chain((p) => fc.record({ k: fc.constantFrom(1, 2), s: fc.nat() }).map(({ k, s }): PlateMatch => ({ pattern: s % 2 ? mutatePlate(rng(s), p) : p, mode: 'fuzzy', maxEdits: k, ocr: false, transpositions: s % 3 === 0 })));
  const wildcard = base.map((p): PlateMatch => ({ pattern: `${p.slice(0, 2)}?${p.slice(3, 4)}*`, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }));
  return fc.oneof({ weight: 5, arbitrary: contains }, { weight: 2, arbitrary: fuzzy }, { weight: 1, arbitrary: wildcard });
}

/** Random pattern searches against the reference, truncated ones walked to the end through their cursors. */
async function check(engine: Engine, reads: StoredRead[], days: number, runs: number, runSeed: number): Promise<void> {
  const plates = [...new Set(reads.map((r) => r.plate))];
  const floorArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: days }).map((d) => kT0 + d * kDay));
  const scopesArb = fc.oneof(
    floorArb.map((minTs): TenantScope[] => [{ tenant: 'pd-a', minTs }]),
    fc.tuple(floorArb, floorArb).map(([a, b]): TenantScope[] => [{ tenant: 'pd-a', minTs: a }, { tenant: 'pd-b', minTs: b }]),
  );
  const filterOrNone = fc.oneof({ weight: 3, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 1, arbitrary: filterArb(kT0, days) });
  await fc.assert(
    fc.asyncProperty(scopesArb, matchArb(plates), filterOrNone, fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(1000)), async (scopes, plate, filter, limitArg) => {
      const q = { plate, filter };
      const full = referenceSearch(reads, scopes, { ...q, limit: 10_000 });
      const limit = Math.max(limitArg, Math.ceil(full.total / 15));
      const pages: Hit[] = [];
      let after: SearchKey | undefined;
      for (let n = 0; ; n++) {
        const query: SearchQuery = after ? { ...q, limit, after } : { ...q, limit };
        const got = await engine.search(scopes, query);
        expect(got, JSON.stringify(query)).toEqual(referenceSearch(reads, scopes, query));
        pages.push(...got.hits);
        if (!got.truncated) break;
        const last = got.hits[got.hits.length - 1]!;
        after = { distance: last.distance, ts: last.ts, id: last.id };
        expect(n).toBeLessThan(30);
      }
      expect(pages).toEqual(full.hits);
    }),
    { numRuns: runs, seed: runSeed },
  );
}

/** Runs `f` and asserts that the tenant-wide matches answered, with exact and corrected guesses both made. */
async function expectRanked(f: () => Promise<void>, corrected: boolean): Promise<void> {
  const exact = shardPlateLookups.exact, searched = shardPlateLookups.searched, grams = tenantMatchCounts.grams;
  await f();
  expect(tenantMatchCounts.grams).toBeGreaterThan(grams);
  expect(shardPlateLookups.exact).toBeGreaterThan(exact);
  if (corrected) expect(shardPlateLookups.searched).toBeGreaterThan(searched);
}

describe('engine vs reference: matched plates found in shards by their rank', () => {
  it('over more than 64 shards, with live rows, after compaction, retention, merges and a reopen', async () => {
    const { dir, cleanup } = await tempDataDir();
    const open = () => openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    let engine = await open();
    const settled = () => (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
    try {
      const reads: StoredRead[] = [];
      // each batch spans every day and is sealed: several shards a day
      const a = makeReads({ seed: 41, reads: 9000, vehicles: 900, days: kDays });
      await append(engine, 'pd-a', a, reads, true);
      await append(engine, 'pd-b', makeReads({ seed: 42, reads: 1500, vehicles: 300, days: 10, start: kT0 + 20 * kDay }), reads, true);
      expect(engine.stats().shards).toBeGreaterThan(64);
      await settled();
      // past 64 shards buckets are shared: those shards' guesses are corrected
      await expectRanked(() => check(engine, reads, kDays, 40, seed + 1), true);

      await append(engine, 'pd-a', makeReads({ seed: 43, reads: 600, vehicles: 900, days: kDays }), reads, false);
      expect(engine.stats().liveReads).toBeGreaterThan(0);
      await expectRanked(() => check(engine, reads, kDays, 25, seed + 2), false);

      await engine.seal();
      expect(await (engine as unknown as { compact(): Promise<number> }).compact()).toBeGreaterThan(0);
      const cutoff = kT0 + 5 * kDay + 7 * 3_600_000;
      await engine.dropBefore('pd-a', cutoff);
      reads.splice(0, reads.length, ...reads.filter((r) => r.tenant !== 'pd-a' || r.ts >= cutoff));
      await settled();
      await expectRanked(() => check(engine, reads, kDays, 30, seed + 3), false);

      await append(engine, 'pd-a', makeReads({ seed: 44, reads: 2400, vehicles: 900, days: 8, start: kT0 + kDays * kDay }), reads, true);
      await settled();
      await expectRanked(() => check(engine, reads, kDays + 8, 30, seed + 4), false);

      await engine.close();
      engine = await open();
      await settled();
      await expectRanked(() => check(engine, reads, kDays + 8, 25, seed + 5), false);
    } finally {
      await engine.close();
      await cleanup();
    }
  }, 600_000);
});
