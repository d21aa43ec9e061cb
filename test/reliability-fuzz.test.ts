/**
 * Hostile input, short run: fast-check cases over every route, method, header, content type and body
 * shape against a child server (test/helpers/http-fuzz.ts): no 5xx, no hang, no crash, coded error
 * bodies, memory bounded. Also `platesearch ingest` over random NDJSON and CSV files. The long run is
 * `node dist/bench/fuzz.js --cases 20000` (docs/RELIABILITY.md).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kCli, runCli } from './helpers/crash-loop.js';
import { runHttpFuzz } from './helpers/http-fuzz.js';
import { prepareTarget, type PreparedTarget } from './helpers/fuzz-target.js';

const kCases = Number(process.env.FUZZ_CASES ?? 1500);

describe.skipIf(!existsSync(kCli()))('HTTP fuzz', () => {
  let target: PreparedTarget;
  beforeAll(async () => {
    target = await prepareTarget();
  });
  afterAll(async () => {
    await target?.close();
  });

  it(`${kCases} random requests: no 5xx, no hang, no crash, every error coded, RSS bounded`, async () => {
    const rssBefore = target.rssBytes();
    const stats = await runHttpFuzz(target, kCases, Number(process.env.FUZZ_SEED ?? 6));
    const rssAfter = target.rssBytes();
    if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify({ ...stats, rssBefore, rssAfter }));
    expect(stats.failures).toEqual([]);
    expect(stats.fiveXx).toBe(0);
    expect(stats.hangs).toBe(0);
    expect(stats.badErrorBodies).toBe(0);
    expect(stats.cases).toBeGreaterThan(kCases * 0.9);
    // the cases reached the handlers, not only the 4xx gates
    expect(stats.byStatus['200'] ?? 0).toBeGreaterThan(kCases / 20);
    expect(target.alive()).toBe(true);
    expect(rssAfter).toBeLessThan(1.5 * 1024 ** 3);
    expect(rssAfter - rssBefore).toBeLessThan(400 * 1024 ** 2);
  }, 90_000);
});

/** A random ingest file: NDJSON or CSV, mostly plausible lines with junk mixed in. */
const lineArb = fc.oneof(
  fc.record({
    plate: fc.oneof(fc.stringMatching(/^[A-Za-z0-9 -]{0,12}$/), fc.string()), ts: fc.oneof(fc.date({ noInvalidDate: true, min: new Date('2020-01-01'), max: new Date('2030-01-01') }).map((d) => d.toISOString()), fc.string()),
    lat: fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.string()), lon: fc.double({ min: -200, max: 200, noNaN: true }),
    camera: fc.string({ maxLength: 70 }), region: fc.option(fc.string({ maxLength: 4 })), confidence: fc.option(fc.double({ noNaN: true })),
  }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 2 }),
);
const fileArb = fc.record({
  kind: fc.constantFrom('ndjson', 'csv'),
  lines: fc.array(lineArb, { maxLength: 40 }),
  junk: fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\uFEFF', '"unterminated,', ',,,,,', '\r\n', '{"plate":')), { maxLength: 5 }),
  bom: fc.boolean(),
});

function render(f: { kind: string; lines: unknown[]; junk: string[]; bom: boolean }): string {
  const rows = f.lines.map((l) => l as Record<string, unknown>);
  let text: string;
  if (f.kind === 'ndjson') {
    text = rows.map((r) => JSON.stringify(r)).join('\n');
  } else {
    const cols = ['plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence'];
    const cell = (v: unknown) => (v === undefined || v === null ? '' : /[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    text = [cols.join(','), ...rows.map((r) => (r && typeof r === 'object' ? cols.map((c) => cell((r as Record<string, unknown>)[c])).join(',') : String(r)))].join('\n');
  }
  for (const j of f.junk) {
    const at = text.indexOf('\n', Math.floor(text.length / 2));
    text = at < 0 ? text + '\n' + j : text.slice(0, at + 1) + j + '\n' + text.slice(at + 1);
  }
  return (f.bom ? '\uFEFF' : '') + text + '\n';
}

describe.skipIf(!existsSync(kCli()))('CLI ingest fuzz', () => {
  it('random NDJSON / CSV files: exit 0 with "accepted N rejected M", or a clean error; never a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'platesearch-clifuzz-'));
    const files = fc.sample(fileArb, { numRuns: Number(process.env.CLI_FUZZ_FILES ?? 12), seed: 42 });
    try {
      let accepted = 0;
      for (let i = 0; i < files.length; i++) {
        const file = join(dir, `in-${i}.${files[i]!.kind}`);
        await writeFile(file, render(files[i]!));
        const r = await runCli(['ingest', '--data-dir', join(dir, 'data'), '--tenant', 'pd-a', file]);
        expect(r.stderr, r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
        expect([0, 1], `${file}: ${r.stdout} ${r.stderr}`).toContain(r.code);
        if (r.code === 0) {
          const m = /accepted (\d+) rejected (\d+)/.exec(r.stdout);
          expect(m, r.stdout).not.toBeNull();
          accepted += Number(m![1]);
          expect(Number(m![1]) + Number(m![2])).toBeLessThanOrEqual(files[i]!.lines.length + files[i]!.junk.length + 2);
        }
      }
      // everything accepted is there, once
      const out = join(dir, 'export.ndjson');
      const ex = await runCli(['export', '--data-dir', join(dir, 'data'), '--tenant', 'pd-a', '--format', 'ndjson', '--out', out]);
      expect(ex.code, ex.stderr).toBe(0);
      const { readFile } = await import('node:fs/promises');
      const rows = (await readFile(out, 'utf8')).split('\n').filter((l) => l);
      expect(rows.length).toBe(accepted);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
