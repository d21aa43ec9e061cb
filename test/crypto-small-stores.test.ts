/**
 * Legal holds, approvals and alert acks are sealed under keys of their tenant (t/<tenant>/holds,
 * /approvals, /acks): no string of theirs is on disk in clear; plaintext files of the version before are
 * sealed at open; `keys rotate --destroy-old` writes them again under the new generation (they still open,
 * a copy from before no longer does); `tenant purge` deletes them and a copy from before yields nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { HoldStore } from '../src/server/tenancy/holds.js';
import { ApprovalStore } from '../src/server/governance/approvals.js';
import { AckLog } from '../src/alerts/ack-log.js';
import type { Hold } from '../src/model/hold.js';
import { runCli } from './helpers/crash-loop.js';
import { scanForStrings } from './helpers/crypto.js';

const dirs: string[] = [];

/** Bytes of the last record of a sealed ack log (header: "PSAK", version, u16 key-ref length, key ref). */
function lastRecordSize(bytes: Buffer): number {
  let off = 10 + bytes.readUInt16LE(8);
  let last = 0;
  while (off < bytes.length) {
    last = 8 + bytes.readUInt32LE(off);
    off += last;
  }
  return last;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) {
    await rm(d, { recursive: true, force: true });
    await rm(`${d}.keys`, { recursive: true, force: true });
  }
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ps-small-'));
  dirs.push(d);
  return d;
}

const now = 1_800_000_000_000;
const hold = (id: string, plate: string, caseId: string): Hold => ({ id, case: caseId, reason: `reason of ${id}`, plates: [plate], created: now, createdBy: 'boss', updated: now, updatedBy: 'boss' });

/** A hold, an approval and an ack of `tenant`, each with its own distinctive strings; returns them. */
async function fill(dataDir: string, tenant: string, tag: string): Promise<string[]> {
  const { keys } = await openDataDirKeys(dataDir, undefined);
  try {
    const holds = await HoldStore.open(dataDir, keys);
    await holds.put(tenant, hold('h1', `HP${tag}`, `case-hold-${tag}`));
    const approvals = await ApprovalStore.open(dataDir, keys);
    const a = await approvals.request(tenant, 'inv', '/v1/search', { plates: [`AP${tag}`], purpose: `purpose-${tag}`, case: `case-apr-${tag}` }, `why-${tag}`, now);
    await approvals.decide(a.id, tenant, 'sup', 'approved', `decided-${tag}`, now + 1);
    const acks = await AckLog.open(dataDir, keys);
    await acks.acknowledge(tenant, { id: 7, outcome: 'confirmed', note: `ack-note-${tag}`, user: 'desk', ts: now });
    await acks.close();
  } finally {
    await keys.store.close();
  }
  return [`HP${tag}`, `case-hold-${tag}`, `reason of h1`, `AP${tag}`, `purpose-${tag}`, `case-apr-${tag}`, `why-${tag}`, `decided-${tag}`, `ack-note-${tag}`];
}

/** What the three stores of `tenant` hold, opened with the data dir's key store. */
async function contents(dataDir: string, tenant: string): Promise<{ holds: string[] | string; approvals: string[]; acks: string[] | string }> {
  const { keys } = await openDataDirKeys(dataDir, undefined);
  try {
    const holds = await HoldStore.open(dataDir, keys);
    let h: string[] | string;
    try {
      h = holds.list(tenant).map((x) => `${x.id}:${x.case}:${(x.plates ?? []).join(',')}`);
    } catch (err) {
      h = (err as { code: string }).code;
    }
    const approvals = (await ApprovalStore.open(dataDir, keys)).list(tenant, now + 2).map((a) => `${a.state}:${a.note}:${JSON.stringify(a.request)}`);
    const log = await AckLog.open(dataDir, keys);
    let acks: string[] | string;
    try {
      acks = [...(await log.getMany(tenant, [7])).values()].map((a) => `${a.id}:${a.note}`);
    } catch (err) {
      acks = (err as { code: string }).code;
    }
    await log.close();
    return { holds: h, approvals, acks };
  } finally {
    await keys.store.close();
  }
}

