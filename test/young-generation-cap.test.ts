/**
 * src/core/young-generation.ts: after `capYoungGeneration(cap)`, the main isolate's new space stops growing
 * at two semi-spaces of `cap`, where V8 left alone grows it to its 16 MiB semi-spaces. Checked in child
 * processes (a grown new space stays committed for the process's life): each allocates objects of which a
 * share survives a few scavenges (what makes V8 grow the space), and prints its new space's capacity at
 * the end. The same child without the cap is the control: it must grow past the cap. And a worker's young
 * generation under `resourceLimits` (the parse and seal workers' kBodyParseLimits, kSealWorkerLimits)
 * stays within its own limit.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kBodyParseLimits } from '../src/ingest/pipeline.js';
import { kRepoRoot } from './helpers/server.js';

const MiB = 2 ** 20;

// The child (`node -e`: its arguments from argv[1]): optionally caps (argv[1]: the semi-space in MiB, 0 = no
// cap), then allocates small objects keeping a rolling window of them, on the main thread or (argv[2] =
// 'worker') on a worker with the limits in argv[3]; prints `{ capped, newSpace, resolved }`.
const kChild = `
import { Worker } from 'node:worker_threads';
const { capYoungGeneration, newSpaceBytes } = await import(${JSON.stringify(join(kRepoRoot, 'dist/src/core/young-generation.js'))});
const cap = Number(process.argv[1]);
const capped = cap > 0 ? capYoungGeneration(cap * 2 ** 20) : false;
const churn = \`
  const keep = [];
  for (let i = 0; i < 1.5e6; i++) {
    const o = { a: i, b: 'x' + i, c: [i, i + 1] };
    if (i % 3 === 0) keep.push(o);
    if (keep.length > 100000) keep.length = 0;
  }
\`;
let newSpace;
if (process.argv[2] === 'worker') {
  const limits = JSON.parse(process.argv[3]);
  newSpace = await new Promise((resolve, reject) => {
    const w = new Worker(churn + "require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);", { eval: true, execArgv: [], resourceLimits: limits });
    w.on('message', resolve);
    w.on('error', reject);
  });
} else {
  // in short steps with the event loop turning between them, as a server's requests do, so the collections'
  // entries reach the watch between them
  const step = new Function(churn.replace('1.5e6', '20000').replace('i % 3', 'i % 10').replace('100000', '20000'));
  for (let i = 0; i < 450; i++) {
    step();
    await new Promise((r) => setImmediate(r));
    // argv[2] = 'threads': a worker thread starts and ends midway (V8 resets the growth factor for its isolate)
    if (process.argv[2] === 'threads' && i % 150 === 75) await new Promise((r) => new Worker('1', { eval: true, execArgv: [] }).on('exit', r));
  }
  newSpace = newSpaceBytes();
}
process.stdout.write(JSON.stringify({ capped, newSpace }));
`;

function child(semiMiB: number, nodeArgs: string[] = [], where: string[] = []): { capped: boolean; newSpace: number } {
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', kChild, String(semiMiB), ...where], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out) as { capped: boolean; newSpace: number };
}

describe('the main thread young generation cap', () => {
  it('stops the new space at two semi-spaces of the cap; left alone it grows past', () => {
    const control = child(0);
    expect(control.capped).toBe(false);
    expect(control.newSpace).toBeGreaterThan(8 * MiB);
    for (const semi of [2, 4]) {
      const capped = child(semi);
      expect(capped.capped).toBe(true);
      expect(capped.newSpace).toBe(2 * semi * MiB);
    }
  }, 120_000);

  it('holds the cap across worker threads started after it was reached', () => {
    const capped = child(2, [], ['threads']);
    expect(capped.capped).toBe(true);
    expect(capped.newSpace).toBe(4 * MiB);
  }, 60_000);

  it("leaves an operator's own young-generation flags alone", () => {
    const own = child(2, ['--max-semi-space-size=8']);
    expect(own.capped).toBe(false);
    // the operator's maximum: 2 × 8 MiB, not the cap's 2 × 2
    expect(own.newSpace).toBe(16 * MiB);
  }, 60_000);

  it("keeps a parse worker's young generation within its resourceLimits", () => {
    const w = child(0, [], ['worker', JSON.stringify(kBodyParseLimits)]);
    // young generation = 3 semi-spaces (two in the new space, one for new large objects)
    expect(w.newSpace).toBeLessThanOrEqual((2 * kBodyParseLimits.maxYoungGenerationSizeMb! * MiB) / 3);
    const free = child(0, [], ['worker', '{}']);
    expect(free.newSpace).toBeGreaterThan((2 * kBodyParseLimits.maxYoungGenerationSizeMb! * MiB) / 3);
  }, 60_000);
});

describe("the server's parse pool", () => {
  it('starts its workers with the resource limits it was given', async () => {
    const { ParsePool } = await import('../src/ingest/pipeline.js');
    const pool = new ParsePool(1, { unref: true, resourceLimits: kBodyParseLimits });
    try {
      const workers = (pool as unknown as { workers: Array<{ resourceLimits?: { maxYoungGenerationSizeMb?: number } }> }).workers;
      expect(workers.length).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(workers[0]!.resourceLimits?.maxYoungGenerationSizeMb).toBe(kBodyParseLimits.maxYoungGenerationSizeMb);
    } finally {
      await pool.close();
    }
  }, 30_000);
});
