/**
 * Legal holds through a real server (API.md v1.1 "Accountability / Legal hold"): held reads survive a
 * retention sweep on disk (in shards and in the WAL) and are returned past retention only to the owner's
 * searches stating the hold's case; never to another case, never to a partner, never in an export; a
 * released hold lets the sweep delete them from disk within 60 s; holds are durable across a restart;
 * the routes validate their input and are audited.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepNow } from '../src/server/routes/retention.js';
import { decryptedFilesContaining } from './helpers/crypto.js';
import { call, createToken, kCliMain, makeDataDir, readAudit, spawnServer, startTestServer, type ChildServer, type TestServer } from './helpers/server.js';

let ts: TestServer | undefined;
let dataDir: string | undefined;
let child: ChildServer | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  if (child) await child.exited;
  child = undefined;
  await ts?.close();
  ts = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

const kHour = 3_600_000;

const kCameras = ['cam-held-shard', 'cam-held-live', 'cam-free-shard', 'cam-free-live', 'cam-win', 'cam-win-out', 'cam-recent', 'cam-kept'];

/**
 * The cameras of kCameras whose reads are in a data file (WAL, shard) under `tenantDir`, opened with the
 * data dir's keys: the files are sealed at rest, so "on disk" is what their keys still open (camera names
 * are stored as they are sent).
 */
async function filesText(tenantDir: string): Promise<string[]> {
  const dataDir = join(tenantDir, '..', '..');
  const found: string[] = [];
  for (const c of kCameras) {
    if ((await decryptedFilesContaining(dataDir, c)).some((f) => f.startsWith(tenantDir + sep))) found.push(c);
  }
  return found;
}