describe('legal holds, approvals and alert acks at rest', () => {
  it('are sealed (no string in clear), read back, and survive a reopen', async () => {
    const dataDir = await tempDir();
    const needles = await fill(dataDir, 'pd-a', 'QUOKKA1');
    expect(await scanForStrings(dataDir, needles)).toEqual([]);
    const c = await contents(dataDir, 'pd-a');
    expect(c.holds).toEqual(['h1:case-hold-QUOKKA1:HPQUOKKA1']);
    expect(c.approvals).toEqual([`approved:decided-QUOKKA1:${JSON.stringify({ plates: ['APQUOKKA1'], purpose: 'purpose-QUOKKA1', case: 'case-apr-QUOKKA1' })}`]);
    expect(c.acks).toEqual(['7:ack-note-QUOKKA1']);
    // one approvals file per tenant, named for it (purge deletes it)
    expect(existsSync(join(dataDir, 'governance', 'approvals', 'pd-a.approvals'))).toBe(true);
  });

  it('plaintext files of the version before are read and sealed at open', async () => {
    const dataDir = await tempDir();
    await openDataDirKeys(dataDir, undefined).then((k) => k.keys.store.close());
    await mkdir(join(dataDir, 'control', 'holds'), { recursive: true });
    await writeFile(join(dataDir, 'control', 'holds', 'pd-a.json'), JSON.stringify({ format: 'platesearch-holds', version: 1, tenant: 'pd-a', holds: [hold('old', 'OLDPLATE9', 'case-old-9')] }) + '\n');
    await mkdir(join(dataDir, 'governance'), { recursive: true });
    const old = { id: 'apr_old', tenant: 'pd-b', requester: 'inv', route: '/v1/search', requestSha256: '0'.repeat(64), request: { purpose: 'purpose-old-9' }, reason: 'r', state: 'pending', created: now, expires: now + 3_600_000 };
    await writeFile(join(dataDir, 'governance', 'approvals.json'), JSON.stringify({ version: 1, approvals: [old] }) + '\n');
    const c = await contents(dataDir, 'pd-a');
    expect(c.holds).toEqual(['old:case-old-9:OLDPLATE9']);
    expect((await contents(dataDir, 'pd-b')).approvals).toEqual([`pending:undefined:${JSON.stringify({ purpose: 'purpose-old-9' })}`]);
    expect(existsSync(join(dataDir, 'governance', 'approvals.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'governance', 'approvals', 'pd-b.approvals'))).toBe(true);
    // an ack log of version 1: complete records kept, a torn tail cut, the rest sealed
    const rec = (ack: object) => {
      const payload = Buffer.from(JSON.stringify(ack), 'utf8');
      const h = Buffer.alloc(8);
      h.writeUInt32LE(payload.length, 0);
      h.writeUInt32LE(crc32(payload), 4);
      return Buffer.concat([h, payload]);
    };
    const head = Buffer.alloc(8);
    head.write('PSAK', 0, 'latin1');
    head.writeUInt32LE(1, 4);
    const old1 = { id: 3, outcome: 'rejected', note: 'old-note-OLDPLATE9', user: 'desk', ts: now };
    const old2 = { id: 4, outcome: 'confirmed', note: 'old-note-two', user: 'desk', ts: now };
    await mkdir(join(dataDir, 'alerts'), { recursive: true });
    await writeFile(join(dataDir, 'alerts', 'pd-a.acks'), Buffer.concat([head, rec(old1), rec(old2), rec({ id: 5, note: 'torn-note' }).subarray(0, 20)]));
    const { keys } = await openDataDirKeys(dataDir, undefined);
    try {
      let log = await AckLog.open(dataDir, keys);
      expect([...(await log.getMany('pd-a', [3, 4, 5])).values()]).toEqual([old1, old2]);
      await log.close();
      log = await AckLog.open(dataDir, keys);
      expect(await log.ids('pd-a')).toEqual([3, 4]);
      expect((await log.acknowledge('pd-a', { id: 5, outcome: 'confirmed', note: 'new-note-after', user: 'desk', ts: now })).stored).toBe(true);
      await log.close();
      log = await AckLog.open(dataDir, keys);
      expect(await log.count('pd-a')).toBe(3);
      await log.close();
    } finally {
      await keys.store.close();
    }
    expect(await scanForStrings(dataDir, ['OLDPLATE9', 'case-old-9', 'purpose-old-9', 'old-note-two', 'new-note-after', '"outcome"'])).toEqual([]);
  });

  it('a flipped byte: holds fail closed (503 for the tenant), acks and approvals fail with a coded error', async () => {
    const dataDir = await tempDir();
    await fill(dataDir, 'pd-a', 'TAMP1');
    for (const f of [['control', 'holds', 'pd-a.json'], ['governance', 'approvals', 'pd-a.approvals'], ['alerts', 'pd-a.acks']]) {
      const path = join(dataDir, ...f);
      const bytes = await readFile(path);
      bytes[bytes.length - 20]! ^= 1;
      await writeFile(path, bytes);
    }
    // the ack log's last record with its CRC made good again: it no longer authenticates (tampering, not a tear)
    const ackPath = join(dataDir, 'alerts', 'pd-a.acks');
    const ackBytes = await readFile(ackPath);
    const lastLen = ackBytes.readUInt32LE(ackBytes.length - lastRecordSize(ackBytes));
    const payloadAt = ackBytes.length - lastLen;
    ackBytes.writeUInt32LE(crc32(ackBytes.subarray(payloadAt)), payloadAt - 4);
    await writeFile(ackPath, ackBytes);
    const { keys } = await openDataDirKeys(dataDir, undefined);
    try {
      const holds = await HoldStore.open(dataDir, keys);
      expect(() => holds.list('pd-a')).toThrow(expect.objectContaining({ code: 'PS_STORAGE_UNAVAILABLE' }));
      expect(() => holds.heldReads('pd-a')).toThrow(expect.objectContaining({ code: 'PS_STORAGE_UNAVAILABLE' }));
      await expect(ApprovalStore.open(dataDir, keys)).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
      const log = await AckLog.open(dataDir, keys);
      await expect(log.count('pd-a')).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
      await log.close();
    } finally {
      await keys.store.close();
    }
  });

  it('keys rotate --destroy-old rewrites them under the new generation; a copy from before no longer opens', async () => {
    const dataDir = await tempDir();
    await fill(dataDir, 'pd-a', 'ROT1');
    await fill(dataDir, 'pd-b', 'ROT2');
    const before = await contents(dataDir, 'pd-a');
    const copy = await tempDir();
    await cp(dataDir, copy, { recursive: true });
    const rot = await runCli(['keys', 'rotate', '--data-dir', dataDir, '--key-store', `file:${dataDir}.keys`, '--tenant', 'pd-a', '--destroy-old']);
    expect(rot.code, rot.stderr).toBe(0);
    expect(await contents(dataDir, 'pd-a')).toEqual(before);
    // the copy, opened with the same key store, finds pd-a's old generation destroyed; pd-b's untouched
    await cp(`${dataDir}.keys`, `${copy}.keys`, { recursive: true });
    const c = await contents(copy, 'pd-a');
    expect(c.holds).toBe('PS_STORAGE_UNAVAILABLE'); // fail closed: nothing of pd-a is swept while unreadable
    expect(c.approvals).toEqual([]);
    expect(c.acks).toBe('PS_KEY_DESTROYED');
    expect((await contents(copy, 'pd-b')).holds).toEqual(['h1:case-hold-ROT2:HPROT2']);
  }, 60_000);

  it('tenant purge deletes them and destroys their keys; a copy from before yields none; other tenants keep theirs', async () => {
    const dataDir = await tempDir();
    await fill(dataDir, 'pd-a', 'PUR1');
    await fill(dataDir, 'pd-b', 'PUR2');
    const copy = await tempDir();
    await cp(dataDir, copy, { recursive: true });
    const purge = await runCli(['tenant', 'purge', '--data-dir', dataDir, '--key-store', `file:${dataDir}.keys`, '--tenant', 'pd-a', '--confirm', 'pd-a']);
    expect(purge.code, purge.stderr).toBe(0);
    for (const f of [['control', 'holds', 'pd-a.json'], ['governance', 'approvals', 'pd-a.approvals'], ['alerts', 'pd-a.acks']]) {
      expect(existsSync(join(dataDir, ...f)), f.join('/')).toBe(false);
    }
    const { keys } = await openDataDirKeys(dataDir, undefined);
    try {
      expect(await keys.list('t/pd-a/')).toEqual([]);
      expect((await keys.list('t/pd-b/')).filter((n) => /^t\/pd-b\/(holds|approvals|acks)\/\d+$/.test(n)).sort()).toEqual(['t/pd-b/acks/1', 't/pd-b/approvals/1', 't/pd-b/holds/1']);
    } finally {
      await keys.store.close();
    }
    await cp(`${dataDir}.keys`, `${copy}.keys`, { recursive: true });
    const c = await contents(copy, 'pd-a');
    expect(c.holds).toBe('PS_STORAGE_UNAVAILABLE');
    expect(c.approvals).toEqual([]);
    expect(c.acks).toBe('PS_KEY_DESTROYED');
    expect((await contents(dataDir, 'pd-b')).acks).toEqual(['7:ack-note-PUR2']);
    expect((await contents(copy, 'pd-b')).approvals).toHaveLength(1);
  }, 60_000);
});
