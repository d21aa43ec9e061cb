/**
 * Corruption of the data dir, detected at load: a flipped byte or a truncation in a shard, a foreign shard
 * in a manifest's place, damage in the middle of a WAL, a foreign WAL file, a damaged manifest. The server
 * starts, serves the healthy data, reports the bad files (`/healthz` degraded, the corrupt-files metric,
 * an error log line naming them) and never returns a row that is not one the client stored.
 */
import { readdir, readFile, rm, truncate, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../src/server/logger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { call, makeDataDir, sampleRead, startTestServer, type ReadInput, type TestServer } from './helpers/server.js';

const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A logger whose JSON lines land in `lines`. */
function capture(): { logger: Logger; lines: any[] } {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink) as unknown as Logger, lines };
}

async function start(dataDir: string, logger?: Logger): Promise<TestServer> {
  const s = await startTestServer({ dataDir, engineOptions: { sealRows: 1_000_000, sealAgeMs: 0 }, ...(logger ? { logger } : {}) });
  open.push(s);
  return s;
}

// 3 days × 100 reads for pd-a (three day shards), 50 for pd-b; every camera unique
const readsA: ReadInput[] = Array.from({ length: 300 }, (_, i) =>
  sampleRead(i, { camera: `a-${i}`, ts: new Date(Date.UTC(2026, 10, 1 + Math.floor(i / 100), 1, i % 100)).toISOString() }));
const readsB: ReadInput[] = Array.from({ length: 50 }, (_, i) => sampleRead(1000 + i, { camera: `b-${i}` }));
const byCamera = new Map([...readsA, ...readsB].map((r) => [r.camera, r]));

/** A data dir with sealed shards for pd-a and pd-b, plus live (WAL-only) rows for pd-a. */
async function populated(): Promise<{ dataDir: string; liveA: ReadInput[] }> {
  const dataDir = await makeDataDir();
  dirs.push(dataDir);
  const s = await start(dataDir);
  expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: readsA })).status).toBe(200);
  expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: readsB })).status).toBe(200);
  await s.server.services.engine.seal();
  // live rows in three WAL records (three batches), so damage in the middle has records after it
  const liveA = Array.from({ length: 30 }, (_, i) => sampleRead(2000 + i, { camera: `w-${i}` }));
  for (let i = 0; i < 3; i++) {
    expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: liveA.slice(i * 10, i * 10 + 10) })).status).toBe(200);
  }
  for (const r of liveA) byCamera.set(r.camera, r);
  await s.close();
  open.splice(open.indexOf(s), 1);
  return { dataDir, liveA };
}

/** Every row of a scan: must be one the client sent, field for field. Returns the cameras seen. */
async function scanAll(s: TestServer, tenant: string): Promise<Set<string>> {
  const res = await call(s.url, 'POST', '/v1/search', {
    token: s.token(tenant, 'investigator'), json: { limit: 10_000, purpose: 'corruption test', case: 'c' },
  });
  expect(res.status).toBe(200);
  const seen = new Set<string>();
  for (const h of res.json.hits as any[]) {
    const r = byCamera.get(h.camera);
    expect(r, `a row nobody sent: ${JSON.stringify(h)}`).toBeDefined();
    expect(h.tenant).toBe(tenant);
    expect(h.plate).toBe(r!.plate);
    expect(Date.parse(h.ts)).toBe(Date.parse(String(r!.ts)));
    expect(h.lat).toBeCloseTo(r!.lat, 6);
    expect(h.lon).toBeCloseTo(r!.lon, 6);
    expect(seen.has(h.camera), `row twice: ${h.camera}`).toBe(false);
    seen.add(h.camera);
  }
  expect(res.json.total).toBe(seen.size);
  return seen;
}

