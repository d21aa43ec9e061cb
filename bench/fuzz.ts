/**
 * The long hostile-input run: `node dist/bench/fuzz.js --cases 20000 [--seed S] [--out FILE]` (build first).
 * fast-check cases over every route, method, header, content type and body shape against a child
 * `platesearch serve` (test/helpers/http-fuzz.ts); samples the child's RSS every 1000 cases. Exits 1 on
 * any 5xx, hang, uncoded error body or crash; prints the counterexample fast-check shrank to.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { newStats, runHttpFuzz } from '../test/helpers/http-fuzz.js';
import { prepareTarget } from '../test/helpers/fuzz-target.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '20000' }, seed: { type: 'string' }, out: { type: 'string' } } });
const total = Number(values.cases);
const seed = values.seed === undefined ? Date.now() & 0x7fffffff : Number(values.seed);
const target = await prepareTarget();
const started = Date.now();
const rss: Array<{ cases: number; rssMiB: number }> = [{ cases: 0, rssMiB: Math.round(target.rssBytes() / 2 ** 20) }];
const sum = newStats();
let counterexample: string | undefined;
// in slices of 1000 (one seed each, derived), so RSS can be sampled between them
for (let done = 0, slice = 0; done < total; slice++) {
  const n = Math.min(1000, total - done);
  const s = await runHttpFuzz(target, n, seed + slice);
  done += n;
  sum.cases += s.cases;
  sum.unsendable += s.unsendable;
  sum.fiveXx += s.fiveXx;
  sum.budgetCancelled += s.budgetCancelled;
  sum.hangs += s.hangs;
  sum.badErrorBodies += s.badErrorBodies;
  for (const [k, v] of Object.entries(s.byStatus)) sum.byStatus[k] = (sum.byStatus[k] ?? 0) + v;
  sum.failures.push(...s.failures.slice(0, 5));
  counterexample ??= s.counterexample;
  rss.push({ cases: done, rssMiB: Math.round(target.rssBytes() / 2 ** 20) });
  process.stdout.write(`${done}/${total} cases, 5xx ${sum.fiveXx}, hangs ${sum.hangs}, rss ${rss[rss.length - 1]!.rssMiB} MiB\n`);
  if (!target.alive()) break;
}
const alive = target.alive();
await target.close();
const out = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`, date: new Date().toISOString(),
  command: `node dist/bench/fuzz.js ${process.argv.slice(2).join(' ')}`.trim(), seed, elapsedMs: Date.now() - started,
  ...sum, serverAlive: alive, rss, counterexample,
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(out, null, 2)}\n`);
}
process.exit(sum.fiveXx + sum.hangs + sum.badErrorBodies + sum.failures.length === 0 && alive ? 0 : 1);
