/**
 * Helpers of the encryption-at-rest tests: a byte scan of a data dir, CLI tokens, directory snapshots.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from './crash-loop.js';

/** Every file under `dir`, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** `file: needle` for every needle found in any byte of any file under `dir` (as UTF-8, any case of its bytes as given). */
export async function scanForStrings(dir: string, needles: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await filesUnder(dir)) {
    const bytes = await readFile(f);
    for (const n of needles) {
      if (bytes.includes(Buffer.from(n, 'utf8')) || f.includes(n)) hits.push(`${f}: ${n}`);
    }
  }
  return hits;
}

/** name → size and mtime of every file (to show that a refused command wrote nothing). */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await filesUnder(dir)) {
    const s = await stat(f);
    out[f] = `${s.size}@${s.mtimeMs}`;
  }
  return out;
}

/** `platesearch token create` (real process); the token. */
export async function cliToken(dataDir: string, tenant: string, user: string, roles: string[], keyStore?: string): Promise<string> {
  const args = ['token', 'create', '--data-dir', dataDir, '--tenant', tenant, '--user', user, ...roles.flatMap((r) => ['--role', r])];
  if (keyStore) args.push('--key-store', keyStore);
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

/**
 * Data files (WAL, shards) of `dataDir` whose *decrypted* bytes hold `needle`, opened with the default key
 * store: what "deleted from disk" means once files are encrypted (a file whose key was destroyed holds
 * nothing any more).
 */
export async function decryptedFilesContaining(dataDir: string, needle: string): Promise<string[]> {
  const { openDataDirKeys } = await import('../../src/crypto/data-dir-keys.js');
  const { scanWal, openWalRecords } = await import('../../src/store/wal.js');
  const { readManifest } = await import('../../src/store/manifest.js');
  const { openSealedFile } = await import('../../src/crypto/sealed-file.js');
  const { wrappedFromJson } = await import('../../src/crypto/data-keys.js');
  const { keys } = await openDataDirKeys(dataDir, undefined);
  const hits: string[] = [];
  const want = Buffer.from(needle);
  try {
    const tenantsDir = join(dataDir, 'tenants');
    let tenants: string[] = [];
    try {
      tenants = await readdir(tenantsDir);
    } catch {
      return [];
    }
    for (const t of tenants) {
      const walDir = join(tenantsDir, t, 'wal');
      for (const name of await readdir(walDir).catch(() => [] as string[])) {
        const file = join(walDir, name);
        try {
          const opened = await openWalRecords(scanWal(file, await readFile(file)), (ref) => keys.openKey(ref));
          if (opened.payloads.some((p) => Buffer.from(p).includes(want))) hits.push(file);
        } catch {
          // replaced while we read
        }
      }
      const manifest = await readManifest(join(tenantsDir, t)).catch(() => undefined);
      for (const e of manifest?.shards ?? []) {
        const file = join(tenantsDir, t, 'shards', e.file);
        try {
          const bytes = await readFile(file);
          const plain = e.key ? openSealedFile(file, bytes, await keys.openKey(wrappedFromJson(e.key))).plain : bytes;
          if (Buffer.from(plain).includes(want)) hits.push(file);
        } catch {
          // gone, or its key destroyed
        }
      }
    }
    return hits;
  } finally {
    await keys.store.close();
  }
}
