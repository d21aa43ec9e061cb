import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateReads, writeDataset } from '../src/gen/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gen-determinism-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gen determinism', () => {
  it('same seed, same bytes (data and truth); different seed, different bytes', async () => {
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    const c = join(dir, 'c.ndjson');
    await writeDataset({ reads: 20_000, seed: 7 }, a, { progress: false });
    await writeDataset({ reads: 20_000, seed: 7 }, b, { progress: false });
    await writeDataset({ reads: 20_000, seed: 8 }, c, { progress: false });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(`${a}.truth.json`).equals(readFileSync(`${b}.truth.json`))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(c))).toBe(false);
    expect(readFileSync(a, 'utf8').split('\n').filter(Boolean)).toHaveLength(20_000);
  });

  it('the encoding thread writes the same bytes as one thread does', async () => {
    // several batches of the encoding thread (65,536 reads each), a last partial one, and misreads in all
    const options = { reads: 150_000, seed: 5, tenants: ['pd-a', 'pd-b', 'pd-c'] };
    const one = join(dir, 'one-thread.ndjson');
    const two = join(dir, 'two-threads.ndjson');
    const a = await writeDataset(options, one, { progress: false, encoderThread: false });
    const b = await writeDataset(options, two, { progress: false, encoderThread: true });
    expect(b).toEqual(a);
    expect(readFileSync(two).equals(readFileSync(one))).toBe(true);
    expect(readFileSync(`${two}.truth.json`).equals(readFileSync(`${one}.truth.json`))).toBe(true);
    expect(a.bytes).toBe(readFileSync(one).length);
  });

  it('generateReads yields exactly the reads the file holds', async () => {
    const file = join(dir, 'lib.ndjson');
    const options = { reads: 2_000, seed: 3, tenants: ['pd-a', 'pd-b'] };
    await writeDataset(options, file, { progress: false });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const fromLibrary = [...generateReads(options)].map((g) => ({ tenant: g.tenant, ...g.read, ts: new Date(g.read.ts).toISOString() }));
    expect(fromLibrary).toHaveLength(2_000);
    expect(lines.map((l) => JSON.parse(l))).toEqual(fromLibrary);
  });

  it('writes exactly N reads in time order for tiny and odd sizes', () => {
    for (const reads of [1, 2, 999]) {
      let last = -Infinity;
      let n = 0;
      for (const { read } of generateReads({ reads, seed: 11, days: 0.5 })) {
        expect(read.ts).toBeGreaterThanOrEqual(last);
        last = read.ts;
        n++;
      }
      expect(n).toBe(reads);
    }
  });
});
