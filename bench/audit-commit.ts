/**
 * The audit group commit alone (no HTTP): closed-loop appenders on one log of a fresh trail, each appending
 * a search-sized record again as soon as its last one is durable. Reports appends/s and the CPU of the main
 * thread and of the whole process per append, so two builds of the trail (the audit writer's one hop vs the
 * thread pool's two round trips) can be compared without node:http and the engine in the way.
 *
 *   node dist/bench/audit-commit.js [--clients 1,8] [--seconds 4] [--build <repo root whose dist/ to use>]
 *
 * The trail's directory is made under TMPDIR (tmpfs there: the CPU of the hops alone; a disk: its waits too).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mainThreadCpuMs, selfCpuMs } from './http/cpu.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,8' },
    seconds: { type: 'string', default: '4' },
    build: { type: 'string' },
  },
});
const root = values.build ? resolve(values.build) : resolve(import.meta.dirname, '../..');
const { AuditTrail } = (await import(pathToFileURL(join(root, 'dist/src/server/audit/trail.js')).href)) as typeof import('../src/server/audit/trail.js');

const record = (i: number) => ({
  requestId: `req-${i}`, actorTenant: 'pd-a', user: 'investigator-7', action: 'search',
  params: { plate: `ABC${i % 1000}`, from: '2026-11-26T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' },
  purpose: 'bench', case: 'case-1', outcome: 'ok' as const, status: 200, resultCount: 37, tenantsTouched: ['pd-a'],
  ip: '127.0.0.1', durationMs: 1,
});

for (const clients of values.clients.split(',').map(Number)) {
  const dir = await mkdtemp(join(tmpdir(), 'platesearch-bench-audit-'));
  const trail = await AuditTrail.open(dir);
  let n = 0;
  // warm-up: opens the log, the key, the writer; lets V8 optimise the append path
  const loop = async (until: number) => {
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < until) await trail.append('pd-a', record(n++));
    }));
  };
  await loop(performance.now() + 1000);
  const n0 = n, m0 = mainThreadCpuMs(process.pid), p0 = selfCpuMs(), t0 = performance.now();
  await loop(t0 + Number(values.seconds) * 1000);
  const appends = n - n0, wall = performance.now() - t0;
  const per = (ms: number) => ((ms * 1000) / appends).toFixed(0);
  const stats = (trail as unknown as { writerStats?: { commits: number } }).writerStats;
  process.stdout.write(`clients ${clients}: ${Math.round((appends * 1000) / wall)} appends/s, main thread ${per(mainThreadCpuMs(process.pid) - m0)} µs CPU/append, process ${per(selfCpuMs() - p0)} µs${stats ? `, ${stats.commits} batches in all` : ''}\n`);
  await trail.close();
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.keys`, { recursive: true, force: true });
}
