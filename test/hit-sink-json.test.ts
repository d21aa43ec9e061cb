/**
 * An exact plate's page written to the JSON answer as its rows are read (src/model/hit-sink.ts,
 * src/server/hit-bytes.ts SearchAnswerWriter, src/query/plate-page.ts) against the definition: the
 * reference's hits through `hitToJson`, `JSON.stringify`d, byte for byte. Random reads with every optional
 * field, over sealed shards and live rows of two tenants, with random filters, retention floors and limits on
 * both sides of a plate's row count (above it the engine builds hits as always and the writer takes them).
 * Then the writers' fast paths alone: a coordinate from its 1e-7° integer, a read id from (ordinal, seq).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { PlateMatch, ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { SearchAnswerWriter } from '../src/server/hit-bytes.js';
import { hitToJson } from '../src/server/hit-json.js';
import { JsonBytes, kNumberBytes } from '../src/server/json-bytes.js';
import { readIdOf } from '../src/store/ids.js';
import { filterArb, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const kDays = 5;
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const exact = (pattern: string): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false });

async function append(engine: Engine, tenant: string, reads: Read[], into: StoredRead[], seal: boolean): Promise<void> {
  for (let i = 0; i < reads.length; i += 500) {
    into.push(...(await engine.append(tenant, reads.slice(i, i + 500))).stored);
    if (seal) await engine.seal(tenant);
  }
}

/** Random exact searches: the writer's bytes (the engine's page as read, or its hits) = the reference's answer. */
async function check(engine: Engine, reads: StoredRead[], runs: number, seed: number): Promise<{ written: number; built: number }> {
  const plates = [...new Set(reads.map((r) => r.plate))];
  const floorArb = fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * 86_400_000 }));
  const scopesArb = fc.oneof(
    floorArb.map((minTs): TenantScope[] => [{ tenant: 'pd-a', minTs }]),
    fc.tuple(floorArb, floorArb).map(([a, b]): TenantScope[] => [{ tenant: 'pd-a', minTs: a }, { tenant: 'pd-b', minTs: b }]),
  );
  const filterOrNone = fc.oneof({ weight: 2, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 1, arbitrary: filterArb(kT0, kDays) });
  const limitArb = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(1000));
  const seen = { written: 0, built: 0 };
  await fc.assert(
    fc.asyncProperty(scopesArb, fc.constantFrom(...plates), filterOrNone, limitArb, async (scopes, plate, filter, limit) => {
      const query = { plate: exact(plate), filter, limit };
      const w = new SearchAnswerWriter();
      const r = await engine.search(scopes, query, undefined, w);
      if (r.written) {
        seen.written++;
        expect(r.hits).toEqual([]);
        expect(r.truncated).toBe(false);
      } else if (r.pending) {
        // a plate with more rows than the page: the TopK's kept rows, written when asked (src/query/kept-page.ts)
        seen.built++;
        expect(r.hits).toEqual([]);
        r.pending.writeTo(w);
      } else {
        seen.built++;
        w.begin(r.hits.length);
        for (const h of r.hits) w.hit(h);
      }
      const ref = referenceSearch(reads, scopes, query);
      const tail = { total: ref.total, truncated: ref.truncated, next: null, queryId: 'q-1', tookMs: 0.25 };
      expect(text(w.end(tail))).toBe(JSON.stringify({ hits: ref.hits.map(hitToJson), ...tail }));
    }),
    { numRuns: runs, seed },
  );
  return seen;
}

describe('an exact page written as read = the reference answer through JSON.stringify', () => {
  it('sealed shards and live rows of two tenants, every optional field', async () => {
    const { dir, cleanup } = await tempDataDir();
    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
    try {
      const reads: StoredRead[] = [];
      // few vehicles: plates read a few to a few dozen times over the days, in several shards
      const a = makeReads({ seed: 21, reads: 2500, vehicles: 150, days: kDays });
      // a client read id on some reads: a hit does not write it, the shard holds its lane
      a.forEach((r, i) => { if (i % 7 === 0) r.readId = `client-${i}`; });
      await append(engine, 'pd-a', a, reads, true);
      await append(engine, 'pd-b', makeReads({ seed: 22, reads: 800, vehicles: 60, days: kDays }), reads, true);
      await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
      const sealed = await check(engine, reads, 150, 31);
      expect(sealed.written).toBeGreaterThan(50);
      expect(sealed.built).toBeGreaterThan(10);
      // live rows of the same plates: the page's live hits are built and written by `hit`
      await append(engine, 'pd-a', makeReads({ seed: 21, reads: 300, vehicles: 150, days: kDays }), reads, false);
      expect(engine.stats().liveReads).toBeGreaterThan(0);
      const live = await check(engine, reads, 100, 32);
      expect(live.written).toBeGreaterThan(30);
    } finally {
      await engine.close();
      await cleanup();
    }
  }, 300_000);
});

describe('the writers of a read\'s own values', () => {
  it('e7(v) writes what number(v / 1e7) writes', () => {
    const e7 = fc.oneof(
      fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }),
      fc.integer({ min: -20, max: 20 }),
      fc.integer({ min: -180, max: 180 }).map((d) => d * 10_000_000),
      fc.constantFrom(0, 9, 10, -9, -10, 2 ** 31 - 1, -(2 ** 31)),
    );
    fc.assert(fc.property(e7, (v) => {
      const w = new JsonBytes(8);
      w.reserve(kNumberBytes);
      w.e7(v);
      expect(text(w.bytes())).toBe(JSON.stringify(v / 1e7));
    }), { numRuns: 5000 });
  });

  it('readId(ordinal, seq) writes the JSON string of readIdOf(ordinal, seq)', () => {
    const seq = fc.oneof(fc.integer({ min: 0, max: 2 ** 24 }), fc.maxSafeInteger().map((s) => s % 2 ** 48), fc.constantFrom(0, 2 ** 24 - 1, 2 ** 24, 2 ** 48 - 1));
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), seq, (ordinal, s) => {
      const w = new JsonBytes(8);
      w.reserve(18);
      w.readId(ordinal, s);
      expect(text(w.bytes())).toBe(JSON.stringify(readIdOf(ordinal, s)));
    }), { numRuns: 5000 });
  });
});
