/**
 * Our engine as a peer: bulk-loads the generated reads (per tenant, in large batches, then seal), spills
 * every stored read with the id the engine gave it for the other peers, and answers through the library
 * API (src/engine/engine.ts), as the server would.
 *
 * Load time is the time spent inside `append`, `seal` and `settle` (the days' pieces merged, the tenant plate
 * dictionaries built) only; generating the reads and writing the spill file are not the engine's work. Resident bytes are measured three ways (see memory.ts).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Read } from '../../src/model/read.js';
import { analyticsRow, type Answer, type AnalyticsAnswer } from './answer.js';
import type { AnalyticsResult } from '../../src/model/analytics.js';
import type { DataSample } from './data-sample.js';
import { difference, snapshot } from './memory.js';
import { loadReport, type LoadReport, type Peer } from './peer.js';
import type { BenchQuery } from './query-set.js';
import type { BenchSubject } from './reference-subject.js';
import type { SpillWriter } from './spill.js';
import { sampleRead } from './reuse.js';

/** One generated read as src/gen yields it (`generateReads`): the fields the harness uses. */
export interface SourceRead {
  tenant: string;
  read: Read;
  /** The generator's vehicle index (its true plate's id). */
  vehicle: number;
  /** Present when the plate is a misread. */
  misread?: unknown;
  /** A read relabelled to a heavy plate (heavy-plates.ts): counted by the sample, not sampled. */
  heavy?: boolean;
}

export interface EngineLoadOptions {
  batch: number;
  /** Called now and then with the reads loaded so far. */
  progress?: (reads: number) => void;
}

/** Bytes of the files under `dir`; a file removed meanwhile (background compaction) counts 0. */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += await stat(join(e.parentPath, e.name)).then((s) => s.size, () => 0);
  }
  return total;
}

export async function loadEngine(
  subject: BenchSubject, dataDir: string, reads: Iterable<SourceRead>, sample: DataSample, spill: SpillWriter,
  options: EngineLoadOptions,
): Promise<LoadReport> {
  const before = snapshot();
  const pending = new Map<string, Read[]>();
  let appendMs = 0;
  let loaded = 0;
  let nextProgress = 1_000_000;

  const flush = async (tenant: string, batch: Read[]) => {
    const t0 = performance.now();
    const { stored } = await subject.append(tenant, batch);
    appendMs += performance.now() - t0;
    if (stored.length !== batch.length) throw new Error(`engine stored ${stored.length} of ${batch.length} reads of ${tenant}`);
    spill.write(stored);
    loaded += stored.length;
    if (loaded >= nextProgress) {
      options.progress?.(loaded);
      nextProgress += 1_000_000;
    }
  };

  for (const g of reads) {
    sampleRead(g, sample);
    const read = g.read;
    let batch = pending.get(g.tenant);
    if (!batch) pending.set(g.tenant, (batch = []));
    batch.push(read);
    if (batch.length >= options.batch) {
      pending.set(g.tenant, []);
      await flush(g.tenant, batch);
    }
  }
  for (const [tenant, batch] of pending) if (batch.length > 0) await flush(tenant, batch);
  spill.close();

  const t0 = performance.now();
  await subject.seal();
  const sealMs = performance.now() - t0;
  const t1 = performance.now();
  await subject.settle?.();
  const settleMs = performance.now() - t1;
  const grown = difference(snapshot(), before);
  const stats = subject.stats();
  const disk = await directoryBytes(dataDir).catch(() => 0);
  return loadReport('engine', loaded, appendMs + sealMs + settleMs, stats.residentBytes,
    'engine.stats().residentBytes (arena bytes of shards and live segment)', {
      appendMs, sealMs, settleMs,
      rssDeltaBytes: grown.rss, heapUsedDeltaBytes: grown.heapUsed,
      externalDeltaBytes: grown.external, arrayBuffersDeltaBytes: grown.arrayBuffers,
      diskBytes: disk, shards: stats.shards, liveReads: stats.liveReads,
    });
}

export class EnginePeer implements Peer {
  readonly name = 'engine' as const;

  constructor(private readonly subject: BenchSubject) {}

  async run(q: BenchQuery): Promise<Answer> {
    if (q.kind === 'analytics') return engineAnalyticsAnswer(await this.subject.analytics([q.scope], q.query));
    if (q.kind === 'search') {
      const r = await this.subject.search([q.scope], q.query);
      return { kind: 'search', total: r.total, ids: r.hits.map((h) => h.id) };
    }
    const r = await this.subject.searchHotlist([q.scope], q.query);
    return {
      kind: 'hotlist',
      matches: r.matches.map((m) => ({ entry: m.entry, total: m.total, ids: m.hits.map((h) => h.id) })),
    };
  }

  async close(): Promise<void> {
    await this.subject.close();
  }
}

/** An analysis' result as the harness compares it (answer.ts). */
export function engineAnalyticsAnswer(r: AnalyticsResult): AnalyticsAnswer {
  const rows = (() => {
    switch (r.kind) {
      case 'convoy':
        return r.results.map((x) => analyticsRow([x.plate, x.cameras, x.together, x.first, x.last]));
      case 'multisite':
        return r.results.map((x) => analyticsRow([x.plate, x.sites, x.reads]));
      case 'frequent':
        return r.results.map((x) => analyticsRow([x.plate, x.reads, x.days, x.first, x.last]));
      case 'cloned':
        return r.results.map((x) => analyticsRow([x.plate, x.pairs, x.example[0].id, x.example[1].id, x.maxSpeedKmh]));
    }
  })();
  return { kind: 'analytics', total: r.total, rows };
}
