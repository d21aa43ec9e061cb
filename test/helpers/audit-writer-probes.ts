/**
 * What the audit writer's timing tests (audit-writer-settle, audit-writer-prime) share: a record of log `pd-a` with
 * a plate list of 0–119 entries (records of many sizes), whether a record is durable on disk, a busy wait that
 * holds the thread without an event-loop turn, and the checks of appends made in a random schedule.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { decodeHead } from '../../src/server/audit/head.js';
import { oracleVerify } from './audit-oracle.js';
import { readAuditStored } from './server.js';

/** Record `i`'s fields in log `pd-a`. */
export const probeFields = (i: number) => ({
  requestId: `r${i}`, actorTenant: 'pd-a', user: 'u', action: 'search', params: { i, plates: Array.from({ length: i % 120 }, (_, k) => `P${k}`) },
  purpose: 'p', case: 'c', outcome: 'ok' as const, status: 200, resultCount: i, tenantsTouched: ['pd-a'], ip: '', durationMs: 0,
});

/** The marker on disk covers `seq` of pd-a's log in data dir `d`, and the log holds what it says (marker read first: the log only grows). */
export function durableOnDisk(d: string, seq: number): boolean {
  const head = decodeHead(readFileSync(join(d, 'audit', 'pd-a.head')));
  const size = statSync(join(d, 'audit', 'pd-a.jsonl')).size;
  return head !== undefined && head.seq >= seq && size >= head.len;
}

/** Holds this thread (no event loop turn) for `us` microseconds. */
export function busy(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/**
 * Appends made in a schedule of the test's choosing (the first, seq 1, made before): each one must be durable on
 * disk when it resolves, and they must resolve in seq order.
 */
export class WatchedAppends {
  private readonly resolved: number[] = [1];
  private readonly violations: string[] = [];
  private readonly pending: Array<Promise<void>> = [];

  constructor(private readonly d: string) {}

  watch(append: Promise<{ seq: number }>): void {
    this.pending.push(append.then((r) => {
      this.resolved.push(r.seq);
      if (!durableOnDisk(this.d, r.seq)) this.violations.push(`seq ${r.seq} resolved before a marker covering it was on disk`);
    }));
  }

  /** Waits for them all; none resolved before it was durable, and they resolved as seq 1, 2, … in order. */
  async expectDurableInOrder(): Promise<void> {
    await Promise.all(this.pending);
    expect(this.violations).toEqual([]);
    expect(this.resolved).toEqual(Array.from({ length: this.resolved.length }, (_, i) => i + 1));
  }
}

/** pd-a's log holds records r-1, r0, … r(n−1) in order, and its chain verifies (the independent oracle). */
export async function expectProbeLog(d: string, n: number): Promise<void> {
  const records = await readAuditStored(d, 'pd-a');
  expect(records.map((r) => r.requestId)).toEqual(Array.from({ length: n + 1 }, (_, i) => `r${i - 1}`));
  expect(oracleVerify(join(d, 'audit', 'pd-a.jsonl'))).toMatchObject({ ok: true, count: n + 1 });
}
