/**
 * The crash loop, short: a few `kill -9` cycles of a child server under concurrent ingest, searches,
 * hot-list replaces, retention changes and an alert stream (test/helpers/crash-loop.ts). The published
 * run (≥ 100 cycles) is `node dist/bench/crash-loop.js --cycles 100` (docs/RELIABILITY.md).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kCli, runCrashLoop } from './helpers/crash-loop.js';

describe.skipIf(!existsSync(kCli()))('crash loop (kill -9 under load)', () => {
  it('loses no acknowledged read, duplicates none, keeps audit chains and alerts across 4 kills', async () => {
    const cycles = Number(process.env.CRASH_CYCLES ?? 4);
    const report = await runCrashLoop({ cycles, seed: Number(process.env.CRASH_SEED ?? 20261122), maxRunMs: 1200, hotlistFiller: 20_000 });
    expect(report.failures).toEqual([]);
    expect(report.cycles).toBe(cycles);
    expect(report.readsAcknowledged).toBeGreaterThan(0);
    expect(report.readsLost).toBe(0);
    expect(report.readsDuplicated).toBe(0);
    expect(report.foreignOrPartialRows).toBe(0);
    expect(report.auditVerifyFailures).toBe(0);
    expect(report.alertsMissing).toBe(0);
    expect(report.alertsDuplicated).toBe(0);
    expect(report.alertsExpected).toBeGreaterThan(0);
  }, 120_000);
});
