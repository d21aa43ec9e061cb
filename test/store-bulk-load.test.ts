/**
 * The bulk load (src/store/bulk-load.ts): reads bulk-loaded in batches, with flushes every few rows (many
 * day shards), give the same export and the same search answers as the same reads appended one batch at a
 * time; readId duplicates are stored once; live rows from before are sealed first and kept; an aborted or
 * uncommitted load leaves nothing behind after a reopen; appends wait out a load with a coded error; a shard
 * put that fails (puts run behind the parsing, one in flight) fails the load, and its abort leaves nothing.
 * All of it with the shards built on the loading thread and on the build thread.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEngine } from '../src/engine/index.js';
import type { Read, StoredRead } from '../src/model/read.js';
import type { SearchQuery } from '../src/model/query.js';
import { StringColumnBuilder, type ReadColumns } from '../src/store/read-columns.js';
import { toE7 } from '../src/store/tenant-store.js';
import { plateKey } from '../src/store/plate-key.js';
import { setStoreFs } from '../src/store/fs.js';
import { kT0, makeReads, tempDataDir } from './helpers/engine-data.js';
import { FaultPlan, faultyStoreFs } from './helpers/fault-fs.js';

function columnsOf(reads: readonly Read[]): ReadColumns {
  const n = reads.length;
  const b = { camera: new StringColumnBuilder(n), region: new StringColumnBuilder(n), make: new StringColumnBuilder(n), color: new StringColumnBuilder(n), readId: new StringColumnBuilder(n, false) };
  const c = { plate: new Float64Array(n), ts: new Float64Array(n), latE7: new Int32Array(n), lonE7: new Int32Array(n), confidence: new Float64Array(n) };
  reads.forEach((r, i) => {
    c.ts[i] = r.ts;
    c.latE7[i] = toE7(r.lat);
    c.lonE7[i] = toE7(r.lon);
    c.confidence[i] = r.confidence ?? NaN;
    c.plate[i] = plateKey(r.plate);
    for (const k of ['camera', 'region', 'make', 'color', 'readId'] as const) b[k].set(i, r[k]);
  });
  return {
    length: n, ...c, camera: b.camera.build(n), region: b.region.build(n), make: b.make.build(n), color: b.color.build(n), readId: b.readId.build(n),
  };
}

async function exported(engine: Awaited<ReturnType<typeof openEngine>>, tenant: string): Promise<StoredRead[]> {
  const out: StoredRead[] = [];
  for await (const r of engine.exportReads({ tenant, minTs: -Infinity }, {})) out.push(r);
  return out;
}

const strip = (rs: StoredRead[]) => rs.map(({ id: _id, ...rest }) => rest);

/** An engine whose tenant pd-a holds 5 sealed reads: the shard files a failed or aborted load must leave alone. */
async function withCommittedShard(dir: string) {
  const e = await openEngine({ dataDir: dir, threads: 0 });
  await e.append('pd-a', makeReads({ seed: 1, reads: 5, start: kT0 }));
  await e.seal('pd-a');
  const shardsDir = path.join(dir, 'tenants', 'pd-a', 'shards');
  return { e, shardsDir, committed: (await readdir(shardsDir)).sort() };
}

