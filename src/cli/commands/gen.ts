/**
 * `platesearch gen`: writes a synthetic, realistic ALPR data set (NDJSON + truth file).
 * Flag parsing only; the generator lives in src/gen.
 */
import type { Command } from '../command.js';
import { parseStart, writeDataset, type GenOptions } from '../../gen/index.js';
import { groupDigits } from '../../gen/progress.js';

const kUsage = `usage: platesearch gen --reads N --seed S --out FILE [options]

Writes a synthetic, realistic licence-plate read data set as NDJSON (one read a line, with its
"tenant"), plus FILE.truth.json listing every injected OCR misread (line, plate as read, true
plate, kind) and every planted convoy, cloned plate and frequent visitor (with the lines of their
reads). Same seed and options, same bytes. Streams: memory does not grow with N.

required:
  --reads N                 number of reads (exactly N lines)
  --seed S                  integer seed, 0 to 2^53-1
  --out FILE                output file (FILE.truth.json is written next to it)

data set:
  --tenants A,B,C           tenants (agencies), largest first; sizes fall off as 1, 1/2, 1/3, ...
                            (default pd-metro,pd-east,pd-south,so-county)
  --start ISO               first instant, ISO-8601 with a zone (default 2026-11-02T08:00:00Z,
                            a Monday 00:00 in California)
  --days D                  length in days, fractions allowed (default 7)
  --utc-offset-minutes M    local time of the cameras, for the day/night and weekday cycle (default -480)
  --vehicles V              distinct vehicles (default N/8, between 50 and 500000)
  --fixed-cameras C         fixed cameras, clustered around the tenants' cities (default 400)
  --mobile-cameras C        patrol-car cameras driving loops through the cities (default 40)
  --jitter-m M              position jitter, sigma in metres, of fixed cameras (default 5)
  --mobile-jitter-m M       same for mobile cameras (default 15)

revisits:
  --commuter-share F        share of reads from commuters, seen twice a weekday on a fixed route (default 0.2)
  --frequent-share F        share of other vehicles seen hundreds of times, e.g. taxis (default 0.002)
  --frequent-read-share F   share of non-commuter reads that go to them (default 0.1)
  --regular-share F         share of other vehicles seen a dozen times (default 0.2)
  --regular-read-share F    share of non-commuter reads that go to them (default 0.4)
  --commute-skip-rate F     probability a commuter skips a weekday trip (default 0.08)
  --capture-rate F          probability a route camera captures a passing commuter (default 0.9)

plates:
  --vanity-share F          vanity plates, 2-7 characters (default 0.03)
  --out-of-state-share F    plates of other US states (default 0.1)
  --foreign-share F         foreign plates, up to 10 characters (default 0.02)

OCR misreads (per read):
  --confusable-rate F       look-alike substitution within API.md's OCR classes, 0/O/D/Q 1/I/L
                            2/Z 5/S 6/G 8/B U/V; 15% of them touch two characters (default 0.02)
  --other-substitution-rate F  look-alikes outside those classes: 7/T 4/A H/M/N E/F K/X 3/8 P/R C/G
                            (default 0.003)
  --indel-rate F            a dropped or an extra character (default 0.005)
  --transposition-rate F    two adjacent characters swapped (default 0.001)
  --label-rate F            reads with make and colour classified, by day (default 0.92)

planted patterns (for scoring the investigative analyses; default each: N/20000, at most 50):
  --convoys K               K followers, each behind one commuter on every commute of 5-10 days,
                            3-20 s behind it at each camera
  --cloned-plates K         K commuters' plates also on a second vehicle, driving 2-3 cameras in a
                            city >= 30 km away at the commuter's hours (+-20 min) on 3-6 days
  --frequent-visitors K     K vehicles read 1-3 times at one fixed camera on each of 4-8 days
  --incident-series K       K offenders, each passing the cameras of 3-4 incidents (on distinct days)
                            within 40 min of each, plus 2 decoys per series passing all but one

  --no-progress             no progress bar (it is drawn only when stderr is a terminal anyway)
  -h, --help                this text

example:
  platesearch gen --reads 1000000 --seed 1 --out reads.ndjson --tenants pd-a,pd-b --days 14
`;

type NumericKey = Exclude<keyof GenOptions, 'tenants'>;

