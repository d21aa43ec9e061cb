/**
 * The published crash loop: `node dist/bench/crash-loop.js --cycles 100 [--seed S] [--seal-rows 120]
 * [--max-run-ms 1500] [--out bench/results/crash-loop.json]` (build first). Each cycle kills a child
 * `platesearch serve` with SIGKILL under load and checks everything after the restart
 * (test/helpers/crash-loop.ts). Prints one line per cycle and the report as JSON; exits 1 on any finding.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { runCrashLoop } from '../test/helpers/crash-loop.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100' },
    seed: { type: 'string' },
    'seal-rows': { type: 'string', default: '120' },
    'max-run-ms': { type: 'string', default: '1500' },
    'hotlist-filler': { type: 'string', default: '30000' },
    out: { type: 'string' },
  },
});

const report = await runCrashLoop({
  cycles: Number(values.cycles),
  seed: values.seed === undefined ? undefined : Number(values.seed),
  sealRows: Number(values['seal-rows']),
  maxRunMs: Number(values['max-run-ms']),
  hotlistFiller: Number(values['hotlist-filler']),
  log: (line) => process.stdout.write(`${line}\n`),
});
const out = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  date: new Date().toISOString(),
  command: `node dist/bench/crash-loop.js ${process.argv.slice(2).join(' ')}`.trim(),
  ...report,
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(out, null, 2)}\n`);
}
process.exit(report.failures.length === 0 ? 0 : 1);
