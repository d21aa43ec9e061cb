/**
 * Encryption cannot be turned off in production (issue 13; docs/SECURITY.md, "Encryption cannot be turned
 * off"). The overhead benchmark has a plaintext stand-in (bench/plaintext-keys.ts), injected in-process;
 * these tests hold that nothing a production user can reach starts the CLI or the server unencrypted:
 *
 * - flags and key-store values that would mean "no encryption" are refused (bad usage or a coded error),
 *   nothing written;
 * - environment variables that would mean it change nothing: a server started with them seals every
 *   file (byte scan for the distinctive strings it was sent), and binds its data dir to a `file:` store;
 * - a data dir written by the benchmark with encryption off is refused by every data-dir command, with
 *   PS_KEY_STORE_INVALID, before anything is written; a hand-made binding of another kind likewise;
 * - the benchmark's plaintext entry does not write into an encrypted data dir, and takes no --key-store;
 * - no file under src/ imports bench/, and no src file but the cipher's own makes a cipher.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { call, kCliMain, kRepoRoot } from './helpers/server.js';
import { runCli } from './helpers/crash-loop.js';
import { cliToken, filesUnder, scanForStrings, snapshot } from './helpers/crypto.js';

const kPlainCli = join(kRepoRoot, 'dist/bench/plaintext-cli.js');

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ps-noplain-'));
  dirs.push(d, `${d}.keys`, `${d}-in.ndjson`);
  return d;
}

function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `serve` with extra environment; resolves at its `listening on` line. */
function serveWithEnv(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<void> }> {
  const p = spawn(process.execPath, [kCliMain, 'serve', '--data-dir', dataDir, '--port', '0', '--threads', '1', '--seal-rows', '50'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise((res) => p.once('exit', res));
  return new Promise((resolve, reject) => {
    createInterface({ input: p.stdout! }).on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m) resolve({ url: m[1]!, stop: async () => void (p.kill('SIGTERM'), await exited) });
    });
    void exited.then((code) => reject(new Error(`serve exited ${String(code)}: ${stderr}`)));
  });
}

const kReadsFile = (dataDir: string) => `${dataDir}-in.ndjson`;
async function writeReads(dataDir: string, plates: readonly string[]): Promise<string> {
  const f = kReadsFile(dataDir);
  const now = Date.now();
  await writeFile(f, plates.map((plate, i) => JSON.stringify({ plate, ts: new Date(now - 60_000 * (i + 1)).toISOString(), lat: 1, lon: 2, camera: `cam-${plate}` })).join('\n') + '\n');
  return f;
}

/** Every data-dir command of the production CLI on `dataDir` (plus `extra` arguments). */
function productionCommands(dataDir: string, extra: string[] = []): string[][] {
  return [
    ['serve', '--data-dir', dataDir, '--port', '0', ...extra],
    ['ingest', '--data-dir', dataDir, '--tenant', 'pd-a', kReadsFile(dataDir), ...extra],
    ['export', '--data-dir', dataDir, '--tenant', 'pd-a', '--format', 'csv', ...extra],
    ['token', 'create', '--data-dir', dataDir, '--tenant', 'pd-a', '--user', 'u2', '--role', 'admin', ...extra],
    ['tenant', 'purge', '--data-dir', dataDir, '--tenant', 'pd-a', '--confirm', 'pd-a', ...extra],
    ['keys', 'rotate', '--data-dir', dataDir, '--tenant', 'pd-a', ...extra],
    ['demo', '--data-dir', dataDir, ...extra],
  ];
}

