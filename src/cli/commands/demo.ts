/**
 * `platesearch demo` (what `npm start` runs): the embedded demo of API.md.
 *
 * On an empty data dir (default `data/demo` in the package) it generates a synthetic week of reads for
 * three agencies with the `gen` library, bulk-loads them through the engine, creates one demo user per
 * role and agency, and stores their tokens in `D/demo-tokens.json` (0600). On a data dir that already holds
 * the demo it reuses everything. Either way it prints one line per token, `demo token TENANT ROLE TOKEN`,
 * then serves on $PORT (default 8080) and prints `listening on http://HOST:PORT`.
 *
 * The load is idempotent: every generated read carries `readId` `demo-<index>`, and `demo-ready.json` is
 * written last, so a demo interrupted while loading simply loads again (duplicates are skipped).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openEngine } from '../../engine/index.js';
import { generateReads } from '../../gen/index.js';
import type { Read } from '../../model/read.js';
import { kRoles, type Role } from '../../model/tenant.js';
import { packageRoot } from '../../server/routes/ops.js';
import { startServer } from '../../server/server.js';
import type { DataKeys } from '../../crypto/data-keys.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';
import { Directory } from '../../server/tenancy/directory.js';
import { auditedCli } from '../audited.js';
import type { Command } from '../command.js';
import { exitSoon, runUntilSignal } from './serve.js';

/** Three agencies of different sizes (the generator gives them 1, 1/2, 1/3 of the traffic). */
export const kDemoTenants = ['pd-metro', 'pd-east', 'so-county'];
// a week of traffic for three agencies: big enough to feel real, small enough to load in seconds on 2 cores
const kDefaultDemoReads = 100_000;
const kDemoSeed = 2026;
// reads per engine append: large batches amortise the WAL's fsync
const kLoadBatch = 20_000;
const kTokensFile = 'demo-tokens.json';
const kReadyFile = 'demo-ready.json';
const kTokensVersion = 1;

export interface DemoToken {
  tenant: string;
  role: Role;
  user: string;
  token: string;
}

const usage = `usage: platesearch demo [--data-dir data/demo] [--host 127.0.0.1] [--reads ${kDefaultDemoReads}] [--threads N] [--key-store K]

Serves the embedded demo on $PORT (default 8080). On an empty data dir: generates a week of synthetic
reads for ${kDemoTenants.join(', ')}, loads them, and creates one demo user per agency and role
(demo-<role>). On a data dir that already holds the demo: reuses it. Prints one line per token,
"demo token TENANT ROLE TOKEN", then "listening on http://HOST:PORT". pd-east shares its reads with pd-metro.
${keyStoreUsage}`;

async function isEmptyDir(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true;
  return (await readdir(dir)).length === 0;
}

async function readTokens(dataDir: string): Promise<DemoToken[] | undefined> {
  try {
    const file = JSON.parse(await readFile(join(dataDir, kTokensFile), 'utf8')) as { version: number; tokens: DemoToken[] };
    if (file.version !== kTokensVersion || !Array.isArray(file.tokens)) return undefined;
    return file.tokens;
  } catch {
    return undefined;
  }
}

