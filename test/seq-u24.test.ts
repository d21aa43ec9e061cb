/**
 * seq as u24 offsets from per-block bases in memory (src/store/seq-blocks.ts): a shard whose blocks span 2^16
 * seqs or more (a tenant-day whose reads arrived among many of other days', or a compaction of shards sealed
 * apart) had kept its u32 lane; now it is u24 below 2^24. Ids are (ordinal, seq), so every answer that carries
 * an id or breaks a ts tie by it reads the lane: searches and their cursors, hot lists, analytics, export, and
 * the rewrites (compaction, retention) that read rows back through ShardView. Held to the plain reference on
 * an engine holding u24 and u16 shards, on the calling thread and on the pool, after reopen, after compaction
 * (which turns u16 shards into a u24 one) and after a retention rewrite.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { parseReadId } from '../src/store/ids.js';
import { kDay, kT0, makeReads, searchQueryArb } from './helpers/engine-data.js';
import { checkAnalytics, checkExactPlates, checkExport, checkHotlist, checkPaging, engineFixture, frequentPlates, tenantScopesArb, type EngineFixture } from './helpers/reference-checks.js';
import { internals, shardsOf } from './helpers/engine-internals.js';

const kDays = 2;
const kTenants = ['pd-big', 'pd-wide', 'pd-small'];

/** The seq width of every shard of `tenant`, and every row's seq read back is one of the tenant's stored ids'. */
function expectSeqWidth(f: EngineFixture, tenant: string, width: 2 | 3, shards?: number): void {
  const list = shardsOf(f.engine, tenant);
  if (shards !== undefined) expect(list.length, tenant).toBe(shards);
  const seqs = new Set(f.reads.filter((r) => r.tenant === tenant).map((r) => parseReadId(r.id)!.seq));
  for (const s of list) {
    expect(s.layout.seqWidth, s.file).toBe(width);
    let bad = 0;
    for (let i = 0; i < s.rows; i++) if (!seqs.has(s.seqAt(i))) bad++;
    expect(bad, s.file).toBe(0);
  }
}

/**
 * pd-big: 70,000 reads over two days appended in random ts order: every block of a day's rows spans ~70,000
 * seqs (u24). pd-wide: four rounds of 18,000 sealed apart (u16 shards, each spanning 18,000), which
 * compaction (in the background after the fourth seal of a day, or here) merges into one shard a day
 * spanning 72,000 (u24). pd-small: 6,000 in ts order (u16).
 */
async function load(engine: Engine): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  const append = async (tenant: string, reads: ReturnType<typeof makeReads>) => {
    for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
    await engine.seal(tenant);
  };
  await append('pd-big', makeReads({ seed: 401, reads: 70_000, vehicles: 20_000, days: kDays }));
  for (let round = 0; round < 4; round++) {
    await append('pd-wide', makeReads({ seed: 410 + round, reads: 18_000, vehicles: 6_000, days: kDays }));
    if (round < 3) expect(shardsOf(engine, 'pd-wide').every((s) => s.layout.seqWidth === 2)).toBe(true);
  }
  await internals(engine).compact('pd-wide');
  await append('pd-small', makeReads({ seed: 420, reads: 6_000, vehicles: 2_000, days: kDays }).sort((a, b) => a.ts - b.ts));
  return out;
}

const scopesArb = tenantScopesArb(kTenants, kDays);

/** Cursors walked to the end (ids carry seq). */
function checkSeqPaging(f: EngineFixture, plates: string[], runs: number, seed: number) {
  const queryArb = fc.oneof(searchQueryArb(plates, kT0, kDays), searchQueryArb(plates, kT0, kDays).map((q) => ({ ...q, filter: {} })));
  return checkPaging(f, scopesArb, queryArb, runs, seed);
}

async function checkAll(f: EngineFixture, runs: number): Promise<void> {
  const plates = frequentPlates(f.reads);
  await fc.assert(
    fc.asyncProperty(scopesArb, searchQueryArb(plates, kT0, kDays), async (scopes, query: SearchQuery) => {
      expect(await f.engine.search(scopes, query)).toEqual(referenceSearch(f.reads, scopes, query));
    }),
    { numRuns: runs, seed: 5201 },
  );
  await checkSeqPaging(f, plates, Math.ceil(runs / 3), 5202);
  await checkHotlist(f, scopesArb, plates, kDays, Math.ceil(runs / 3), 5203);
  await checkAnalytics(f, scopesArb, Math.ceil(runs / 3), 5204);
  await checkExport(f, kTenants);
  // exact plates read often: whole answers, in (ts, id) order
  const scopes = kTenants.map((tenant) => ({ tenant, minTs: 0 }));
  await checkExactPlates(f, scopes, plates.slice(0, 30));
}

describe('seq as u24 in memory (blocks spanning 2^16 seqs or more)', () => {
  const f = {} as EngineFixture;
  const open = (threads: number) => openEngine({ dataDir: f.dir, threads, ...(threads ? { poolMinRows: 0 } : {}), sealAgeMs: 0, sealRows: 1e9 });
  engineFixture(f, 'ps-seq24-', () => open(0), load);

  it('narrows to u24 where blocks span 2^16 seqs or more, u16 elsewhere, and answers as the reference', async () => {
    expectSeqWidth(f, 'pd-big', 3, kDays);
    expectSeqWidth(f, 'pd-wide', 3, kDays);
    expectSeqWidth(f, 'pd-small', 2, kDays);
    await checkAll(f, 36);
  }, 300_000);

  it('after reopening, on the worker pool', async () => {
    await f.engine.close();
    f.engine = await open(2);
    await internals(f.engine).plateIndexesSettled();
    expectSeqWidth(f, 'pd-big', 3, kDays);
    const tasks = f.engine.stats().poolTasks ?? 0;
    await checkAll(f, 30);
    expect(f.engine.stats().poolTasks).toBeGreaterThan(tasks);
  }, 300_000);

  it('after a retention rewrite of u24 shards (one made by compaction), and reopened', async () => {
    // a cut inside day 2: that day's shards are rewritten from the rows they keep (read back through the u24 lane)
    const cutoff = kT0 + Math.floor(1.5 * kDay);
    for (const tenant of ['pd-big', 'pd-wide']) {
      const res = await f.engine.dropBefore(tenant, cutoff);
      expect(res.readsDeleted).toBe(f.reads.filter((r) => r.tenant === tenant && r.ts < cutoff).length);
      f.reads = f.reads.filter((r) => !(r.tenant === tenant && r.ts < cutoff));
      expectSeqWidth(f, tenant, 3, 1);
    }
    await checkAll(f, 24);
    await f.engine.close();
    f.engine = await open(0);
    expect(f.engine.stats().corruptFiles).toEqual([]);
    expect(f.engine.stats().reads).toBe(f.reads.length);
    expectSeqWidth(f, 'pd-wide', 3, 1);
    expectSeqWidth(f, 'pd-big', 3, 1);
    await checkAll(f, 18);
  }, 300_000);
});
