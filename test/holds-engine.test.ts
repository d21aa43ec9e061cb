/**
 * Legal holds below the HTTP layer, against plain definitions on random data:
 * - searches and hot-list searches with a held scope (src/query/held-search.ts) equal the reference search
 *   over "the reads in scope within retention, plus the owner's reads past retention that a hold reaches";
 * - a retention drop with holds (src/store/sealer.ts, live rows and shards, seal worker included) keeps
 *   exactly the reads within retention plus the held ones, also after reopening the engine;
 * - the compiled hold test equals its definition (`holdReaches`).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import { compileHeld, holdReaches, type HoldReach } from '../src/model/hold.js';
import type { HotlistQuery, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { heldPieces, searchHotlistWithHeld, searchWithHeld, type HeldScope } from '../src/query/held-search.js';
import { referenceHotlistSearch, referenceSearch } from '../src/query/reference/index.js';
import { filterArb, kDay, kT0, makeReads, plateMatchArb, searchQueryArb, tempDataDir } from './helpers/engine-data.js';

const kTenants = ['pd-a', 'pd-b'];

async function load(engine: Engine, seed: number, perTenant: number): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  for (const [t, tenant] of kTenants.entries()) {
    const reads = makeReads({ seed: seed + t, reads: perTenant, vehicles: 30, days: 4 });
    for (let i = 0; i < reads.length; i += 50) {
      out.push(...(await engine.append(tenant, reads.slice(i, i + 50))).stored);
      // mostly sealed (several shards a day), the last batches stay live
      if ((i / 50) % 3 === 2 && i + 100 < reads.length) await engine.seal(tenant);
    }
  }
  return out;
}

function reachArb(plates: readonly string[]): fc.Arbitrary<HoldReach> {
  return fc
    .record({
      // few plates (looked up one by one) or many (one hot-list pass): both paths of held-search.ts
      plates: fc.option(fc.oneof(
        fc.subarray([...plates, 'NOSUCH1'], { minLength: 1, maxLength: 6 }),
        fc.subarray([...plates, 'NOSUCH1'], { minLength: 20 }),
      ), { nil: undefined }),
      from: fc.option(fc.integer({ min: kT0 - kDay, max: kT0 + 4 * kDay }), { nil: undefined }),
      len: fc.option(fc.integer({ min: 1, max: 3 * kDay }), { nil: undefined }),
    })
    .map(({ plates: p, from, len }) => {
      const r: HoldReach = {};
      if (p !== undefined) r.plates = p;
      if (from !== undefined) r.from = from;
      if (len !== undefined) r.to = (from ?? kT0) + len;
      return r;
    });
}

/** The visible set of the contract: in scope and within retention, or the owner's and held. */
function visible(reads: readonly StoredRead[], scopes: readonly TenantScope[], held: HeldScope): StoredRead[] {
  return reads.filter((r) => {
    const s = scopes.find((x) => x.tenant === r.tenant);
    if (!s) return false;
    if (r.ts >= s.minTs) return true;
    return r.tenant === held.tenant && r.ts < held.cutoff && held.reaches.some((h) => holdReaches(h, r.plate, r.ts));
  });
}

const all = (scopes: readonly TenantScope[]) => scopes.map((s) => ({ tenant: s.tenant, minTs: -Infinity }));

describe('held reads in searches: engine vs reference', () => {
  let engine: Engine;
  let reads: StoredRead[];
  let plates: string[];
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const d = await tempDataDir('ps-holds-');
    cleanup = d.cleanup;
    engine = await openEngine({ dataDir: d.dir, threads: 0, sealAgeMs: 0 });
    reads = await load(engine, 7, 400);
    plates = [...new Set(reads.map((r) => r.plate))];
  });
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  const cutoffArb = fc.integer({ min: kT0, max: kT0 + 4 * kDay });

  it('search', async () => {
    await fc.assert(
      fc.asyncProperty(cutoffArb, fc.option(cutoffArb, { nil: undefined }), fc.array(reachArb(plates), { minLength: 1, maxLength: 4 }), searchQueryArb(plates, kT0, 4),
        async (cutoff, otherCutoff, reaches, query: SearchQuery) => {
          const scopes: TenantScope[] = [{ tenant: 'pd-a', minTs: cutoff }];
          if (otherCutoff !== undefined) scopes.push({ tenant: 'pd-b', minTs: otherCutoff });
          const held: HeldScope = { tenant: 'pd-a', cutoff, reaches };
          const got = await searchWithHeld(engine, scopes, query, undefined, held);
          const want = referenceSearch(visible(reads, scopes, held), all(scopes), query);
          expect(got.total).toBe(want.total);
          expect(got.truncated).toBe(want.truncated);
          expect(got.hits).toEqual(want.hits);
        }),
      { numRuns: Number(process.env.PS_RUNS ?? 120) },
    );
  });

  it('hot-list search', async () => {
    await fc.assert(
      fc.asyncProperty(cutoffArb, fc.array(reachArb(plates), { minLength: 1, maxLength: 4 }), fc.array(plateMatchArb(plates), { minLength: 1, maxLength: 8 }), filterArb(kT0, 4), fc.integer({ min: 1, max: 20 }),
        async (cutoff, reaches, entries, filter, limitPerPlate) => {
          const seen = new Set<string>();
          const uniq = entries.filter((e) => !seen.has(e.pattern) && seen.add(e.pattern));
          const query: HotlistQuery = { entries: uniq, filter, limitPerPlate };
          const scopes: TenantScope[] = [{ tenant: 'pd-a', minTs: cutoff }, { tenant: 'pd-b', minTs: kT0 + kDay }];
          const held: HeldScope = { tenant: 'pd-a', cutoff, reaches };
          const got = await searchHotlistWithHeld(engine, scopes, query, undefined, held);
          const want = referenceHotlistSearch(visible(reads, scopes, held), all(scopes), query);
          expect({ matches: got.matches }).toEqual(want);
        }),
      { numRuns: Number(process.env.PS_HL_RUNS ?? 40) },
    );
  });

  it('without a held scope, or without retention, it is the plain search', async () => {
    const query: SearchQuery = { filter: {}, limit: 50 };
    const scopes = [{ tenant: 'pd-a', minTs: kT0 + 2 * kDay }];
    const plain = await engine.search(scopes, query);
    expect((await searchWithHeld(engine, scopes, query, undefined, undefined)).hits).toEqual(plain.hits);
    const noRetention = [{ tenant: 'pd-a', minTs: -Infinity }];
    const r = await searchWithHeld(engine, noRetention, query, undefined, { tenant: 'pd-a', cutoff: -Infinity, reaches: [{}] });
    expect(r.total).toBe((await engine.search(noRetention, query)).total);
    expect(r.heldTotal).toBe(0);
  });
});

