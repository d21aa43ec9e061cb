import { describe, expect, it } from 'vitest';
import { readFile, writeFile, readdir, appendFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { frameRecord, scanWal, kWalHeaderBytes, recoverWal, WalWriter, openWalRecords, streamWal } from '../src/store/wal.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { decodeRecord } from '../src/store/wal-record.js';
import { openEngine } from '../src/engine/index.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';
import type { Read } from '../src/model/read.js';

const enc = new TextEncoder();

async function walFiles(dir: string, tenant: string): Promise<string[]> {
  const d = path.join(dir, 'tenants', tenant, 'wal');
  return (await readdir(d)).sort().map((n) => path.join(d, n));
}

describe('WAL records', () => {
  const header = Uint8Array.from([0x50, 0x53, 0x57, 0x41, 0x4c, 0x00, 1, 0x0a]);
  const recs = ['alpha', 'bravo', 'charlie', 'delta'].map((s) => frameRecord(enc.encode(s)));
  const file = Buffer.concat([header, ...recs]);

  it('reads every record of a clean file', () => {
    const scan = scanWal('x.wal', file);
    expect(scan.records.map((r) => Buffer.from(r).toString())).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
    expect(scan.tornTail).toBe(false);
    expect(scan.corruptAt).toEqual([]);
  });

  it('treats a partial last record as a torn tail, at every cut point', () => {
    const lastStart = file.length - recs[3]!.length;
    for (let cut = lastStart + 1; cut < file.length; cut++) {
      const scan = scanWal('x.wal', file.subarray(0, cut));
      expect(scan.tornTail).toBe(true);
      expect(scan.goodEnd).toBe(lastStart);
      expect(scan.records).toHaveLength(3);
      expect(scan.corruptAt).toEqual([]);
    }
  });

  it('treats a damaged last record (full length, bad bytes) as torn', () => {
    const bad = Buffer.from(file);
    bad[bad.length - 2] ^= 0xff;
    const scan = scanWal('x.wal', bad);
    expect(scan.tornTail).toBe(true);
    expect(scan.records).toHaveLength(3);
  });

  it('reports corruption in the middle, skips it and keeps the records after it', () => {
    const bad = Buffer.from(file);
    const second = kWalHeaderBytes + recs[0]!.length;
    bad[second + 9] ^= 0x01; // a payload byte of "bravo"
    const scan = scanWal('x.wal', bad);
    expect(scan.corruptAt).toEqual([second]);
    expect(scan.tornTail).toBe(false);
    expect(scan.records.map((r) => Buffer.from(r).toString())).toEqual(['alpha', 'charlie', 'delta']);
  });

  it('rejects an unknown version and a foreign header', () => {
    const v3 = Buffer.from(file);
    v3[6] = 3;
    expect(scanWal('x.wal', v3).badHeader).toBe('version');
    const foreign = Buffer.from(file);
    foreign[0] = 0x51;
    expect(scanWal('x.wal', foreign).badHeader).toBe('corrupt');
  });

  it('streams a whole log record by record as scanWal reads it (records across windows, one larger than a window), and refuses damage', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      // ~3 MiB of records of 0–4,000 bytes (the stream reads 1 MiB windows), one of 1.5 MiB, then small ones again
      let x = 12345;
      const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
      const payloads: Buffer[] = [];
      for (let i = 0; i < 1500; i++) payloads.push(Buffer.alloc(Math.floor(rand() * 4000), i & 0xff));
      payloads.push(Buffer.alloc(1.5 * 2 ** 20, 7));
      for (let i = 0; i < 500; i++) payloads.push(Buffer.alloc(Math.floor(rand() * 300), (i * 7) & 0xff));
      const whole = Buffer.concat([header, ...payloads.map((p) => frameRecord(p))]);
      const f = path.join(dir, 'whole.wal');
      await writeFile(f, whole);
      const read = async (bytes: Buffer): Promise<Buffer[]> => {
        await writeFile(f, bytes);
        const stream = await streamWal(f);
        expect(stream.version).toBe(1);
        const out: Buffer[] = [];
        for await (const r of stream.records) out.push(Buffer.from(r)); // a copy: a record is a view of the window
        return out;
      };
      // compared as lengths and one concatenation (a deep equality of 2,000 buffers, one of 1.5 MiB, takes minutes)
      const same = (a: Uint8Array[], b: Uint8Array[]) => {
        expect(a.map((r) => r.length)).toEqual(b.map((r) => r.length));
        expect(Buffer.concat(a).equals(Buffer.concat(b))).toBe(true);
      };
      const got = await read(whole);
      same(got, scanWal(f, whole).records);
      same(got, payloads);
      expect(await read(Buffer.from(header))).toEqual([]);
      // damage of any kind rejects (scanWal would skip it or call it a torn tail): the seal job then fails
      const mid = Buffer.from(whole);
      mid[kWalHeaderBytes + 8 + 2 * 4000 + 3] ^= 0x10;
      await expect(read(mid)).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
      await expect(read(whole.subarray(0, whole.length - 5))).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
      await expect(read(whole.subarray(0, whole.length - payloads.at(-1)!.length - 8 - 3))).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
      const foreign = Buffer.from(whole);
      foreign[0] = 0x51;
      await expect(read(foreign)).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
    } finally {
      await cleanup();
    }
  });

  it('group-commits concurrent appends into fewer fsyncs, in order', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const { keys } = await openDataDirKeys(dir, undefined);
      const w = await WalWriter.create(dir, 1, { keys, tenant: 'pd-a' });
      const order: number[] = [];
      await Promise.all(Array.from({ length: 200 }, (_, i) => w.append(enc.encode(`r${i}`), 20000 + (i % 3), () => order.push(i))));
      expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(w.syncs).toBeLessThan(20);
      await w.close();
      const scan = await recoverWal(path.join(dir, '0000000000000001.wal'));
      // encrypted: one block per day per group commit, each lane's key record first
      expect(scan.records.length).toBeLessThan(200);
      expect(Buffer.concat(scan.records.map((r) => Buffer.from(r))).includes('r199')).toBe(false);
      const opened = await openWalRecords(scan, (ref) => keys.openKey(ref));
      expect(opened.corrupt).toEqual([]);
      const texts = opened.payloads.map((p) => Buffer.from(p).toString());
      expect(texts).toHaveLength(200);
      // within a day, in append order
      expect(texts.filter((t) => Number(t.slice(1)) % 3 === 1)).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 3 === 1).map((i) => `r${i}`));
    } finally {
      await cleanup();
    }
  });
});