async function expectDegraded(s: TestServer, file: string, lines: any[]): Promise<void> {
  const h = await call(s.url, 'GET', '/healthz');
  expect(h.status).toBe(200);
  expect(h.json.degraded).toBe(true);
  expect(h.json.corruptFiles).toContain(file);
  const m = await call(s.url, 'GET', '/metrics');
  const g = /^platesearch_engine_corrupt_files (\d+)$/m.exec(m.text);
  expect(Number(g?.[1])).toBeGreaterThanOrEqual(1);
  expect(lines.some((l) => l.level >= 50 && JSON.stringify(l).includes(file))).toBe(true);
}

const shardsOf = (dataDir: string, tenant: string) => join(dataDir, 'tenants', tenant, 'shards');
const walOf = (dataDir: string, tenant: string) => join(dataDir, 'tenants', tenant, 'wal');

/** pd-a's largest WAL file: the one holding the three live batches. */
async function largestWal(dataDir: string): Promise<{ victim: string; size: number }> {
  let victim = '';
  let size = 0;
  for (const f of (await readdir(walOf(dataDir, 'pd-a'))).filter((n) => n.endsWith('.wal')).sort()) {
    const b = await readFile(join(walOf(dataDir, 'pd-a'), f));
    if (b.length > size) [victim, size] = [join(walOf(dataDir, 'pd-a'), f), b.length];
  }
  return { victim, size };
}

