/**
 * A scan's page written to the JSON answer from its kept rows (src/query/kept-page.ts, "pending" in
 * src/model/hit-sink.ts) against the definition: the reference's hits through `hitToJson`, `JSON.stringify`d,
 * byte for byte, and the cursor made from the pending page's last key equal to the one made from the
 * reference's last hit. Random queries of every kind (no plate, exact, wildcard, contains, fuzzy, OCR; bbox,
 * radius, polygon, labels, time), over sealed shards and live rows of two tenants with retention floors and
 * page boundaries, on the calling thread and through the worker pool. Then a page's shards held across a
 * retention drop that frees them: the page written after the drop is the page from before it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchKey, SearchQuery, TenantScope } from '../src/model/query.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { SearchAnswerWriter } from '../src/server/hit-bytes.js';
import { hitToJson } from '../src/server/hit-json.js';
import { kDay, kT0, makeReads, searchQueryArb, tempDataDir } from './helpers/engine-data.js';

const kDays = 4;
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

async function append(engine: Engine, tenant: string, reads: Read[], into: StoredRead[], seal: boolean): Promise<void> {
  for (let i = 0; i < reads.length; i += 400) {
    into.push(...(await engine.append(tenant, reads.slice(i, i + 400))).stored);
    if (seal) await engine.seal(tenant);
  }
}

/** The writer's answer for `query` (written, pending or built), and the page's last key. */
async function answer(engine: Engine, scopes: TenantScope[], query: SearchQuery): Promise<{ json: string; last: SearchKey | undefined; how: 'written' | 'pending' | 'built' }> {
  const w = new SearchAnswerWriter();
  const r = await engine.search(scopes, query, undefined, w);
  let last: SearchKey | undefined;
  let how: 'written' | 'pending' | 'built';
  if (r.written) {
    how = 'written';
    expect(r.truncated).toBe(false);
  } else if (r.pending) {
    how = 'pending';
    expect(r.hits).toEqual([]);
    last = r.pending.last;
    r.pending.writeTo(w);
  } else {
    how = 'built';
    w.begin(r.hits.length);
    for (const h of r.hits) w.hit(h);
    const h = r.hits[r.hits.length - 1];
    last = h && { distance: h.distance, ts: h.ts, id: h.id };
  }
  const json = text(w.end({ total: r.total, truncated: r.truncated, next: null, queryId: 'q-1', tookMs: 0.25 }));
  return { json, last, how };
}

const scopesArb = fc.oneof(
  fc.constant<TenantScope[]>([{ tenant: 'pd-a', minTs: 0 }]),
  fc.tuple(fc.integer({ min: kT0, max: kT0 + kDays * kDay }), fc.constantFrom(0, kT0 + kDay)).map(([a, b]): TenantScope[] => [{ tenant: 'pd-a', minTs: a }, { tenant: 'pd-b', minTs: b }]),
);

/** Random searches, some after a page boundary: the writer's bytes and the last key = the reference's. */
async function check(engine: Engine, reads: StoredRead[], runs: number, seed: number): Promise<Record<'written' | 'pending' | 'built', number>> {
  const plates = [...new Set(reads.map((r) => r.plate))];
  const seen = { written: 0, pending: 0, built: 0 };
  await fc.assert(
    fc.asyncProperty(scopesArb, searchQueryArb(plates, kT0, kDays), fc.nat(40), async (scopes, q, skip) => {
      // half the time a page after the first `skip` hits of the unpaged answer (a cursor's page)
      const full = referenceSearch(reads, scopes, { ...q, limit: 10_000 });
      const at = full.hits[skip % (full.hits.length + 1) - 1];
      const query: SearchQuery = skip % 2 && at ? { ...q, after: { distance: at.distance, ts: at.ts, id: at.id } } : q;
      const got = await answer(engine, scopes, query);
      seen[got.how]++;
      const ref = referenceSearch(reads, scopes, query);
      const tail = { total: ref.total, truncated: ref.truncated, next: null, queryId: 'q-1', tookMs: 0.25 };
      expect(got.json).toBe(JSON.stringify({ hits: ref.hits.map(hitToJson), ...tail }));
      if (got.how !== 'written') {
        const h = ref.hits[ref.hits.length - 1];
        expect(got.last).toEqual(h && { distance: h.distance, ts: h.ts, id: h.id });
      }
    }),
    { numRuns: runs, seed },
  );
  return seen;
}