function sample(n: number, seed = 7): Read[] {
  return makeReads({ seed, reads: n });
}

describe('engine WAL recovery', () => {
  it('replays acknowledged reads after reopen, with the same ids', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0 });
      const a = await e1.append('pd-a', sample(50));
      const b = await e1.append('pd-b', sample(10, 9));
      await e1.close();
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      const all = [];
      for await (const r of e2.exportReads({ tenant: 'pd-a', minTs: 0 }, {})) all.push(r);
      expect(all.map((r) => r.id).sort()).toEqual(a.stored.map((r) => r.id).sort());
      expect(e2.stats().reads).toBe(60);
      // ids: 16 lowercase hex, tenant ordinal prefix, unique across tenants
      for (const r of [...a.stored, ...b.stored]) expect(r.id).toMatch(/^[0-9a-f]{16}$/);
      expect(new Set([...a.stored, ...b.stored].map((r) => r.id)).size).toBe(60);
      const c = await e2.append('pd-a', sample(1, 3));
      expect(c.stored[0]!.id > a.stored[49]!.id).toBe(true);
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('a log cut shorter than what was acknowledged is reported (the acknowledgement mark), and its seqs are not given out again', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0 });
      const a = await e1.append('pd-a', sample(20));
      await e1.append('pd-a', sample(20, 5));
      await e1.close();
      const [file] = await walFiles(dir, 'pd-a');
      const size = (await stat(file!)).size;
      await writeFile(file!, (await readFile(file!)).subarray(0, Math.floor(size * 0.6))); // a clean cut, not a torn record
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      expect(e2.stats().corruptFiles).toEqual([path.join(dir, 'tenants', 'pd-a', 'wal')]);
      const c = await e2.append('pd-a', sample(1, 7));
      expect(c.stored[0]!.id > a.stored[19]!.id).toBe(true);
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('reads dropped by retention are not mistaken for a cut log, and their ids are not given out again', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      const a = await e1.append('pd-a', sample(30));
      await e1.dropBefore('pd-a', Number.MAX_SAFE_INTEGER); // every live read is past retention
      expect(e1.stats().reads).toBe(0);
      await e1.close();
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      expect(e2.stats().corruptFiles).toEqual([]);
      const c = await e2.append('pd-a', sample(1, 3));
      expect(a.stored.map((r) => r.id)).not.toContain(c.stored[0]!.id);
      expect(c.stored[0]!.id > a.stored[29]!.id).toBe(true);
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('truncates a torn tail and keeps everything before it', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0 });
      await e1.append('pd-a', sample(20));
      await e1.close();
      const [file] = await walFiles(dir, 'pd-a');
      const size = (await stat(file!)).size;
      await appendFile(file!, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5])); // a record cut short by a crash
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      expect(e2.stats().reads).toBe(20);
      expect(e2.stats().corruptFiles).toEqual([]);
      expect((await stat(file!)).size).toBe(size);
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('reports mid-file corruption without crashing and keeps the other batches', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const e1 = await openEngine({ dataDir: dir, threads: 0 });
      await e1.append('pd-a', sample(5, 1));
      await e1.append('pd-a', sample(5, 2));
      await e1.append('pd-a', sample(5, 3));
      await e1.close();
      const [file] = await walFiles(dir, 'pd-a');
      const bytes = await readFile(file!);
      // encrypted log: record 0 is the first lane's key record, record 1 its first block (one group commit)
      const firstLen = bytes.readUInt32LE(kWalHeaderBytes);
      const secondAt = kWalHeaderBytes + 8 + firstLen;
      const secondLen = bytes.readUInt32LE(secondAt);
      expect(bytes[secondAt + 8]).toBe(0x42); // 'B'
      const { keys } = await openDataDirKeys(dir, undefined);
      const scan = scanWal(file!, bytes);
      const firstBlock = await openWalRecords({ ...scan, records: scan.records.slice(0, 2) }, (ref) => keys.openKey(ref));
      const lost = firstBlock.payloads.map((p) => decodeRecord(file!, p).rows.length).reduce((a, b) => a + b, 0);
      expect(lost).toBeGreaterThan(0);
      bytes[secondAt + 8 + Math.min(20, secondLen - 1)] ^= 0x5a;
      await writeFile(file!, bytes);
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      expect(e2.stats().corruptFiles).toEqual([file]);
      expect(e2.stats().reads).toBe(15 - lost);
      await e2.append('pd-a', sample(1, 4)); // still writable
      await e2.close();
    } finally {
      await cleanup();
    }
  });

  it('stores a readId once, within a batch, across concurrent batches and across restarts', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const reads = sample(6).map((r, i) => ({ ...r, readId: `r-${i % 3}` }));
      const e1 = await openEngine({ dataDir: dir, threads: 0 });
      const first = await e1.append('pd-a', reads);
      expect(first.stored).toHaveLength(3);
      expect(first.duplicates).toEqual([3, 4, 5]);
      const [x, y] = await Promise.all([e1.append('pd-a', [{ ...reads[0]!, readId: 'n-1' }]), e1.append('pd-a', [{ ...reads[1]!, readId: 'n-1' }])]);
      expect(x.stored.length + y.stored.length).toBe(1);
      expect(x.duplicates.length + y.duplicates.length).toBe(1);
      // another tenant has its own readId space
      expect((await e1.append('pd-b', reads)).stored).toHaveLength(3);
      await e1.close();
      const e2 = await openEngine({ dataDir: dir, threads: 0 });
      const again = await e2.append('pd-a', reads);
      expect(again.stored).toEqual([]);
      expect(again.duplicates).toEqual([0, 1, 2, 3, 4, 5]);
      expect(e2.stats().reads).toBe(7);
      // sealed into shards, the readIds still count (the shards carry them)
      await e2.seal();
      await e2.close();
      const e3 = await openEngine({ dataDir: dir, threads: 0 });
      expect(e3.stats().liveReads).toBe(0);
      expect((await e3.append('pd-a', reads)).stored).toEqual([]);
      expect((await e3.append('pd-a', [{ ...reads[0]!, readId: 'new' }])).stored).toHaveLength(1);
      expect(e3.stats().reads).toBe(8);
      await e3.close();
    } finally {
      await cleanup();
    }
  });

  it('dropBefore keeps unsealed rows it does not drop, across a restart', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const reads = sample(40);
      const cutoff = Math.min(...reads.map((r) => r.ts)) + 1;
      const e1 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      await e1.append('pd-a', reads);
      expect((await e1.dropBefore('pd-a', 0)).readsDeleted).toBe(0);
      const gone = reads.filter((r) => r.ts < cutoff).length;
      expect((await e1.dropBefore('pd-a', cutoff)).readsDeleted).toBe(gone);
      await e1.close();
      const e2 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      expect(e2.stats().reads).toBe(40 - gone);
      await e2.close();
    } finally {
      await cleanup();
    }
  });
});
