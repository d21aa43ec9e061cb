/**
 * The shard format migrations 1 → 3 and 2 → 3 (src/store/shard-migrate.ts). A data dir as an older main wrote it
 * is made here from an engine's data dir: every shard is rewritten with the older writer and sealed under its own
 * data key, exactly as that main's seal did — format 1 (sealed Arrow IPC shards, manifest entries without `format`:
 * the writer kept for this, src/store/shard-format-v1.ts) or format 2 (the lanes at file widths, `format: 2`:
 * writeShardFile's layout, which format 3 re-encodes). Opening it converts every shard, answers every query as
 * before (the engine before the rewrite, and the reference semantics), and kill -9 at random points of the
 * conversion never leaves a manifest naming a missing file or losing a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openEngine, type Engine } from '../src/engine/index.js';
import type { SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { wrappedFromJson } from '../src/crypto/data-keys.js';
import { kSealedKindShard, openSealedFile, sealFile } from '../src/crypto/sealed-file.js';
import { crc32c } from '../src/store/crc32c.js';
import { readManifest, writeManifest, type ShardEntry } from '../src/store/manifest.js';
import { buildShard, kShardVersion, ShardView } from '../src/store/shard-format.js';
import { buildShardV1 } from '../src/store/shard-format-v1.js';
import { kDay, kT0, makeReads, searchQueryArb, tempDataDir } from './helpers/engine-data.js';
import { repoRoot } from './helpers/crash-loop.js';

const kTenants = ['pd-a', 'pd-b'];
const kDays = 5;

interface Answer {
  total: number;
  hits: unknown[];
}

/** Loads reads into a fresh data dir, several seals per day (many shards), with client read ids on some. */
async function makeDataDir(dir: string): Promise<StoredRead[]> {
  const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
  const out: StoredRead[] = [];
  for (const [t, tenant] of kTenants.entries()) {
    const reads = makeReads({ seed: 40 + t, reads: 3000, vehicles: 120, days: kDays }).map((r, i) => (i % 3 === 0 ? { ...r, readId: `c-${t}-${i}` } : r));
    for (let i = 0; i < reads.length; i += 500) {
      out.push(...(await engine.append(tenant, reads.slice(i, i + 500))).stored);
      await engine.seal(tenant);
    }
  }
  await engine.close();
  return out;
}

/**
 * Rewrites every shard of the data dir in an older format (1 or 2), sealed under the entry's own key, as the main
 * of that format wrote them.
 */
async function downgrade(dir: string, format: 1 | 2): Promise<number> {
  const { keys } = await openDataDirKeys(dir, undefined);
  let count = 0;
  for (const tenant of kTenants) {
    const tdir = join(dir, 'tenants', tenant);
    const m = (await readManifest(tdir))!;
    const shards: ShardEntry[] = [];
    for (const e of m.shards) {
      const file = join(tdir, 'shards', e.file);
      const key = await keys.openKey(wrappedFromJson(e.key!));
      const plain = openSealedFile(file, await readFile(file), key).plain;
      const rows = new ShardView(file, plain).rowRecords().sort((a, b) => a.seq - b.seq);
      const { bytes } = format === 1 ? buildShardV1(tenant, m.ordinal, e.day, rows) : buildShard(tenant, m.ordinal, e.day, rows);
      const sealed = Buffer.concat(sealFile(kSealedKindShard, key, bytes));
      const name = format === 1 ? e.file.replace(/\.shard$/, '.arrow') : e.file.replace(/\.shard$/, '-v2.shard');
      await writeFile(join(tdir, 'shards', name), sealed);
      await rm(file);
      const { format: _format, ...v1 } = e;
      shards.push({ ...v1, ...(format === 2 ? { format: 2 } : {}), file: name, bytes: sealed.length, crc: crc32c(sealed), plainBytes: bytes.length });
      count++;
    }
    await writeManifest(tdir, { ...m, shards });
  }
  return count;
}

async function answers(engine: Engine, queries: Array<[TenantScope[], SearchQuery]>): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const [scopes, q] of queries) {
    const r = await engine.search(scopes, q);
    out.push({ total: r.total, hits: r.hits });
  }
  return out;
}

/**
 * Shards of an older format (`old`) and of the current one (`now`) the manifests name (a manifest being replaced
 * reads as its old or new self: atomic rename).
 */
async function countFormats(dir: string): Promise<{ old: number; now: number }> {
  let old = 0, now = 0;
  for (const tenant of kTenants) {
    const m = await readManifest(join(dir, 'tenants', tenant)).catch(() => undefined);
    for (const e of m?.shards ?? []) {
      if (e.format === kShardVersion) now++;
      else old++;
    }
  }
  return { old, now };
}

