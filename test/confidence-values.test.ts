/**
 * The confidence lane by its values (docs/storage-v2.md, "Confidence by its values, the code → id maps by
 * Elias–Fano"): a shard's u16 confidence lane is held at load as codes into a table of the values it holds, at the
 * exact bits the table needs (src/store/shard-confidence.ts), when those are at most `confidenceLimits.bits`; every
 * reader goes through confidenceLane (src/core/confidence-lane.ts): hits on the calling thread and the pool, the
 * hot-list tasks' kept fields on the pool's workers, export, the rewrites of compaction and retention.
 *
 * Tenants (four seals each): pd-k thousandths in half its rows (≤ 1,002 values: 10 bits), pd-h hundredths in every row (7 bits),
 * pd-one one value (1 bit), pd-f values that are not k / 10,000 (an f64 lane, kept), pd-n none (no lane). Held to
 * the plain reference on random data on the calling thread, reopened on the pool (the shard-open workers pack; a hot
 * list's shard tasks read the confidences on the workers) with
 * the limit at 7 bits (pd-k keeps its u16 lane), after compaction, a retention rewrite on the calling thread (rows
 * read back through the packed lane) and a reopen.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { Read, StoredRead } from '../src/model/read.js';
import { parseReadId } from '../src/store/ids.js';
import { confidenceLimits } from '../src/store/shard-confidence.js';
import { bitsFor, packedLaneBytes } from '../src/core/packed-lanes.js';
import { kConfidenceScale, kNoConfidence } from '../src/core/confidence-lane.js';
import { referenceHotlistSearch } from '../src/query/reference/index.js';
import type { LoadedShard } from '../src/store/shard-loader.js';
import { kDay, kT0, makeReads, rng } from './helpers/engine-data.js';
import { dropBeforeOnThisThread, engineFixture, frequentPlates, type EngineFixture } from './helpers/reference-checks.js';
import { checkCoveredShards } from './helpers/covered-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

const kDefaultBits = confidenceLimits.bits;
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  confidenceLimits.bits = kDefaultBits;
});

const kDays = 3;
const kTenants = ['pd-k', 'pd-h', 'pd-one', 'pd-f', 'pd-n'];

/** `reads` with their confidences made over by `conf` (undefined: none). */
function withConfidence(reads: Read[], seed: number, conf: (r: () => number) => number | undefined): Read[] {
  const r = rng(seed);
  return reads.map((read) => {
    const { confidence: _, ...rest } = read;
    const c = conf(r);
    return c === undefined ? rest : { ...rest, confidence: c };
  });
}

type Form = 'packed' | 'u16' | 'f64' | 'none';

/**
 * Every shard's confidence lane: packed at bits(distinct values − 1) when that fits `confidenceLimits.bits` and the
 * codes and table fit in the u16 lane's bytes (its table the shard's values ascending, its room ending before the
 * next lane), else u16; f64 and absent lanes as they
 * were; every row's confidence read back as the tenant stored it under that seq. Returns the forms by tenant.
 */
function expectLanes(f: EngineFixture): Map<string, Form[]> {
  const confOf = new Map(f.reads.map((r) => [`${r.tenant}/${parseReadId(r.id)!.seq}`, r.confidence]));
  const forms = new Map<string, Form[]>();
  for (const [tenant, store] of internals(f.engine).stores) {
    const list: Form[] = [];
    forms.set(tenant, list);
    for (const s of store.shards) {
      const h = s.view.header, lane = h.lanes.confidence;
      const want = (i: number) => confOf.get(`${tenant}/${s.seqAt(i)}`);
      const read = s.view.confidenceReader();
      let bad = 0;
      for (let i = 0; i < s.rows; i++) if (read(i) !== want(i)) bad++;
      expect(bad, s.file).toBe(0);
      if (!lane) {
        list.push('none');
        continue;
      }
      if (lane.width === 8) {
        list.push('f64');
        continue;
      }
      const values = [...new Set(Array.from({ length: s.rows }, (_, i) => {
        const c = want(i);
        return c === undefined ? kNoConfidence : Math.round(c * kConfidenceScale);
      }))].sort((a, b) => a - b);
      const bits = bitsFor(values.length - 1);
      // packed when the bits fit the limit and the codes, their padding and the table, each 64-aligned, fit in the
      // u16 lane's bytes
      const up = (b: number) => Math.ceil(b / 64) * 64;
      const room = up(up(Math.ceil((s.rows * bits) / 8) + 16) + 2 * values.length);
      if (bits > confidenceLimits.bits || room > 2 * s.rows) {
        expect(lane.width, s.file).toBe(2);
        expect(h.lanes.confidenceValues, s.file).toBeUndefined();
        list.push('u16');
        continue;
      }
      expect([lane.width, lane.bits, lane.bytes], s.file).toEqual([0, bits, Math.ceil((s.rows * bits) / 8)]);
      const table = h.lanes.confidenceValues!;
      expect(table.at - lane.at, s.file).toBeGreaterThanOrEqual(packedLaneBytes(s.rows, bits));
      expect([...new Uint16Array(s.view.bytes.buffer, s.view.ptr('confidenceValues'), table.bytes / 2)], s.file).toEqual(values);
      expect(nextAt(s, table.at) - table.at, s.file).toBeGreaterThanOrEqual(table.bytes);
      list.push('packed');
    }
  }
  return forms;
}

/** The first lane or table of `s` after offset `at`. */
function nextAt(s: LoadedShard, at: number): number {
  const h = s.view.header;
  return Math.min(s.view.bytes.length, ...[...Object.values(h.lanes), h.bases, h.seqBlocks].filter((l) => l !== undefined && l.at > at).map((l) => l!.at));
}

