/**
 * A child `platesearch serve` prepared for fuzzing: tokens for every role of pd-a (and pd-b's admin),
 * limits opened wide except the query budget (so a pathological query ends instead of hanging the run),
 * some reads and a hot list so searches and alerts have work. Also the child's RSS from /proc.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { kRoles, type Role } from '../../src/model/tenant.js';
import { Directory } from '../../src/server/tenancy/directory.js';
import { spawnServe, type Child } from './crash-loop.js';
import type { FuzzTarget } from './http-fuzz.js';

export interface PreparedTarget extends FuzzTarget {
  child: Child;
  dataDir: string;
  rssBytes(): number;
  close(): Promise<void>;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function prepareTarget(extra: string[] = []): Promise<PreparedTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'platesearch-fuzz-'));
  const dir = await Directory.open(dataDir, { watch: false });
  const tokens: Record<string, string> = {};
  for (const role of kRoles) tokens[role] = (await dir.createToken('pd-a', role, [role as Role])).token;
  tokens.all = (await dir.createToken('pd-a', 'all', [...kRoles])).token;
  tokens.other = (await dir.createToken('pd-b', 'admin', ['admin', 'ingest', 'investigator'])).token;
  await dir.close();
  const child = await spawnServe(dataDir, ['--rate-limit', '1000000', '--rate-burst', '1000000', '--query-budget-ms', '3000', '--seal-rows', '5000', ...extra]);
  let exited = false;
  void child.exited.then(() => (exited = true));
  const reads = Array.from({ length: 2000 }, (_, i) => ({
    plate: i % 50 === 0 ? 'WNT0001' : `T${String(i).padStart(6, '0')}`, ts: Date.now() - i * 60_000,
    lat: 37.7 + (i % 100) * 0.001, lon: -122.4 - (i % 50) * 0.001, camera: `cam-${i % 7}`,
  }));
  const post = await request(`${child.url}/v1/reads`, {
    method: 'POST', body: JSON.stringify(reads), headers: { authorization: `Bearer ${tokens.ingest}`, 'content-type': 'application/json' },
  });
  if (post.statusCode !== 200) throw new Error(`seed ingest answered ${post.statusCode}: ${await post.body.text()}`);
  await post.body.text();
  const put = await request(`${child.url}/v1/hotlists/wanted`, {
    method: 'PUT', body: JSON.stringify({ entries: [{ plate: 'WNT0001', note: 'stolen' }, { plate: 'T00001*', note: 'bolo' }] }),
    headers: { authorization: `Bearer ${tokens.dispatcher}`, 'content-type': 'application/json' },
  });
  await put.body.text();
  return {
    url: child.url, tokens, child, dataDir,
    alive: () => !exited,
    rssBytes: () => rssOf(child.proc.pid!),
    async close() {
      child.proc.kill('SIGKILL');
      await child.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