describe('legal holds over HTTP', () => {
  it('held reads survive retention, are seen only under their case, and go within 60 s of release', async () => {
    dataDir = await makeDataDir();
    ts = await startTestServer({ dataDir });
    const { url } = ts;
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms).toISOString();
    const r = (plate: string, ago: number, camera: string) => ({ plate, ts: at(ago), lat: 37.7, lon: -122.4, camera });
    const ingest = async (tenant: string, reads: unknown[]) => {
      const res = await call(url, 'POST', '/v1/reads', { token: ts!.token(tenant, 'ingest'), json: reads });
      expect(res.json.accepted).toBe(reads.length);
    };
    // sealed into day shards first, then a live tail
    await ingest('pd-a', [r('HOLD1', 2 * kHour, 'cam-held-shard'), r('FREE1', 2 * kHour, 'cam-free-shard'), r('WIN1', 5 * kHour, 'cam-win'), r('WIN1', 3 * kHour, 'cam-win-out')]);
    await ts.server.services.engine.seal('pd-a');
    await ingest('pd-a', [r('HOLD1', 2 * kHour - 1000, 'cam-held-live'), r('FREE1', 2 * kHour - 2000, 'cam-free-live'), r('HOLD1', kHour / 2, 'cam-recent')]);
    await ingest('pd-b', [r('HOLD1', 2 * kHour, 'cam-b')]);
    const admin = ts.token('pd-a', 'admin');
    expect((await call(url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    expect((await call(url, 'PUT', '/v1/sharing/pd-c', { token: admin, json: {} })).status).toBe(200);

    const tenantDir = join(dataDir, 'tenants', 'pd-a');
    const cams = ['cam-held-shard', 'cam-held-live', 'cam-free-shard', 'cam-free-live', 'cam-win', 'cam-win-out', 'cam-recent'];
    let disk = await filesText(tenantDir);
    for (const c of cams) expect(disk, c).toContain(c); // the check below can fail

    const h1 = await call(url, 'PUT', '/v1/holds/h1', { token: admin, json: { case: 'CASE-1', reason: 'preservation order 12', plates: ['hold-1', 'HOLD 1'] } });
    expect(h1.status).toBe(200);
    expect(h1.json).toMatchObject({ id: 'h1', case: 'CASE-1', reason: 'preservation order 12', plates: ['HOLD1'], from: null, to: null, createdBy: 'admin' });
    const h2 = await call(url, 'PUT', '/v1/holds/h2', { token: admin, json: { case: 'CASE-2', reason: 'subpoena', from: at(6 * kHour), to: now - 4 * kHour } });
    expect(h2.status).toBe(200);
    expect(h2.json).toMatchObject({ id: 'h2', from: at(6 * kHour), to: at(4 * kHour) });
    expect(h2.json.plates).toBeUndefined();
    expect((await call(url, 'GET', '/v1/holds', { token: admin })).json.holds.map((h: any) => h.id)).toEqual(['h1', 'h2']);

    expect((await call(url, 'PUT', '/v1/retention', { token: admin, json: { retentionSeconds: 3600 } })).status).toBe(200);
    await sweepNow(ts.server.services);
    disk = await filesText(tenantDir);
    for (const c of ['cam-held-shard', 'cam-held-live', 'cam-win', 'cam-recent']) expect(disk, c).toContain(c);
    for (const c of ['cam-free-shard', 'cam-free-live', 'cam-win-out']) expect(disk, c).not.toContain(c);

    const inv = ts.token('pd-a', 'investigator');
    const cameras = async (token: string, body: Record<string, unknown>) => {
      const res = await call(url, 'POST', '/v1/search', { token, json: { purpose: 'investigation', ...body } });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.json.total).toBe(res.json.hits.length);
      return res.json.hits.map((h: any) => h.camera).sort();
    };
    expect(await cameras(inv, { plate: 'HOLD1', case: 'CASE-1' })).toEqual(['cam-b', 'cam-held-live', 'cam-held-shard', 'cam-recent']);
    expect(await cameras(inv, { plate: 'HOLD1', case: 'CASE-2' })).toEqual(['cam-b', 'cam-recent']);
    expect(await cameras(inv, { plate: 'HOLD1', case: 'case-1' })).toEqual(['cam-b', 'cam-recent']); // the case must be equal
    expect(await cameras(inv, { plate: 'WIN1', case: 'CASE-2' })).toEqual(['cam-win']);
    expect(await cameras(inv, { plate: 'WIN1', case: 'CASE-1' })).toEqual([]);
    expect(await cameras(inv, { plate: 'HOLD2', match: 'fuzzy', maxEdits: 1, case: 'CASE-1', from: at(7 * kHour) })).toEqual(['cam-b', 'cam-held-live', 'cam-held-shard', 'cam-recent']);
    expect(await cameras(inv, { case: 'CASE-1', from: at(7 * kHour) })).toEqual(['cam-b', 'cam-held-live', 'cam-held-shard', 'cam-recent']);
    expect(await cameras(inv, { case: 'CASE-1', from: at(7 * kHour), to: at(110 * 60_000) })).toEqual(['cam-b', 'cam-held-live', 'cam-held-shard']);
    // order and limit hold across held and retained reads: ts descending
    const ordered = await call(url, 'POST', '/v1/search', { token: inv, json: { plate: 'HOLD1', purpose: 'p', case: 'CASE-1', limit: 2 } });
    expect(ordered.json.hits.map((h: any) => h.camera)).toEqual(['cam-recent', 'cam-held-live']);
    expect(ordered.json).toMatchObject({ total: 4, truncated: true });
    // a partner of pd-a stating the same case sees none of pd-a's held reads
    expect(await cameras(ts.token('pd-c', 'investigator'), { plate: 'HOLD1', case: 'CASE-1' })).toEqual(['cam-recent']);
    // hot-list search
    const hl = await call(url, 'POST', '/v1/search/hotlist', { token: inv, json: { plates: ['HOLD1', 'WIN1', 'FREE1'], purpose: 'p', case: 'CASE-1' } });
    expect(hl.json.matches.map((m: any) => [m.entry, m.total, m.hits.map((h: any) => h.camera).sort()])).toEqual([['HOLD1', 4, ['cam-b', 'cam-held-live', 'cam-held-shard', 'cam-recent']]]);
    const hl2 = await call(url, 'POST', '/v1/search/hotlist', { token: inv, json: { plates: ['HOLD1', 'WIN1', 'FREE1'], purpose: 'p', case: 'CASE-2' } });
    expect(hl2.json.matches.map((m: any) => [m.entry, m.total])).toEqual([['HOLD1', 2], ['WIN1', 1]]);
    // export never carries held reads past retention
    const exp = await call(url, 'GET', '/v1/export?format=ndjson', { token: admin });
    expect(exp.text.trim().split('\n').map((l) => JSON.parse(l).camera)).toEqual(['cam-recent']);

    // audit: the holds consulted and how many held reads a search saw
    const audit = await readAudit(dataDir, 'pd-a');
    const put = audit.find((a) => a.action === 'hold.put' && a.case === 'CASE-1')!;
    expect(put).toMatchObject({ user: 'admin', status: 200, params: { id: 'h1', reason: 'preservation order 12' } });
    const searches = audit.filter((a) => a.action === 'search' && a.case === 'CASE-1' && (a as any).holds);
    expect(searches.length).toBeGreaterThan(0);
    expect((searches[0] as any).holds).toEqual(['h1']);
    expect((searches[0] as any).heldCount).toBe(2);

    // release: the sweep deletes what only h1 kept, from disk, within 60 s
    const released = Date.now();
    expect((await call(url, 'DELETE', '/v1/holds/h1', { token: admin })).status).toBe(204);
    expect((await call(url, 'DELETE', '/v1/holds/h1', { token: admin })).status).toBe(404);
    for (;;) {
      disk = await filesText(tenantDir);
      if (!disk.includes('cam-held-shard') && !disk.includes('cam-held-live')) break;
      expect(Date.now() - released).toBeLessThan(60_000);
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(disk).toContain('cam-win'); // h2 still holds
    expect(await cameras(inv, { plate: 'HOLD1', case: 'CASE-1' })).toEqual(['cam-b', 'cam-recent']);
    expect(audit.length).toBeGreaterThan(0);
    expect((await readAudit(dataDir, 'pd-a')).filter((a) => a.action === 'hold.release').map((a) => [a.status, a.case])).toEqual([[204, 'CASE-1'], [404, null]]);

    // holds are durable: a restarted server still keeps and shows h2's reads
    await ts.close();
    ts = await startTestServer({ dataDir });
    expect((await call(ts.url, 'GET', '/v1/holds', { token: ts.token('pd-a', 'admin') })).json.holds.map((h: any) => [h.id, h.case])).toEqual([['h2', 'CASE-2']]);
    await sweepNow(ts.server.services);
    const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: { plate: 'WIN1', purpose: 'p', case: 'CASE-2' } });
    expect(res.json.hits.map((h: any) => h.camera)).toEqual(['cam-win']);
    expect(await filesText(tenantDir)).toContain('cam-win');
    // nor does the command-line export carry held reads past retention
    await ts.close();
    ts = undefined;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [kCliMain, 'export', '--data-dir', dataDir!, '--tenant', 'pd-a', '--format', 'ndjson'], { encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(out.trim().split('\n').map((l) => JSON.parse(l).camera)).toEqual(['cam-recent']);
  }, 120_000);

  it('validates input, is admin-only, and keeps tenants apart', async () => {
    ts = await startTestServer();
    const { url } = ts;
    const admin = ts.token('pd-a', 'admin');
    const put = (id: string, json: unknown, token = admin) => call(url, 'PUT', `/v1/holds/${id}`, { token, json });
    const ok = { case: 'C-1', reason: 'order' };
    for (const [id, body, field] of [
      ['h', {}, 'case'],
      ['h', { reason: 'r' }, 'case'],
      ['h', { case: '  ', reason: 'r' }, 'case'],
      ['h', { case: 'c' }, 'reason'],
      ['h', { ...ok, plates: [] }, 'plates'],
      ['h', { ...ok, plates: 'ABC' }, 'plates'],
      ['h', { ...ok, plates: ['AB*'] }, 'plates'],
      ['h', { ...ok, plates: ['---'] }, 'plates'],
      ['h', { ...ok, plates: ['ABCDEFGHIJK'] }, 'plates'],
      ['h', { ...ok, plates: [7] }, 'plates'],
      ['h', { ...ok, from: '2026-01-02' }, 'from'],
      ['h', { ...ok, to: '1700000000000' }, 'to'],
      ['h', { ...ok, from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
      ['h', { ...ok, from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
      ['h', { ...ok, extra: 1 }, 'extra'],
      ['h', [ok], undefined],
      ['bad%20id', ok, 'id'],
      ['-lead', ok, 'id'],
    ] as const) {
      const res = await put(id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('PS_BAD_INPUT');
      if (field) expect(res.json.error.field).toBe(field);
    }
    expect((await call(url, 'PUT', '/v1/holds/h', { token: admin })).status).toBe(400);
    for (const role of ['investigator', 'dispatcher', 'auditor', 'ingest']) {
      const token = ts.token('pd-a', role);
      expect((await put('h', ok, token)).status, role).toBe(403);
      expect((await call(url, 'GET', '/v1/holds', { token })).status).toBe(403);
      expect((await call(url, 'DELETE', '/v1/holds/h', { token })).status).toBe(403);
    }
    expect((await call(url, 'GET', '/v1/holds', {})).status).toBe(401);

    const first = await put('h', { ...ok, plates: ['b2', 'A1', 'a-1'], from: 1_700_000_000_000 });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ plates: ['B2', 'A1'], from: new Date(1_700_000_000_000).toISOString(), to: null });
    // a replace keeps when and by whom the hold was first placed
    const again = await put('h', { case: 'C-2', reason: 'widened' }, ts.token('pd-a', 'all'));
    expect(again.json).toMatchObject({ id: 'h', case: 'C-2', reason: 'widened', createdBy: 'admin', updatedBy: 'all', created: first.json.created });
    expect(again.json.plates).toBeUndefined();
    expect((await call(url, 'GET', '/v1/holds/h', { token: admin })).json).toEqual(again.json);
    expect((await call(url, 'GET', '/v1/holds/nope', { token: admin })).status).toBe(404);

    // another tenant neither sees nor releases it
    const b = ts.token('pd-b', 'admin');
    expect((await call(url, 'GET', '/v1/holds', { token: b })).json).toEqual({ holds: [] });
    expect((await call(url, 'GET', '/v1/holds/h', { token: b })).status).toBe(404);
    expect((await call(url, 'DELETE', '/v1/holds/h', { token: b })).status).toBe(404);
    expect((await call(url, 'GET', '/v1/holds', { token: admin })).json.holds).toHaveLength(1);

    // 101 plates are recorded in the audit log as a count and a hash
    const many = Array.from({ length: 101 }, (_, i) => `P${i}`);
    expect((await put('big', { ...ok, plates: many })).status).toBe(200);
    const rec = (await readAudit(ts.dataDir, 'pd-a')).filter((a) => a.action === 'hold.put' && a.status === 200).at(-1)!;
    expect(rec.case).toBe('C-1');
    expect((rec.params as any).plates).toMatchObject({ count: 101 });
    expect((rec.params as any).storedPlates).toBe(101);
  });
  it('fails closed: with an unreadable holds file nothing of that tenant is swept, and its hold routes answer 503', async () => {
    dataDir = await makeDataDir();
    ts = await startTestServer({ dataDir });
    const now = Date.now();
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [{ plate: 'KEEP1', ts: now - 2 * kHour, lat: 1, lon: 2, camera: 'cam-kept' }] });
    expect(res.json.accepted).toBe(1);
    await ts.close();
    await mkdir(join(dataDir, 'control', 'holds'), { recursive: true });
    await writeFile(join(dataDir, 'control', 'holds', 'pd-a.json'), '{"format":"platesearch-holds","version":99,"tenant":"pd-a","holds":[]}\n');
    ts = await startTestServer({ dataDir });
    const admin = ts.token('pd-a', 'admin');
    expect((await call(ts.url, 'PUT', '/v1/retention', { token: admin, json: { retentionSeconds: 3600 } })).status).toBe(200);
    await sweepNow(ts.server.services);
    expect(await filesText(join(dataDir, 'tenants', 'pd-a'))).toContain('cam-kept');
    const list = await call(ts.url, 'GET', '/v1/holds', { token: admin });
    expect(list.status).toBe(503);
    expect(list.json.error.code).toBe('PS_STORAGE_UNAVAILABLE');
    expect((await call(ts.url, 'PUT', '/v1/holds/x', { token: admin, json: { case: 'c', reason: 'r' } })).status).toBe(503);
    // the read is past retention all the same: no search returns it
    const s = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: { plate: 'KEEP1', purpose: 'p', case: 'c' } });
    expect(s.json.total).toBe(0);
    // other tenants are swept as usual
    expect((await call(ts.url, 'GET', '/v1/holds', { token: ts.token('pd-b', 'admin') })).status).toBe(200);
  });
  it('a hold is durable when placed: it survives kill -9 right after the answer, and so does a release', async () => {
    dataDir = await makeDataDir();
    const admin = await createToken(dataDir, 'pd-a', 'boss', ['admin']);
    child = await spawnServer(dataDir);
    expect((await call(child.url, 'PUT', '/v1/holds/k1', { token: admin, json: { case: 'K-1', reason: 'r', plates: ['ABC123'] } })).status).toBe(200);
    expect((await call(child.url, 'PUT', '/v1/holds/k2', { token: admin, json: { case: 'K-2', reason: 'r' } })).status).toBe(200);
    child.kill('SIGKILL');
    await child.exited;
    child = await spawnServer(dataDir);
    const list = await call(child.url, 'GET', '/v1/holds', { token: admin });
    expect(list.json.holds.map((h: any) => [h.id, h.case, h.plates ?? null, h.createdBy])).toEqual([['k1', 'K-1', ['ABC123'], 'boss'], ['k2', 'K-2', null, 'boss']]);
    expect((await call(child.url, 'DELETE', '/v1/holds/k1', { token: admin })).status).toBe(204);
    child.kill('SIGKILL');
    await child.exited;
    child = await spawnServer(dataDir);
    expect((await call(child.url, 'GET', '/v1/holds', { token: admin })).json.holds.map((h: any) => h.id)).toEqual(['k2']);
  }, 60_000);
});