/** Flags that take a number, mapped to their option. */
const kNumericFlags: Record<string, NumericKey> = {
  reads: 'reads',
  seed: 'seed',
  days: 'days',
  'utc-offset-minutes': 'utcOffsetMinutes',
  vehicles: 'vehicles',
  'fixed-cameras': 'fixedCameras',
  'mobile-cameras': 'mobileCameras',
  'jitter-m': 'jitterM',
  'mobile-jitter-m': 'mobileJitterM',
  'commuter-share': 'commuterShare',
  'frequent-share': 'frequentShare',
  'frequent-read-share': 'frequentReadShare',
  'regular-share': 'regularShare',
  'regular-read-share': 'regularReadShare',
  'commute-skip-rate': 'commuteSkipRate',
  'capture-rate': 'captureRate',
  'vanity-share': 'vanityShare',
  'out-of-state-share': 'outOfStateShare',
  'foreign-share': 'foreignShare',
  'confusable-rate': 'confusableRate',
  'other-substitution-rate': 'otherSubstitutionRate',
  'indel-rate': 'indelRate',
  'transposition-rate': 'transpositionRate',
  'label-rate': 'labelRate',
  convoys: 'convoys',
  'cloned-plates': 'clonedPlates',
  'frequent-visitors': 'frequentVisitors',
  'incident-series': 'incidentSeries',
};
// Numbers as plain decimals only: "1e6" or "0x10" would be accepted by Number() but surprise a reader.
const kNumber = /^-?(\d+(\.\d*)?|\.\d+)$/;

interface ParsedArgs {
  options: Partial<GenOptions> & { reads: number; seed: number };
  out: string;
  progress: boolean;
}

/** Parses `--flag value` and `--flag=value`; throws an Error naming the flag. */
export function parseGenArgs(args: readonly string[]): ParsedArgs {
  const options: Partial<GenOptions> = {};
  let out: string | undefined;
  let progress = true;
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}" (flags start with --)`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (name === 'no-progress') {
      if (eq >= 0) throw new Error('--no-progress takes no value');
      progress = false;
      continue;
    }
    if (name !== 'tenants' && name !== 'out' && name !== 'start' && !(name in kNumericFlags)) {
      throw new Error(`unknown flag --${name} (see platesearch gen --help)`);
    }
    if (seen.has(name)) throw new Error(`--${name} given twice`);
    seen.add(name);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('--') && !kNumber.test(next))) throw new Error(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (name === 'out') {
      if (value === '') throw new Error('--out needs a file name');
      out = value;
    } else if (name === 'tenants') {
      options.tenants = value.split(',').map((t) => t.trim());
    } else if (name === 'start') {
      options.start = parseStart(value);
    } else {
      if (!kNumber.test(value)) throw new Error(`--${name} must be a number (got "${value}")`);
      options[kNumericFlags[name]!] = Number(value);
    }
  }
  if (options.reads === undefined) throw new Error('--reads is required');
  if (options.seed === undefined) throw new Error('--seed is required');
  if (out === undefined) throw new Error('--out is required');
  return { options: options as ParsedArgs['options'], out, progress };
}

/** Maps an option name in a validation message back to its flag, so the user sees what they typed. */
function flagNames(message: string): string {
  let m = message;
  for (const [flag, key] of Object.entries(kNumericFlags)) m = m.replace(new RegExp(`(?<![-\\w])${key}\\b`, 'g'), `--${flag}`);
  return m.replace(/^tenants\b/, '--tenants').replace(/^start\b/, '--start').replace(/^days\b/, '--days');
}

export const command: Command = {
  summary: 'write a synthetic, realistic data set (NDJSON) and its OCR-error truth file',
  usage: kUsage,
  async run(args) {
    let parsed: ParsedArgs;
    try {
      parsed = parseGenArgs(args);
    } catch (err) {
      process.stderr.write(`platesearch gen: ${flagNames((err as Error).message)}\n`);
      return 2;
    }
    const started = performance.now();
    try {
      const summary = await writeDataset(parsed.options, parsed.out, { progress: parsed.progress });
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(
        `platesearch gen: wrote ${groupDigits(summary.reads)} reads (${groupDigits(summary.misreads.total)} misreads, ` +
          `${groupDigits(summary.vehicles)} vehicles; planted ${summary.planted.convoys} convoys, ${summary.planted.clonedPlates} cloned plates, ` +
          `${summary.planted.frequentVisitors} frequent visitors, ${summary.planted.incidentSeries} incident series) to ${parsed.out} in ${seconds.toFixed(1)} s, ` +
          `${groupDigits(summary.reads / Math.max(seconds, 1e-3))} reads/s\n`,
      );
      return 0;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== undefined && typeof e.syscall === 'string') {
        process.stderr.write(`platesearch gen: cannot write ${e.path ?? parsed.out}: ${e.code} (${e.message})\n`);
        return 1;
      }
      if (e instanceof Error && !('code' in e)) {
        // Option validation from resolveOptions names the field.
        process.stderr.write(`platesearch gen: ${flagNames(e.message)}\n`);
        return 2;
      }
      throw err;
    }
  },
};