describe('no way to start unencrypted', () => {
  it('flags and key-store values meaning "no encryption": refused on serve and ingest, nothing written', async () => {
    const dataDir = await tempDir();
    await rm(dataDir, { recursive: true }); // a new data dir: a refused start must not even make it
    await writeReads(dataDir, ['NOPLN1']);
    const flags: string[][] = [
      ['--no-encryption'], ['--encryption', 'off'], ['--encryption=none'], ['--plaintext'], ['--unencrypted'], ['--cipher', 'none'],
      ['--cipher', 'plaintext-benchmark'], ['--key-store', 'none'], ['--key-store', 'off'], ['--key-store', ''], ['--key-store', 'file:'],
      ['--key-store', 'plaintext:'], ['--key-store', 'plaintext-benchmark:'], ['--key-store', 'null:'], ['--key-store', 'memory:'],
      ['--key-store', 'pkcs11:'], ['--key-store', `file:${join(dataDir, 'keys')}`], ['--key-store', `file:${dataDir}`],
    ];
    for (const extra of flags) {
      for (const args of productionCommands(dataDir, extra).slice(0, 2)) {
        const r = await runCli(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).not.toBe(0);
        expect(r.stdout).not.toMatch(/listening on|accepted/);
        if (extra[0] === '--key-store') expect(r.stderr, args.join(' ')).toMatch(/PS_KEY_STORE_INVALID|PS_KEY_STORE_MISSING/);
        else expect(r.stderr, args.join(' ')).toMatch(/Unknown option|unknown option/i);
        expect(existsSync(dataDir), `${args.join(' ')} made the data dir`).toBe(false);
      }
    }
  }, 300_000);

  it('environment variables meaning "no encryption" change nothing: every file the server writes is sealed, bound to a file: store', async () => {
    const dataDir = await tempDir();
    const token = await cliToken(dataDir, 'pd-a', 'cam', ['admin', 'ingest', 'investigator']);
    const env = {
      PLATESEARCH_ENCRYPTION: 'off', PLATESEARCH_ENCRYPT: '0', PLATESEARCH_PLAINTEXT: '1', PLATESEARCH_CIPHER: 'none',
      PLATESEARCH_NO_ENCRYPTION: '1', PLATESEARCH_KEY_STORE: 'none', PLATESEARCH_BENCH: '1', PLATESEARCH_BENCH_PLAINTEXT: '1',
      NODE_ENV: 'development',
    };
    const server = await serveWithEnv(dataDir, env);
    const plates = Array.from({ length: 120 }, (_, i) => `ZQ${String(i).padStart(4, '0')}X`);
    try {
      const body = plates.map((plate, i) => JSON.stringify({ plate, ts: new Date(Date.now() - 1000 * (i + 1)).toISOString(), lat: 1, lon: 2, camera: 'cam-envzz', make: 'Envmakezz' })).join('\n');
      const r = await call(server.url, 'POST', '/v1/reads', { token, body, contentType: 'application/x-ndjson' });
      expect(r.status, r.text).toBe(200);
      const s = await call(server.url, 'POST', '/v1/search', { token, json: { plate: plates[7], purpose: 'envpurposezz', case: 'ENVCASEZZ' } });
      expect(s.status, s.text).toBe(200);
      expect(s.json.total).toBe(1); // the server works …
    } finally {
      await server.stop();
    }
    const shards = (await filesUnder(join(dataDir, 'tenants'))).filter((f) => f.endsWith('.shard'));
    expect(shards.length).toBeGreaterThan(0); // --seal-rows 50: shards were written as well as the WAL
    // … and no file holds any plate, the camera, the make, the purpose or the case
    expect(await scanForStrings(dataDir, [...plates, 'cam-envzz', 'Envmakezz', 'envpurposezz', 'ENVCASEZZ'])).toEqual([]);
    const binding = JSON.parse(await readFile(join(dataDir, 'encryption.json'), 'utf8')) as { keyStore: string };
    expect(binding.keyStore).toBe('file');
  }, 120_000);

  it('a data dir written by the benchmark with encryption off: every production command refuses it, PS_KEY_STORE_INVALID, nothing written', async () => {
    const dataDir = await tempDir();
    const f = await writeReads(dataDir, ['BENCHPLN1', 'BENCHPLN2']);
    const loaded = await runNode(kPlainCli, ['ingest', '--data-dir', dataDir, '--tenant', 'pd-a', f]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain('accepted 2');
    // the stand-in really is plaintext (what makes it worth refusing)
    expect((await scanForStrings(dataDir, ['BENCHPLN1'])).length).toBeGreaterThan(0);
    const before = await snapshot(dataDir);
    for (const args of [...productionCommands(dataDir), ...productionCommands(dataDir, ['--key-store', `file:${dataDir}.keys`])]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toContain('PS_KEY_STORE_INVALID');
      expect(r.stderr).toContain('plaintext-benchmark');
      expect(r.stdout).not.toMatch(/listening on|accepted/);
    }
    expect(await snapshot(dataDir)).toEqual(before);
    expect(existsSync(`${dataDir}.keys`)).toBe(false);
  }, 300_000);

  it('a binding naming another kind of key store (hand-edited, or none at all) is refused by serve', async () => {
    for (const keyStore of ['none', 'plaintext', 'plaintext-benchmark', '', null]) {
      const dataDir = await tempDir();
      await cliToken(dataDir, 'pd-a', 'boss', ['admin']);
      const file = join(dataDir, 'encryption.json');
      const b = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...b, keyStore }));
      const before = await snapshot(dataDir);
      const r = await runCli(['serve', '--data-dir', dataDir, '--port', '0']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('PS_KEY_STORE_INVALID');
      expect(await snapshot(dataDir)).toEqual(before);
    }
  }, 120_000);

  it('the benchmark entry does not write into an encrypted data dir and takes no --key-store', async () => {
    const dataDir = await tempDir();
    const f = await writeReads(dataDir, ['ENCONLY1']);
    expect((await runCli(['ingest', '--data-dir', dataDir, '--tenant', 'pd-a', f])).code).toBe(0);
    const before = await snapshot(dataDir);
    const r = await runNode(kPlainCli, ['ingest', '--data-dir', dataDir, '--tenant', 'pd-a', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is encrypted');
    expect((await runNode(kPlainCli, ['serve', '--data-dir', dataDir, '--key-store', `file:${dataDir}.keys`])).code).toBe(2);
    expect(await snapshot(dataDir)).toEqual(before);
    expect(await scanForStrings(dataDir, ['ENCONLY1'])).toEqual([]);
  }, 120_000);

  it('src/ never imports bench/, and only src/crypto/cipher.ts makes a cipher', async () => {
    const files = (await filesUnder(join(kRepoRoot, 'src'))).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      expect(text, f).not.toMatch(/from ['"][^'"]*bench\//);
      expect(text, f).not.toMatch(/import\(['"][^'"]*bench\//);
      expect(text, f).not.toMatch(/(from|import\()\s*['"][^'"]*plaintext-(keys|cli)/);
      if (!f.endsWith('src/crypto/cipher.ts')) expect(text, f).not.toMatch(/:\s*Cipher\s*=\s*(Object\.freeze\()?\{/);
    }
    // the production command line has no command that reaches the stand-in
    const help = await runCli(['--help']);
    expect(help.stdout).not.toMatch(/plaintext|bench/i);
    expect((await readdir(join(kRepoRoot, 'src/cli/commands'))).some((n) => /plain|bench/.test(n))).toBe(false);
  });
});
