/**
 * `node dist/bench/insights.js [--records N] [--calls K]`: the cost of GET /v1/audit/insights' index
 * (src/server/audit/insights.ts) on a generated audit log of N search records (default 1,000,000): the
 * one-time build from the log, and the per-call time of K calls (random windows, a half-hour-offset
 * timezone), in-process, without HTTP. The log is written with the trail's own group commit.
 *
 * Realistic mix: 200 users, plates drawn from 200,000 (a few hot ones), 5,000 cases, 300 purposes,
 * 10 % partners' searches, one year of timestamps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { AuditInsights } from '../src/server/audit/insights.js';
import { AuditTrail } from '../src/server/audit/trail.js';

const { values } = parseArgs({ options: { records: { type: 'string' }, calls: { type: 'string' } } });
const n = Number(values.records ?? 1_000_000);
const calls = Number(values.calls ?? 50);

let seed = 15;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const t0 = Date.parse('2025-12-01T00:00:00Z');
const year = 365 * 86_400_000;

const dir = await mkdtemp(join(tmpdir(), 'platesearch-insights-'));
try {
  let trail = await AuditTrail.open(dir);
  const w0 = performance.now();
  for (let done = 0; done < n; ) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = 0; i < 2000 && done < n; i++, done++) {
      const hot = rnd() < 0.05;
      batch.push(trail.append('pd-a', {
        ts: new Date(t0 + Math.floor(rnd() * year)).toISOString(), requestId: `b${done}`,
        actorTenant: rnd() < 0.1 ? `pd-p${Math.floor(rnd() * 5)}` : 'pd-a', user: `u${Math.floor(rnd() * 200)}`,
        action: 'search', params: { plate: hot ? `HOT${Math.floor(rnd() * 20)}` : `P${Math.floor(rnd() * 200_000)}` },
        purpose: `purpose ${Math.floor(rnd() * 300)}`, case: `C-${Math.floor(rnd() * 5000)}`,
        outcome: 'ok', status: 200, resultCount: 1, tenantsTouched: ['pd-a'], ip: '', durationMs: 1,
      }));
    }
    await Promise.all(batch);
  }
  await trail.close();
  const writeS = (performance.now() - w0) / 1000;

  trail = await AuditTrail.open(dir);
  const insights = new AuditInsights(trail);
  const b0 = performance.now();
  await insights.warm(['pd-a']);
  const buildS = (performance.now() - b0) / 1000;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;

  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const from = t0 + Math.floor(rnd() * year);
    const to = i % 5 === 0 ? t0 + year : from + Math.floor(rnd() * 90 * 86_400_000);
    const s = performance.now();
    await insights.compute('pd-a', from, to, 'Asia/Kolkata');
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  const first = times.length;
  await trail.close();
  console.log(JSON.stringify({
    records: n, writeSeconds: +writeS.toFixed(1), buildSeconds: +buildS.toFixed(1), heapMbAfterBuild: Math.round(heapMb),
    calls: first, p50Ms: +q(0.5), p95Ms: +q(0.95), maxMs: +times[times.length - 1]!.toFixed(1),
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