describe('corruption in the data dir is detected at load', () => {
  for (const how of ['flipped byte', 'truncated', 'foreign shard'] as const) {
    it(`shard: ${how} → that shard is left out and reported; every other row is served, and only true rows`, async () => {
      const { dataDir } = await populated();
      const files = (await readdir(shardsOf(dataDir, 'pd-a'))).filter((f) => f.endsWith('.shard')).sort();
      expect(files.length).toBe(3);
      const victim = join(shardsOf(dataDir, 'pd-a'), files[1]!);
      const bytes = await readFile(victim);
      if (how === 'flipped byte') {
        bytes[Math.floor(bytes.length * 0.6)] ^= 0x01;
        await writeFile(victim, bytes);
      } else if (how === 'truncated') {
        await truncate(victim, Math.floor(bytes.length / 2));
      } else {
        const other = (await readdir(shardsOf(dataDir, 'pd-b'))).find((f) => f.endsWith('.shard'))!;
        await copyFile(join(shardsOf(dataDir, 'pd-b'), other), victim);
      }
      const { logger, lines } = capture();
      const s = await start(dataDir, logger);
      await expectDegraded(s, victim, lines);
      const seenA = await scanAll(s, 'pd-a');
      // day 2 (a-100 … a-199) is gone, days 1 and 3 and the live rows are all there
      for (let i = 0; i < 300; i++) expect(seenA.has(`a-${i}`), `a-${i}`).toBe(i < 100 || i >= 200);
      for (let i = 0; i < 30; i++) expect(seenA.has(`w-${i}`)).toBe(true);
      expect((await scanAll(s, 'pd-b')).size).toBe(50);
      // still ingesting, still sealing
      expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [sampleRead(5000, { camera: 'n-0' })] })).status).toBe(200);
      await s.server.services.engine.seal('pd-a');
      byCamera.set('n-0', sampleRead(5000, { camera: 'n-0' }));
      expect((await scanAll(s, 'pd-a')).has('n-0')).toBe(true);
      // the damaged file is kept as evidence
      expect((await readdir(shardsOf(dataDir, 'pd-a'))).includes(files[1]!)).toBe(true);
    });
  }

  it('WAL: damage in the middle → reported, the records after it are kept, the file is kept', async () => {
    const { dataDir } = await populated();
    const { victim } = await largestWal(dataDir);
    const bytes = await readFile(victim);
    bytes[Math.floor(bytes.length / 2)] ^= 0x40; // inside the second record
    await writeFile(victim, bytes);
    const { logger, lines } = capture();
    const s = await start(dataDir, logger);
    await expectDegraded(s, victim, lines);
    const seen = await scanAll(s, 'pd-a');
    for (let i = 0; i < 10; i++) expect(seen.has(`w-${i}`)).toBe(true);
    for (let i = 20; i < 30; i++) expect(seen.has(`w-${i}`)).toBe(true);
    expect(seen.size).toBe(300 + 20);
  });

  it('WAL: cut short after acknowledged records (a clean truncation, not a torn write) → reported; the rest is served; lost ids are not reused', async () => {
    const { dataDir } = await populated();
    const { victim, size } = await largestWal(dataDir);
    await truncate(victim, Math.floor(size * 0.5)); // loses the third batch and half of the second
    const { logger, lines } = capture();
    const s = await start(dataDir, logger);
    await expectDegraded(s, walOf(dataDir, 'pd-a'), lines);
    const seen = await scanAll(s, 'pd-a');
    for (let i = 0; i < 10; i++) expect(seen.has(`w-${i}`)).toBe(true);
    const ids = async (): Promise<Map<string, string>> => {
      const res = await call(s.url, 'POST', '/v1/search', { token: s.token('pd-a', 'investigator'), json: { limit: 10_000, purpose: 'p', case: 'c' } });
      return new Map((res.json.hits as Array<{ camera: string; id: string }>).map((h) => [h.camera, h.id]));
    };
    const before = new Set((await ids()).values());
    const res = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: [sampleRead(5000, { camera: 'after-cut' })] });
    expect(res.status).toBe(200);
    const fresh = (await ids()).get('after-cut');
    expect(fresh).toBeDefined();
    expect(before.has(fresh!)).toBe(false);
    // above every id the cut log had handed out: the mark's seq, not the shortened log's
    expect(fresh! > [...before].sort().at(-1)!).toBe(true);
  });

  it('WAL: a foreign file with a WAL name → reported, ignored, nothing else lost', async () => {
    const { dataDir } = await populated();
    const foreign = join(walOf(dataDir, 'pd-a'), '00000000000000f0.wal');
    await writeFile(foreign, Buffer.from('this is not a platesearch write-ahead log\n'.repeat(20)));
    const { logger, lines } = capture();
    const s = await start(dataDir, logger);
    await expectDegraded(s, foreign, lines);
    expect((await scanAll(s, 'pd-a')).size).toBe(330);
  });

  it('manifest: damaged → that tenant is unavailable (503 on ingest, search, hot-list search, export, and a grantee\'s search), reported; the other tenants are served', async () => {
    const { dataDir } = await populated();
    const manifest = join(dataDir, 'tenants', 'pd-b', 'manifest.json');
    const text = await readFile(manifest, 'utf8');
    await writeFile(manifest, text.replace('"rows":', '"rowz":'));
    const { logger, lines } = capture();
    const s = await start(dataDir, logger);
    await expectDegraded(s, manifest, lines);
    expect((await scanAll(s, 'pd-a')).size).toBe(330);
    const ing = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: [sampleRead(7000)] });
    expect(ing.status).toBe(503);
    expect(ing.json.error.code).toBe('PS_STORAGE_UNAVAILABLE');
    // its reads cannot be read: searches, hot-list searches and exports say so instead of answering empty
    const search = await call(s.url, 'POST', '/v1/search', { token: s.token('pd-b', 'investigator'), json: { plate: readsB[0]!.plate, purpose: 'p', case: 'c' } });
    expect(search.status).toBe(503);
    expect(search.json.error.code).toBe('PS_STORAGE_UNAVAILABLE');
    const hot = await call(s.url, 'POST', '/v1/search/hotlist', { token: s.token('pd-b', 'investigator'), json: { plates: [readsB[0]!.plate], purpose: 'p', case: 'c' } });
    expect(hot.status).toBe(503);
    const exp = await call(s.url, 'GET', '/v1/export', { token: s.token('pd-b', 'admin') });
    expect(exp.status).toBe(503);
    // … and so does a grantee's search that reaches it
    expect((await call(s.url, 'PUT', '/v1/sharing/pd-a', { token: s.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    const shared = await call(s.url, 'POST', '/v1/search', { token: s.token('pd-a', 'investigator'), json: { limit: 10, purpose: 'p', case: 'c' } });
    expect(shared.status).toBe(503);
    // and the damaged manifest is not overwritten
    expect(await readFile(manifest, 'utf8')).toContain('"rowz":');
  });
});
