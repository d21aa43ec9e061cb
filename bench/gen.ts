/**
 * Throughput and memory of `platesearch gen`: the file writer, and the in-process generator alone.
 *
 *   npm run bench:gen -- [--reads 10000000] [--seed 1] [--out /tmp/platesearch-bench-gen.ndjson]
 *
 * Reports wall time and CPU time (user + system; on a shared machine CPU time is the steadier
 * figure), reads/s on both, and peak RSS of this process (getrusage maxrss). Run each mode in its
 * own process if you want the peak RSS of one alone: `--only write` or `--only generate`.
 */
import { statSync, rmSync } from 'node:fs';
import { ReadGenerator, writeDataset } from '../src/gen/index.js';
import { groupDigits } from '../src/gen/progress.js';

interface Args {
  reads: number;
  seed: number;
  out: string;
  only: 'write' | 'generate' | 'both';
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reads: 10_000_000, seed: 1, out: '/tmp/platesearch-bench-gen.ndjson', only: 'both', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === '--keep') { args.keep = true; continue; }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === '--reads' || flag === '--seed') args[flag.slice(2) as 'reads' | 'seed'] = Number(value);
    else if (flag === '--out') args.out = value;
    else if (flag === '--only' && (value === 'write' || value === 'generate')) args.only = value;
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function report(name: string, reads: number, wall: number, cpu: number, extra = ''): void {
  const rss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `| ${name} | ${groupDigits(reads)} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${groupDigits(reads / wall)} | ` +
      `${groupDigits(reads / cpu)} | ${rss.toFixed(0)} |${extra}\n`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.stdout.write(`node ${process.version}, ${new Date().toISOString()}\n\n`);
  process.stdout.write('| case | reads | wall s | cpu s | reads/s (wall) | reads/s (cpu) | peak RSS MB so far | notes |\n');
  process.stdout.write('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n');
  if (args.only !== 'write') {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const gen = new ReadGenerator({ reads: args.reads, seed: args.seed });
    let n = 0;
    for (const chunk of gen.chunks()) n += chunk.count;
    report(`generate(reads=${args.reads}) in process, no output`, n, (performance.now() - t) / 1000, cpuSeconds(cpu), ` ${groupDigits(gen.fleet.size)} vehicles |`);
  }
  if (args.only !== 'generate') {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const summary = await writeDataset({ reads: args.reads, seed: args.seed }, args.out, { progress: false });
    const wall = (performance.now() - t) / 1000;
    const bytes = statSync(args.out).size;
    report(`writeDataset(reads=${args.reads}) → ${args.out}`, summary.reads, wall, cpuSeconds(cpu),
      ` ${(bytes / 1e6).toFixed(0)} MB NDJSON, ${(bytes / wall / 1e6).toFixed(0)} MB/s, ${groupDigits(summary.misreads.total)} misreads |`);
    if (!args.keep) {
      rmSync(args.out, { force: true });
      rmSync(`${args.out}.truth.json`, { force: true });
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/gen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
