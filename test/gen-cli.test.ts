import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { command } from '../src/cli/commands/gen.js';

const dir = mkdtempSync(join(tmpdir(), 'gen-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let stderr = '';
beforeEach(() => {
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('platesearch gen command line', () => {
  it('writes the file and its truth, and reports on stderr', async () => {
    const out = join(dir, 'ok.ndjson');
    const code = await command.run(['--reads', '1000', '--seed', '5', '--out', out, '--tenants', 'pd-a,pd-b,pd-c', '--start=2026-01-05T00:00:00-08:00', '--days', '2']);
    expect(code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1000);
    const tenants = new Set(lines.map((l) => (JSON.parse(l) as { tenant: string }).tenant));
    expect([...tenants].sort()).toEqual(['pd-a', 'pd-b', 'pd-c']);
    expect((JSON.parse(lines[0]!) as { ts: string }).ts >= '2026-01-05T08:00:00.000Z').toBe(true);
    expect(JSON.parse(readFileSync(`${out}.truth.json`, 'utf8')).reads).toBe(1000);
    expect(stderr).toMatch(/wrote 1,000 reads/);
  });

  it.each([
    [[], /--reads is required/],
    [['--seed', '1', '--out', 'x'], /--reads is required/],
    [['--reads', '10', '--out', 'x'], /--seed is required/],
    [['--reads', '10', '--seed', '1'], /--out is required/],
    [['--reads', 'ten', '--seed', '1', '--out', 'x'], /: --reads must be a number/],
    [['--reads', '10', '--seed', 'x', '--out', 'x'], /: --seed must be a number/],
    [['--reads', '0', '--seed', '1', '--out', 'x'], /--reads must be an integer/],
    [['--reads', '1.5', '--seed', '1', '--out', 'x'], /--reads must be an integer/],
    [['--reads', '10', '--seed', '-1', '--out', 'x'], /--seed must be an integer/],
    [['--reads', '10', '--seed', '1', '--out', 'x', '--colour', 'red'], /unknown flag --colour/],
    [['--reads', '10', '--seed', '1', '--out', 'x', 'extra'], /unexpected argument "extra"/],
    [['--reads', '10', '--seed', '1', '--out'], /--out needs a value/],
    [['--reads', '10', '--reads', '11', '--seed', '1', '--out', 'x'], /--reads given twice/],
    [['--reads', '10', '--seed', '1', '--out', 'x', '--start', '2026-01-01T00:00:00'], /--start must be an ISO-8601 timestamp with a zone/],
    [['--reads', '10', '--seed', '1', '--out', 'x', '--days', '0'], /--days must be a number in \(0, 3660\]/],
    [['--reads', '10', '--seed', '1', '--out', 'x', '--tenants', 'PD A'], /--tenants: "PD A" is not a valid tenant name/],
    [['--reads', '10', '--seed', '1', '--out', 'x', '--tenants', 'a,a'], /--tenants must not repeat/],
    [['--reads', '10', '--seed', '1', '--out', 'x', '--confusable-rate', '2'], /--confusable-rate must be a number in \[0, 1\]/],
  ])('rejects %j with a clear message and exit code 2', async (args, message) => {
    const code = await command.run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('fails with exit code 1 on an unwritable path', async () => {
    const code = await command.run(['--reads', '10', '--seed', '1', '--out', join(dir, 'no-such-dir', 'x.ndjson')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot write .*no-such-dir.*ENOENT/);
  });

  it('has a full usage text naming every flag', () => {
    for (const flag of ['--reads', '--seed', '--out', '--tenants', '--start', '--days', '--vehicles', '--confusable-rate', '--indel-rate']) {
      expect(command.usage).toContain(flag);
    }
  });
});
