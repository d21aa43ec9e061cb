import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory } from '../src/server/tenancy/directory.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function grepDataDir(root: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(root);
  return hits;
}

describe('directory: tokens', () => {
  it('issues tokens stored only as hashes; authenticates them; rejects others', async () => {
    const d = await Directory.open(dir, { watch: false });
    const { token, principal } = await d.createToken('pd-a', 'alice', ['investigator', 'auditor']);
    expect(principal).toEqual({ tenant: 'pd-a', user: 'alice', roles: ['investigator', 'auditor'] });
    expect(token).toMatch(/^ps_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(d.authenticate(token)).toEqual(principal);
    expect(d.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(d.authenticate('')).toBeUndefined();
    expect(d.authenticate('Bearer ' + token)).toBeUndefined();
    expect(grepDataDir(dir, token)).toEqual([]);
    expect(grepDataDir(dir, token.slice(20))).toEqual([]);
    expect(d.tenantExists('pd-a')).toBe(true);
    expect(statSync(join(dir, 'control', 'directory.json')).mode & 0o077).toBe(0);
    await d.close();
  });

  it('replaces the roles of every token of a user on create; revoke invalidates all of them', async () => {
    const d = await Directory.open(dir, { watch: false });
    const t1 = (await d.createToken('pd-a', 'bob', ['investigator'])).token;
    const t2 = (await d.createToken('pd-a', 'bob', ['admin', 'admin'])).token;
    expect(d.authenticate(t1)?.roles).toEqual(['admin']);
    expect(d.authenticate(t2)?.roles).toEqual(['admin']);
    const other = (await d.createToken('pd-a', 'carol', ['ingest'])).token;
    expect(await d.revokeUser('pd-a', 'bob')).toBe(2);
    expect(d.authenticate(t1)).toBeUndefined();
    expect(d.authenticate(t2)).toBeUndefined();
    expect(d.authenticate(other)?.user).toBe('carol');
    await expect(d.revokeUser('pd-a', 'nobody')).rejects.toMatchObject({ status: 404 });
    await d.close();
  });

  it('validates names and roles', async () => {
    const d = await Directory.open(dir, { watch: false });
    await expect(d.createToken('PD A', 'x', ['admin'])).rejects.toMatchObject({ status: 400 });
    await expect(d.createToken('../x', 'x', ['admin'])).rejects.toMatchObject({ status: 400 });
    await expect(d.createToken('pd-a', '_system', ['admin'])).rejects.toMatchObject({ status: 400 });
    await expect(d.createToken('pd-a', 'x', [])).rejects.toMatchObject({ status: 400 });
    await expect(d.createToken('pd-a', 'x', ['root' as never])).rejects.toMatchObject({ status: 400 });
    expect(d.tenants()).toEqual([]);
    await d.close();
  });

  it('a second process sees changes within a second (concurrent writers keep every change)', async () => {
    const server = await Directory.open(dir);
    const cli = await Directory.open(dir, { watch: false });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cli.createToken('pd-a', `u${i}`, ['ingest'])));
    // a third writer, another Directory in the same process, racing on the lock file
    const other = await Directory.open(dir, { watch: false });
    await Promise.all([other.createToken('pd-b', 'x', ['admin']), cli.createToken('pd-c', 'y', ['admin'])]);
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline && results.some((r) => !server.authenticate(r.token))) await new Promise((r) => setTimeout(r, 20));
    expect(results.every((r) => server.authenticate(r.token)?.tenant === 'pd-a')).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(server.tenants()).toEqual(['pd-a', 'pd-b', 'pd-c']);
    await cli.revokeUser('pd-a', 'u3');
    const start = Date.now();
    while (server.authenticate(results[3]!.token) && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(server.authenticate(results[3]!.token)).toBeUndefined();
    expect(Date.now() - start).toBeLessThan(1000);
    await Promise.all([server.close(), cli.close(), other.close()]);
  });
});

describe('directory: retention', () => {
  it('computes an exact cutoff and validates the minimum', async () => {
    const d = await Directory.open(dir, { watch: false });
    await d.createToken('pd-a', 'admin', ['admin']);
    expect(d.retentionCutoff('pd-a', 1_000_000)).toBe(-Infinity);
    await d.setRetention('pd-a', 60);
    expect(d.retentionCutoff('pd-a', 1_000_000)).toBe(1_000_000 - 60_000);
    expect(d.scopesFor('pd-a', 1_000_000)).toEqual([{ tenant: 'pd-a', minTs: 940_000 }]);
    await expect(d.setRetention('pd-a', 59)).rejects.toMatchObject({ status: 400 });
    await expect(d.setRetention('pd-a', 60.5)).rejects.toMatchObject({ status: 400 });
    await expect(d.setRetention('pd-zz', 600)).rejects.toMatchObject({ status: 404 });
    const again = await Directory.open(dir, { watch: false });
    expect(again.retentionSeconds('pd-a')).toBe(60);
    await d.setRetention('pd-a', null);
    expect(d.retentionCutoff('pd-a', 5)).toBe(-Infinity);
    await Promise.all([d.close(), again.close()]);
  });
});