describe('the held region', () => {
  it('pieces are disjoint and cover exactly what the holds reach below the cutoff', () => {
    const plateArb = fc.constantFrom('A1', 'B2', 'C3', 'D4');
    fc.assert(
      fc.property(
        fc.array(fc.record({ plates: fc.option(fc.subarray(['A1', 'B2', 'C3'], { minLength: 1 }), { nil: undefined }), from: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }), to: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }) }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 110 }), plateArb, fc.integer({ min: -5, max: 110 }),
        (raw, cutoff, plate, ts) => {
          const reaches = raw.map((r) => {
            const out: HoldReach = {};
            if (r.plates) out.plates = r.plates;
            if (r.from !== undefined) out.from = r.from;
            if (r.to !== undefined) out.to = r.to;
            return out;
          });
          const inPieces = heldPieces({ tenant: 't', cutoff, reaches })
            .filter((p) => ts >= p.from && ts < p.to && (p.plates === undefined || p.plates.includes(plate))).length;
          const want = ts < cutoff && reaches.some((r) => holdReaches(r, plate, ts)) ? 1 : 0;
          expect(inPieces).toBe(want);
          expect(compileHeld(reaches)(plate, ts)).toBe(reaches.some((r) => holdReaches(r, plate, ts)));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('retention with holds on disk', () => {
  it('a drop keeps exactly the reads within retention and the held ones, in live rows and shards, across reopen', async () => {
    const plateSample = (rs: StoredRead[]) => [...new Set(rs.map((r) => r.plate))];
    for (const seed of [3, 4, 5]) {
      const d = await tempDataDir('ps-holds-drop-');
      let engine = await openEngine({ dataDir: d.dir, threads: 0, sealAgeMs: 0 });
      try {
        const reads = await load(engine, seed * 10, 300);
        const ps = plateSample(reads);
        const reaches: HoldReach[] = [
          { plates: ps.slice(0, 3) },
          { from: kT0 + Math.floor(kDay / 2), to: kT0 + kDay + seed * 3_600_000 },
          { plates: [ps[5]!, ps[6]!], from: kT0 + 2 * kDay, to: kT0 + 3 * kDay },
        ];
        const cutoff = kT0 + 2 * kDay + seed * 7_200_000; // mid-day: whole days and a straddling one
        const isHeld = compileHeld(reaches);
        const keep = (r: StoredRead) => r.tenant !== 'pd-a' || r.ts >= cutoff || isHeld(r.plate, r.ts);
        const res = await engine.dropBefore('pd-a', cutoff, { revision: 'r1', reaches });
        expect(res.readsDeleted).toBe(reads.filter((r) => !keep(r)).length);
        expect(res.readsDeleted).toBeGreaterThan(0);
        const check = async () => {
          const everything = await engine.search(kTenants.map((t) => ({ tenant: t, minTs: -Infinity })), { filter: {}, limit: 10_000 });
          const want = reads.filter(keep);
          expect(everything.total).toBe(want.length);
          expect(new Set(everything.hits.map((h) => h.id))).toEqual(new Set(want.map((r) => r.id)));
        };
        await check();
        // a second drop with the same holds deletes nothing more
        expect((await engine.dropBefore('pd-a', cutoff, { revision: 'r1', reaches })).readsDeleted).toBe(0);
        await engine.close();
        engine = await openEngine({ dataDir: d.dir, threads: 0, sealAgeMs: 0 });
        expect(engine.stats().corruptFiles).toEqual([]);
        await check();
        // released: the next drop deletes what only the holds kept
        const after = await engine.dropBefore('pd-a', cutoff, undefined);
        expect(after.readsDeleted).toBe(reads.filter((r) => r.tenant === 'pd-a' && r.ts < cutoff && isHeld(r.plate, r.ts)).length);
        const left = await engine.search([{ tenant: 'pd-a', minTs: -Infinity }], { filter: { to: cutoff }, limit: 1 });
        expect(left.total).toBe(0);
      } finally {
        await engine.close();
        await d.cleanup();
      }
    }
  });
});
