/**
 * Damage to encrypted files: a flipped, truncated, reordered or swapped piece of any encrypted file kind is a
 * coded error naming the file, never wrong data; a destroyed key is "shredded", not damage.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSealedFile, sealFile, kSealedKindShard } from '../src/crypto/sealed-file.js';
import { newDataKey } from '../src/crypto/aead.js';
import { LaneReader, LaneWriter, packBlock, unpackBlock } from '../src/crypto/log-lanes.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { openEngine } from '../src/engine/index.js';
import { HotlistStore } from '../src/hotlist/store.js';
import { AlertLog } from '../src/alerts/log.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { makeReads, tempDataDir } from './helpers/engine-data.js';
import { readAudit } from './helpers/server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function dir(): Promise<string> {
  const d = await tempDataDir('ps-tamper-');
  cleanups.push(d.cleanup);
  return d.dir;
}

function codeOf(fn: () => unknown): { code?: string; file?: string } {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code?: string }).code, file: (err as { details?: { file?: string } }).details?.file };
  }
  return {};
}

describe('sealed files (shards, hot lists)', () => {
  const key = newDataKey();
  const plain = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
  const chunks = sealFile(kSealedKindShard, key, plain, Buffer.alloc(0), 1024);
  const file = Buffer.concat(chunks);

  it('round-trips, and any single flipped bit anywhere fails with PS_CORRUPT_FILE naming the file', () => {
    expect(Buffer.from(openSealedFile('s.arrow', file, key).plain).equals(plain)).toBe(true);
    fc.assert(fc.property(fc.integer({ min: 0, max: file.length - 1 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
      const bad = Buffer.from(file);
      bad[at]! ^= 1 << bit;
      const e = codeOf(() => openSealedFile('s.arrow', bad, key));
      expect(['PS_CORRUPT_FILE', 'PS_UNSUPPORTED_FORMAT']).toContain(e.code);
      expect(e.file).toBe('s.arrow');
    }), { numRuns: 300 });
  });

  it('truncated, extended, reordered, a segment repeated, the wrong key: coded errors', () => {
    const seg = 1024 + 16;
    const head = chunks[0]!.length;
    const segs = chunks.slice(1);
    expect(codeOf(() => openSealedFile('s', file.subarray(0, file.length - 1), key)).code).toBe('PS_CORRUPT_FILE');
    expect(codeOf(() => openSealedFile('s', file.subarray(0, head + seg), key)).code).toBe('PS_CORRUPT_FILE');
    expect(codeOf(() => openSealedFile('s', Buffer.concat([file, Buffer.alloc(3)]), key)).code).toBe('PS_CORRUPT_FILE');
    const swapped = Buffer.concat([chunks[0]!, segs[1]!, segs[0]!, ...segs.slice(2)]);
    expect(codeOf(() => openSealedFile('s', swapped, key)).code).toBe('PS_CORRUPT_FILE');
    const repeated = Buffer.concat([chunks[0]!, segs[0]!, segs[0]!, ...segs.slice(2)]);
    expect(codeOf(() => openSealedFile('s', repeated, key)).code).toBe('PS_CORRUPT_FILE');
    // the last segment moved up front cannot pass as a middle one (its AAD says last)
    expect(codeOf(() => openSealedFile('s', file, newDataKey())).code).toBe('PS_CORRUPT_FILE');
    // a segment of another file under the same key position does not fit this header
    const other = Buffer.concat(sealFile(kSealedKindShard, key, plain, Buffer.alloc(0), 1024));
    const mixed = Buffer.concat([chunks[0]!, other.subarray(head, head + seg), ...segs.slice(1)]);
    expect(codeOf(() => openSealedFile('s', mixed, key)).code).toBe('PS_CORRUPT_FILE');
  });
});

describe('log lanes (WAL, alert log)', () => {
  it('a flipped block is corrupt, a block without its key record is corrupt, a destroyed key is shredded', async () => {
    const d = await dir();
    const { keys } = await openDataDirKeys(d, undefined);
    const w = new LaneWriter(keys);
    const recs = [
      ...(await w.encode('d1', ['t/pd-a/d/1'], packBlock([Buffer.from('one')]))),
      ...(await w.encode('d2', ['t/pd-a/d/2'], packBlock([Buffer.from('two')]))),
      ...(await w.encode('d1', ['t/pd-a/d/1'], packBlock([Buffer.from('three')]))),
    ];
    const read = async (list: Buffer[]) => {
      const r = new LaneReader((ref) => keys.openKey(ref));
      const out: string[] = [];
      for (const rec of list) {
        const x = await r.read(rec);
        out.push(x.kind === 'block' ? unpackBlock(x.plain)!.map(String).join() : x.kind);
      }
      return out;
    };
    expect(await read(recs)).toEqual(['key', 'one', 'key', 'two', 'three']);
    const flipped = recs.map((r, i) => (i === 3 ? Buffer.from(r.map((b, j) => (j === r.length - 3 ? b ^ 1 : b))) : r));
    expect(await read(flipped)).toEqual(['key', 'one', 'key', 'corrupt', 'three']);
    expect(await read(recs.slice(1))).toEqual(['corrupt', 'key', 'two', 'corrupt']);
    // blocks swapped between lanes do not open under the other lane's key
    const laneSwap = Buffer.from(recs[3]!);
    laneSwap.writeUInt16LE(0, 1);
    expect((await read([recs[0]!, laneSwap]))[1]).toBe('corrupt');
    await keys.destroy(await keys.list('t/pd-a/d/2/'));
    expect(await read(recs)).toEqual(['key', 'one', 'key', 'shredded', 'three']);
  });
});

describe('every encrypted file kind of a data dir: a flipped byte is reported by file name', () => {
  it('shard, WAL, hot list, alert log, audit line', async () => {
    const d = await dir();
    const e1 = await openEngine({ dataDir: d, threads: 0, sealAgeMs: 0 });
    await e1.append('pd-a', makeReads({ seed: 3, reads: 200, vehicles: 50, days: 3 }));
    await e1.seal();
    await e1.append('pd-a', makeReads({ seed: 4, reads: 20, vehicles: 10, days: 1 }));
    await e1.close();
    const hl = await HotlistStore.open(d);
    await hl.put('pd-a', { name: 'h', updated: 1, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false, plates: ['AB12'], notes: ['n'], priorities: null, expires: null });
    const alerts = await AlertLog.open(d);
    const read = { id: 'r1', tenant: 'pd-a', plate: 'AB12', ts: Date.now(), lat: 1, lon: 2, camera: 'c' };
    await alerts.append('pd-a', [{ hotlist: 'h', entry: 'AB12', note: 'n', distance: 0, read }, { hotlist: 'h', entry: 'AB12', note: 'n', distance: 0, read: { ...read, id: 'r2' } }], Date.now());
    await alerts.close();
    const trail = await AuditTrail.open(d);
    for (let i = 0; i < 3; i++) {
      await trail.append('pd-a', { requestId: `q${i}`, actorTenant: 'pd-a', user: 'u', action: 'search', params: { plate: `SECRET${i}` }, purpose: 'p', case: 'c', outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: ['pd-a'], ip: '', durationMs: 1 });
    }
    await trail.close();

    const flipAt = async (file: string, at: (len: number) => number) => {
      const b = await readFile(file);
      b[at(b.length)]! ^= 0x10;
      await writeFile(file, b);
    };
    const shardsDir = join(d, 'tenants', 'pd-a', 'shards');
    const shard = join(shardsDir, (await readdir(shardsDir))[0]!);
    await flipAt(shard, (n) => n >> 1);
    const walDir = join(d, 'tenants', 'pd-a', 'wal');
    const wals = (await readdir(walDir)).sort();
    const wal = join(walDir, wals[wals.length - 1]!); // the file holding the 20 live reads
    // in its first record (the lane's key record): damage before a valid record, not a torn tail
    await flipAt(wal, () => 8 + 8 + 3);
    const e2 = await openEngine({ dataDir: d, threads: 0, sealAgeMs: 0 });
    // the damaged files by name, and the log dir: acknowledged reads are missing from it (the ack mark)
    expect(e2.stats().corruptFiles.sort()).toEqual([shard, wal, walDir].sort());
    await e2.close();

    const hlFile = join(d, 'hotlists', 'pd-a', 'h.hotlist');
    await flipAt(hlFile, (n) => n - 5);
    const hl2 = await HotlistStore.open(d);
    expect(hl2.failures.map((f) => f.file)).toEqual([hlFile]);
    expect(hl2.get('pd-a', 'h')).toBeUndefined();

    const alertFile = join(d, 'alerts', 'pd-a.log');
    const ab = await readFile(alertFile);
    // the first alert's block (after the header and the lane's key record): damage in the middle, not a torn tail
    const keyLen = ab.readUInt32LE(16);
    ab[16 + 8 + keyLen + 8 + 10]! ^= 0x10;
    await writeFile(alertFile, ab);
    const alerts2 = await AlertLog.open(d);
    await expect(alerts2.lastId('pd-a')).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE', details: { file: alertFile } });
    await alerts2.close();

    // an audit line's sealed field: the chain breaks at that record (no key needed), the opened view says so
    const auditFile = join(d, 'audit', 'pd-a.jsonl');
    const lines = (await readFile(auditFile, 'utf8')).split('\n');
    const rec = JSON.parse(lines[1]!) as { sealed: string };
    const sealed = Buffer.from(rec.sealed, 'base64');
    sealed[0]! ^= 1;
    lines[1] = JSON.stringify({ ...rec, sealed: sealed.toString('base64') });
    await writeFile(auditFile, lines.join('\n'));
    const trail2 = await AuditTrail.open(d);
    expect(await trail2.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 2 });
    await trail2.close();
    const opened = await readAudit(d, 'pd-a');
    expect(opened[0]).toMatchObject({ params: { plate: 'SECRET0' }, purpose: 'p' });
    expect(opened[1]).toMatchObject({ sealedError: 'the sealed fields do not authenticate' });
    expect(opened[1]).not.toHaveProperty('params');
    await rm(join(d, 'nothing'), { force: true });
  });
});
