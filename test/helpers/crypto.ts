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
