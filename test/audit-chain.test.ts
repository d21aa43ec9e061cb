import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail, type AuditFields } from '../src/server/audit/trail.js';
import { oracleVerify } from './helpers/audit-oracle.js';

function fields(i: number, extra: Partial<AuditFields> = {}): AuditFields {
  return {
    requestId: `req-${i}`,
    actorTenant: 'pd-a',
    user: i % 2 ? 'alice' : 'bob',
    action: i % 3 ? 'search' : 'reads.ingest',
    params: { plate: `7ABC${i}`, nested: { z: 1, a: [3, { y: 'é', b: null }] } },
    purpose: 'investigation',
    case: '2026-001',
    outcome: 'ok',
    status: 200,
    resultCount: i,
    tenantsTouched: ['pd-a'],
    ip: '127.0.0.1',
    durationMs: 1.25,
    ...extra,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-audit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function fill(n: number, tenant = 'pd-a'): Promise<AuditTrail> {
  const trail = await AuditTrail.open(dir);
  await Promise.all(Array.from({ length: n }, (_, i) => trail.append(tenant, fields(i + 1))));
  return trail;
}

const logPath = (t = 'pd-a') => join(dir, 'audit', `${t}.jsonl`);
const lines = (t = 'pd-a') => readFileSync(logPath(t), 'utf8').split('\n').filter(Boolean);

describe('audit chain', () => {
  it('appends concurrently in order, and an independent verifier recomputes the chain', async () => {
    const trail = await fill(50);
    const recs = lines().map((l) => JSON.parse(l));
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(recs.map((r) => r.requestId)).toEqual(Array.from({ length: 50 }, (_, i) => `req-${i + 1}`));
    expect(recs[0].prev).toBe('0'.repeat(64));
    expect(recs.every((r) => r.tenant === 'pd-a')).toBe(true);
    const oracle = oracleVerify(logPath());
    expect(oracle).toEqual({ ok: true, count: 50, head: recs[49].hash });
    expect(await trail.verify('pd-a')).toEqual({ ok: true, count: 50, head: recs[49].hash });
    await trail.close();
  });

  it('records the log owner as tenant and keeps actorTenant; _system is a log too', async () => {
    const trail = await AuditTrail.open(dir);
    const r = await trail.append('pd-b', fields(1, { tenant: 'pd-a', actorTenant: 'pd-a' }));
    expect(r.tenant).toBe('pd-b');
    expect(r.actorTenant).toBe('pd-a');
    await trail.append('_system', fields(2, { actorTenant: '_system', user: '', outcome: 'denied', status: 401 }));
    expect(oracleVerify(logPath('_system')).ok).toBe(true);
    expect(oracleVerify(logPath('pd-b')).ok).toBe(true);
    await expect(trail.append('../etc', fields(3))).rejects.toMatchObject({ code: 'PS_BAD_INPUT' });
    await trail.close();
  });

  it('continues the chain after a restart', async () => {
    let trail = await fill(5);
    await trail.close();
    trail = await AuditTrail.open(dir);
    await trail.append('pd-a', fields(6));
    expect(oracleVerify(logPath())).toMatchObject({ ok: true, count: 6 });
    expect(await trail.verify('pd-a')).toMatchObject({ ok: true, count: 6 });
    await trail.close();
  });

  it('detects an edited field', async () => {
    const trail = await fill(10);
    const ls = lines();
    ls[3] = ls[3]!.replace('"user":"bob"', '"user":"eve"');
    writeFileSync(logPath(), ls.join('\n') + '\n');
    expect(await trail.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 4 });
    expect(oracleVerify(logPath())).toMatchObject({ ok: false, brokenAt: 4 });
    await trail.close();
  });

  it('detects a deleted middle line', async () => {
    const trail = await fill(10);
    const ls = lines();
    ls.splice(5, 1);
    writeFileSync(logPath(), ls.join('\n') + '\n');
    expect(await trail.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 6 });
    await trail.close();
  });

  it('detects reordered lines', async () => {
    const trail = await fill(10);
    const ls = lines();
    [ls[2], ls[3]] = [ls[3]!, ls[2]!];
    writeFileSync(logPath(), ls.join('\n') + '\n');
    expect(await trail.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 3 });
    await trail.close();
  });

  it('detects truncated trailing lines (shorter than the head marker), also after a restart', async () => {
    let trail = await fill(10);
    await trail.close();
    const ls = lines();
    writeFileSync(logPath(), ls.slice(0, 7).join('\n') + '\n');
    expect(oracleVerify(logPath()).ok).toBe(true); // the chain alone cannot tell
    trail = await AuditTrail.open(dir);
    expect(await trail.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 8 });
    // later records chain from the marker, so the gap stays visible
    await trail.append('pd-a', fields(11));
    expect(await trail.verify('pd-a')).toMatchObject({ ok: false });
    expect(lines().length).toBe(8);
    await trail.close();
  });

  it('detects a log whose last record was rewritten with a recomputed chain (head mismatch)', async () => {
    let trail = await fill(3);
    await trail.close();
    const ls = lines();
    writeFileSync(logPath(), ls.slice(0, 2).join('\n') + '\n');
    // append a forged, validly chained record 3
    const { createHash } = await import('node:crypto');
    const r2 = JSON.parse(ls[1]!);
    const forged: Record<string, unknown> = { ...JSON.parse(ls[2]!), user: 'mallory', prev: r2.hash };
    delete forged.hash;
    const canon = (v: unknown): string =>
      v === null || typeof v !== 'object' ? JSON.stringify(v) : Array.isArray(v) ? '[' + v.map(canon).join(',') + ']'
        : '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon((v as Record<string, unknown>)[k])).join(',') + '}';
    forged.hash = createHash('sha256').update(r2.hash + '\n' + canon(forged)).digest('hex');
    appendFileSync(logPath(), JSON.stringify(forged) + '\n');
    expect(oracleVerify(logPath()).ok).toBe(true);
    trail = await AuditTrail.open(dir);
    expect(await trail.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 3 });
    await trail.close();
  });

  it('repairs a torn last line after the marker on start', async () => {
    let trail = await fill(4);
    await trail.close();
    const before = statSync(logPath()).size;
    appendFileSync(logPath(), '{"seq":5,"ts":"2026-');
    trail = await AuditTrail.open(dir);
    expect(statSync(logPath()).size).toBe(before);
    expect(await trail.verify('pd-a')).toMatchObject({ ok: true, count: 4 });
    await trail.append('pd-a', fields(5));
    expect(oracleVerify(logPath())).toMatchObject({ ok: true, count: 5 });
    await trail.close();
  });

  it('adopts complete records written after the marker (crash between log fsync and marker)', async () => {
    let trail = await fill(3);
    await trail.close();
    const headBefore = readFileSync(join(dir, 'audit', 'pd-a.head'));
    trail = await AuditTrail.open(dir);
    await trail.append('pd-a', fields(4));
    await trail.close();
    writeFileSync(join(dir, 'audit', 'pd-a.head'), headBefore); // marker as before record 4
    trail = await AuditTrail.open(dir);
    expect(await trail.verify('pd-a')).toMatchObject({ ok: true, count: 4 });
    await trail.close();
  });

  it('a torn tail is tolerated by verify before repair, a torn marker record is not', async () => {
    const trail = await fill(4);
    appendFileSync(logPath(), '{"seq":5');
    expect(await trail.verify('pd-a')).toMatchObject({ ok: true, count: 4 });
    await trail.close();
    truncateSync(logPath(), statSync(logPath()).size - 20);
    const t2 = await AuditTrail.open(dir);
    expect(await t2.verify('pd-a')).toMatchObject({ ok: false, brokenAt: 4 });
    await t2.close();
  });

  it('query filters, pages by seq with next', async () => {
    const trail = await fill(30);
    const all = await trail.query('pd-a', { limit: 1000 });
    expect(all.records.length).toBe(30);
    expect(all.next).toBeNull();
    const p1 = await trail.query('pd-a', { limit: 7 });
    expect(p1.records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(p1.next).toBe(7);
    const p2 = await trail.query('pd-a', { limit: 7, after: 7 });
    expect(p2.records[0]!.seq).toBe(8);
    const alice = await trail.query('pd-a', { user: 'alice', limit: 1000 });
    expect(alice.records.every((r) => r.user === 'alice')).toBe(true);
    expect(alice.records.length).toBe(15);
    const ingest = await trail.query('pd-a', { action: 'reads.ingest', limit: 5 });
    expect(ingest.records.map((r) => r.seq)).toEqual([3, 6, 9, 12, 15]);
    expect(ingest.next).toBe(15);
    const last = await trail.query('pd-a', { action: 'reads.ingest', limit: 5, after: 27 });
    expect(last.records.map((r) => r.seq)).toEqual([30]);
    expect(last.next).toBeNull();
    const none = await trail.query('pd-a', { from: Date.now() + 60_000 });
    expect(none).toEqual({ records: [], next: null });
    expect(await trail.query('pd-zz', {})).toEqual({ records: [], next: null });
    await trail.close();
  });

  it('query pages over many records across index checkpoints', async () => {
    const trail = await fill(600);
    await trail.query('pd-a', { limit: 1 }); // builds the checkpoint index
    await Promise.all(Array.from({ length: 100 }, (_, i) => trail.append('pd-a', fields(601 + i))));
    let after = 0;
    const seen: number[] = [];
    for (;;) {
      const page = await trail.query('pd-a', { limit: 97, after });
      seen.push(...page.records.map((r) => r.seq));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 700 }, (_, i) => i + 1));
    await trail.close();
  });
});
