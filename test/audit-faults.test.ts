import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditFile, type AuditFs, nodeAuditFs } from '../src/server/audit/fs.js';
import { AuditTrail, type AuditFields } from '../src/server/audit/trail.js';
import { oracleVerify } from './helpers/audit-oracle.js';

const f = (i: number): AuditFields => ({
  requestId: `r${i}`, actorTenant: 'pd-a', user: 'u', action: 'search', params: { i }, purpose: 'p', case: 'c',
  outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: [], ip: '::1', durationMs: 0,
});

/** A disk whose next writes/fsyncs fail as configured. */
function faultyFs() {
  const faults = { write: undefined as string | undefined, sync: undefined as string | undefined, short: false, headOnly: false };
  const wrap = (file: AuditFile, path: string): AuditFile => ({
    async write(buf, off, len, pos) {
      const isHead = path.endsWith('.head');
      if (faults.write && (!faults.headOnly || isHead)) throw Object.assign(new Error(faults.write), { code: faults.write });
      if (faults.short && !isHead) return file.write(buf, off, Math.max(1, Math.floor(len / 2)), pos);
      return file.write(buf, off, len, pos);
    },
    read: (b, o, l, p) => file.read(b, o, l, p),
    async sync() {
      if (faults.sync && (!faults.headOnly || path.endsWith('.head'))) throw Object.assign(new Error(faults.sync), { code: faults.sync });
      return file.sync();
    },
    truncate: (l) => file.truncate(l),
    size: () => file.size(),
    close: () => file.close(),
  });
  const fs: AuditFs = {
    ...nodeAuditFs,
    openReadWrite: async (p) => wrap(await nodeAuditFs.openReadWrite(p), p),
    openRead: async (p) => wrap(await nodeAuditFs.openRead(p), p),
  };
  return { fs, faults };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-auditf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('audit fail-closed', () => {
  for (const kind of ['ENOSPC on write', 'EIO on fsync', 'EIO on the head marker'] as const) {
    it(`${kind}: the append rejects with AuditUnavailable and the log recovers`, async () => {
      const { fs, faults } = faultyFs();
      const trail = await AuditTrail.open(dir, { fs });
      await trail.append('pd-a', f(1));
      if (kind === 'ENOSPC on write') faults.write = 'ENOSPC';
      if (kind === 'EIO on fsync') faults.sync = 'EIO';
      if (kind === 'EIO on the head marker') {
        faults.write = 'EIO';
        faults.headOnly = true;
      }
      const failed = await Promise.allSettled([trail.append('pd-a', f(2)), trail.append('pd-a', f(3))]);
      for (const r of failed) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE', status: 503 });
      }
      // still broken: the next append fails too (recovery itself cannot write)
      await expect(trail.append('pd-a', f(4))).rejects.toMatchObject({ code: 'PS_AUDIT_UNAVAILABLE' });
      faults.write = faults.sync = undefined;
      faults.headOnly = false;
      const r5 = await trail.append('pd-a', f(5));
      expect(r5.seq).toBe(2);
      expect(oracleVerify(join(dir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 2 });
      expect(await trail.verify('pd-a')).toMatchObject({ ok: true, count: 2 });
      await trail.close();
      const again = await AuditTrail.open(dir);
      expect(await again.verify('pd-a')).toMatchObject({ ok: true, count: 2 });
      await again.close();
    });
  }

  it('short writes are completed, not lost', async () => {
    const { fs, faults } = faultyFs();
    faults.short = true;
    const trail = await AuditTrail.open(dir, { fs });
    await Promise.all([1, 2, 3, 4].map((i) => trail.append('pd-a', f(i))));
    expect(oracleVerify(join(dir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 4 });
    await trail.close();
  });
});

describe('audit: a bad record', () => {
  it('fails alone; the others of its batch are written', async () => {
    const trail = await AuditTrail.open(dir);
    const results = await Promise.allSettled([
      trail.append('pd-a', f(1)),
      trail.append('pd-a', { ...f(2), params: { n: 10n } as unknown as Record<string, unknown> }),
      trail.append('pd-a', f(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(oracleVerify(join(dir, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: 2 });
    await trail.close();
  });
});