/** Every manifest entry names a file that exists, and the entries hold every sealed read exactly once. */
async function checkAuthoritative(dir: string, expectRows: number): Promise<{ old: number; now: number }> {
  let rows = 0, old = 0, now = 0;
  for (const tenant of kTenants) {
    const tdir = join(dir, 'tenants', tenant);
    const m = (await readManifest(tdir))!;
    const seqs = new Set<string>();
    for (const e of m.shards) {
      expect(existsSync(join(tdir, 'shards', e.file)), `${tenant}/${e.file} named by the manifest`).toBe(true);
      const key = `${e.minSeq}-${e.maxSeq}-${e.day}`;
      expect(seqs.has(key)).toBe(false);
      seqs.add(key);
      rows += e.rows;
      if (e.format === kShardVersion) now++;
      else old++;
    }
  }
  expect(rows).toBe(expectRows);
  return { old, now };
}

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let reads: StoredRead[] = [];
let queries: Array<[TenantScope[], SearchQuery]> = [];
let before: Answer[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDataDir('ps-shard-migrate-'));
  reads = await makeDataDir(dir);
  const plates = [...new Set(reads.map((r) => r.plate))];
  const scopes: TenantScope[][] = [[{ tenant: 'pd-a', minTs: 0 }], [{ tenant: 'pd-b', minTs: 0 }], kTenants.map((t) => ({ tenant: t, minTs: kT0 + kDay }))];
  queries = fc.sample(searchQueryArb(plates, kT0, kDays), { numRuns: 80, seed: 11 }).map((q, i) => [scopes[i % scopes.length]!, q]);
  // a few that return many rows with every field (ids, read ids, confidence, make, color) in the answer
  for (const s of scopes) queries.push([s, { filter: {}, limit: 500 }]);
  const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
  before = await answers(engine, queries);
  await engine.close();
}, 180_000);

afterAll(async () => {
  await cleanup();
});

describe('shard formats 1 → 3 and 2 → 3 on open', () => {
  it('the answers before the rewrite are the reference answers (the comparison has teeth)', () => {
    expect(before.length).toBe(queries.length);
    expect(before.some((a) => a.total > 100)).toBe(true);
    for (let i = 0; i < queries.length; i++) {
      const [scopes, q] = queries[i]!;
      const want = referenceSearch(reads, scopes, q);
      expect(before[i]!.total).toBe(want.total);
      expect(before[i]!.hits).toEqual(want.hits);
    }
  });

  it.each([1, 2] as const)('format %i: kill -9 at random points of the conversion leaves old or new shards authoritative; then every answer is as before', async (format) => {
    const shards = await downgrade(dir, format);
    expect(shards).toBeGreaterThan(20);
    expect(await checkAuthoritative(dir, reads.length)).toEqual({ old: shards, now: 0 });
    // a child that opens the data dir (which migrates) and closes it
    const script = join(dir, '..', `open-${process.pid}.mjs`);
    const engineUrl = pathToFileURL(join(repoRoot(), 'dist/src/engine/index.js')).href;
    await writeFile(script, `import { openEngine } from ${JSON.stringify(engineUrl)};\n` +
      `const e = await openEngine({ dataDir: process.argv[2], threads: 0, sealAgeMs: 0 });\nawait e.close();\n`);
    try {
      // each cycle kills the child once the conversion has committed `target` shards (watched through the
      // manifests), plus a random few ms, so the kills land between commits, between a put and its commit, …
      let killedMidway = 0;
      const targets = [1, Math.floor(shards / 4), Math.floor(shards / 2), Math.floor((3 * shards) / 4), shards - 1];
      for (const target of targets) {
        const child = spawn(process.execPath, [script, dir], { stdio: 'ignore' });
        let exited = false;
        child.once('exit', () => (exited = true));
        const jitter = Math.floor(Math.random() * 8);
        while (!exited) {
          const { now } = await countFormats(dir);
          if (now >= target) {
            await new Promise((r) => setTimeout(r, jitter));
            child.kill('SIGKILL');
            break;
          }
          await new Promise((r) => setTimeout(r, 2));
        }
        await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
        const state = await checkAuthoritative(dir, reads.length);
        if (child.signalCode === 'SIGKILL' && state.old > 0 && state.now > 0) killedMidway++;
        if (state.old === 0) break;
      }
      expect(killedMidway).toBeGreaterThanOrEqual(3);
      // the open that finishes the job
      const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 0 });
      try {
        expect(engine.stats().corruptFiles).toEqual([]);
        const after = await answers(engine, queries);
        for (let i = 0; i < queries.length; i++) {
          expect(after[i]!.total, `query ${i}`).toBe(before[i]!.total);
          expect(after[i]!.hits, `query ${i}`).toEqual(before[i]!.hits);
        }
      } finally {
        await engine.close();
      }
      expect(await checkAuthoritative(dir, reads.length)).toMatchObject({ old: 0 });
      for (const tenant of kTenants) {
        const files = await readdir(join(dir, 'tenants', tenant, 'shards'));
        expect(files.filter((f) => f.endsWith('.arrow') || f.endsWith('-v2.shard'))).toEqual([]);
        const named = new Set((await readManifest(join(dir, 'tenants', tenant)))!.shards.map((e) => e.file));
        expect(files.filter((f) => !named.has(f))).toEqual([]);
      }
    } finally {
      await rm(script, { force: true });
    }
  }, 300_000);
});
