/**
 * kill -9 during key rotation and tenant purge (real processes, a crash loop): after any number of crashes
 * and a final complete run, every acknowledged read is still readable (rotation) or the tenant's reads are
 * gone from every copy while other tenants keep theirs (purge). Sealing under kill -9 is the general crash
 * loop (test/reliability-crash.test.ts), which now runs on encrypted data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kCli, prng, runCli } from './helpers/crash-loop.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Starts the CLI and kills it with SIGKILL after `ms` (or lets it finish first). */
function runAndKill(args: string[], ms: number): Promise<number | string> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [kCli(), ...args], { stdio: 'ignore' });
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve(code ?? signal ?? -1);
    });
  });
}

async function exportPlates(dataDir: string, tenant: string, ks: string): Promise<string[]> {
  const r = await runCli(['export', '--data-dir', dataDir, '--key-store', ks, '--tenant', tenant, '--format', 'ndjson']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { plate: string }).plate).sort();
}

async function setUp(): Promise<{ dataDir: string; ks: string; plates: Record<string, string[]> }> {
  const root = await mkdtemp(join(tmpdir(), 'ps-crypto-crash-'));
  dirs.push(root);
  const dataDir = join(root, 'data');
  const ks = `file:${join(root, 'keys')}`;
  const plates: Record<string, string[]> = {};
  const now = Date.now();
  for (const tenant of ['pd-a', 'pd-b']) {
    const f = join(root, `${tenant}.ndjson`);
    plates[tenant] = [];
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const plate = `${tenant === 'pd-a' ? 'A' : 'B'}${String(i).padStart(5, '0')}`;
      plates[tenant]!.push(plate);
      lines.push(JSON.stringify({ plate, ts: new Date(now - (i % 5) * 86_400_000 - i * 1000).toISOString(), lat: 1, lon: 2, camera: 'c' }));
    }
    await writeFile(f, lines.join('\n') + '\n');
    // two loads: the first sealed into shards by the second's open, the second left in the WAL
    const half = lines.length / 2;
    await writeFile(`${f}.1`, lines.slice(0, half).join('\n') + '\n');
    await writeFile(`${f}.2`, lines.slice(half).join('\n') + '\n');
    for (const part of [`${f}.1`, `${f}.2`]) {
      await rm(`${part}.ndjson`, { force: true });
      await cp(part, `${part}.ndjson`);
      const r = await runCli(['ingest', '--data-dir', dataDir, '--key-store', ks, '--tenant', tenant, `${part}.ndjson`]);
      expect(r.stdout, r.stderr).toContain(`accepted ${half}`);
    }
    plates[tenant]!.sort();
  }
  return { dataDir, ks, plates };
}

describe('kill -9 during key rotation and purge', () => {
  it('rotation (with --destroy-old) killed at random points, then completed: every read still opens', async () => {
    const { dataDir, ks, plates } = await setUp();
    const rnd = prng(13);
    const codes: Array<number | string> = [];
    for (let i = 0; i < 6; i++) codes.push(await runAndKill(['keys', 'rotate', '--data-dir', dataDir, '--key-store', ks, '--tenant', 'pd-a', '--destroy-old'], 150 + Math.floor(rnd() * 1500)));
    expect(codes.filter((c) => c === 'SIGKILL').length).toBeGreaterThan(0);
    const done = await runCli(['keys', 'rotate', '--data-dir', dataDir, '--key-store', ks, '--tenant', 'pd-a', '--destroy-old']);
    expect(done.code, done.stderr).toBe(0);
    expect(await exportPlates(dataDir, 'pd-a', ks)).toEqual(plates['pd-a']);
    expect(await exportPlates(dataDir, 'pd-b', ks)).toEqual(plates['pd-b']);
  }, 240_000);

  it('purge killed at random points, then completed: no read of the tenant in the data dir or a copy from before; others intact', async () => {
    const { dataDir, ks, plates } = await setUp();
    const copy = `${dataDir}-copy`;
    await cp(dataDir, copy, { recursive: true });
    const rnd = prng(29);
    const codes: Array<number | string> = [];
    for (let i = 0; i < 5; i++) codes.push(await runAndKill(['tenant', 'purge', '--data-dir', dataDir, '--key-store', ks, '--tenant', 'pd-a', '--confirm', 'pd-a'], 100 + Math.floor(rnd() * 900)));
    // between crashes the data dir still opens (a half-purged tenant reads as shredded, not as damage)
    const mid = await runCli(['export', '--data-dir', dataDir, '--key-store', ks, '--tenant', 'pd-b', '--format', 'ndjson']);
    expect(mid.code, mid.stderr).toBe(0);
    const done = await runCli(['tenant', 'purge', '--data-dir', dataDir, '--key-store', ks, '--tenant', 'pd-a', '--confirm', 'pd-a']);
    expect(done.code, done.stderr).toBe(0);
    expect(await exportPlates(dataDir, 'pd-a', ks)).toEqual([]);
    expect(await exportPlates(copy, 'pd-a', ks)).toEqual([]);
    expect(await exportPlates(dataDir, 'pd-b', ks)).toEqual(plates['pd-b']);
    expect(await exportPlates(copy, 'pd-b', ks)).toEqual(plates['pd-b']);
    void codes;
  }, 240_000);
});
