/**
 * Broad patterns counted without a pass (src/query/plate-rows.ts, issue 12 "cost by the page"): once the
 * newest shard filled the page, an older shard lying wholly inside the window adds its matching rows for
 * `P*`, `*c*` and `*cd*` from its plate → rows lane or its per-character row counts
 * (src/store/plate-gram-rows.ts). The engine against the reference on random patterns of those shapes (and
 * near misses that must take the ordinary path), windows on and off day boundaries, small pages and the
 * page after them, on the calling thread and on the pool; and the shortcut must have answered.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine } from '../src/engine/index.js';
import type { PlateMatch, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { plateRowsAnswers } from '../src/query/plate-rows.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const kDays = 6;

const wildcard = (pattern: string, ocr = false): PlateMatch => ({ pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false });

/** Patterns from the data's own plates: literal prefixes, one- and two-character contains, and shapes next to them. */
function patternArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  return fc.tuple(fc.constantFrom(...plates), fc.nat(9), fc.integer({ min: 1, max: 3 }), fc.constantFrom('prefix', 'contains', 'stars', 'prefix?', 'suffix', 'ocr'))
    .map(([p, at, len, shape]) => {
      const piece = p.slice(at % p.length, (at % p.length) + Math.min(len, 2));
      switch (shape) {
        case 'prefix': return wildcard(`${p.slice(0, len)}*`);
        case 'contains': return wildcard(`*${piece}*`);
        case 'stars': return wildcard(`**${piece}***`);
        case 'prefix?': return wildcard(`${p.slice(0, len)}?*`);
        case 'suffix': return wildcard(`*${piece}`);
        default: return wildcard(`*${piece}*`, true);
      }
    });
}

/** Whole days, open ends, or cuts inside a day. */
const windowArb = fc.oneof(
  fc.constant({}),
  fc.tuple(fc.integer({ min: 0, max: kDays }), fc.integer({ min: 1, max: kDays })).map(([a, n]) => ({ from: kT0 + a * kDay, to: kT0 + Math.min(kDays + 1, a + n) * kDay })),
  fc.tuple(fc.integer({ min: 0, max: kDays * 24 }), fc.integer({ min: 1, max: kDays * 24 })).map(([a, n]) => ({ from: kT0 + a * 3_600_000, to: kT0 + (a + n) * 3_600_000 })),
  fc.integer({ min: 0, max: kDays }).map((a) => ({ to: kT0 + a * kDay })),
);

describe('engine vs reference: broad patterns counted from shard statistics', () => {
  for (const threads of [0, 2]) {
    it(`threads ${threads}`, async () => {
      const { dir, cleanup } = await tempDataDir();
      // no tenant-wide match: a dictionary this small would answer these patterns by plate (≤ 2,048 plates
      // match), while a real tenant's broad patterns go shard by shard, as here
      const engine = await openEngine({ dataDir: dir, threads, poolMinRows: threads === 0 ? undefined : 0, sealAgeMs: 0, tenantPlates: false });
      try {
        const reads: StoredRead[] = [];
        const input = makeReads({ seed: 12 + threads, reads: 12_000, vehicles: 900, days: kDays });
        for (let i = 0; i < input.length; i += 3000) reads.push(...(await engine.append('pd-a', input.slice(i, i + 3000))).stored);
        await engine.seal(); // one shard a day
        expect(engine.stats().shards).toBeGreaterThanOrEqual(kDays);
        const scopes: TenantScope[] = [{ tenant: 'pd-a', minTs: 0 }];
        const plates = [...new Set(reads.map((r) => r.plate))];
        const answered = plateRowsAnswers.count;
        const countedOnly = engine.stats().rowsCountedOnly ?? 0;
        await fc.assert(
          fc.asyncProperty(patternArb(plates), windowArb, fc.integer({ min: 1, max: 300 }), async (plate, filter, limit) => {
            const query: SearchQuery = { plate, filter, limit };
            const want = referenceSearch(reads, scopes, query);
            expect(await engine.search(scopes, query)).toEqual(want);
            if (want.truncated) {
              const last = want.hits[want.hits.length - 1]!;
              const page: SearchQuery = { ...query, after: { distance: last.distance, ts: last.ts, id: last.id } };
              expect(await engine.search(scopes, page)).toEqual(referenceSearch(reads, scopes, page));
            }
          }),
          { numRuns: 150, seed: 1212 + threads },
        );
        // retention floors cut shards too: a scope's minTs inside a day
        for (const minTs of [kT0 + kDay + 3_600_000, kT0 + 2 * kDay]) {
          const floor: TenantScope[] = [{ tenant: 'pd-a', minTs }];
          for (const pattern of [`${plates[0]!.slice(0, 1)}*`, `*${plates[1]!.slice(0, 1)}*`, `*${plates[2]!.slice(1, 3)}*`]) {
            const query: SearchQuery = { plate: wildcard(pattern), filter: {}, limit: 5 };
            expect(await engine.search(floor, query)).toEqual(referenceSearch(reads, floor, query));
          }
        }
        // on the pool the shortcut runs in the workers: their tasks report the rows they only counted
        if (threads === 0) expect(plateRowsAnswers.count - answered).toBeGreaterThan(100);
        expect((engine.stats().rowsCountedOnly ?? 0) - countedOnly).toBeGreaterThan(10_000);
      } finally {
        await engine.close();
        await cleanup();
      }
    }, 240_000);
  }
});
