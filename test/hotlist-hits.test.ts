/**
 * The hot-list answer's hits are built without `materialise` (src/query/shard-hits.ts: literal shapes, plates
 * reused from the entry or decoded from the slot, ids from char codes) and merged from the tasks' sorted runs
 * (src/query/hotlist-join.ts RunMerge). Each entry's hits must still be exactly what a search for that entry
 * returns (src/query/executor.ts materialise): the same values AND the same keys in the same order (compared
 * as JSON text), over reads with every combination of the optional fields (region, confidence, make, color,
 * client readId), plates read more often than any limit spread over many shards, several tenants (ids break
 * ties across tenants by ordinal), sealed shards and live rows, exact / fuzzy / OCR entries and random
 * filters and limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { parseHotlistSearchRequest } from '../src/query/parse.js';
import { slotString } from '../src/store/plate-key.js';
import { filterArb, kDay, kT0, makeReads, mutatePlate, randomPlate, rng, tempDataDir } from './helpers/engine-data.js';

const kTenants = ['pd-a', 'pd-b', 'pd-c'];
const kDays = 3;
/** Read far more often than the limits below, in every shard. */
const kHeavy = ['HV1', 'HEAVY22'];

/** Reads where each optional field is present or absent independently (makeReads ties some together). */
function reads(seed: number, tenant: string): Read[] {
  const r = rng(seed);
  const base = makeReads({ seed, reads: 700, vehicles: 50, days: kDays });
  const heavy = Array.from({ length: 400 }, (_, i): Read => ({
    ...base[i % base.length]!,
    plate: kHeavy[i % kHeavy.length]!,
    // many at one instant: ties on ts broken by id
    ts: i % 4 === 0 ? kT0 + kDay : kT0 + Math.floor(r() * kDays * kDay),
  }));
  const all = [...base, ...heavy];
  all.forEach((read, i) => {
    delete read.region;
    delete read.confidence;
    delete read.make;
    delete read.color;
    delete read.readId;
    if (r() < 0.6) read.region = r() < 0.5 ? 'CA' : 'NV';
    if (r() < 0.8) read.confidence = Math.round(r() * 1000) / 1000;
    if (r() < 0.5) read.make = r() < 0.5 ? 'Toyota' : 'HONDA';
    if (r() < 0.5) read.color = r() < 0.5 ? 'white' : 'RED';
    if (r() < 0.15) read.readId = `${tenant}-client-${i}`;
  });
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

describe('hot-list hits equal the hits of a search per entry, key order included', () => {
  let engine: Engine;
  let cleanup: () => Promise<void>;
  const stored: StoredRead[] = [];
  beforeAll(async () => {
    const dir = await tempDataDir('ps-hotlist-hits-');
    cleanup = dir.cleanup;
    // poolMinRows 0: every shard task goes to the workers; small arenas: shards in several
    engine = await openEngine({ dataDir: dir.dir, threads: 2, poolMinRows: 0, arenaBytes: 512 * 1024, sealAgeMs: 0 });
    for (const [t, tenant] of kTenants.entries()) {
      const rs = reads(41 + t, tenant);
      for (let i = 0, b = 0; i < rs.length; i += 100, b++) {
        stored.push(...(await engine.append(tenant, rs.slice(i, i + 100))).stored);
        // a seal every other batch, the last batches stay live
        if (b % 2 === 1 && i + 100 < rs.length - 150) await engine.seal(tenant);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  it('the fixture has every optional field present and absent, and heavy plates in many shards', () => {
    for (const k of ['region', 'confidence', 'make', 'color', 'readId'] as const) {
      expect(stored.some((r) => r[k] !== undefined)).toBe(true);
      expect(stored.some((r) => r[k] === undefined)).toBe(true);
    }
    expect(engine.stats().shards).toBeGreaterThan(12);
  });

  it('random lists, matches, filters and limits', async () => {
    const present = [...new Set(stored.map((r) => r.plate))];
    const entry = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...kHeavy) },
      { weight: 5, arbitrary: fc.constantFrom(...present) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...present), fc.nat()).map(([p, s]) => mutatePlate(rng(s), p)) },
      { weight: 1, arbitrary: fc.nat().map((s) => randomPlate(rng(s))) },
    );
    const match = fc.oneof(
      fc.constant({}),
      fc.record({ match: fc.constant('fuzzy'), maxEdits: fc.integer({ min: 0, max: 2 }), transpositions: fc.boolean() }),
    ).chain((m) => fc.boolean().map((ocr) => (ocr ? { ...m, ocr } : m)));
    const scopes = fc.subarray(kTenants, { minLength: 1 }).map((ts): TenantScope[] => ts.map((tenant) => ({ tenant, minTs: 0 })));
    const filter = fc.oneof({ weight: 1, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 2, arbitrary: filterArb(kT0, kDays) });
    const limit = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(100), fc.constant(1000));
    let compared = 0;
    // the search above builds its hits through the same ShardHits and hit shapes (src/query/hit-shapes.ts), so a
    // field written wrong there would be equal on both sides: each hit is also held to the read stored under its id
    const byId = new Map(stored.map((r) => [r.id, r]));
    await fc.assert(
      fc.asyncProperty(scopes, fc.array(entry, { minLength: 1, maxLength: 8 }), match, filter, limit, async (sc, plates, m, f, limitPerPlate) => {
        const { query } = parseHotlistSearchRequest({ plates, ...m, limitPerPlate, purpose: 'test', case: 'hotlist-hits' });
        query.filter = f;
        const got = await engine.searchHotlist(sc, query);
        const byEntry = new Map(got.matches.map((x) => [x.entry, x]));
        for (const e of query.entries) {
          const want = await engine.search(sc, { plate: e, filter: f, limit: limitPerPlate });
          const x = byEntry.get(e.pattern);
          expect(x?.total ?? 0).toBe(want.total);
          expect(JSON.stringify(x?.hits ?? [])).toBe(JSON.stringify(want.hits));
          if (x) expect(x.truncated).toBe(want.truncated);
          for (const h of x?.hits ?? []) {
            const { lat, lon, distance: _, ...rest } = h;
            const read = byId.get(h.id)!;
            expect(rest).toEqual({ ...read, lat: undefined, lon: undefined });
            // coordinates are stored in 1e-7 degrees
            expect(Math.abs(lat - read.lat)).toBeLessThan(1e-6);
            expect(Math.abs(lon - read.lon)).toBeLessThan(1e-6);
          }
          compared += x?.hits.length ?? 0;
        }
      }),
      { numRuns: Number(process.env.PS_HL_HITS_RUNS ?? 60), seed: 12 },
    );
    expect(compared).toBeGreaterThan(1000);
  }, 240_000);
});

describe('slotString', () => {
  it('decodes every plate length 1–10 (and a longer slot) as the spread decode does', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCXYZ0189'), minLength: 1, maxLength: 15 }), fc.nat(3), (p, at) => {
        const slots = new Uint8Array(16 * 4);
        const base = at * 16;
        for (let j = 0; j < p.length; j++) slots[base + j] = p.charCodeAt(j);
        slots[base + 15] = p.length;
        expect(slotString(slots, base)).toBe(p);
      }),
      { numRuns: 2000 },
    );
  });
});