/** Creates (or re-creates) the demo users and their tokens, and stores the tokens. */
async function createTokens(dataDir: string): Promise<DemoToken[]> {
  const directory = await Directory.open(dataDir, { watch: false });
  const tokens: DemoToken[] = [];
  try {
    for (const tenant of kDemoTenants) {
      for (const role of kRoles) {
        const user = `demo-${role}`;
        tokens.push({ tenant, role, user, token: (await directory.createToken(tenant, user, [role])).token });
      }
    }
    // a grant, so a pd-metro search shows shared reads (and the audit shows the cross-tenant records)
    await directory.grant('pd-east', 'pd-metro', null);
  } finally {
    await directory.close();
  }
  const file = join(dataDir, kTokensFile);
  await writeFile(file, JSON.stringify({ version: kTokensVersion, tokens }, null, 2) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return tokens;
}

/** Generates the demo week (ending now) and appends it through the engine. */
async function loadReads(dataDir: string, reads: number, threads: number | undefined, keys: DataKeys): Promise<number> {
  const day = 86_400_000;
  const start = Math.floor(Date.now() / day) * day - 7 * day;
  const engine = await openEngine({ dataDir, threads, keys });
  let loaded = 0;
  try {
    const batches = new Map<string, Read[]>();
    const flush = async (tenant: string): Promise<void> => {
      const batch = batches.get(tenant);
      if (!batch || batch.length === 0) return;
      batches.set(tenant, []);
      await engine.append(tenant, batch);
      loaded += batch.length;
    };
    for (const g of generateReads({ reads, seed: kDemoSeed, tenants: kDemoTenants, start, days: 7 })) {
      let batch = batches.get(g.tenant);
      if (!batch) batches.set(g.tenant, (batch = []));
      batch.push({ ...g.read, readId: `demo-${g.index}` });
      if (batch.length >= kLoadBatch) await flush(g.tenant);
    }
    for (const tenant of batches.keys()) await flush(tenant);
    await engine.seal();
  } finally {
    await engine.close();
  }
  return loaded;
}

export const command: Command = {
  summary: 'serve the embedded demo (generates it on first run; what `npm start` runs)',
  usage,
  async run(args) {
    let values: { 'data-dir'?: string; host?: string; reads?: string; threads?: string; 'key-store'?: string };
    try {
      ({ values } = parseArgs({
        args,
        options: {
          'data-dir': { type: 'string' },
          host: { type: 'string' },
          reads: { type: 'string' },
          threads: { type: 'string' },
          ...keyStoreOption,
        },
        strict: true,
      }));
    } catch (err) {
      // a mistyped flag is a usage error (exit 2), like every other command's, not a stack trace
      process.stderr.write(`platesearch demo: ${(err as Error).message}\n\n${usage}\n`);
      return 2;
    }
    const dataDir = resolve(values['data-dir'] ?? join(packageRoot(), 'data', 'demo'));
    const reads = values.reads === undefined ? kDefaultDemoReads : Number(values.reads);
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    const port = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
    if (!Number.isSafeInteger(reads) || reads < 1 || reads > 100_000_000) {
      process.stderr.write(`platesearch demo: --reads must be an integer in [1, 100000000]\n`);
      return 2;
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`platesearch demo: PORT must be an integer in [0, 65535]\n`);
      return 2;
    }
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) {
      process.stderr.write(`platesearch demo: --threads must be a non-negative integer\n`);
      return 2;
    }

    const fresh = await isEmptyDir(dataDir);
    // the key store first: a missing or wrong one stops the demo before it writes anything
    const keys = await openCommandKeys('demo', dataDir, values['key-store']);
    await mkdir(dataDir, { recursive: true });
    let tokens = fresh ? undefined : await readTokens(dataDir);
    if (!tokens) {
      // creating users and tokens changes the data dir: on record, like `platesearch token create`
      tokens = await auditedCli(
        { dataDir, keys, action: 'cli.demo.tokens', command: 'platesearch demo', params: { tenants: [...kDemoTenants], roles: [...kRoles] } },
        () => createTokens(dataDir),
        (created) => ({ resultCount: created.length }),
      );
    }
    if (!existsSync(join(dataDir, kReadyFile))) {
      process.stderr.write(`platesearch demo: generating ${reads} reads for ${kDemoTenants.join(', ')} in ${dataDir}\n`);
      const t0 = Date.now();
      const loaded = await loadReads(dataDir, reads, threads, keys);
      await writeFile(join(dataDir, kReadyFile), JSON.stringify({ reads: loaded, created: new Date().toISOString() }) + '\n');
      process.stderr.write(`platesearch demo: loaded ${loaded} reads in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }

    for (const t of tokens) process.stdout.write(`demo token ${t.tenant} ${t.role} ${t.token}\n`);
    const server = await startServer({ dataDir, host: values.host ?? '127.0.0.1', port, threads, keys });
    process.stdout.write(`listening on ${server.url}\n`);
    const code = await runUntilSignal(server);
    exitSoon(code);
    return code;
  },
};
