/**
 * Throughput and memory of `platesearch gen`: the file writer, and the in-process generator alone.
 *
 *   npm run bench:gen -- [--reads 10000000] [--seed 1] [--runs 3] [--out /tmp/platesearch-bench-gen.ndjson]
 *       [--markdown bench/RESULTS.md]
 *
 * Reports wall time and CPU time (user + system; on a shared machine CPU time is the steadier
 * figure), reads/s on both, and peak RSS of this process (getrusage maxrss). Run each mode in its
 * own process if you want the peak RSS of one alone: `--only write` or `--only generate`.
 * The file is written `--runs` times with the encoding thread (the default on two cores) and once on
 * one thread, for comparison; `--markdown` rewrites the "## gen" section of that file with the table.
 */
import { statSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { sectionMarkers, writeResultsSection } from './results-section.js';
import { ReadGenerator, writeDataset } from '../src/gen/index.js';
import { groupDigits } from '../src/gen/progress.js';

interface Args {
  reads: number;
  seed: number;
  out: string;
  only: 'write' | 'generate' | 'both';
  keep: boolean;
  runs: number;
  markdown?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reads: 10_000_000, seed: 1, out: '/tmp/platesearch-bench-gen.ndjson', only: 'both', keep: false, runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === '--keep') { args.keep = true; continue; }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === '--reads' || flag === '--seed' || flag === '--runs') args[flag.slice(2) as 'reads' | 'seed' | 'runs'] = Number(value);
    else if (flag === '--markdown') args.markdown = value;
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

const rows: string[] = [];

function report(name: string, reads: number, wall: number, cpu: number, extra = ''): void {
  const rss = process.resourceUsage().maxRSS / 1024;
  const row = `| ${name} | ${groupDigits(reads)} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${groupDigits(reads / wall)} | ` +
    `${groupDigits(reads / cpu)} | ${rss.toFixed(0)} |${extra}`;
  rows.push(row);
  process.stdout.write(`${row}\n`);
}

const kHeader = [
  '| case | reads | wall s | cpu s | reads/s (wall) | reads/s (cpu) | peak RSS MB so far | notes |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
];

async function writeOnce(args: Args, encoderThread: boolean, label: string): Promise<void> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const summary = await writeDataset({ reads: args.reads, seed: args.seed }, args.out, { progress: false, encoderThread });
  const wall = (performance.now() - t) / 1000;
  const bytes = statSync(args.out).size;
  report(`${label} → ${args.out}`, summary.reads, wall, cpuSeconds(cpu),
    ` ${(bytes / 1e6).toFixed(0)} MB NDJSON, ${(bytes / wall / 1e6).toFixed(0)} MB/s, ${groupDigits(summary.misreads.total)} misreads |`);
  if (!args.keep) {
    rmSync(args.out, { force: true });
    rmSync(`${args.out}.truth.json`, { force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date().toISOString();
  process.stdout.write(`node ${process.version}, ${started}\n\n${kHeader.join('\n')}\n`);
  if (args.only !== 'write') {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const gen = new ReadGenerator({ reads: args.reads, seed: args.seed });
    let n = 0;
    for (const chunk of gen.chunks()) n += chunk.count;
    report(`generate(reads=${args.reads}) in process, no output`, n, (performance.now() - t) / 1000, cpuSeconds(cpu), ` ${groupDigits(gen.fleet.size)} vehicles |`);
  }
  if (args.only !== 'generate') {
    for (let r = 1; r <= args.runs; r++) await writeOnce(args, true, `writeDataset(reads=${args.reads}), two threads, run ${r}`);
    await writeOnce(args, false, `writeDataset(reads=${args.reads}), one thread`);
  }
  if (args.markdown) {
    const { begin, end } = sectionMarkers('gen');
    writeResultsSection(args.markdown, { begin, end }, [
      begin,
      '## gen',
      '',
      `- Machine: ${cpus()[0]?.model.trim() ?? '?'}, ${cpus().length} cores; Node ${process.version}; date ${started}`,
      `- Command: \`npm run bench:gen -- ${process.argv.slice(2).join(' ')}\``,
      '- Issue 2 target: ≥ 1,000,000 reads/s written. Two threads: this one generates, an encoding thread turns column batches into',
      '  NDJSON and writes them (src/gen/ndjson-writer.ts); the bytes are the same as with one thread. CPU time is of the whole process.',
      '',
      ...kHeader,
      ...rows,
      '',
      end,
    ].join('\n'));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/gen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
