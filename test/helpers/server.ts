/**
 * Real servers for tests: in-process on port 0 with a temp data dir and tokens (`startTestServer`), or as a
 * child process `node dist/src/cli/main.js serve --port 0` (`spawnServer`, for crash and signal tests).
 * The client is undici; every server is closed after its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { request, type Dispatcher } from 'undici';
import { pino } from 'pino';
import { kRoles, type Role } from '../../src/model/tenant.js';
import { Directory } from '../../src/server/tenancy/directory.js';
import { startServer, type PlatesearchServer, type ServerOptions } from '../../src/server/server.js';
import type { AuditRecord } from '../../src/server/audit/record.js';
import { AuditSealer } from '../../src/server/audit/sealing.js';
import { openDataDirKeys } from '../../src/crypto/data-dir-keys.js';

export const kRepoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
export const kCliMain = join(kRepoRoot, 'dist/src/cli/main.js');

export interface TestUser {
  tenant: string;
  user: string;
  roles: Role[];
}

/** By default: tenants pd-a, pd-b, pd-c, each with one user per role (`<role>`) and `all` with every role. */
export function defaultUsers(tenants: readonly string[] = ['pd-a', 'pd-b', 'pd-c']): TestUser[] {
  const users: TestUser[] = [];
  for (const tenant of tenants) {
    for (const role of kRoles) users.push({ tenant, user: role, roles: [role] });
    users.push({ tenant, user: 'all', roles: [...kRoles] });
  }
  return users;
}

export interface TestServer {
  url: string;
  dataDir: string;
  server: PlatesearchServer;
  /** `tokens['pd-a/investigator']` etc. */
  tokens: Record<string, string>;
  token(tenant: string, user: string): string;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<ServerOptions, 'dataDir'>> {
  dataDir?: string;
  users?: TestUser[];
  /** Keep the data dir after close (for restart tests); default: removed. */
  keepDataDir?: boolean;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'platesearch-test-'));
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const server = await startServer({
    port: 0,
    threads: 1,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...options,
    dataDir,
  });
  const tokens: Record<string, string> = {};
  for (const u of options.users ?? defaultUsers()) {
    tokens[`${u.tenant}/${u.user}`] = (await server.services.directory.createToken(u.tenant, u.user, u.roles)).token;
  }
  let closed = false;
  return {
    url: server.url,
    dataDir,
    server,
    tokens,
    token(tenant, user) {
      const t = tokens[`${tenant}/${user}`];
      if (!t) throw new Error(`no test token for ${tenant}/${user}`);
      return t;
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      if (!options.keepDataDir && !options.dataDir) {
        await rm(dataDir, { recursive: true, force: true });
        await rm(`${dataDir}.keys`, { recursive: true, force: true }); // the default key store, beside it
      }
    },
  };
}

/** Creates a token on a data dir without a server (the way `platesearch token create` does). */
export async function createToken(dataDir: string, tenant: string, user: string, roles: Role[]): Promise<string> {
  const dir = await Directory.open(dataDir, { watch: false });
  try {
    return (await dir.createToken(tenant, user, roles)).token;
  } finally {
    await dir.close();
  }
}

export interface Answer<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: T;
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON with `Content-Type: application/json` unless `contentType`/`body` say otherwise. */
  json?: unknown;
  body?: string | Uint8Array;
  contentType?: string | null;
  headers?: Record<string, string>;
}

/** One HTTP call with undici; the body is read whole and parsed as JSON when it is JSON. */
export async function call<T = any>(base: string, method: Dispatcher.HttpMethod, path: string, o: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let body: string | Uint8Array | undefined = o.body;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    if (o.contentType === undefined) headers['content-type'] = 'application/json';
  }
  if (o.contentType) headers['content-type'] = o.contentType;
  const res = await request(base + path, { method, headers, body });
  const text = await res.body.text();
  let json: any;
  const type = String(res.headers['content-type'] ?? '');
  if (type.startsWith('application/json') && text.length > 0) json = JSON.parse(text);
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** The records of one tenant's audit log as stored (sealed fields in `sealed`), in file order: what the chain covers. */
export async function readAuditStored(dataDir: string, tenant: string): Promise<AuditRecord[]> {
  const file = join(dataDir, 'audit', `${tenant}.jsonl`);
  if (!existsSync(file)) return [];
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as AuditRecord);
}

/** The records of one tenant's audit log with their sealed fields opened (default key store), in file order. */
export async function readAudit(dataDir: string, tenant: string, keyStore?: string): Promise<AuditRecord[]> {
  const stored = await readAuditStored(dataDir, tenant);
  if (stored.length === 0) return stored;
  const { keys } = await openDataDirKeys(dataDir, keyStore);
  try {
    const sealer = new AuditSealer(join(dataDir, 'audit'), keys);
    return (await Promise.all(stored.map((r) => sealer.open(tenant, r as unknown as Record<string, unknown>)))) as unknown as AuditRecord[];
  } finally {
    await keys.store.close();
  }
}

export interface ChildServer {
  url: string;
  proc: ChildProcess;
  /** Lines the child wrote to stdout (should be exactly the `listening on` one). */
  stdout: string[];
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Spawns `node dist/src/cli/main.js serve --data-dir D --port 0 [extra]` (build first: `npm run build`)
 * and resolves once it printed `listening on http://…`. Rejects if it exits first or takes over `timeoutMs`.
 */
export function spawnServer(dataDir: string, extra: string[] = [], timeoutMs = 30_000): Promise<ChildServer> {
  const proc = spawn(process.execPath, [kCliMain, 'serve', '--data-dir', dataDir, '--port', '0', '--threads', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' },
  });
  const stdout: string[] = [];
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  return new Promise((resolveUp, rejectUp) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rejectUp(new Error(`server did not start within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      stdout.push(line);
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveUp({ url: m[1]!, proc, stdout, stderr: () => stderr, exited, kill: (s = 'SIGTERM') => proc.kill(s) });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rejectUp(new Error(`server exited (${code}) before listening; stderr:\n${stderr}`));
    });
  });
}

/** A read as a client sends it. */
export interface ReadInput {
  plate: string;
  ts: string | number;
  lat: number;
  lon: number;
  camera: string;
  region?: string;
  confidence?: number;
  make?: string;
  color?: string;
  readId?: string;
}

export function sampleRead(i: number, over: Partial<ReadInput> = {}): ReadInput {
  return {
    plate: `T${String(i).padStart(6, '0')}`,
    ts: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(),
    lat: 37.7 + (i % 100) * 0.001,
    lon: -122.4 - (i % 50) * 0.001,
    camera: `cam-${i % 7}`,
    ...over,
  };
}
