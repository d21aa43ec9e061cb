/**
 * Opening a data dir checks and decrypts its shards on worker threads (src/store/shard-open-pool.ts):
 * the engine opened that way serves exactly what an engine that opens on the calling thread serves, and a
 * damaged shard (a flipped byte, a truncation at or inside a segment, two segments swapped, a segment from
 * another shard, bytes appended, the manifest's checksum wrong) is reported by name with PS_CORRUPT_FILE by
 * both ways, and never yields wrong rows: the other shards are served whole, the damaged one not at all.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openEngine } from '../src/engine/index.js';
import type { Engine } from '../src/engine/engine.js';
import { readSealedHeader } from '../src/crypto/sealed-file.js';
import { kTagBytes } from '../src/crypto/aead.js';
import { ShardOpenPool } from '../src/store/shard-open-pool.js';
import { readManifest, writeManifest } from '../src/store/manifest.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});

/** Every stored read of `tenant`, as sorted JSON lines (what a correct open must serve). */
async function allRows(e: Engine, tenant: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of e.exportReads({ tenant, minTs: -Infinity }, {})) out.push(JSON.stringify(r));
  return out.sort();
}

/**
 * A data dir with pd-a's reads in three day shards, the middle one big enough for several 1 MiB segments,
 * and pd-b's in one; answers the rows per shard file of pd-a.
 */
async function populated(): Promise<{ dataDir: string; rowsByShard: Map<string, string[]>; shardsDir: string }> {
  const d = await tempDataDir('ps-openw-');
  cleanups.push(d.cleanup);
  const e = await openEngine({ dataDir: d.dir, threads: 0, sealAgeMs: 0 });
  await e.append('pd-a', makeReads({ seed: 1, reads: 300, days: 1, start: kT0 }));
  await e.append('pd-a', makeReads({ seed: 2, reads: 100_000, vehicles: 60_000, days: 1, start: kT0 + kDay }));
  await e.append('pd-a', makeReads({ seed: 3, reads: 300, days: 1, start: kT0 + 2 * kDay }));
  await e.append('pd-b', makeReads({ seed: 4, reads: 500, days: 1, start: kT0 }));
  await e.seal();
  const rows = await allRows(e, 'pd-a');
  await e.close();
  const shardsDir = join(d.dir, 'tenants', 'pd-a', 'shards');
  const files = (await readdir(shardsDir)).filter((f) => f.endsWith('.shard')).sort();
  expect(files.length).toBe(3);
  const rowsByShard = new Map<string, string[]>();
  for (let i = 0; i < 3; i++) {
    const day = kT0 + i * kDay;
    rowsByShard.set(join(shardsDir, files[i]!), rows.filter((r) => {
      const ts = (JSON.parse(r) as { ts: number }).ts;
      return ts >= day && ts < day + kDay;
    }));
  }
  return { dataDir: d.dir, rowsByShard, shardsDir };
}

