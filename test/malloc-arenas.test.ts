/**
 * src/core/malloc-arenas.ts: after `capMallocArenas`, threads started later share glibc's arenas instead
 * of each making its own. Checked in child processes (an arena, once made, lives as long as the process):
 * each starts worker threads that allocate buffers below the mmap threshold, and counts glibc's thread
 * arenas in its own /proc/self/maps before and after (each one a 64 MiB-aligned heap of at most 64 MiB,
 * read-write from its start). The same child without the cap is the control: it must make several.
 *
 * `fixMallocThresholds` (child: test/helpers/malloc-top-child.mjs): a worker frees a mapped 30 MiB buffer (glibc's
 * dynamic thresholds rise to 30 / 60 MiB), then allocates 48 MiB of 512 KiB buffers, which now come from its arena,
 * and frees them; the main thread calls malloc_trim(0) and reads its thread arenas' resident bytes. Without the fix the freed top of the worker's heap
 * stays resident (the control); with it, it went back at the free.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMallocArenas, fixMallocThresholds } from '../src/core/malloc-arenas.js';
import { kRepoRoot } from './helpers/server.js';

const kLinuxGlibc = process.platform === 'linux' && (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime !== undefined;

// The child: optionally caps, then 6 threads each allocate 300 × 64 KiB and hold them while the others do.
const kChild = `
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
const { capMallocArenas } = await import(${JSON.stringify(join(kRepoRoot, 'dist/src/core/malloc-arenas.js'))});
const k64MiB = 64 * 2 ** 20;
function threadArenas() {
  const maps = readFileSync('/proc/self/maps', 'utf8').trim().split('\\n').map((l) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\\S+) \\S+ \\S+ \\S+\\s*(.*)$/.exec(l);
    return { start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], path: m[4] };
  });
  let n = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i], next = maps[i + 1];
    if (m.path !== '' || !m.perms.startsWith('rw') || m.start % k64MiB !== 0) continue;
    const end = next && next.start === m.end && next.path === '' && next.perms.startsWith('---') ? next.end : m.end;
    if (end - m.start === k64MiB) n++;
  }
  return n;
}
const capped = process.argv.includes('--cap') ? capMallocArenas() : false;
const before = threadArenas();
const hold = new Int32Array(new SharedArrayBuffer(4));
const workers = Array.from({ length: 6 }, () => new Worker(\`
  const { workerData, parentPort } = require('node:worker_threads');
  const kept = [];
  for (let i = 0; i < 300; i++) { const b = Buffer.allocUnsafeSlow(65536); b.fill(i); kept.push(b); }
  parentPort.postMessage('held');
  Atomics.wait(workerData, 0, 0);
  parentPort.postMessage(kept.length);
\`, { eval: true, workerData: hold, execArgv: [] }));
await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
const after = threadArenas();
Atomics.store(hold, 0, 1);
Atomics.notify(hold, 0);
await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
process.stdout.write(JSON.stringify({ capped, made: after - before }) + '\\n');
`;

function child(args: string[], env: NodeJS.ProcessEnv = {}): { capped: boolean; made: number } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', kChild, '--', ...args], {
    encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: undefined, GLIBC_TUNABLES: undefined, ...env },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { capped: boolean; made: number };
}

describe.skipIf(!kLinuxGlibc)('capMallocArenas', () => {
  it('threads started after the cap share the arenas; without it each makes its own', () => {
    const without = child([]);
    expect(without.capped).toBe(false);
    // the control: six threads holding 19 MiB each took arenas of their own
    expect(without.made).toBeGreaterThanOrEqual(3);
    const capped = child(['--cap']);
    expect(capped.capped).toBe(true);
    // two arenas in all: the main thread's and at most one more (it may exist from before the cap)
    expect(capped.made).toBeLessThanOrEqual(1);
  }, 60_000);

  it("leaves an operator's own setting alone", () => {
    expect(capMallocArenas({ MALLOC_ARENA_MAX: '4' })).toBe(false);
    expect(capMallocArenas({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' })).toBe(false);
    const set = child(['--cap'], { MALLOC_ARENA_MAX: '8' });
    expect(set.capped).toBe(false);
    expect(set.made).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

// The child (test/helpers/malloc-top-child.mjs): caps the arenas, optionally fixes the thresholds, then the worker's allocations above.
const kTopChild = join(kRepoRoot, 'test/helpers/malloc-top-child.mjs');

function topChild(args: string[], env: NodeJS.ProcessEnv = {}): { fixed: boolean; threadArenas: number } {
  const out = execFileSync(process.execPath, [kTopChild, ...args], {
    encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: undefined, GLIBC_TUNABLES: undefined, MALLOC_MMAP_THRESHOLD_: undefined, MALLOC_TRIM_THRESHOLD_: undefined, ...env },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { fixed: boolean; threadArenas: number };
}

describe.skipIf(!kLinuxGlibc)('fixMallocThresholds', () => {
  const MiB = 2 ** 20;

  it("a thread heap's freed top goes back at the free; with glibc's dynamic thresholds it stays, trimmed or not", () => {
    const dynamic = topChild([]);
    expect(dynamic.fixed).toBe(false);
    // the control: 48 MiB freed at the top of the worker's heap, below the risen 60 MiB trim threshold
    expect(dynamic.threadArenas).toBeGreaterThanOrEqual(40 * MiB);
    const fixed = topChild(['--fix']);
    expect(fixed.fixed).toBe(true);
    expect(fixed.threadArenas).toBeLessThanOrEqual(12 * MiB);
  }, 120_000);

  it("leaves an operator's own setting alone", () => {
    expect(fixMallocThresholds({ MALLOC_TRIM_THRESHOLD_: '1048576' })).toBe(false);
    expect(fixMallocThresholds({ MALLOC_MMAP_THRESHOLD_: '1048576' })).toBe(false);
    expect(fixMallocThresholds({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1048576' })).toBe(false);
    // the operator's thresholds: 32 MiB chunks from the arenas, a heap's top kept up to 128 MiB
    const set = topChild(['--fix'], { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728' });
    expect(set.fixed).toBe(false);
    expect(set.threadArenas).toBeGreaterThanOrEqual(40 * MiB);
  }, 120_000);
});
