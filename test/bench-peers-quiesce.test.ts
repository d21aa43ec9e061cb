/**
 * bench:peers' quiet state between the loads and the queries (bench/peers/quiesce.ts): PostgreSQL's
 * CHECKPOINT, then sync, then a wait until the kernel's Dirty + Writeback are drained, in that order, with
 * a timeout that lets the run go on; and the command line that turns it off (`--no-quiesce`) or probes it.
 */
import { describe, expect, it } from 'vitest';
import { parsePeersOptions } from '../bench/peers/options.js';
import { dirtyBytesOf, quiesce } from '../bench/peers/quiesce.js';

// a /proc/meminfo cut: WritebackTmp (FUSE) and the *Dirty* look-alikes are not the page cache's writeback
const kMeminfo = `MemTotal:       24683756 kB
Dirty:            735096 kB
Writeback:          2048 kB
AnonPages:       1000000 kB
WritebackTmp:        512 kB
NFS_Unstable:          0 kB
`;

describe('bench:peers quiesce', () => {
  it('counts Dirty and Writeback of /proc/meminfo, nothing else', () => {
    expect(dirtyBytesOf(kMeminfo)).toBe((735096 + 2048) * 1024);
    expect(dirtyBytesOf('MemTotal: 1 kB\n')).toBe(0);
  });

  it('checkpoints, then syncs, then waits for the dirty pages to drain', async () => {
    const calls: string[] = [];
    // dirty bytes seen: before, after the checkpoint, after the sync, the drain's polls, after the drain
    const seen = [900, 900, 300, 200, 120, 50, 40, 30];
    const dirty = () => {
      calls.push('dirty');
      return seen.shift() ?? 0;
    };
    const r = await quiesce({
      checkpoint: async () => void calls.push('checkpoint'),
      sync: async () => void calls.push('sync'),
      afterStep: async (s) => void calls.push(`after ${s.step}`),
      dirty, drainedBytes: 100, pollMs: 1, timeoutMs: 10_000,
    });
    expect(calls.filter((c) => c !== 'dirty')).toEqual(['checkpoint', 'after checkpoint', 'sync', 'after sync', 'after drain']);
    expect(r.dirtyBeforeBytes).toBe(900);
    expect(r.steps.map((s) => [s.step, s.dirtyBytes])).toEqual([['checkpoint', 900], ['sync', 300], ['drain', 40]]);
    expect(r.drained).toBe(true);
    // the drain polled until ≤ 100 (200 and 120 were over, 50 was not) and read no further
    expect(seen).toEqual([30]);
  });

  it('gives up draining after its timeout and says so', async () => {
    const r = await quiesce({ checkpoint: async () => {}, sync: async () => {}, dirty: () => 1e9, drainedBytes: 100, pollMs: 5, timeoutMs: 30 });
    expect(r.drained).toBe(false);
    expect(r.steps.at(-1)!.ms).toBeGreaterThanOrEqual(25);
  });

  it('is on by default; --no-quiesce turns it off, --probe turns the probes on', () => {
    expect(parsePeersOptions([])).toMatchObject({ quiesce: true, probe: false });
    expect(parsePeersOptions(['--no-quiesce', '--probe'])).toMatchObject({ quiesce: false, probe: true });
  });
});
