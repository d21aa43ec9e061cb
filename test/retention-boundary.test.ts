/**
 * The retention cutoff at its boundary, through the pieces the server combines: Directory.scopesFor gives
 * minTs = now − retentionSeconds·1000; a read with ts = minTs is kept, ts = minTs − 1 is gone (search, export,
 * and dropBefore on disk).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import { Directory } from '../src/server/tenancy/directory.js';
import { RetentionSweeper } from '../src/server/tenancy/retention-sweeper.js';

let dir: string;
let engine: Engine;
let directory: Directory;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ps-ret-'));
  engine = await openEngine({ dataDir: dir, threads: 0 });
  directory = await Directory.open(dir, { watch: false });
});
afterEach(async () => {
  await engine.close();
  await directory.close();
  rmSync(dir, { recursive: true, force: true });
});

const read = (plate: string, ts: number) => ({ plate, ts, lat: 1, lon: 1, camera: 'c' });

describe('retention boundary', () => {
  it('keeps ts == cutoff, drops ts == cutoff - 1, in search, export and on disk', async () => {
    await directory.createToken('pd-a', 'admin', ['admin']);
    await directory.setRetention('pd-a', 3600);
    const now = 1_800_000_000_000;
    const cutoff = directory.retentionCutoff('pd-a', now);
    expect(cutoff).toBe(now - 3_600_000);
    await engine.append('pd-a', [read('OLD', cutoff - 1), read('EDGE', cutoff), read('NEW', cutoff + 1)]);
    const scopes = directory.scopesFor('pd-a', now);
    const r = await engine.search(scopes, { filter: {}, limit: 100 });
    expect(r.hits.map((h) => h.plate).sort()).toEqual(['EDGE', 'NEW']);
    const exported: string[] = [];
    for await (const x of engine.exportReads(scopes[0]!, {})) exported.push(x.plate);
    expect(exported).toEqual(['EDGE', 'NEW']);
    const dropped = await engine.dropBefore('pd-a', cutoff);
    expect(dropped.readsDeleted).toBe(1);
    const all = await engine.search([{ tenant: 'pd-a', minTs: -Infinity }], { filter: {}, limit: 100 });
    expect(all.hits.map((h) => h.plate).sort()).toEqual(['EDGE', 'NEW']);
  });

  it('the sweeper drops every tenant\'s reads past its own retention, and no other', async () => {
    await directory.createToken('pd-a', 'admin', ['admin']);
    await directory.createToken('pd-b', 'admin', ['admin']);
    await directory.setRetention('pd-a', 60);
    const now = Date.now();
    await engine.append('pd-a', [read('AOLD', now - 3_600_000), read('ANEW', now + 60_000)]);
    await engine.append('pd-b', [read('BOLD', now - 3_600_000)]);
    const sweeper = new RetentionSweeper(directory, engine, undefined, 60_000);
    await sweeper.sweep();
    await sweeper.stop();
    const all = await engine.search([{ tenant: 'pd-a', minTs: -Infinity }, { tenant: 'pd-b', minTs: -Infinity }], { filter: {}, limit: 100 });
    expect(all.hits.map((h) => h.plate).sort()).toEqual(['ANEW', 'BOLD']);
  });
});