async function withData(options: { threads: number; poolMinRows?: number }, body: (engine: Engine, reads: StoredRead[]) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDataDir();
  const engine = await openEngine({ dataDir: dir, sealAgeMs: 0, ...options });
  try {
    const reads: StoredRead[] = [];
    const a = makeReads({ seed: 41, reads: 2400, vehicles: 120, days: kDays });
    // a client read id on some reads: a hit does not write it, the shard holds its lane
    a.forEach((r, i) => { if (i % 7 === 0) r.readId = `client-${i}`; });
    await append(engine, 'pd-a', a, reads, true);
    await append(engine, 'pd-b', makeReads({ seed: 42, reads: 900, vehicles: 50, days: kDays }), reads, true);
    await (engine as unknown as { plateIndexesSettled(): Promise<void> }).plateIndexesSettled();
    await body(engine, reads);
  } finally {
    await engine.close();
    await cleanup();
  }
}

describe('a scan\'s page written from its kept rows = the reference answer through JSON.stringify', () => {
  it('sealed shards and live rows of two tenants, on the calling thread', async () => {
    await withData({ threads: 0 }, async (engine, reads) => {
      const sealed = await check(engine, reads, 200, 51);
      expect(sealed.pending).toBeGreaterThan(100);
      // live rows too: their hits are built at once and written by `hit`
      await append(engine, 'pd-a', makeReads({ seed: 43, reads: 300, vehicles: 120, days: kDays }), reads, false);
      expect(engine.stats().liveReads).toBeGreaterThan(0);
      const live = await check(engine, reads, 120, 52);
      expect(live.pending).toBeGreaterThan(60);
    });
  }, 300_000);

  it('through the worker pool', async () => {
    await withData({ threads: 2, poolMinRows: 0 }, async (engine, reads) => {
      const seen = await check(engine, reads, 120, 53);
      expect(seen.pending).toBeGreaterThan(60);
      expect(engine.stats().poolTasks).toBeGreaterThan(0);
    });
  }, 300_000);

  it('a pending page\'s shards outlive a retention drop until it is written', async () => {
    await withData({ threads: 0 }, async (engine, reads) => {
      const scopes: TenantScope[] = [{ tenant: 'pd-a', minTs: 0 }];
      const query: SearchQuery = { filter: { from: kT0, to: kT0 + kDays * kDay }, limit: 500 };
      const want = referenceSearch(reads, scopes, query);
      expect(want.hits.length).toBe(500);
      const w = new SearchAnswerWriter();
      const r = await engine.search(scopes, query, undefined, w);
      // every shard of pd-a dropped (freed, its arena regions reused by the appends below) while the page waits
      await engine.dropBefore('pd-a', kT0 + (kDays + 1) * kDay);
      await append(engine, 'pd-a', makeReads({ seed: 44, reads: 2000, vehicles: 100, days: kDays }), [], true);
      expect((await engine.search(scopes, query)).total).toBeGreaterThan(0);
      r.pending!.writeTo(w);
      const tail = { total: want.total, truncated: want.truncated, next: null, queryId: 'q-1', tookMs: 0.25 };
      expect(text(w.end(tail))).toBe(JSON.stringify({ hits: want.hits.map(hitToJson), ...tail }));
      // written once; a release after it is a no-op
      r.pending!.release();
      expect(() => r.pending!.writeTo(new SearchAnswerWriter())).toThrow();
    });
  }, 300_000);
});