describe('shards are checked and decrypted on worker threads at open', () => {
  it('the pool is used, and serves exactly what opening on the calling thread serves', async () => {
    const { dataDir } = await populated();
    const serial = await openEngine({ dataDir, threads: 0, openThreads: 0, sealAgeMs: 0 });
    const want = { a: await allRows(serial, 'pd-a'), b: await allRows(serial, 'pd-b'), stats: serial.stats() };
    await serial.close();
    const opened = vi.spyOn(ShardOpenPool.prototype, 'open');
    const parallel = await openEngine({ dataDir, threads: 0, openThreads: 2, sealAgeMs: 0 });
    try {
      expect(opened).toHaveBeenCalledTimes(4); // every shard of both tenants went through a worker
      expect(await allRows(parallel, 'pd-a')).toEqual(want.a);
      expect(await allRows(parallel, 'pd-b')).toEqual(want.b);
      expect(want.a.length).toBe(100_600);
      const s = parallel.stats();
      expect(s.corruptFiles).toEqual([]);
      expect(s.reads).toBe(want.stats.reads);
      expect(s.residentBytes).toBe(want.stats.residentBytes);
      // and searches over the shards opened by workers agree (plate index, dictionary, zone maps built from them)
      const plate = (JSON.parse(want.a[12_345]!) as { plate: string }).plate;
      const res = await parallel.search([{ tenant: 'pd-a', minTs: -Infinity }], { plate: { pattern: plate, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false }, filter: {}, limit: 10_000 });
      expect(res.total).toBe(want.a.filter((r) => (JSON.parse(r) as { plate: string }).plate === plate).length);
    } finally {
      await parallel.close();
    }
  }, 180_000);

  type Damage = (file: string, bytes: Buffer) => Buffer;
  const seg = (bytes: Buffer, i: number) => {
    const h = readSealedHeader('x', bytes);
    const start = h.bodyOffset + i * (h.segmentBytes + kTagBytes);
    return { start, end: Math.min(bytes.length, start + h.segmentBytes + kTagBytes) };
  };
  const damages: Record<string, Damage> = {
    'a flipped byte in the second segment': (_f, b) => {
      const c = Buffer.from(b);
      c[seg(b, 1).start + 100]! ^= 0x04;
      return c;
    },
    'truncated at a segment boundary': (_f, b) => b.subarray(0, seg(b, 1).start),
    'truncated inside a segment': (_f, b) => b.subarray(0, seg(b, 0).start + 1000),
    'the first two segments swapped': (_f, b) => {
      const s0 = seg(b, 0), s1 = seg(b, 1);
      expect(s1.end - s1.start).toBe(s0.end - s0.start); // both full: the swap keeps every size
      return Buffer.concat([b.subarray(0, s0.start), b.subarray(s1.start, s1.end), b.subarray(s0.start, s0.end), b.subarray(s1.end)]);
    },
    'a segment repeated in place of the next': (_f, b) => {
      const s0 = seg(b, 0), s1 = seg(b, 1);
      return Buffer.concat([b.subarray(0, s1.start), b.subarray(s0.start, s0.end), b.subarray(s1.end)]);
    },
    'bytes appended': (_f, b) => Buffer.concat([b, Buffer.alloc(kTagBytes + 7)]),
    "the header's file id changed (binds no segment)": (_f, b) => {
      const c = Buffer.from(b);
      c[27]! ^= 0x01;
      return c;
    },
  };

  for (const openThreads of [2, 0]) {
    for (const [how, damage] of Object.entries(damages)) {
      it(`open on ${openThreads === 0 ? 'the calling thread' : `${openThreads} workers`}: ${how} → PS_CORRUPT_FILE naming the shard, never wrong rows`, async () => {
        const { dataDir, rowsByShard } = await populated();
        const [first, victim, third] = [...rowsByShard.keys()];
        const bytes = await readFile(victim!);
        // three segments at least, so the first two are full (compact format 2 shards: ~40 B a read)
        expect(Math.ceil(readSealedHeader(victim!, bytes).plainBytes / (1 << 20))).toBeGreaterThanOrEqual(3);
        await writeFile(victim!, damage(victim!, bytes));
        const e = await openEngine({ dataDir, threads: 0, openThreads, sealAgeMs: 0 });
        try {
          const stats = e.stats();
          expect(stats.corruptFiles).toContain(victim);
          expect(stats.corruptFiles.filter((f) => f.endsWith('.shard'))).toEqual([victim]);
          // the other shards whole, the damaged one not at all, nothing else
          expect(await allRows(e, 'pd-a')).toEqual([...rowsByShard.get(first!)!, ...rowsByShard.get(third!)!].sort());
          expect((await allRows(e, 'pd-b')).length).toBe(500);
        } finally {
          await e.close();
        }
      }, 180_000);
    }
  }

  it('a checksum mismatch found by a worker is the same coded error as on the calling thread', async () => {
    const { dataDir, rowsByShard } = await populated();
    const victim = [...rowsByShard.keys()][2]!;
    const tenantDir = join(dataDir, 'tenants', 'pd-a');
    const m = (await readManifest(tenantDir))!;
    const entry = m.shards.find((e) => victim.endsWith(e.file))!;
    entry.crc = (entry.crc + 1) >>> 0;
    await writeManifest(tenantDir, m);
    const errors: string[] = [];
    for (const openThreads of [2, 0]) {
      const e = await openEngine({ dataDir, threads: 0, openThreads, sealAgeMs: 0 });
      try {
        errors.push(JSON.stringify(e.stats().corruptFiles));
        expect((await allRows(e, 'pd-a')).length).toBe(100_300);
      } finally {
        await e.close();
      }
    }
    expect(errors[0]).toBe(errors[1]);
    expect(errors[0]).toContain(victim);
  }, 180_000);
});
