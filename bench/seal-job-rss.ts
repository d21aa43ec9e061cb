/**
 * One seal job alone (issue 11, bounded memory while sealing): a WAL of N generated reads of one tenant,
 * logged as the engine logs appends of 100,000 (one record per UTC day of a batch), sealed by a seal
 * worker built from a given dist (this branch's, or a base worktree's to compare), each run in a fresh
 * child process: its peak RSS (VmHWM: the worker's heap, buffers and the allocator's), process CPU and wall.
 *
 *   npm run build && node dist/bench/seal-job-rss.js [--reads 700000] [--runs 3] [--jobs 1] [--days 28] (days the reads span: 1 = one shard of every row, as a seal under HTTP ingest of live reads) [--base /work/wt/x-base/dist]
 *
 * With --base, runs alternate: this dist's worker, then the base's, and so on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { generateReads } from '../src/gen/index.js';
import { encodeReadsRecord, encodeRewriteRecord, type RowRecord } from '../src/store/wal-record.js';
import { frameRecord, kWalPlainVersion } from '../src/store/wal.js';
import { toE7 } from '../src/store/tenant-store.js';
import { dayOf } from '../src/store/shard-format.js';
import type { JobKey, SealJob } from '../src/store/seal-job.js';
import { arg, memoryMap, MiB, status } from './proc-memory.js';

const log = (s: string) => void process.stderr.write(`seal-job-rss ${new Date().toISOString().slice(11, 19)} ${s}\n`);

/** Writes a plaintext WAL file of `reads` reads of one tenant; the job that seals it. */
function writeWal(dir: string, reads: number, spanDays: number): SealJob {
  const records: Buffer[] = [];
  const days = new Set<number>();
  let seq = 1;
  let batch: RowRecord[] = [];
  const flush = () => {
    const byDay = new Map<number, RowRecord[]>();
    for (const r of batch) {
      const d = dayOf(r.ts);
      days.add(d);
      let list = byDay.get(d);
      if (!list) byDay.set(d, (list = []));
      list.push(r);
    }
    if (byDay.size === 1) records.push(frameRecord(encodeReadsRecord(batch[0]!.seq, batch)));
    else for (const rows of byDay.values()) records.push(frameRecord(encodeRewriteRecord(rows)));
    batch = [];
  };
  for (const g of generateReads({ reads, seed: 1, tenants: ['pd-metro'], days: spanDays, vehicles: Math.max(50, Math.round(reads / 8)) })) {
    const r = g.read;
    const row: RowRecord = { seq: seq++, plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera: r.camera };
    if (r.region !== undefined) row.region = r.region;
    if (r.confidence !== undefined) row.confidence = r.confidence;
    if (r.make !== undefined) row.make = r.make;
    if (r.color !== undefined) row.color = r.color;
    if (r.readId !== undefined) row.readId = r.readId;
    batch.push(row);
    if (batch.length === 100_000) flush();
  }
  if (batch.length > 0) flush();
  const file = join(dir, '0000000000000001.wal');
  writeFileSync(file, Buffer.concat([Buffer.from([0x50, 0x53, 0x57, 0x41, 0x4c, 0x00, kWalPlainVersion, 0x0a]), ...records]));
  const outKeys: Record<string, JobKey[]> = {};
  for (const d of days) outKeys[String(d)] = [{ kek: 'bench', wrapped: randomBytes(40).toString('base64'), key: randomBytes(32).toString('base64') }];
  return { walFiles: [file], walKeys: {}, outKeys, fromSeq: 1, toSeq: seq, shards: { kind: 'local', root: join(dir, 'shards') }, tenant: 'pd-metro', ordinal: 1, firstGen: 1 };
}

async function child(workerFile: string, job: SealJob): Promise<void> {
  // the engine's limits for its seal worker, as that dist sets them (none before it did)
  const host = (await import(join(dirname(workerFile), 'seal-worker-host.js'))) as { kSealWorkerLimits?: ResourceLimits };
  const before = status('VmRSS');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = new Worker(workerFile, host.kSealWorkerLimits ? { resourceLimits: host.kSealWorkerLimits } : undefined);
  // --jobs N: the same seal N times on one worker, as the engine's kept seal worker runs one job after another
  // (each into a shard root of its own); the figures cover all N
  const jobs = Number(arg('jobs') ?? 1);
  let answer: { ok: boolean; rows?: number; entries?: unknown[]; error?: string } = { ok: false };
  for (let j = 1; j <= jobs; j++) {
    const run = j === 1 ? job : { ...job, shards: { kind: 'local' as const, root: `${(job.shards as { root: string }).root}-${j}` } };
    answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ id: j, job: run });
    });
    if (!answer.ok) break;
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  await worker.terminate();
  if (!answer.ok) throw new Error(answer.error);
  // what the ended thread left resident in glibc's arenas (its malloc'd buffers, freed but kept by the allocator)
  const arenas = memoryMap().threadArenas;
  process.stdout.write(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, rows: answer.rows, shards: answer.entries!.length, before, peak: status('VmHWM'), arenas }) + '\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child(arg('worker')!, JSON.parse(readFileSync(arg('job')!, 'utf8')) as SealJob);
  const reads = Number(arg('reads') ?? 700_000);
  if (reads > 2_000_000) throw new Error('at most 2M reads on the shared machine');
  const runs = Number(arg('runs') ?? 3);
  const here = fileURLToPath(new URL('../src/store/seal-worker.js', import.meta.url));
  const base = arg('base');
  const dists: Array<[string, string]> = [['this', here]];
  if (base) dists.push(['base', join(base, 'src/store/seal-worker.js')]);
  const work = mkdtempSync(join(tmpdir(), 'platesearch-seal-rss-'));
  try {
    const job = writeWal(work, reads, Number(arg('days') ?? 28));
    log(`${reads} reads in one WAL file of ${(readFileSync(job.walFiles[0]!).length / MiB).toFixed(0)} MiB, ${Object.keys(job.outKeys).length} days`);
    for (let i = 0; i < runs; i++) {
      for (const [name, file] of dists) {
        const root = join(work, `shards-${name}-${i}`);
        const jobFile = join(work, 'job.json');
        writeFileSync(jobFile, JSON.stringify({ ...job, shards: { kind: 'local', root } }));
        const la = loadavg()[0]!;
        const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--worker', file, '--job', jobFile, '--jobs', arg('jobs') ?? '1'], { encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
        log(`${name} run ${i + 1}: ${r.rows} rows → ${r.shards} shards in ${r.ms!.toFixed(0)} ms wall, ${r.cpuMs!.toFixed(0)} ms CPU; ` +
          `RSS before ${(r.before! / MiB).toFixed(0)} MiB, peak ${(r.peak! / MiB).toFixed(0)} MiB, thread arenas after ${(r.arenas! / MiB).toFixed(1)} MiB; load average ${la.toFixed(1)}`);
        for (let j = 1; j <= Number(arg('jobs') ?? 1); j++) rmSync(j === 1 ? root : `${root}-${j}`, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
