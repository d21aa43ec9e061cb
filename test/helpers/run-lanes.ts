/** Helpers of the tests of lanes held as runs (src/core/run-lane.ts: the camera lane, the labels lane). */
import type { Engine } from '../../src/engine/index.js';
import type { Read, StoredRead } from '../../src/model/read.js';
import { runCount } from '../../src/core/run-lane.js';

/** Adds to `out` the runs of the run starts at `runs` (of `rows` rows) with more than 64 table entries and those with at most 64. */
export function countRunWidths(buffer: ArrayBufferLike, runs: number, rows: number, out: { wide: number; narrow: number }): void {
  const starts = new Uint32Array(buffer, runs, runCount(rows) + 1);
  for (let r = 0; r + 1 < starts.length; r++) {
    if (starts[r + 1]! - starts[r]! > 64) out.wide++;
    else out.narrow++;
  }
}

/** Appends `reads` to `tenant` in batches of 5,000 and seals it, the stored reads pushed to `out`. */
export async function appendAndSeal(engine: Engine, tenant: string, reads: Read[], out: StoredRead[]): Promise<void> {
  for (let i = 0; i < reads.length; i += 5000) out.push(...(await engine.append(tenant, reads.slice(i, i + 5000))).stored);
  await engine.seal(tenant);
}
