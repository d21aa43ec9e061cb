/**
 * The Parquet export (src/server/export/parquet.ts): DuckDB reads the file back equal to the NDJSON export
 * of the same reads (nulls where a read has no region, confidence, make or color), with the documented
 * types; over HTTP (`GET /v1/export?format=parquet`), through the CLI (`platesearch export --format
 * parquet`), and directly with small row groups (the export streams a row group at a time).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredRead } from '../src/model/read.js';
import { ParquetExport } from '../src/server/export/parquet.js';
import { duckReadParquet } from './helpers/duckdb.js';
import { call, kCliMain, startTestServer } from './helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'ps-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An NDJSON export line as the row DuckDB gives for it (ts in epoch ms, absent fields null). */
function rowOfJson(o: Record<string, unknown>): Record<string, unknown> {
  return {
    id: o.id, tenant: o.tenant, plate: o.plate, ts: Date.parse(o.ts as string), lat: o.lat, lon: o.lon, camera: o.camera,
    region: o.region ?? null, confidence: o.confidence ?? null, make: o.make ?? null, color: o.color ?? null,
  };
}

function randomReads(n: number, seed: number): Record<string, unknown>[] {
  let a = seed;
  const rnd = () => ((a = (a * 1103515245 + 12345) >>> 0) / 4294967296);
  return Array.from({ length: n }, (_, i) => {
    const r: Record<string, unknown> = {
      plate: `P${Math.floor(rnd() * 50)}X${i % 9}`, ts: Date.UTC(2026, 10, 1) + Math.floor(rnd() * 3 * 86_400_000),
      lat: Math.round((rnd() * 170 - 85) * 1e7) / 1e7, lon: Math.round((rnd() * 350 - 175) * 1e7) / 1e7,
      camera: i % 5 === 0 ? 'Straße "Nord", ☃' : `cam-${i % 11}`,
    };
    if (rnd() < 0.5) r.region = rnd() < 0.5 ? 'CA' : 'GB';
    if (rnd() < 0.5) r.confidence = Math.round(rnd() * 1000) / 1000;
    if (rnd() < 0.3) r.make = 'FORD';
    if (rnd() < 0.3) r.color = 'RED';
    return r;
  });
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [kCliMain, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('Parquet export', () => {
  it('GET /v1/export?format=parquet and platesearch export --format parquet: DuckDB reads them equal to the NDJSON export', async () => {
    // a low seal threshold: most reads are sealed in the background, the last ones stay live
    const s = await startTestServer({ engineOptions: { sealRows: 100 }, keepDataDir: true });
    let closed = false;
    try {
      const reads = randomReads(400, 7);
      const ing = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: reads });
      expect(ing.status).toBe(200);
      // a read of another tenant must not show up
      await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: randomReads(5, 9) });
      await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: randomReads(50, 8) });

      const nd = await call(s.url, 'GET', '/v1/export?format=ndjson', { token: s.token('pd-a', 'admin') });
      expect(nd.status).toBe(200);
      const want = nd.text.trim().split('\n').map((l) => rowOfJson(JSON.parse(l)));
      expect(want.length).toBe(450);
      expect(want.some((r) => r.confidence === null) && want.some((r) => r.region === null)).toBe(true);

      const res = await request(`${s.url}/v1/export?format=parquet`, { headers: { authorization: `Bearer ${s.token('pd-a', 'admin')}` } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/vnd.apache.parquet');
      expect(res.headers['x-export-rows']).toBe('450');
      expect(String(res.headers['content-disposition'])).toContain('pd-a-reads.parquet');
      const file = join(dir, 'http.parquet');
      writeFileSync(file, Buffer.from(await res.body.arrayBuffer()));
      const got = await duckReadParquet(file);
      expect(got.types).toEqual({
        id: 'VARCHAR', tenant: 'VARCHAR', plate: 'VARCHAR', ts: 'TIMESTAMP WITH TIME ZONE', lat: 'DOUBLE', lon: 'DOUBLE',
        camera: 'VARCHAR', region: 'VARCHAR', confidence: 'DOUBLE', make: 'VARCHAR', color: 'VARCHAR',
      });
      expect(got.rows).toEqual(want);

      const bad = await call(s.url, 'GET', '/v1/export?format=xml', { token: s.token('pd-a', 'admin') });
      expect(bad.status).toBe(400);

      await s.close();
      closed = true;
      const out = join(dir, 'cli.parquet');
      const c = await cli('export', '--data-dir', s.dataDir, '--tenant', 'pd-a', '--format', 'parquet', '--out', out);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr).toContain('exported 450 reads');
      expect((await duckReadParquet(out)).rows).toEqual(want);
    } finally {
      if (!closed) await s.close();
      rmSync(s.dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('streams row groups as reads come (memory: one row group), and an empty export is a valid file', async () => {
    const reads: StoredRead[] = randomReads(333, 3).map((r, i) => ({ ...(r as unknown as StoredRead), id: `0001${i.toString(16).padStart(12, '0')}`, tenant: 'pd-a' }));
    const chunks: Uint8Array[] = [];
    const sizes: number[] = [];
    const pq = new ParquetExport(async (b) => {
      chunks.push(b);
      sizes.push(b.length);
    }, 50);
    for (const r of reads) await pq.add(r);
    const beforeFinish = chunks.length;
    await pq.finish();
    expect(beforeFinish).toBe(6); // 6 full row groups handed out before the end; the 7th and the footer at finish
    const file = join(dir, 'groups.parquet');
    writeFileSync(file, Buffer.concat(chunks));
    const got = await duckReadParquet(file);
    expect(got.rowGroups).toBe(7);
    expect(got.rows).toEqual(reads.map((r) => rowOfJson({ ...r, ts: new Date(r.ts).toISOString() })));

    const empty: Uint8Array[] = [];
    const e = new ParquetExport(async (b) => void empty.push(b));
    await e.finish();
    const ef = join(dir, 'empty.parquet');
    writeFileSync(ef, Buffer.concat(empty));
    const eg = await duckReadParquet(ef);
    expect(eg.rows).toEqual([]);
    expect(eg.types.ts).toBe('TIMESTAMP WITH TIME ZONE');
  });
});
