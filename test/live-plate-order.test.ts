/**
 * Live search paths of issue 11 against the reference, while reads keep arriving: prefix patterns matched
 * through a generation's sorted plate order (src/store/live-plate-order.ts) with an unsorted tail that grows
 * between queries until the order is rebuilt, and plate chain walks bounded to the blocks a time window
 * reaches (src/store/live-plate-chain.ts), over enough distinct plates that prefix ranges are narrow; and a
 * page's older blocks counted from the generation's per-plate row counts (src/query/live-task.ts
 * restCounter), with reads arriving while the search runs, against the plate chains and the reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { ArenaSet } from '../src/core/arena.js';
import { LiveRows } from '../src/store/live-columns.js';
import { livePlateOrder, prefixSpan } from '../src/store/live-plate-order.js';
import { plateRowsInView } from '../src/store/live-plate-chain.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { liveMatchCounts } from '../src/query/live-task.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const kTenant = 'pd-a';

describe('live prefix search and bounded chain walks vs the reference, as the dictionary grows', () => {
  let engine: Engine;
  let cleanup: () => Promise<void>;
  const stored: StoredRead[] = [];
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-live-order-');
    cleanup = tmp.cleanup;
    engine = await openEngine({ dataDir: tmp.dir, threads: 0, sealRows: 1e12, sealAgeMs: 0 });
  });
  afterAll(async () => {
    await engine?.close();
    await cleanup?.();
  });

  it('answers equal after each batch (order built, tail matched by the kernels, order rebuilt)', async () => {
    const scopes: TenantScope[] = [{ tenant: kTenant, minTs: 0 }];
    // 60,000 reads of ~15,000 plates over 8 days, appended in 5 batches: the first query builds the order,
    // later batches leave tails below and above the rebuild threshold
    const reads = makeReads({ seed: 11, reads: 60_000, vehicles: 15_000, days: 8, start: kT0 });
    for (let b = 0; b < 5; b++) {
      const batch = reads.slice(b * 12_000, (b + 1) * 12_000);
      stored.push(...(await engine.append(kTenant, batch)).stored);
      const plates = [...new Set(stored.map((r) => r.plate))];
      const prefixes = [plates[b * 7]!.slice(0, 2), plates[b * 13 + 1]!.slice(0, 3), plates.at(-1)!.slice(0, 2), 'ZZZ', plates[5]!.slice(0, 1)];
      for (const pre of prefixes) {
        for (const pattern of [`${pre}*`, `${pre}?*`, `${pre}??`, `${pre}*1`]) {
          for (const filter of [{}, { from: kT0 + 5 * kDay }, { from: kT0 + 2 * kDay, to: kT0 + 3 * kDay }]) {
            for (const limit of [5, 10_000]) {
              const q: SearchQuery = { plate: { pattern, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }, filter, limit };
              const got = await engine.search(scopes, q);
              const want = referenceSearch(stored, scopes, q);
              expect({ pattern, total: got.total, truncated: got.truncated }).toEqual({ pattern, total: want.total, truncated: want.truncated });
              expect(got.hits).toEqual(want.hits);
            }
          }
        }
      }
    }
  }, 600_000);
});

describe('live prefix searches whose older blocks are counted from per-plate counts, vs the reference', () => {
  let engine: Engine;
  let cleanup: () => Promise<void>;
  const stored: StoredRead[] = [];
  // reads in time order (as they arrive): older blocks hold only older reads, so a small page fills from the
  // newest blocks and the rest is only counted; some sealed first, so the search's live part runs after the pool
  const reads = makeReads({ seed: 21, reads: 70_000, vehicles: 3_000, days: 10, start: kT0 }).sort((a, b) => a.ts - b.ts);
  const scopes: TenantScope[] = [{ tenant: kTenant, minTs: 0 }];
  const plates = [...new Set(reads.map((r) => r.plate))];
  const queries = (): SearchQuery[] =>
    [plates[0]!.slice(0, 1), plates[7]!.slice(0, 1), plates[3]!.slice(0, 2), '0'].flatMap((pre) =>
      [`${pre}*`, `${pre}**`, `${pre}?*`].flatMap((pattern) =>
        [{}, { from: kT0 - kDay }, { from: kT0 + 4 * kDay }, { cameras: ['cam-1'] }].flatMap((filter) =>
          [1, 7, 300].map((limit): SearchQuery => ({ plate: { pattern, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }, filter, limit })))));
  beforeAll(async () => {
    const tmp = await tempDataDir('ps-live-count-');
    cleanup = tmp.cleanup;
    engine = await openEngine({ dataDir: tmp.dir, threads: 2, poolMinRows: 0, sealRows: 1e12, sealAgeMs: 0 });
    stored.push(...(await engine.append(kTenant, reads.slice(0, 15_000))).stored);
    await engine.seal();
    for (let i = 15_000; i < 60_000; i += 9_000) stored.push(...(await engine.append(kTenant, reads.slice(i, i + 9_000))).stored);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await cleanup?.();
  });

  it('answers equal, totals exact', async () => {
    const counted0 = liveMatchCounts.counted;
    for (const q of queries()) {
      const got = await engine.search(scopes, q);
      const want = referenceSearch(stored, scopes, q);
      expect({ q, total: got.total, truncated: got.truncated }).toEqual({ q, total: want.total, truncated: want.truncated });
      expect(got.hits).toEqual(want.hits);
    }
    expect(liveMatchCounts.counted - counted0).toBeGreaterThan(20);
  }, 300_000);

  it('counts only the rows of the view planned while reads arrive', async () => {
    const counted0 = liveMatchCounts.counted;
    let next = 60_000;
    for (const q of queries().filter((x) => Object.keys(x.filter).length === 0)) {
      const want = referenceSearch(stored, scopes, q);
      const pending = engine.search(scopes, q);
      // appended while the shards' tasks run on the pool (the live part is searched after them)
      const more = reads.slice(next, next + 200);
      next = next + 200 < reads.length ? next + 200 : 60_000;
      const appended = await engine.append(kTenant, more.map((r) => ({ ...r, ts: r.ts + kDay })));
      const got = await pending;
      expect({ q, total: got.total }).toEqual({ q, total: want.total });
      expect(got.hits).toEqual(want.hits);
      stored.push(...appended.stored);
    }
    expect(liveMatchCounts.counted - counted0).toBeGreaterThan(5);
  }, 300_000);
});

describe('per-plate row counts', () => {
  it('equal each plate chain of a view, while rows are appended after it and across a new generation', () => {
    const live = new LiveRows(new ArenaSet());
    const reads = makeReads({ seed: 13, reads: 30_000, vehicles: 4_000, days: 2, start: kT0 });
    const push = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const r = reads[i]!;
        live.push({ seq: i + 1, plate: r.plate, ts: r.ts, latE7: Math.round(r.lat * 1e7), lonE7: Math.round(r.lon * 1e7), camera: r.camera });
      }
    };
    const check = (view: ReturnType<LiveRows['view']>) => {
      for (let c = 0; c < view.plateCount; c++) expect(plateRowsInView(view, c)).toBe(view.rowsOfPlate(c).length);
    };
    push(0, 12_000);
    const old = live.view();
    push(12_000, 20_000); // the old view's plates gain rows past it, and new plates come
    check(old);
    check(live.view());
    live.keepOnly((g) => g % 3 !== 0);
    push(20_000, 30_000);
    check(live.view());
  });
});

describe('the live plate order', () => {
  it('stays sorted and complete below its covered count as plates arrive, and spans prefixes exactly', () => {
    const live = new LiveRows(new ArenaSet());
    const reads = makeReads({ seed: 12, reads: 40_000, vehicles: 30_000, days: 2, start: kT0 });
    const covered: number[] = [];
    reads.forEach((r, i) => {
      live.push({ seq: i + 1, plate: r.plate, ts: r.ts, latE7: Math.round(r.lat * 1e7), lonE7: Math.round(r.lon * 1e7), camera: r.camera });
      if (i % 2000 !== 1999) return;
      const cols = live.view().cols;
      const order = livePlateOrder(cols);
      covered.push(order.covered);
      const sorted = [...order.sorted].map((c) => cols.plates[c]!);
      expect(sorted).toEqual(cols.plates.slice(0, order.covered).sort());
      for (const prefix of [cols.plates[0]!.slice(0, 1), cols.plates[i % cols.plateCount]!.slice(0, 2), 'ZZZZ']) {
        const [lo, hi] = prefixSpan(cols, order, prefix);
        expect(sorted.slice(lo, hi)).toEqual(sorted.filter((p) => p.startsWith(prefix)));
      }
    });
    // none while the whole dictionary is a small tail; then built, left with a tail while it is small, rebuilt when it is not
    expect(covered[0]).toBe(0);
    expect(Math.max(...covered)).toBeGreaterThan(0);
    expect(covered.some((c, i) => i > 0 && c === covered[i - 1])).toBe(true);
    expect(new Set(covered).size).toBeGreaterThan(2);
  });
});

