/**
 * The PKCS#11 key store against SoftHSM2 (Debian `softhsm2`; .ci/run installs it, so CI always runs this):
 * a token in a temp dir, real processes. Keys stay in the HSM; a wrong PIN or token refuses the start
 * with a coded message and writes nothing; purge destroys the tenant's keys in the HSM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, spawnServer } from './helpers/server.js';
import { runCli } from './helpers/crash-loop.js';
import { cliToken, filesUnder, scanForStrings, snapshot } from './helpers/crypto.js';

const kModule = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => existsSync(p));
const kHave = kModule !== undefined && existsSync('/usr/bin/softhsm2-util');

describe.skipIf(!kHave)('pkcs11 key store (SoftHSM2)', () => {
  let root: string;
  let spec: string;
  const previousConf = process.env.SOFTHSM2_CONF;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ps-hsm-'));
    await writeFile(join(root, 'softhsm2.conf'), `directories.tokendir = ${join(root, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    await import('node:fs/promises').then((f) => f.mkdir(join(root, 'tokens')));
    process.env.SOFTHSM2_CONF = join(root, 'softhsm2.conf'); // inherited by every child process
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'ps-test', '--pin', '246810', '--so-pin', '13579'], { stdio: 'ignore' });
    await writeFile(join(root, 'pin'), '246810\n', { mode: 0o600 });
    await writeFile(join(root, 'bad-pin'), '000000\n', { mode: 0o600 });
    spec = `pkcs11:module=${kModule};token=ps-test;pin-file=${join(root, 'pin')}`;
  });

  afterAll(async () => {
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    await rm(root, { recursive: true, force: true });
  });

  it('serves, ingests, exports and purges with keys in the HSM; nothing in clear on disk; no key files anywhere', async () => {
    const dataDir = join(root, 'data');
    const token = await cliToken(dataDir, 'pd-a', 'boss', ['admin', 'ingest', 'investigator'], spec);
    await cliToken(dataDir, 'pd-b', 'boss', ['ingest'], spec);
    const f = join(root, 'in.ndjson');
    const now = Date.now();
    await writeFile(f, [1, 2, 3].map((i) => JSON.stringify({ plate: `HSMPL${i}`, ts: new Date(now - i * 60_000).toISOString(), lat: 1, lon: 2, camera: 'cam-hsm-yak' })).join('\n') + '\n');
    const ing = await runCli(['ingest', '--data-dir', dataDir, '--key-store', spec, '--tenant', 'pd-a', f]);
    expect(ing.stdout, ing.stderr).toContain('accepted 3');
    expect(ing.stderr).not.toContain('for development only');
    const server = await spawnServer(dataDir, ['--key-store', spec, '--seal-rows', '2']);
    try {
      const r = await call(server.url, 'POST', '/v1/search', { token, json: { plate: 'HSMPL2', purpose: 'p-hsm-emu', case: 'c-hsm-gnu' } });
      expect(r.json.total).toBe(1);
      expect((await call(server.url, 'POST', '/v1/reads', { token, json: [{ plate: 'HSMPL4', ts: now, lat: 1, lon: 2, camera: 'cam-hsm-yak' }] })).json.accepted).toBe(1);
    } finally {
      server.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    expect(await scanForStrings(dataDir, ['HSMPL', 'cam-hsm-yak', 'p-hsm-emu', 'c-hsm-gnu'])).toEqual([]);
    expect(existsSync(`${dataDir}.keys`)).toBe(false);
    expect((await filesUnder(dataDir)).filter((f2) => f2.endsWith('.kek'))).toEqual([]);

    // a wrong PIN, an unknown token: refused with a code, nothing written
    const before = await snapshot(dataDir);
    for (const [bad, code] of [
      [`pkcs11:module=${kModule};token=ps-test;pin-file=${join(root, 'bad-pin')}`, 'PS_KEY_STORE_WRONG'],
      [`pkcs11:module=${kModule};token=no-such-token;pin-file=${join(root, 'pin')}`, 'PS_KEY_STORE_MISSING'],
      [`file:${dataDir}.keys`, 'PS_KEY_STORE_MISSING'],
    ] as const) {
      const r = await runCli(['export', '--data-dir', dataDir, '--key-store', bad, '--tenant', 'pd-a', '--format', 'ndjson']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(code);
      await expect(spawnServer(dataDir, ['--key-store', bad])).rejects.toThrow(new RegExp(code));
    }
    expect(await snapshot(dataDir)).toEqual(before);

    const exp = await runCli(['export', '--data-dir', dataDir, '--key-store', spec, '--tenant', 'pd-a', '--format', 'ndjson']);
    expect(exp.stdout.split('\n').filter(Boolean)).toHaveLength(4);
    // rotation rewraps under new HSM keys; still all there
    const rot = await runCli(['keys', 'rotate', '--data-dir', dataDir, '--key-store', spec, '--tenant', 'pd-a', '--destroy-old']);
    expect(rot.code, rot.stderr).toBe(0);
    const afterRot = await runCli(['export', '--data-dir', dataDir, '--key-store', spec, '--tenant', 'pd-a', '--format', 'ndjson']);
    expect(afterRot.stdout.split('\n').filter(Boolean)).toHaveLength(4);

    const copy = join(root, 'copy');
    await cp(dataDir, copy, { recursive: true });
    const purge = await runCli(['tenant', 'purge', '--data-dir', dataDir, '--key-store', spec, '--tenant', 'pd-a', '--confirm', 'pd-a']);
    expect(purge.code, purge.stderr).toBe(0);
    const fromCopy = await runCli(['export', '--data-dir', copy, '--key-store', spec, '--tenant', 'pd-a', '--format', 'ndjson']);
    expect(fromCopy.code, fromCopy.stderr).toBe(0);
    expect(fromCopy.stdout.trim()).toBe('');
  }, 180_000);
});
