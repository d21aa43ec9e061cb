/**
 * `npm run bench:peers`: our engine against the peers a police IT department would otherwise pick (DuckDB
 * always, PostgreSQL 15 with `--pg`), on the same generated reads, in the same run, with the same queries
 * (issue 3, "Benchmarks"). Checks that every system gives the same answer and exits 1 if any differs.
 *
 *   generate (src/gen) ─► engine.append per tenant in large batches, seal ─► spill file (rows + engine ids)
 *                                                                              ├─► DuckDB appender, CHECKPOINT
 *                                                                              └─► PostgreSQL COPY, indexes, VACUUM ANALYZE
 *   quiesce: PostgreSQL CHECKPOINT, sync, the kernel's dirty pages drained (bench/peers/quiesce.ts)
 *   query set (from a sample of the data) ─► each system: warm-up + median of --runs ─► compare ─► report
 *
 * One concept per file in bench/peers/: options, data sample, query set, SQL translation, each peer, the
 * PostgreSQL server's lifecycle, timing, memory, report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreEngine } from '../src/engine/store-engine.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { describeAnswer, differenceBetween, type Answer } from './peers/answer.js';
import { DataSample } from './peers/data-sample.js';
import { withHeavyPlates, type HeavyCounts } from './peers/heavy-plates.js';
import { DuckdbPeer } from './peers/duckdb-peer.js';
import { EnginePeer, loadEngine, type SourceRead } from './peers/engine-peer.js';
import { kUsage, parsePeersOptions, selectQueries, type PeersOptions } from './peers/options.js';
import { loadReport, type LoadReport, type Peer, type PeerName } from './peers/peer.js';
import { checkReusable, sampleRead, writeReuseOptions } from './peers/reuse.js';
import { PostgresPeer, sharedBuffersFor } from './peers/postgres-peer.js';
import { buildQuerySet } from './peers/query-set.js';
import { ReferenceSubject, type BenchSubject } from './peers/reference-subject.js';
import { machineDescription, queryRow, renderSection, writeJson, writeSection, type QueryRow, type RunInfo } from './peers/report.js';
import { SpillWriter } from './peers/spill.js';
import { timeRuns } from './peers/timing.js';
import { probe, probedQueries } from './peers/probe.js';
import { describeQuiesce, quiesce } from './peers/quiesce.js';
import { shardSlotsDropped } from '../src/store/shard-loader.js';

// Distinct vehicles per read: issue 3's data set has 2M vehicles in 20M reads.
const kReadsPerVehicle = 10;
/** --reuse: the pause between the plate dictionaries' install and the first timed query (ms). */
const kReuseQuietMs = 3000;

function log(message: string): void {
  process.stderr.write(`[bench:peers ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function loud(message: string): void {
  process.stderr.write(`\n!!!!!!!! ${message}\n\n`);
}

function fmt(x: number | null): string {
  return x === null ? '–' : `${x.toFixed(x < 10 ? 3 : 1)} ms`;
}

/** Indents a plan and cuts its long lines (a hot list's entries appear in it as one literal). */
function clip(plan: string): string {
  return plan.split('\n').map((l) => `    ${l.length > 240 ? l.slice(0, 240) + '…' : l}`).join('\n');
}

/** How each system was set up and asked, for the report (so the figures can be judged and reproduced). */
function methodNotes(o: PeersOptions, loads: readonly LoadReport[], quiet: string | undefined): string[] {
  const notes = [
    'Every load first, then one quiet state for every system before any is timed: PostgreSQL CHECKPOINTed (when ' +
      'run), `sync`, then a wait until the kernel\'s Dirty + Writeback pages are ≤ 64 MiB (bench/peers/quiesce.ts; ' +
      'until 2026-12-04 the queries began 2 s after PostgreSQL\'s load returned, its writes still dirty in the kernel, ' +
      'with our engine timed first in every row: issue 12). ' + (quiet ? `This run: ${quiet}.` : 'This run: skipped (--no-quiesce).'),
    `Ours: \`openEngine({threads: ${o.threads}})\`, reads appended per tenant in batches of ${o.batch.toLocaleString('en-US')}, ` +
      'then `seal()`, then the days sealed in pieces merged (`compact()`) and the tenant plate dictionaries built; ' +
      'queries through `search` / `searchHotlist` in process. Load time = time inside append + seal + that settling.',
    'DuckDB: native table in a database file, loaded with its parallel CSV reader from the same rows and ids, ' +
      `CHECKPOINTed; no indexes (row-group zone maps only); ${o.threads} threads; hot-list entries go in through ` +
      'the appender into a temp table, inside the timed query.',
    'SQL (both peers): one statement per search, `count(*) OVER ()` for `total`, `ORDER BY distance, ts DESC, id ' +
      'LIMIT n`; fuzzy = `length` window + a pigeonhole LIKE prefilter (k+1 pieces of the pattern; one survives ' +
      'k edits as prefix / infix / suffix, so no true match is dropped) + `levenshtein`; OCR = `translate` on both ' +
      'sides; hot lists = equi-join on plate (exact) or a symmetric-delete join over the distinct plates in scope, ' +
      'verified by `levenshtein` (fuzzy), with `row_number()` / `count(*)` windows per entry.',
  ];
  if (o.pg) {
    const pg = loads.find((l) => l.peer === 'postgres');
    notes.push(`PostgreSQL 15: initdb --locale=C -E UTF8 on a temp dir, 127.0.0.1; btree (plate), btree (ts), ` +
      `btree (tenant, ts), GIN (plate gin_trgm_ops); COPY, then the indexes, then VACUUM ANALYZE; shared_buffers ` +
      `${sharedBuffersFor(o.reads)}, work_mem 64MB, ${Math.max(0, o.threads - 1)} parallel worker(s) per query, ` +
      `random_page_cost 1.1, JIT off; fsync off (load only). levenshtein from fuzzystrmatch.` +
      (pg ? ` Heap ${(pg.details.heapBytes! / 1e6).toFixed(0)} MB + indexes ${(pg.details.indexBytes! / 1e6).toFixed(0)} MB.` : ''));
  }
  return notes;
}