async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const data: Array<[string, Read[]]> = [
    ['pd-k', makeReads({ seed: 801, reads: 36_000, vehicles: 6000, days: kDays })],
    ['pd-h', withConfidence(makeReads({ seed: 802, reads: 4500, vehicles: 800, days: kDays }), 812, (r) => Math.round(r() * 100) / 100)],
    ['pd-one', withConfidence(makeReads({ seed: 803, reads: 1500, vehicles: 500, days: kDays }), 813, () => 0.5)],
    ['pd-f', withConfidence(makeReads({ seed: 804, reads: 1500, vehicles: 500, days: kDays }), 814, (r) => (r() < 0.5 ? undefined : r()))],
    ['pd-n', withConfidence(makeReads({ seed: 805, reads: 1500, vehicles: 500, days: kDays }), 815, () => undefined)],
  ];
  for (const [tenant, reads] of data) {
    // four seals a tenant: four shards a day (compaction merges them)
    for (let k = 0; k < 4; k++) {
      const part = reads.slice((k * reads.length) / 4, ((k + 1) * reads.length) / 4);
      for (let i = 0; i < part.length; i += 5000) out.push(...(await engine.append(tenant, part.slice(i, i + 5000))).stored);
      await engine.seal(tenant);
    }
  }
  return out;
}

const every = (forms: Map<string, Form[]>, tenant: string) => [...new Set(forms.get(tenant))];

/**
 * A hot list of pd-k's 60 most read plates on the pool: its shard tasks read their kept rows' confidences on the
 * workers (hotlist-task.ts keptFields, through the lane as the task names it), equal to the reference.
 */
async function checkPooledHotlist(f: EngineFixture): Promise<void> {
  const scopes = [{ tenant: 'pd-k', minTs: 0 }];
  const entries = frequentPlates(f.reads.filter((r) => r.tenant === 'pd-k'), 60).map((pattern) => ({ pattern, mode: 'exact' as const, maxEdits: 0, ocr: false, transpositions: false }));
  const query = { entries, filter: {}, limitPerPlate: 30 };
  const tasks = f.engine.stats().poolTasks ?? 0;
  const got = await f.engine.searchHotlist(scopes, query);
  expect(got).toEqual(referenceHotlistSearch(f.reads, scopes, query));
  expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  expect(got.matches.flatMap((m) => m.hits).filter((h) => h.confidence !== undefined).length).toBeGreaterThan(100);
}

async function checkAll(f: EngineFixture, runs: number, seed: number): Promise<void> {
  await checkCoveredShards(f, kTenants, kDays, frequentPlates(f.reads, 400), runs, seed);
}

describe('the confidence lane by its values', () => {
  const f = {} as EngineFixture;
  // on the pool: the shard-open workers too (they re-encode the lanes), however small the data dir
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0, openThreads: threads } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-confidence-', () => open(0), load);

  it('packs each u16 lane at the bits of its values and answers as the reference', async () => {
    const forms = expectLanes(f);
    expect(Object.fromEntries(kTenants.map((t) => [t, every(forms, t)]))).toEqual({ 'pd-k': ['packed'], 'pd-h': ['packed'], 'pd-one': ['packed'], 'pd-f': ['f64'], 'pd-n': ['none'] });
    const bits = (t: string) => new Set(shardsOf(f.engine, t).map((s) => s.view.header.lanes.confidence!.bits));
    expect([bits('pd-k'), bits('pd-h'), bits('pd-one')]).toEqual([new Set([10]), new Set([7]), new Set([1])]);
    await checkAll(f, 30, 8101);
  }, 600_000);

  it('reopened on the pool with the limit at 7 bits: pd-k keeps its u16 lane, pd-h is packed on the shard-open workers', async () => {
    confidenceLimits.bits = 7;
    await f.engine.close();
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    const forms = expectLanes(f);
    expect([every(forms, 'pd-k'), every(forms, 'pd-h'), every(forms, 'pd-one')]).toEqual([['u16'], ['packed'], ['packed']]);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 24, 8201);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 600_000);

  it('after four more seals and compaction (pool), a retention rewrite on the calling thread, reopened', async () => {
    // reopened at the default limit: the shards compacted in the background under 7 bits are packed again
    confidenceLimits.bits = kDefaultBits;
    await f.engine.close();
    f.engine = await open(2);
    const more = makeReads({ seed: 806, reads: 8000, vehicles: 6000, days: kDays });
    for (let k = 0; k < 4; k++) {
      f.reads.push(...(await f.engine.append('pd-k', more.slice(2000 * k, 2000 * (k + 1)))).stored);
      await f.engine.seal('pd-k');
    }
    await internals(f.engine).compact();
    await internals(f.engine).plateIndexesSettled();
    expect(shardsOf(f.engine, 'pd-k').length).toBeLessThan(4 * kDays);
    // (a shard of the last seals that no compaction merged may be too small for its table: expectLanes held its form)
    const forms = expectLanes(f);
    expect(every(forms, 'pd-k')).toContain('packed');
    expect(every(forms, 'pd-h')).toEqual(['packed']);
    await checkAll(f, 16, 8301);
    await checkPooledHotlist(f);
    await dropBeforeOnThisThread(f, ['pd-k', 'pd-h'], kT0 + Math.floor(1.5 * kDay));
    await internals(f.engine).plateIndexesSettled();
    expectLanes(f);
    await checkAll(f, 16, 8401);
    await f.engine.close();
    f.engine = await open(0);
    await internals(f.engine).plateIndexesSettled();
    expect(f.engine.stats().reads).toBe(f.reads.length);
    const reopened = expectLanes(f);
    expect(every(reopened, 'pd-k')).toContain('packed');
    expect(every(reopened, 'pd-h')).toEqual(['packed']);
    await checkAll(f, 16, 8501);
  }, 900_000);
});