// every shard built on the loading thread (these shards are below kOffThreadRows), and every one on the build
// thread (src/store/bulk-build-thread.ts: lanes transferred there, the file's bytes back)
describe.each([
  ['on the loading thread', undefined],
  ['on the build thread', 0],
] as const)('bulk load, shards built %s', (_where, offThreadRows) => {
  it('equals appending the same reads: export, ids, searches; many flushes and day shards; readIds stored once', async () => {
    const reads = makeReads({ seed: 5, reads: 2000, days: 4 });
    reads.forEach((r, i) => {
      if (i % 10 === 0) r.readId = `rid-${i % 70}`; // repeats: stored once, the first time
    });
    const a = await tempDataDir();
    const b = await tempDataDir();
    try {
      const ea = await openEngine({ dataDir: a.dir, threads: 0 });
      for (let i = 0; i < reads.length; i += 300) await ea.append('pd-a', reads.slice(i, i + 300));
      const eb = await openEngine({ dataDir: b.dir, threads: 0 });
      const bulk = await eb.bulkLoad('pd-a', { flushRows: 97, offThreadRows });
      for (let i = 0; i < reads.length; ) {
        const n = 1 + ((i * 7919) % 250);
        await bulk.add(columnsOf(reads.slice(i, i + n)));
        i += n;
      }
      const outcome = await bulk.finish();
      expect(outcome.accepted).toBe(reads.length);
      const stored = (await exported(ea, 'pd-a')).length;
      expect(outcome.stored).toBe(stored);
      expect(outcome.duplicates).toBe(reads.length - stored);
      expect(outcome.shards).toBeGreaterThan(20);
      const xa = await exported(ea, 'pd-a');
      const xb = await exported(eb, 'pd-a');
      expect(xb).toEqual(xa); // ids too: seqs are given in input order, as appends give them
      const queries: SearchQuery[] = [
        { plate: { pattern: reads[3]!.plate, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false }, filter: {}, limit: 10_000 },
        { plate: { pattern: reads[1500]!.plate, mode: 'fuzzy', maxEdits: 1, ocr: true, transpositions: false }, filter: {}, limit: 10_000 },
        { filter: { from: kT0 + 86_400_000, to: kT0 + 2 * 86_400_000 }, limit: 10_000 },
      ];
      for (const q of queries) {
        const [ra, rb] = await Promise.all([ea.search([{ tenant: 'pd-a', minTs: -Infinity }], q), eb.search([{ tenant: 'pd-a', minTs: -Infinity }], q)]);
        expect(ra.total).toBeGreaterThan(0);
        expect(rb.total).toBe(ra.total);
        expect(rb.hits).toEqual(ra.hits);
      }
      await ea.close();
      await eb.close();
      // durable: a reopened engine has the same reads
      const eb2 = await openEngine({ dataDir: b.dir, threads: 0 });
      expect(await exported(eb2, 'pd-a')).toEqual(xa);
      await eb2.close();
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  }, 120_000);

  it('seals earlier live rows first; appends are refused during the load; ids stay unique after', async () => {
    const d = await tempDataDir();
    try {
      const e = await openEngine({ dataDir: d.dir, threads: 0 });
      const before = makeReads({ seed: 1, reads: 50 });
      await e.append('pd-a', before);
      const bulk = await e.bulkLoad('pd-a', { flushRows: 16, offThreadRows });
      await expect(e.append('pd-a', before.slice(0, 1))).rejects.toMatchObject({ code: 'PS_STORAGE_UNAVAILABLE' });
      const more = makeReads({ seed: 2, reads: 40 });
      await bulk.add(columnsOf(more));
      await bulk.finish();
      await e.append('pd-a', makeReads({ seed: 3, reads: 10 }));
      const all = await exported(e, 'pd-a');
      expect(all.length).toBe(100);
      expect(new Set(all.map((r) => r.id)).size).toBe(100);
      await e.close();
      const again = await openEngine({ dataDir: d.dir, threads: 0 });
      const back = await exported(again, 'pd-a');
      expect(strip(back)).toEqual(strip(all));
      expect(back.map((r) => r.id)).toEqual(all.map((r) => r.id));
      await again.close();
    } finally {
      await d.cleanup();
    }
  });

  it('an aborted load, or one never finished (a crash), leaves no reads and no shard files after a reopen', async () => {
    const d = await tempDataDir();
    try {
      const { e, shardsDir, committed } = await withCommittedShard(d.dir);
      const aborted = await e.bulkLoad('pd-a', { flushRows: 10, offThreadRows });
      await aborted.add(columnsOf(makeReads({ seed: 2, reads: 45 })));
      expect((await readdir(shardsDir)).length).toBeGreaterThan(committed.length); // flushed shards are out
      await aborted.abort();
      expect((await readdir(shardsDir)).sort()).toEqual(committed);
      // a load that never finishes: its shards are on disk but not in the manifest
      const crashed = await e.bulkLoad('pd-a', { flushRows: 10, offThreadRows });
      await crashed.add(columnsOf(makeReads({ seed: 3, reads: 45 })));
      await e.close();
      expect((await readdir(shardsDir)).length).toBeGreaterThan(committed.length);
      const again = await openEngine({ dataDir: d.dir, threads: 0 });
      expect((await exported(again, 'pd-a')).length).toBe(5);
      expect((await readdir(shardsDir)).sort()).toEqual(committed);
      await again.close();
    } finally {
      await d.cleanup();
    }
  });

  it('a shard put that fails mid-load fails the load; abort then deletes every shard it started', async () => {
    for (const op of ['sync', 'write'] as const) {
      const d = await tempDataDir();
      let restore: (() => void) | undefined;
      try {
        const { e, shardsDir, committed } = await withCommittedShard(d.dir);
        // the third shard file of the load fails (its write or its fsync); the puts before it succeeded
        const plan = new FaultPlan().add({ op, kind: 'EIO', path: /shards[/\\][^/\\]+$/, at: 3 });
        restore = setStoreFs(faultyStoreFs(plan));
        const load = await e.bulkLoad('pd-a', { flushRows: 10, offThreadRows });
        let failed: unknown;
        try {
          for (let seed = 2; seed < 8; seed++) await load.add(columnsOf(makeReads({ seed, reads: 30 })));
          await load.finish();
        } catch (err) {
          failed = err;
        }
        expect(plan.injected.get(`${op}:EIO`), op).toBe(1);
        expect(failed, op).toBeDefined();
        await load.abort();
        restore();
        restore = undefined;
        expect((await readdir(shardsDir)).sort(), op).toEqual(committed);
        expect((await exported(e, 'pd-a')).length, op).toBe(5);
        await e.append('pd-a', makeReads({ seed: 9, reads: 3, start: kT0 })); // appends are let in again
        await e.close();
        const again = await openEngine({ dataDir: d.dir, threads: 0 });
        expect((await exported(again, 'pd-a')).length, op).toBe(8);
        await again.close();
      } finally {
        restore?.();
        await d.cleanup();
      }
    }
  });
});