/** A reused dir's load (--reuse): nothing loaded, the reads only sampled. */
function reusedLoad(peer: 'engine' | 'duckdb', reads: number, bytes: number): LoadReport {
  return loadReport(peer, reads, 0, bytes, 'reused (--reuse): not loaded in this run', { rssDeltaBytes: 0 });
}

/** Samples the generated reads as a load would (reuse.ts), loading none; the reads seen. */
function sampleOnly(reads: Iterable<SourceRead>, sample: DataSample): number {
  let n = 0;
  for (const g of reads) {
    sampleRead(g, sample);
    n++;
  }
  return n;
}

async function openSubject(o: PeersOptions, dataDir: string): Promise<BenchSubject> {
  if (o.subject === 'reference') return new ReferenceSubject();
  const engine = await StoreEngine.open({ dataDir, threads: o.threads });
  return Object.assign(engine, {
    async settle() {
      await engine.compact();
      await engine.plateIndexesSettled();
    },
    indexesSettled: () => engine.plateIndexesSettled(),
  });
}

async function run(o: PeersOptions, command: string): Promise<number> {
  const reuse = o.reuse;
  const work = reuse ?? mkdtempSync(join(tmpdir(), 'platesearch-bench-'));
  if (o.keep && !reuse) writeReuseOptions(work, o);
  const peers: Peer[] = [];
  const loads: LoadReport[] = [];
  const notes: string[] = [];
  let failed = false;
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  const keep = o.keep || reuse !== undefined;
  if (!keep) process.once('exit', removeWork); // also when interrupted
  log(`reads ${o.reads.toLocaleString('en-US')}, seed ${o.seed}, runs ${o.runs}, threads ${o.threads}, pg ${o.pg}; work dir ${work}`);
  try {
    // 1. Generate and load our engine; spill the stored rows (with the engine's ids) for the peers.
    const genOptions = {
      reads: o.reads, seed: o.seed, tenants: kDefaultTenants.slice(0, o.tenants), days: o.days,
      vehicles: Math.max(50, Math.round(o.reads / kReadsPerVehicle)),
    };
    const sample = new DataSample(o.seed, genOptions.vehicles);
    const spill = new SpillWriter(join(work, reuse ? 'reads.reuse.tsv' : 'reads.tsv'));
    const engineDir = join(work, 'engine');
    const subject = await openSubject(o, engineDir);
    const engine = new EnginePeer(subject);
    peers.push(engine);
    log(`loading ${o.subject} (batches of ${o.batch.toLocaleString('en-US')} per tenant)`);
    // issue 12's skew: a few plates of the busiest tenant read ≥ 10,000 times each (heavy-plates.ts)
    const heavy: HeavyCounts = new Map();
    const reads = withHeavyPlates(generateReads(genOptions), { reads: o.reads, seed: o.seed, tenant: genOptions.tenants[0]!, tenants: o.tenants }, heavy);
    const engineLoad = reuse ? reusedLoad('engine', sampleOnly(reads, sample), subject.stats().residentBytes)
      : await loadEngine(subject, engineDir, reads, sample, spill, {
        batch: o.batch, progress: (n) => log(`  ${(n / 1e6).toFixed(0)}M reads`),
      });
    if (reuse) spill.close();
    loads.push(engineLoad);
    log(`heavy plates: ${[...heavy].map(([p, n]) => `${p} ${n.toLocaleString('en-US')}`).join(', ')}`);
    log(`engine: ${(engineLoad.loadMs / 1000).toFixed(1)} s, ${engineLoad.bytesPerRead.toFixed(1)} B/read resident (${engineLoad.bytesWhat}); ` +
      `RSS +${(engineLoad.details.rssDeltaBytes! / engineLoad.reads).toFixed(1)} B/read`);

    const queries = selectQueries(buildQuerySet(sample, { seed: o.seed, hotlistExact: o.hotlistExact, hotlistFuzzy: o.hotlistFuzzy, heavy }), o.only);
    const probeAt = async (phase: string) => {
      if (!o.probe) return;
      for (const line of await probe(engine, probedQueries(queries))) log(`probe ${phase}: ${line}`);
    };
    await probeAt('after the engine load');

    // 2. DuckDB, then PostgreSQL, from the spill file.
    const duck = await DuckdbPeer.open(work, o.threads);
    peers.push(duck);
    log('loading DuckDB');
    const duckLoad = reuse ? reusedLoad('duckdb', engineLoad.reads, 0) : await duck.load(spill.path, spill.escaped);
    loads.push(duckLoad);
    log(`duckdb: ${(duckLoad.loadMs / 1000).toFixed(1)} s, ${duckLoad.bytesPerRead.toFixed(1)} B/read`);
    await probeAt('after the DuckDB load');
    let pgVersion: string | null = null;
    let pgPeer: PostgresPeer | undefined;
    if (o.pg) {
      log('starting PostgreSQL');
      pgPeer = await PostgresPeer.start(o.reads, o.threads);
      peers.push(pgPeer);
      pgVersion = await pgPeer.version();
      log('loading PostgreSQL (COPY, indexes, VACUUM ANALYZE)');
      const pgLoad = await pgPeer.load(spill.path);
      loads.push(pgLoad);
      log(`postgres: ${(pgLoad.loadMs / 1000).toFixed(1)} s, ${pgLoad.bytesPerRead.toFixed(1)} B/read`);
      await probeAt('after the PostgreSQL load');
    }
    if (!o.keep || reuse) rmSync(spill.path, { force: true });
    let quiet: string | undefined;
    if (o.quiesce) {
      log('quiesce: CHECKPOINT, sync, wait for the dirty pages to drain');
      const q = await quiesce({ checkpoint: async () => void (await pgPeer?.checkpoint()), afterStep: (st) => probeAt(`after ${st.step}`) });
      quiet = describeQuiesce(q);
      log(`quiesce: ${quiet}`);
    }
    notes.push(...methodNotes(o, loads, quiet));

    // 3. The queries. A reused dir's engine built its plate dictionaries at open, but installs them on this
    // thread, which the sample's regeneration kept busy: installed now, and a pause after, or the first rows
    // time the install and the core it keeps busy for ~0.2 s after (bench/RESULTS.md, peers-steady)
    if (reuse) {
      await subject.indexesSettled?.();
      await new Promise((r) => setTimeout(r, kReuseQuietMs));
    }
    if (o.only.length > 0) log(`--only ${o.only.join(',')}: ${queries.map((q) => q.name).join('; ')}`);
    const rows: QueryRow[] = [];
    for (const q of queries) {
      log(`${q.name}: ${q.describe}`);
      const ms: Partial<Record<PeerName, number | null>> = {};
      const answers: Partial<Record<PeerName, Answer>> = {};
      const problems: string[] = [];
      for (const p of peers) {
        try {
          const t = await timeRuns(o.runs, o.budgetMs, () => p.run(q), o.warmupMs);
          ms[p.name] = t.medianMs;
          answers[p.name] = t.result;
          const runs = t.runsMs.length < o.runs ? ` (${t.runsMs.length} of ${o.runs} runs: time budget)` : '';
          // the engine's runs each (a spike in one run shows here), and the slot leases taken meanwhile (a
          // covered shard's slots gathered back: only the tenant dictionary's rebuild leases since plate-ids5)
          const each = p.name === 'engine' ? ` [runs ${t.runsMs.map((x) => x.toFixed(2)).join(', ')}; CPU ${t.cpuMsPerRun.toFixed(3)} ms and ` +
            `${t.faultsPerRun.toFixed(1)} page faults a run; slot leases ${shardSlotsDropped.leases}]` : '';
          log(`  ${p.name.padEnd(8)} ${fmt(t.medianMs).padStart(12)}  ${describeAnswer(t.result)}${runs}${each}`);
          if (runs) notes.push(`${q.name}: ${p.name} timed ${t.runsMs.length} of ${o.runs} runs (--budget ${o.budgetMs / 1000} s); runs ${t.runsMs.map((x) => x.toFixed(0)).join(', ')} ms.`);
          if (o.explain && p.explain) log(`  ${p.name} plan:\n${clip(await p.explain(q))}`);
        } catch (err) {
          ms[p.name] = null;
          problems.push(`${p.name} failed: ${err instanceof Error ? err.message : String(err)}`);
          loud(`${q.name}: ${p.name} FAILED: ${err instanceof Error ? err.stack : String(err)}`);
        }
      }
      const ours = answers.engine;
      for (const p of peers) {
        if (p.name === 'engine') continue;
        const theirs = answers[p.name];
        if (!ours || !theirs) continue;
        const diff = differenceBetween(ours, theirs);
        if (diff) {
          problems.push(`engine vs ${p.name}: ${diff}`);
          loud(`ANSWERS DIFFER on "${q.name}" (${q.describe}): engine vs ${p.name}: ${diff}`);
        }
      }
      const equal = problems.length === 0;
      if (!equal) failed = true;
      const row = queryRow(q.name, q.describe, ms.engine ?? null, ms.duckdb ?? null, o.pg ? ms.postgres ?? null : null,
        equal, ours ? describeAnswer(ours) : '(no answer)', problems);
      rows.push(row);
      log(`  best peer ${fmt(row.bestPeerMs)}, ratio ${row.ratio === null ? '–' : row.ratio.toFixed(2)}, ${equal ? 'equal' : 'DIFFER'}`);
    }

    // the queries' own state (analytics' per-tenant structures, an idle release) moves the arena bytes after the
    // load's figure: both are reported
    engineLoad.details.residentAfterQueriesBytes = subject.stats().residentBytes;
    log(`engine: ${(engineLoad.details.residentAfterQueriesBytes / engineLoad.reads).toFixed(1)} B/read resident after the queries`);

    // 4. Publish.
    const info: RunInfo = {
      date: new Date().toISOString(), command, machine: machineDescription(), node: process.version,
      duckdb: await duck.version(), postgres: pgVersion, reads: engineLoad.reads,
      data: `src/gen seed ${o.seed}, ${o.tenants} tenants, ${genOptions.vehicles.toLocaleString('en-US')} vehicles, ` +
        `${o.days} days, the generator's default misread rates`,
      runs: o.runs, warmupMs: o.warmupMs, threads: o.threads, subject: o.subject,
    };
    if (o.out) {
      writeJson(o.out, rows, info, loads);
      log(`wrote ${o.out}`);
    }
    if (o.markdown) {
      writeSection(o.markdown, renderSection(rows, info, loads, notes));
      log(`wrote the peers section of ${o.markdown}`);
    }
    process.stdout.write(renderSection(rows, info, loads, notes) + '\n');
    if (failed) loud('SOME ANSWERS DIFFER OR A SYSTEM FAILED: see above');
    return failed ? 1 : 0;
  } finally {
    for (const p of peers.reverse()) await p.close().catch((err) => log(`closing ${p.name}: ${String(err)}`));
    if (!keep) {
      removeWork();
      process.removeListener('exit', removeWork);
    } else log(`kept ${work}`);
  }
}

async function main(argv: string[]): Promise<number> {
  let options: PeersOptions;
  try {
    options = parsePeersOptions(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(message === kUsage ? `${kUsage}\n` : `bench:peers: ${message}\n${kUsage}\n`);
    return message === kUsage ? 0 : 2;
  }
  // a dir --reuse cannot query is a bad option (exit 2, its reason), not a failed run
  if (options.reuse) {
    try {
      checkReusable(options.reuse, options);
    } catch (err) {
      process.stderr.write(`bench:peers: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  }
  // An interrupted run still stops PostgreSQL and deletes its files (postgres-server.ts listens to 'exit').
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  return run(options, `npm run bench:peers -- ${argv.join(' ')}`.trim());
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench:peers: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
