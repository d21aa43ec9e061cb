/**
 * `node dist/bench/analytics-profile.js [--reads N] [--kind cloned] [--runs R] [--threads T] [--profile FILE] [--body JSON]`: one analysis of
 * bench:peers' query set, timed alone over gen data loaded into the engine (for profiling with
 * the inspector, main thread, runs only, into FILE as a .cpuprofile): the time per run, without DuckDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { openEngine } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { parseAnalyticsRequest } from '../src/query/analytics/parse.js';
import type { AnalyticsKind } from '../src/model/analytics.js';
import type { Read } from '../src/model/read.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reads: { type: 'string' }, kind: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' }, profile: { type: 'string' }, body: { type: 'string' } } });
  const reads = Number(values.reads ?? 1_000_000);
  const kind = (values.kind ?? 'cloned') as AnalyticsKind;
  const runs = Number(values.runs ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'ps-aprof-'));
  const engine = await openEngine({ dataDir: dir, threads: Number(values.threads ?? 2) });
  try {
    const tenants = kDefaultTenants.slice(0, 3);
    const pending = new Map<string, Read[]>();
    let maxTs = 0;
    for (const g of generateReads({ reads, seed: 1, tenants, days: 28, vehicles: Math.round(reads / 10) })) {
      g.read.lat = Math.round(g.read.lat * 1e7) / 1e7;
      g.read.lon = Math.round(g.read.lon * 1e7) / 1e7;
      maxTs = Math.max(maxTs, g.read.ts);
      let b = pending.get(g.tenant);
      if (!b) pending.set(g.tenant, (b = []));
      b.push(g.read);
      if (b.length >= 100_000) {
        await engine.append(g.tenant, b);
        pending.set(g.tenant, []);
      }
    }
    for (const [t, b] of pending) if (b.length) await engine.append(t, b);
    await engine.seal();
    const now = maxTs + 1;
    const body = values.body ? (JSON.parse(values.body) as Record<string, unknown>) : kind === 'cloned'
      ? { maxSpeedKmh: 250, minDistanceM: 5000, from: new Date(now - 7 * 86_400_000).toISOString(), to: new Date(now).toISOString() }
      : {};
    const { query } = parseAnalyticsRequest(kind, { ...body, purpose: 'profile', case: 'p' });
    const scope = [{ tenant: tenants[0]!, minTs: Number.MIN_SAFE_INTEGER }];
    const session = values.profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const res = await engine.analytics(scope, query);
      process.stdout.write(`${kind}: ${(performance.now() - t0).toFixed(1)} ms, total ${res.total}\n`);
    }
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(values.profile!, JSON.stringify(profile));
    }
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`analytics-profile: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
