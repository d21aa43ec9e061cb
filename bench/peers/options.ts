/** The command line of `npm run bench:peers` (dist/bench/peers.js). */
import { parseArgs } from 'node:util';

export interface PeersOptions {
  reads: number;
  seed: number;
  pg: boolean;
  runs: number;
  /** Per query and system: fewer timed runs than `runs` when they would take longer than this, in ms. */
  budgetMs: number;
  /** Per query and system: the warm-up repeats the query until this many ms have passed (at least once). */
  warmupMs: number;
  threads: number;
  /** peers.json path, or undefined for "do not write". */
  out: string | undefined;
  /** RESULTS.md path whose peers section is rewritten, or undefined for "do not write". */
  markdown: string | undefined;
  /** Reads per append call. */
  batch: number;
  days: number;
  tenants: number;
  hotlistExact: number;
  hotlistFuzzy: number;
  subject: 'engine' | 'reference';
  keep: boolean;
  /** Print each SQL peer's executed plan after timing a query. */
  explain: boolean;
  /**
   * Only the queries whose row name contains one of these (case-insensitive), e.g. ["convoy", "cloned"]; empty:
   * every query. Data and loads are the same as a full run, so the rows are comparable with one.
   */
  only: string[];
  /** CHECKPOINT, sync and drain the kernel's dirty pages between the loads and the queries (quiesce.ts). */
  quiesce: boolean;
  /** Time the engine's small queries at each phase (probe.ts), to stderr. */
  probe: boolean;
  /** A `--keep` dir whose engine data and DuckDB database are queried again, their loads skipped (reuse.ts). */
  reuse: string | undefined;
}

export const kUsage = `usage: node dist/bench/peers.js [options]
  --reads N          reads to generate (default 20000000; CI smoke: 200000)
  --seed S           generator and query seed (default 1)
  --pg               also run PostgreSQL 15 (started here on a temp dir)
  --runs R           timed runs per query after the warm-up; the median is reported (default 5)
  --warmup MS        warm-up per query and system: the query repeated until MS ms have passed, at least
                     once (default 250; 0 = one run, as before 2026-12-03)
  --budget S         seconds of timed runs per query and system; fewer runs (at least 1) past it (default 60)
  --threads T        threads for the engine and DuckDB; PostgreSQL gets T-1 parallel workers (default 2)
  --out FILE         results JSON (default bench/results/peers.json; "-" to skip); load figures go
                     next to it as <name>-load.json
  --markdown FILE    rewrite the peers section of this file (default bench/RESULTS.md; "-" to skip)
  --batch N          reads per engine append (default 100000)
  --days D           days of data (default 28)
  --tenants N        tenants (default 3)
  --hotlist-exact N  entries of the exact hot list (default 100000)
  --hotlist-fuzzy N  entries of the fuzzy hot list (default 10000)
  --subject S        engine | reference (the reference semantics in memory, to check the harness; small runs)
  --keep             keep the temp dir (engine data, DuckDB file, spill file)
  --explain          print DuckDB's and PostgreSQL's executed plan of every query (to stderr)
  --only A,B,...     run only the queries whose row name contains one of these words (case-insensitive),
                     e.g. --only convoy,multi-site,frequent,cloned for the four analytics rows; the data
                     and the loads are those of a full run. Refused if a word matches no query.
                     With --only, --out and --markdown default to "-" (a partial run does not overwrite
                     the full run's results unless given a file).
  --no-quiesce       skip the quiet state between the loads and the queries (PostgreSQL CHECKPOINT, sync,
                     the kernel's dirty pages drained): the method before 2026-12-04, for comparison
  --probe            time our engine's exact-all-time, contains and busy-exact rows after each load and
                     each quiesce step (median of 31, CPU, faults; to stderr)
  --reuse DIR        query the engine data and DuckDB database a --keep run left in DIR, loads skipped
                     (the data sample regenerated from the seed); refused if DIR was made with other
                     --reads, --seed, --tenants or --days, and with --pg (PostgreSQL's data is not kept)
Exits 1 if any answer differs between the systems, 2 on bad options.`;

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got "${v}")`);
  return n;
}

function parseOnly(v: string | undefined): string[] {
  if (v === undefined) return [];
  const words = v.split(',').map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0);
  if (words.length === 0) throw new Error('--only needs one or more comma-separated words of query names');
  return words;
}

/**
 * The queries `only` selects (all when empty); throws naming a word that selects none, so a misspelt
 * `--only clone` is not a silent empty run.
 */
export function selectQueries<Q extends { name: string }>(queries: readonly Q[], only: readonly string[]): Q[] {
  if (only.length === 0) return [...queries];
  for (const w of only) {
    if (!queries.some((q) => q.name.toLowerCase().includes(w))) {
      throw new Error(`--only: "${w}" matches no query (names: ${queries.map((q) => q.name).join('; ')})`);
    }
  }
  return queries.filter((q) => only.some((w) => q.name.toLowerCase().includes(w)));
}

export function parsePeersOptions(argv: string[]): PeersOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      reads: { type: 'string' }, seed: { type: 'string' }, pg: { type: 'boolean' }, runs: { type: 'string' }, budget: { type: 'string' }, warmup: { type: 'string' },
      threads: { type: 'string' }, out: { type: 'string' }, markdown: { type: 'string' }, batch: { type: 'string' },
      days: { type: 'string' }, tenants: { type: 'string' }, 'hotlist-exact': { type: 'string' },
      'hotlist-fuzzy': { type: 'string' }, subject: { type: 'string' }, keep: { type: 'boolean' }, explain: { type: 'boolean' }, only: { type: 'string' },
      'no-quiesce': { type: 'boolean' }, probe: { type: 'boolean' }, reuse: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new Error(kUsage);
  const subject = values.subject ?? 'engine';
  if (subject !== 'engine' && subject !== 'reference') throw new Error('--subject must be "engine" or "reference"');
  const seed = Number(values.seed ?? '1');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer');
  const days = Number(values.days ?? '28');
  if (!Number.isFinite(days) || days <= 7) throw new Error('--days must be a number of days above 7 (the queries look back 7 days)');
  const only = parseOnly(values.only);
  if (values.reuse !== undefined && values.pg) throw new Error('--reuse with --pg: PostgreSQL\'s data is not kept in a --keep dir');
  // a partial run does not overwrite the full run's results unless asked to by name
  const path = (v: string | undefined, dflt: string) => (v === '-' ? undefined : v ?? (only.length > 0 ? undefined : dflt));
  return {
    reads: positiveInt('reads', values.reads, 20_000_000),
    seed,
    pg: values.pg ?? false,
    runs: positiveInt('runs', values.runs, 5),
    budgetMs: positiveInt('budget', values.budget, 60) * 1000,
    warmupMs: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 250),
    threads: positiveInt('threads', values.threads, 2),
    out: path(values.out, 'bench/results/peers.json'),
    markdown: path(values.markdown, 'bench/RESULTS.md'),
    batch: positiveInt('batch', values.batch, 100_000),
    days,
    tenants: positiveInt('tenants', values.tenants, 3),
    hotlistExact: positiveInt('hotlist-exact', values['hotlist-exact'], 100_000),
    hotlistFuzzy: positiveInt('hotlist-fuzzy', values['hotlist-fuzzy'], 10_000),
    subject,
    keep: values.keep ?? false,
    explain: values.explain ?? false,
    only,
    quiesce: !(values['no-quiesce'] ?? false),
    probe: values.probe ?? false,
    reuse: values.reuse,
  };
}
