/**
 * A hot list's answer kept as columns while the engine merges it and written as text after (src/model/hotlist-sink.ts,
 * src/query/kept-hit-writer.ts, src/server/hotlist-answer.ts) against the definition: the reference's
 * matches with their hits through `hitToJson`, `JSON.stringify`d, byte for byte. Random reads with every
 * optional field in its rare combinations (make without color, no confidence, confidences of both lane widths,
 * client read ids), heavy plates read far more often than any limit, sealed shards in several arenas and live
 * rows of two tenants; random lists (heavy, present, misread, absent, duplicated; exact, fuzzy k = 0–2, OCR,
 * wildcard), filters, retention floors and limits; on the worker pool and on the calling thread.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { Hit, ReadFilter, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { parseHotlistSearchRequest } from '../src/query/parse.js';
import { referenceHotlistSearch } from '../src/query/reference/index.js';
import { hotlistAnswerBytes } from '../src/server/hit-bytes.js';
import { hitToJson } from '../src/server/hit-json.js';
import { HotlistAnswerColumns } from '../src/server/hotlist-answer.js';
import { filterArb, kDay, kT0, makeReads, mutatePlate, randomPlate, rng, tempDataDir } from './helpers/engine-data.js';
import { appendShuffled, fuzzyMatchArb } from './helpers/hotlist-data.js';

const kTenants = ['pd-a', 'pd-b'];
const kDays = 4;
const kHeavy = ['HVY1', 'HVY22'];
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** Counts what the engine hands over: sealed reads as fields, other hits as objects. */
class CountingColumns extends HotlistAnswerColumns {
  reads = 0;
  objects = 0;
  override read(...a: Parameters<HotlistAnswerColumns['read']>): void {
    this.reads++;
    super.read(...a);
  }
  override hit(h: Hit): void {
    this.objects++;
    super.hit(h);
  }
}

async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  for (const [t, tenant] of kTenants.entries()) {
    const r = rng(70 + t);
    const heavy: Read[] = Array.from({ length: 400 }, (_, i) => ({
      plate: kHeavy[i % kHeavy.length]!, ts: kT0 + Math.floor(r() * kDays * kDay), lat: 37.7 + r() * 0.1, lon: -122.4 + r() * 0.1,
      camera: `cam-${i % 5}`, ...(i % 3 === 0 ? { region: 'CA' } : {}), ...(i % 4 === 0 ? { make: 'Ford' } : {}),
      // the second tenant's confidences are no multiple of 1/10,000: its shards keep an f64 lane
      ...(i % 5 !== 0 ? { confidence: t === 1 ? r() / 3 + 0.5 : Math.round(r() * 100) / 100 } : {}),
      ...(i % 9 === 0 ? { readId: `rid-${t}-${i}` } : {}),
    }));
    out.push(...(await appendShuffled(engine, tenant, [...makeReads({ seed: 60 + t, reads: 900, vehicles: 70, days: kDays }), ...heavy], r)));
  }
  return out;
}

const scopesArb = fc
  .subarray(kTenants, { minLength: 1 })
  .chain((ts) => fc.tuple(...ts.map((t) => fc.record({ tenant: fc.constant(t), minTs: fc.oneof(fc.constant(0), fc.integer({ min: kT0, max: kT0 + kDays * kDay })) }))))
  .map((xs) => xs as TenantScope[]);

function bodyArb(present: readonly string[]) {
  const entry = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...kHeavy) },
    { weight: 5, arbitrary: fc.constantFrom(...present) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...present), fc.nat()).map(([p, s]) => mutatePlate(rng(s), p)) },
    { weight: 1, arbitrary: fc.nat().map((s) => randomPlate(rng(s))) },
    { weight: 1, arbitrary: fc.constantFrom(...present).map((p) => p.toLowerCase()) },
  );
  return fc.record({
    plates: fc.array(entry, { minLength: 1, maxLength: 14 }),
    match: fuzzyMatchArb,
    filter: fc.oneof({ weight: 1, arbitrary: fc.constant<ReadFilter>({}) }, { weight: 2, arbitrary: filterArb(kT0, kDays) }),
    limitPerPlate: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(1000)),
    wildcard: fc.boolean(),
  });
}

describe.each([
  ['the worker pool', 2],
  ['the calling thread', 0],
])('a hot list written as columns on %s = the reference answer through JSON.stringify', (_name, threads) => {
  let engine: Engine;
  let reads: StoredRead[];
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const d = await tempDataDir('ps-hotlist-sink-');
    cleanup = d.cleanup;
    engine = await openEngine({ dataDir: d.dir, threads, poolMinRows: 0, arenaBytes: 512 * 1024, sealAgeMs: 0 });
    reads = await load(engine);
  }, 60_000);
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  it('random lists, filters, floors and limits', async () => {
    const present = [...new Set(reads.map((r) => r.plate))];
    const seen = { reads: 0, objects: 0, truncated: 0 };
    await fc.assert(
      fc.asyncProperty(scopesArb, bodyArb(present), async (scopes, b) => {
        const plates = b.wildcard && !('match' in b.match) ? [...b.plates, `${b.plates[0]!.slice(0, 2).toUpperCase()}*`] : b.plates;
        const { query: parsed } = parseHotlistSearchRequest({ plates, ...b.match, limitPerPlate: b.limitPerPlate, purpose: 'test', case: 'sink' });
        const query = { ...parsed, filter: b.filter };
        const columns = new CountingColumns();
        const got = await engine.searchHotlist(scopes, query, undefined, columns);
        expect(got.written).toBe(true);
        expect(got.matches).toEqual([]);
        const ref = referenceHotlistSearch(reads, scopes, query);
        const matches = ref.matches.map((m) => ({ entry: m.entry, total: m.total, truncated: m.truncated, hits: m.hits.map(hitToJson) }));
        const want = JSON.stringify({ matches, queryId: 'q-1', tookMs: 0.25 });
        expect(text(columns.bytes('q-1', 0.25))).toBe(want);
        // the objects' writer over the same matches says the same (one definition of the frame)
        expect(text(hotlistAnswerBytes({ matches: ref.matches, queryId: 'q-1', tookMs: 0.25 }))).toBe(want);
        expect(columns.resultCount()).toBe(ref.matches.reduce((n, m) => n + m.total, 0));
        seen.reads += columns.reads;
        seen.objects += columns.objects;
        seen.truncated += ref.matches.filter((m) => m.truncated).length;
      }),
      { numRuns: Number(process.env.PS_HL_RUNS ?? 80), seed: 20261205 + threads },
    );
    // sealed reads went as fields, live rows and wildcard entries' hits as objects; heavy plates overflowed
    expect(seen.reads).toBeGreaterThan(1000);
    expect(seen.objects).toBeGreaterThan(20);
    expect(seen.truncated).toBeGreaterThan(10);
  }, 120_000);
});
