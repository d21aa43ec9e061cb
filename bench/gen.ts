/**
 * Throughput and memory of `platesearch gen`: the file writer, and the in-process generator alone.
 *
 *   npm run bench:gen -- [--reads 10000000] [--seed 1] [--runs 3] [--out /tmp/platesearch-bench-gen.ndjson]
 *       [--markdown bench/RESULTS.md] [--json bench/results/gen.json]
 *
 * Each case runs in a process of its own (this script again, with `--case`), so that its peak RSS
 * (getrusage maxrss) is its own: generating alone, writing the file `--runs` times with the encoding
 * thread (the default on two cores), and once on one thread, for comparison. Reported: wall time and
 * CPU time (user + system of the whole process; on a shared machine CPU time is the steadier figure),
 * reads/s on both, peak RSS, and the 1-minute load average when the case ended (other work on the
 * machine). `--markdown` rewrites the "## gen" section of that file, `--json` writes the figures.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sectionMarkers, writeResultsSection } from './results-section.js';
import { ReadGenerator, writeDataset } from '../src/gen/index.js';
import { groupDigits } from '../src/gen/progress.js';

type CaseName = 'generate' | 'two-threads' | 'one-thread';

interface Args {
  reads: number;
  seed: number;
  out: string;
  runs: number;
  markdown?: string;
  json?: string;
  /** Set in a child: run this one case and print its figures as JSON. */
  case?: CaseName;
}

/** What one case measured. */
interface CaseResult {
  case: CaseName;
  reads: number;
  wallS: number;
  cpuS: number;
  peakRssMB: number;
  /** 1-minute load average when the case ended. */
  load: number;
  bytes?: number;
  misreads?: number;
  vehicles: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reads: 10_000_000, seed: 1, out: '/tmp/platesearch-bench-gen.ndjson', runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === '--reads' || flag === '--seed' || flag === '--runs') args[flag.slice(2) as 'reads' | 'seed' | 'runs'] = Number(value);
    else if (flag === '--markdown') args.markdown = value;
    else if (flag === '--json') args.json = value;
    else if (flag === '--out') args.out = value;
    else if (flag === '--case' && (value === 'generate' || value === 'two-threads' || value === 'one-thread')) args.case = value;
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

async function runCase(args: Args, name: CaseName): Promise<CaseResult> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  let extra: Pick<CaseResult, 'bytes' | 'misreads' | 'vehicles'>;
  let reads: number;
  if (name === 'generate') {
    const gen = new ReadGenerator({ reads: args.reads, seed: args.seed });
    reads = 0;
    for (const chunk of gen.chunks()) reads += chunk.count;
    extra = { vehicles: gen.fleet.size };
  } else {
    const summary = await writeDataset({ reads: args.reads, seed: args.seed }, args.out, { progress: false, encoderThread: name === 'two-threads' });
    reads = summary.reads;
    extra = { bytes: statSync(args.out).size, misreads: summary.misreads.total, vehicles: summary.vehicles };
    rmSync(args.out, { force: true });
    rmSync(`${args.out}.truth.json`, { force: true });
  }
  const wallS = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    case: name, reads, wallS, cpuS: (used.user + used.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024, load: loadavg()[0]!, ...extra,
  };
}

/** Runs a case in a fresh process of this script. */
function childCase(args: Args, name: CaseName): CaseResult {
  const out = execFileSync(process.execPath, [
    fileURLToPath(import.meta.url), '--case', name, '--reads', String(args.reads), '--seed', String(args.seed), '--out', args.out,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out) as CaseResult;
}

const kHeader = [
  '| case | reads | wall s | cpu s | reads/s (wall) | reads/s (cpu) | peak RSS MB | load | notes |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
];

function row(r: CaseResult, label: string): string {
  const notes = r.bytes === undefined
    ? `${groupDigits(r.vehicles)} vehicles`
    : `${(r.bytes / 1e6).toFixed(0)} MB NDJSON, ${(r.bytes / r.wallS / 1e6).toFixed(0)} MB/s, ${groupDigits(r.misreads ?? 0)} misreads`;
  return `| ${label} | ${groupDigits(r.reads)} | ${r.wallS.toFixed(2)} | ${r.cpuS.toFixed(2)} | ${groupDigits(r.reads / r.wallS)} | ` +
    `${groupDigits(r.reads / r.cpuS)} | ${r.peakRssMB.toFixed(0)} | ${r.load.toFixed(2)} | ${notes} |`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.case) {
    process.stdout.write(JSON.stringify(await runCase(args, args.case)));
    return;
  }
  const started = new Date().toISOString();
  process.stdout.write(`node ${process.version}, ${started}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n\n${kHeader.join('\n')}\n`);
  const rows: string[] = [];
  const report = (r: CaseResult, label: string) => {
    rows.push(row(r, label));
    process.stdout.write(`${rows.at(-1)}\n`);
    return r;
  };
  const generate = report(childCase(args, 'generate'), `generate(reads=${args.reads}) in process, no output`);
  const twoThreads: CaseResult[] = [];
  for (let r = 1; r <= args.runs; r++) {
    twoThreads.push(report(childCase(args, 'two-threads'), `writeDataset(reads=${args.reads}), two threads, run ${r}`));
  }
  const oneThread = report(childCase(args, 'one-thread'), `writeDataset(reads=${args.reads}), one thread`);
  const rates = twoThreads.map((r) => r.reads / r.wallS);
  const summary = `two threads: best ${groupDigits(Math.max(...rates))} reads/s, median ${groupDigits(median(rates))} ` +
    `(${twoThreads.length} runs); one thread ${groupDigits(oneThread.reads / oneThread.wallS)}`;
  process.stdout.write(`\n${summary}\n`);
  const command = `npm run bench:gen -- ${process.argv.slice(2).join(' ')}`;
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}`;
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify({ machine, date: started, command, generate, twoThreads, oneThread }, null, 2)}\n`);
  }
  if (args.markdown) {
    const { begin, end } = sectionMarkers('gen');
    writeResultsSection(args.markdown, { begin, end }, [
      begin,
      '## gen',
      '',
      `- Machine: ${machine}; date ${started}`,
      `- Command: \`${command}\``,
      '- Issue 2 target: ≥ 1,000,000 reads/s written. Two threads: this one generates, an encoding thread turns column batches into',
      '  NDJSON and writes them (src/gen/ndjson-writer.ts); the bytes are the same as with one thread. Each case runs in its own',
      '  process: CPU time and peak RSS are that process\'s; `load` is the 1-minute load average as the case ended (the machine is shared).',
      `- Summary: ${summary}.`,
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
