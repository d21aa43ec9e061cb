/**
 * Live search paths of issue 11 against the reference, while reads keep arriving: prefix patterns matched
 * through a generation's sorted plate order (src/store/live-plate-order.ts) with an unsorted tail that grows
 * between queries until the order is rebuilt, and plate chain walks bounded to the blocks a time window
 * reaches (src/store/live-plate-chain.ts), over enough distinct plates that prefix ranges are narrow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { ArenaSet } from '../src/core/arena.js';
import { LiveRows } from '../src/store/live-columns.js';
import { livePlateOrder, prefixSpan } from '../src/store/live-plate-order.js';
import { referenceSearch } from '../src/query/reference/index.js';
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

