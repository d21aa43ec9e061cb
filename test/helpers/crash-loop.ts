/**
 * The crash loop (issue 6, item 1): N cycles of
 *
 *   start `platesearch serve` (child process, tiny seal threshold) ─► check everything the previous
 *   cycles acknowledged ─► retry the batches whose answer never came (same readIds) ─► concurrent
 *   ingest (2 tenants) + searches + hot-list replaces + retention changes + an SSE alert client ─►
 *   `kill -9` at a random moment, or just after a seal / retention sweep / hot-list replace starts
 *
 * and after the last cycle one more start and check. The checks, after every restart:
 *   - every acknowledged read is exported exactly once (identity: its unique `camera`, also its readId),
 *     and a sample is found exactly once by `POST /v1/search`;
 *   - every exported row is one the client sent, field for field (no partial or foreign record);
 *   - reads of the retention tenant inside its window are there, none before the cutoff is returned;
 *   - the hot list is one of the versions sent whole (atomic replace);
 *   - `platesearch audit verify` exits 0;
 *   - replaying alerts with Last-Event-ID gives one alert for every acknowledged read of a wanted plate,
 *     no (read, entry) pair twice, and none for a plate that was never listed.
 *
 * Used by test/reliability-crash.test.ts (a few cycles) and bench/crash-loop.ts (the published run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { Directory } from '../../src/server/tenancy/directory.js';
import type { Role } from '../../src/model/tenant.js';

/** The package root: the nearest directory above this file with a package.json (works from src and dist). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

export const kCli = (): string => join(repoRoot(), 'dist/src/cli/main.js');

// ── a seeded PRNG (mulberry32), so a failing run can be replayed with its seed ──
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Child {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<number | string>;
}

/** Spawns `platesearch serve --port 0` on `dataDir` (`nodeArgs`: flags for node itself, e.g. --cpu-prof); resolves at its `listening on` line. */
/** `cli`: another build's dist/src/cli/main.js (bench:http `--server-build`), default this one's. */
export function spawnServe(dataDir: string, extra: string[] = [], timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = [], cli = kCli()): Promise<Child> {
  const proc = spawn(process.execPath, [...nodeArgs, cli, 'serve', '--data-dir', dataDir, '--port', '0', '--threads', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env },
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-20_000);
  });
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  return new Promise((resolveUp, rejectUp) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rejectUp(new Error(`server did not start within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveUp({ url: m[1]!, proc, stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rejectUp(new Error(`server exited (${code}) before listening; stderr:\n${stderr}`));
    });
  });
}

/** Runs the CLI to the end; resolves with its exit code and output. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const proc = spawn(process.execPath, [kCli(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(t);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function http(url: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', token: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; text: string; json: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | undefined;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await request(url, { method, headers, body: payload, signal, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const text = await res.body.text();
  let json: any;
  if (String(res.headers['content-type'] ?? '').startsWith('application/json') && text) json = JSON.parse(text);
  return { status: res.statusCode, text, json };
}

interface SentRead {
  tenant: string;
  plate: string;
  ts: number;
  lat: number;
  lon: number;
  camera: string;
  region?: string;
  confidence?: number;
  make?: string;
  color?: string;
  readId: string;
}

/** The wanted plates: always on the hot list, so every acknowledged read of one must raise an alert. */
const kWanted = Array.from({ length: 8 }, (_, i) => `WNT${String(i).padStart(4, '0')}`);
/** Listed in one of the two list versions only: an alert for them is allowed, not required. */
const kSometimes = [Array.from({ length: 4 }, (_, i) => `XTA${i}0`), Array.from({ length: 4 }, (_, i) => `XTB${i}0`)];
const kRetentionSeconds = 60;
/** Characters of a server's stderr kept in a failing cycle's report. */
const kServerLogChars = 6000;

export type KillTrigger = 'random' | 'seal' | 'retention' | 'hotlist';

export interface CrashLoopOptions {
  cycles: number;
  seed?: number;
  /** Rows per shard seal in the child (`--seal-rows`): small, so sealing is frequent. */
  sealRows?: number;
  /** Filler entries of the hot list, so a replace takes long enough to be killed in the middle. */
  hotlistFiller?: number;
  /** Longest time (ms) the workload runs before a random kill. */
  maxRunMs?: number;
  /** Called with one line per cycle. */
  log?: (line: string) => void;
  dataDir?: string;
}

export interface CrashLoopReport {
  seed: number;
  cycles: number;
  kills: Record<KillTrigger, number>;
  /** Kills that left evidence of an interrupted write: temp or unnamed shard files, temp hot-list files. */
  interrupted: { shardTemp: number; orphanShard: number; hotlistTemp: number };
  readsSent: number;
  readsAcknowledged: number;
  /** Of which acknowledged only by a retry after a crash (first answer lost with the server). */
  ackedByRetry: number;
  readsLost: number;
  readsDuplicated: number;
  foreignOrPartialRows: number;
  retentionViolations: number;
  searchChecks: number;
  searchMismatches: number;
  auditVerifyFailures: number;
  hotlistTorn: number;
  alertsSeen: number;
  alertsExpected: number;
  alertsMissing: number;
  /** Alerts missing for reads acknowledged only by a retry after a crash (see the report in RELIABILITY.md). */
  alertsMissingAfterRetry: number;
  alertsDuplicated: number;
  alertsUnlisted: number;
  restartMs: { p50: number; max: number };
  failures: string[];
  elapsedMs: number;
}

/** Runs the crash loop; never throws for a finding (it is in `failures`), only for a broken harness. */
export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopReport> {
  const seed = o.seed ?? (Date.now() & 0x7fffffff);
  const rnd = prng(seed);
  const log = o.log ?? (() => undefined);
  const sealRows = o.sealRows ?? 120;
  const filler = o.hotlistFiller ?? 30_000;
  const maxRunMs = o.maxRunMs ?? 1500;
  const started = Date.now();
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'platesearch-crash-')));
  const report: CrashLoopReport = {
    seed, cycles: 0, kills: { random: 0, seal: 0, retention: 0, hotlist: 0 },
    interrupted: { shardTemp: 0, orphanShard: 0, hotlistTemp: 0 },
    readsSent: 0, readsAcknowledged: 0, ackedByRetry: 0, readsLost: 0, readsDuplicated: 0, foreignOrPartialRows: 0,
    retentionViolations: 0, searchChecks: 0, searchMismatches: 0, auditVerifyFailures: 0, hotlistTorn: 0,
    alertsSeen: 0, alertsExpected: 0, alertsMissing: 0, alertsMissingAfterRetry: 0, alertsDuplicated: 0, alertsUnlisted: 0,
    restartMs: { p50: 0, max: 0 }, failures: [], elapsedMs: 0,
  };
  let failCount = 0; // findings, also those beyond the 200 kept in the report
  const fail = (msg: string): void => {
    failCount++;
    if (report.failures.length < 200) report.failures.push(msg);
    log(`FAIL ${msg}`);
  };
  // the server's own account of a failing cycle: its stderr is kept in the report (past the cap, once per
  // cycle), with the killed server's before it, since a restart can fail on what the last one left
  const attachServerLog = (cycle: number, child: Child, previous: string | undefined): void => {
    const tail = (s: string): string => (s.length > kServerLogChars ? `…${s.slice(-kServerLogChars)}` : s);
    const parts = [`cycle ${cycle}: server stderr (this start):\n${tail(child.stderr()) || '(empty)'}`];
    if (previous) parts.push(`server stderr (the start killed before it):\n${tail(previous)}`);
    report.failures.push(parts.join('\n'));
    log(parts.join('\n'));
  };
  /** An unexpected answer: its status and body, for the failure message. */
  const answered = (what: string, status: number, body: string): string => `${what} answered ${status}: ${body.slice(0, 500)}`;

  // ── tokens (the directory is written the way `platesearch token create` does) ──
  const dir = await Directory.open(dataDir, { watch: false });
  const tok = async (tenant: string, user: string, roles: Role[]): Promise<string> => (await dir.createToken(tenant, user, roles)).token;
  const T = {
    aIngest: await tok('pd-a', 'cam', ['ingest']),
    aInv: await tok('pd-a', 'inv', ['investigator']),
    aDisp: await tok('pd-a', 'disp', ['dispatcher']),
    aAdmin: await tok('pd-a', 'admin', ['admin']),
    bIngest: await tok('pd-b', 'cam', ['ingest']),
    bAdmin: await tok('pd-b', 'admin', ['admin']),
  };
  await dir.close();

  // ── the client's ledger ──
  const sent = new Map<string, SentRead>(); // by camera (= readId), unique
  const acked = new Set<string>();
  const ackedFirstTry = new Set<string>();
  let pending: SentRead[][] = []; // batches without an answer when the server died
  let nextKey = 0;
  // alert id → (camera, entry); and (camera|entry) pairs seen
  const alertById = new Map<number, string>();
  const alertPairs = new Map<string, number>();
  let lastAlertId = 0;
  // hot-list versions sent: entry count of each whole version (the filler size varies per version)
  const listVersions = new Set<number>();
  const restartTimes: number[] = [];
  const lostKeys = new Set<string>();
  const duplicatedKeys = new Set<string>();

  const makeRead = (tenant: string, now: number): SentRead => {
    const key = `k${(nextKey++).toString(36)}`;
    const u = rnd();
    const plate = tenant === 'pd-a' && u < 0.12
      ? kWanted[Math.floor(rnd() * kWanted.length)]!
      : tenant === 'pd-a' && u < 0.16
        ? kSometimes[Math.floor(rnd() * 2)]![Math.floor(rnd() * 4)]!
        : `R${Math.floor(rnd() * 36 ** 5).toString(36).toUpperCase().padStart(5, '0')}`;
    // pd-a: within the last 3 days (several day shards); pd-b: around its 60 s retention edge
    const ts = tenant === 'pd-a' ? now - Math.floor(rnd() * 3 * 86_400_000) : now - Math.floor(rnd() * 70_000);
    const r: SentRead = {
      tenant, plate, ts, lat: Math.round((37.6 + rnd() * 0.3) * 1e7) / 1e7, lon: Math.round((-122.5 + rnd() * 0.3) * 1e7) / 1e7,
      camera: key, readId: key,
    };
    if (rnd() < 0.5) r.region = 'CA';
    if (rnd() < 0.5) r.confidence = Math.round(rnd() * 1000) / 1000;
    if (rnd() < 0.3) r.make = 'TOYOTA';
    if (rnd() < 0.3) r.color = 'WHITE';
    sent.set(key, r);
    report.readsSent++;
    return r;
  };
  const wire = (r: SentRead): Record<string, unknown> => {
    const { tenant: _t, ts, ...rest } = r;
    return { ...rest, ts: new Date(ts).toISOString() };
  };

  /** Posts a batch; true when acknowledged (200), false when answered otherwise, undefined when no answer. */
  const postBatch = async (url: string, token: string, batch: SentRead[], retry: boolean): Promise<boolean | undefined> => {
    let res;
    try {
      res = await http(`${url}/v1/reads`, 'POST', token, batch.map(wire));
    } catch {
      return undefined;
    }
    if (res.status !== 200) {
      // a 500 is a bug whatever the outcome: reported, and the batch retried like any unanswered one
      if (res.status === 500) fail(answered('ingest', res.status, res.text));
      if (res.status >= 500) return undefined; // e.g. 503 while shutting down: outcome unknown, retry later
      fail(`ingest answered ${res.status}: ${res.text.slice(0, 200)}`);
      return false;
    }
    const rejected = new Set<number>((res.json.rejected as Array<{ index: number }>).map((x) => x.index));
    batch.forEach((r, i) => {
      if (rejected.has(i)) return; // e.g. beyond retention (pd-b): never acknowledged
      if (!acked.has(r.camera)) {
        acked.add(r.camera);
        report.readsAcknowledged++;
        if (retry) report.ackedByRetry++;
        else ackedFirstTry.add(r.camera);
      }
    });
    return true;
  };

  const hotlistBody = (version: number): { entries: Array<{ plate: string; note: string }>; match: 'exact' } => {
    const size = filler + version; // each version has its own size, so GET tells which one is stored
    const entries = [...kWanted, ...kSometimes[version % 2]!].map((plate) => ({ plate, note: 'wanted' }));
    for (let i = 0; entries.length < size; i++) entries.push({ plate: `F${version.toString(36)}X${i.toString(36)}`.slice(0, 10), note: '' });
    return { entries, match: 'exact' };
  };

  // ── checks after a restart ──
  const exportRows = async (url: string, token: string): Promise<Array<Record<string, any>>> => {
    const res = await http(`${url}/v1/export?format=ndjson`, 'GET', token);
    if (res.status !== 200) throw new Error(answered('export', res.status, res.text));
    return res.text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  };

  const sameRow = (row: Record<string, any>, r: SentRead): boolean =>
    row.plate === r.plate && Date.parse(row.ts) === r.ts && Math.abs(row.lat - r.lat) < 2e-7 && Math.abs(row.lon - r.lon) < 2e-7 &&
    row.camera === r.camera && row.region === r.region && row.make === r.make && row.color === r.color &&
    (r.confidence === undefined ? row.confidence === undefined : Math.abs(row.confidence - r.confidence) < 1e-6);

  const check = async (url: string, cycle: number): Promise<void> => {
    // reads, per tenant, by export
    for (const [tenant, token] of [['pd-a', T.aAdmin], ['pd-b', T.bAdmin]] as const) {
      const exportSent = Date.now();
      const rows = await exportRows(url, token);
      // the server's retention cutoff for this export lies between these two instants
      const checkNow = Date.now();
      const count = new Map<string, number>();
      for (const row of rows) {
        const r = sent.get(row.camera);
        if (!r || r.tenant !== tenant || !sameRow(row, r)) {
          report.foreignOrPartialRows++;
          fail(`cycle ${cycle}: ${tenant} exported a row the client never sent as such: ${JSON.stringify(row).slice(0, 300)}`);
          continue;
        }
        count.set(r.camera, (count.get(r.camera) ?? 0) + 1);
        if (tenant === 'pd-b' && r.ts < exportSent - kRetentionSeconds * 1000 - 1000) {
          report.retentionViolations++;
          fail(`cycle ${cycle}: pd-b exported ${r.camera} older than its retention`);
        }
      }
      for (const [camera, n] of count) {
        if (n > 1) {
          duplicatedKeys.add(camera);
          report.readsDuplicated = duplicatedKeys.size;
          fail(`cycle ${cycle}: ${tenant} ${camera} stored ${n} times`);
        }
      }
      for (const key of acked) {
        const r = sent.get(key)!;
        if (r.tenant !== tenant || count.has(key)) continue;
        // pd-b: reads that aged out of the window since (allow a second of clock between the two)
        if (tenant === 'pd-b' && r.ts < checkNow - kRetentionSeconds * 1000 + 1000) continue;
        lostKeys.add(key);
        report.readsLost = lostKeys.size;
        fail(`cycle ${cycle}: acknowledged ${tenant} read ${key} is missing (ts ${new Date(r.ts).toISOString()}, ${((checkNow - r.ts) / 1000).toFixed(1)} s old at the check, export took ${checkNow - exportSent} ms)`);
      }
    }
    // a sample through search: exactly one hit for plate + camera
    const pdA = [...acked].filter((k) => sent.get(k)!.tenant === 'pd-a');
    for (let i = 0; i < Math.min(6, pdA.length); i++) {
      const r = sent.get(pdA[Math.floor(rnd() * pdA.length)]!)!;
      const res = await http(`${url}/v1/search`, 'POST', T.aInv, { plate: r.plate, cameras: [r.camera], purpose: 'crash-loop', case: 'c' });
      report.searchChecks++;
      if (res.status !== 200 || res.json.total !== 1) {
        report.searchMismatches++;
        fail(`cycle ${cycle}: search for ${r.plate}/${r.camera} answered ${res.status} total ${res.json?.total}${res.status !== 200 ? `: ${res.text.slice(0, 500)}` : ''}`);
      }
    }
    // the hot list is a whole version
    const hl = await http(`${url}/v1/hotlists/wanted`, 'GET', T.aDisp);
    if (hl.status === 200) {
      const n = (hl.json.entries as unknown[]).length;
      if (!listVersions.has(n)) {
        report.hotlistTorn++;
        fail(`cycle ${cycle}: hot list has ${n} entries, no version sent had that many`);
      }
    } else if (listVersions.size > 0) {
      fail(`cycle ${cycle}: ${answered('GET hot list', hl.status, hl.text)}`);
    }
    // alerts: replay after the last id seen, then compare with the ledger
    await collectAlerts(url, 2500, cycle);
    report.alertsSeen = alertById.size;
    let expected = 0, missing = 0, missingRetry = 0;
    const withAlert = new Set<string>();
    for (const pair of alertPairs.keys()) withAlert.add(pair);
    for (const key of acked) {
      const r = sent.get(key)!;
      if (r.tenant !== 'pd-a' || !kWanted.includes(r.plate)) continue;
      expected++;
      if (withAlert.has(`${key}|${r.plate}`)) continue;
      if (ackedFirstTry.has(key)) {
        missing++;
        fail(`cycle ${cycle}: no alert for acknowledged wanted read ${key} (${r.plate})`);
      } else missingRetry++;
    }
    report.alertsExpected = expected;
    report.alertsMissing = missing;
    report.alertsMissingAfterRetry = missingRetry;
    // audit chains, by the CLI, while the server runs
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    if (verify.code !== 0) {
      report.auditVerifyFailures++;
      fail(`cycle ${cycle}: audit verify exited ${verify.code}: ${verify.stdout.slice(0, 300)} ${verify.stderr.slice(0, 300)}`);
    }
  };

  /** Reads alerts after `lastAlertId` until the stream is quiet for 300 ms (or `maxMs`). */
  const collectAlerts = async (url: string, maxMs: number, cycle: number): Promise<void> => {
    const ac = new AbortController();
    const deadline = setTimeout(() => ac.abort(), maxMs);
    let quiet: NodeJS.Timeout | undefined;
    const bumpQuiet = (): void => {
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(() => ac.abort(), 300);
    };
    try {
      const res = await request(`${url}/v1/alerts`, {
        method: 'GET', signal: ac.signal,
        headers: { authorization: `Bearer ${T.aDisp}`, accept: 'text/event-stream', 'last-event-id': String(lastAlertId) },
      });
      if (res.statusCode !== 200) {
        fail(`cycle ${cycle}: ${answered('alerts stream (replay)', res.statusCode, await res.body.text())}`);
        return;
      }
      bumpQuiet();
      await consumeSse(res.body, bumpQuiet);
    } catch {
      // aborted: quiet or deadline
    } finally {
      clearTimeout(deadline);
      if (quiet) clearTimeout(quiet);
    }
  };

  const onAlert = (id: number, data: string): void => {
    const a = JSON.parse(data) as { entry: string; read: { camera: string; plate: string } };
    const known = alertById.get(id);
    const pair = `${a.read.camera}|${a.entry}`;
    if (known !== undefined) {
      if (known !== pair) fail(`alert id ${id} seen twice with different content`);
      return;
    }
    alertById.set(id, pair);
    if (id > lastAlertId) lastAlertId = id;
    const n = (alertPairs.get(pair) ?? 0) + 1;
    alertPairs.set(pair, n);
    if (n > 1) {
      report.alertsDuplicated++;
      fail(`alert for ${pair} delivered under two ids`);
    }
    if (!kWanted.includes(a.entry) && !kSometimes[0]!.includes(a.entry) && !kSometimes[1]!.includes(a.entry)) {
      report.alertsUnlisted++;
      fail(`alert for unlisted entry ${a.entry}`);
    }
  };

  const consumeSse = async (body: AsyncIterable<Buffer>, onEvent?: () => void): Promise<void> => {
    let buf = '';
    let id: string | undefined, event: string | undefined, data: string | undefined;
    for await (const chunk of body) {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          if (event === 'alert' && data !== undefined && id !== undefined) {
            onAlert(Number(id), data);
            onEvent?.();
          }
          id = event = data = undefined;
        } else if (!line.startsWith(':')) {
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
          else if (field === 'id') id = value;
          else if (field === 'event') event = value;
        }
      }
    }
  };

  /** Evidence of a write interrupted by the kill. */
  const inspectAfterKill = async (): Promise<void> => {
    for (const tenant of ['pd-a', 'pd-b']) {
      const shards = join(dataDir, 'tenants', tenant, 'shards');
      if (!existsSync(shards)) continue;
      const files = await readdir(shards);
      if (files.some((f) => f.includes('.tmp-'))) report.interrupted.shardTemp++;
      try {
        const text = await import('node:fs/promises').then((m) => m.readFile(join(dataDir, 'tenants', tenant, 'manifest.json'), 'utf8'));
        const named = new Set((JSON.parse(text).body.shards as Array<{ file: string }>).map((e) => e.file));
        if (files.some((f) => !f.includes('.tmp-') && !named.has(f))) report.interrupted.orphanShard++;
      } catch {
        // a manifest being replaced: the check after restart covers it
      }
    }
    const hl = join(dataDir, 'hotlists', 'pd-a');
    if (existsSync(hl) && (await readdir(hl)).some((f) => f.endsWith('.tmp'))) report.interrupted.hotlistTemp++;
  };

  let version = 0;
  const kTriggers: KillTrigger[] = ['random', 'seal', 'retention', 'hotlist'];
  let killedStderr: string | undefined; // the stderr of the server the last cycle killed
  try {
    for (let cycle = 1; cycle <= o.cycles + 1; cycle++) {
      const t0 = Date.now();
      const child = await spawnServe(dataDir, ['--seal-rows', String(sealRows), '--seal-age-ms', '2000']);
      restartTimes.push(Date.now() - t0);
      const url = child.url;
      const failsBefore = failCount;
      try {
        if (cycle > 1) await check(url, cycle);
        // batches whose answer died with the last server: same readIds again
        const retry = pending;
        pending = [];
        for (const batch of retry) {
          const token = batch[0]!.tenant === 'pd-a' ? T.aIngest : T.bIngest;
          const ok = await postBatch(url, token, batch, true);
          if (ok === undefined) fail(`cycle ${cycle}: retry of a batch got no answer from a healthy server`);
        }
        if (cycle === 1) {
          const put = await http(`${url}/v1/hotlists/wanted`, 'PUT', T.aDisp, hotlistBody(version));
          if (put.status !== 200) throw new Error(`hot list PUT answered ${put.status}: ${put.text.slice(0, 200)}`);
          listVersions.add(filler + version);
          const ret = await http(`${url}/v1/retention`, 'PUT', T.bAdmin, { retentionSeconds: kRetentionSeconds });
          if (ret.status !== 200) throw new Error(`retention PUT answered ${ret.status}`);
        }
        if (cycle > o.cycles) {
          await check(url, cycle); // the last start only checks, again after the retries
          break;
        }

        // ── the workload, and the kill ──
        const trigger = kTriggers[Math.floor(rnd() * kTriggers.length)]!;
        let killed = false;
        let killTimer: NodeJS.Timeout | undefined;
        const kill = (): void => {
          if (killed) return;
          killed = true;
          if (killTimer) clearTimeout(killTimer);
          child.proc.kill('SIGKILL');
        };
        const killIn = (ms: number): void => {
          if (killed) return;
          if (killTimer) clearTimeout(killTimer);
          killTimer = setTimeout(kill, ms);
        };
        // a fallback: every trigger kills within the run time
        killTimer = setTimeout(kill, trigger === 'random' ? 50 + rnd() * maxRunMs : maxRunMs + 500);
        const sse = new AbortController();
        const sseDone = request(`${url}/v1/alerts`, {
          method: 'GET', signal: sse.signal,
          headers: { authorization: `Bearer ${T.aDisp}`, accept: 'text/event-stream', 'last-event-id': String(lastAlertId) },
        }).then(async (res) => {
          if (res.statusCode !== 200) return fail(`cycle ${cycle}: ${answered('alerts stream (live)', res.statusCode, await res.body.text())}`);
          await consumeSse(res.body);
        }).catch(() => undefined);
        let liveRows = 0;
        const ingestLoop = async (tenant: 'pd-a' | 'pd-b'): Promise<void> => {
          const token = tenant === 'pd-a' ? T.aIngest : T.bIngest;
          while (!killed) {
            const batch = Array.from({ length: 10 + Math.floor(rnd() * 40) }, () => makeRead(tenant, Date.now()));
            const ok = await postBatch(url, token, batch, false);
            if (ok === undefined) {
              pending.push(batch);
              return;
            }
            liveRows += batch.length;
            if (trigger === 'seal' && tenant === 'pd-a' && liveRows >= sealRows) {
              // the append that crossed the threshold started a seal in the background: kill inside it
              killIn(rnd() * 60);
            }
          }
        };
        const searchLoop = async (): Promise<void> => {
          while (!killed) {
            const body = rnd() < 0.5
              ? { plate: kWanted[Math.floor(rnd() * kWanted.length)]!, purpose: 'crash-loop', case: 'c' }
              : { plate: 'R??1*', bbox: [-122.5, 37.6, -122.3, 37.8], purpose: 'crash-loop', case: 'c', limit: 50 };
            try {
              const res = await http(`${url}/v1/search`, 'POST', T.aInv, body);
              if (res.status !== 200 && !killed && res.status !== 503) fail(`search answered ${res.status}: ${res.text.slice(0, 200)}`);
            } catch {
              return;
            }
          }
        };
        const adminLoop = async (): Promise<void> => {
          await new Promise((r) => setTimeout(r, rnd() * 200));
          if (killed) return;
          if (trigger === 'hotlist' || rnd() < 0.3) {
            const v = ++version;
            const body = hotlistBody(v);
            listVersions.add(filler + v); // sent whole: either it or the previous version may be stored
            const p = http(`${url}/v1/hotlists/wanted`, 'PUT', T.aDisp, body).catch(() => undefined);
            if (trigger === 'hotlist') killIn(5 + rnd() * 150);
            await p;
          }
          if (killed) return;
          if (trigger === 'retention' || rnd() < 0.3) {
            const p = http(`${url}/v1/retention`, 'PUT', T.bAdmin, { retentionSeconds: kRetentionSeconds }).catch(() => undefined);
            const res = await p;
            // the sweep starts at once after the answer: kill inside it
            if (trigger === 'retention') killIn(rnd() * 30);
            if (res && res.status !== 200 && !killed) fail(`retention PUT answered ${res.status}`);
          }
        };
        await Promise.all([ingestLoop('pd-a'), ingestLoop('pd-a'), ingestLoop('pd-b'), searchLoop(), adminLoop()]);
        if (!killed) kill();
        await child.exited;
        sse.abort();
        await sseDone;
        report.kills[trigger]++;
        report.cycles++;
        await inspectAfterKill();
        log(`cycle ${cycle}/${o.cycles} kill=${trigger} sent=${report.readsSent} acked=${report.readsAcknowledged} pending=${pending.reduce((n, b) => n + b.length, 0)} alerts=${alertById.size} failures=${report.failures.length}`);
      } catch (err) {
        failCount++; // a broken harness step (e.g. export answered 500): the server's log goes with it
        throw err;
      } finally {
        child.proc.kill('SIGKILL');
        await child.exited;
        if (failCount > failsBefore) attachServerLog(cycle, child, killedStderr);
        killedStderr = child.stderr();
      }
    }
  } finally {
    const sorted = [...restartTimes].sort((a, b) => a - b);
    report.restartMs = { p50: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
    report.elapsedMs = Date.now() - started;
    if (!o.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return report;
}
