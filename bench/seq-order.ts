/**
 * Is a sealed shard's seq lane its row index? Counts, for shards loaded in time order, the blocks of kBlockRows rows
 * whose seqs are `base + (row − blockStart)` (what a width-0 "row-ordered" seq lane would need), in the shards'
 * order (src/store/shard-format.ts sortOrder: hour ‖ Z-order cell ‖ seq) and, for comparison, in (ts, seq) order;
 * and what (ts, seq) order would cost the scans' skipping: the share of runs (kBaseRows, the kernel's run extents)
 * and blocks (zone maps) a small box or a 1-hour window cannot skip.
 *
 *   node dist/bench/seq-order.js [--reads 2160000] [--days 3] [--vehicles 2000000] [--seed 1] [--scan N]
 *   node dist/bench/seq-order.js --data-dir D     the shards of a data dir as the engine loads them (after
 *                                                 `platesearch ingest`); shard order only
 *
 * Generated reads are cut into tenant-day shards with one seq counter a tenant (as the engine numbers them:
 * src/store/ids.ts, shard-lanes' `--tenant-seqs`); the defaults are shard-lanes' 20M-density projection.
 *
 * `--scan N`: both orders built as shard files (buildShard, the (ts, seq) one with its `rowOrder`), loaded as the
 * engine loads them, and the scan kernel run over each shard for the same queries (kScanQueries a shard, the
 * kinds above, filters compiled once, not timed), N passes alternating the two orders after an untimed one. Reports
 * process CPU time (user + system: the load of a shared box does not add to it) a query, and checks that both
 * orders count the same rows for every query.
 */
import { parseArgs } from 'node:util';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { buildShard, dayOf, rowRecordSource, sortOrder, type ShardSource } from '../src/store/shard-format.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { ArenaSet } from '../src/core/arena.js';
import { Kernels, type CompiledFilter } from '../src/core/kernels.js';
import type { ReadFilter } from '../src/model/query.js';
import { loadShardFiles, type ShardFile } from './shard-files.js';
import { kBlockRows } from '../src/core/segment.js';
import { kBaseRows } from '../src/core/base-lanes.js';
import { openEngine } from '../src/engine/index.js';
import type { LoadedShard } from '../src/store/shard-loader.js';

/** A shard's rows as the counts read them: seq, ts and position of row i in the order counted. */
interface Rows {
  n: number;
  seq(i: number): number;
  ts(i: number): number;
  latE7(i: number): number;
  lonE7(i: number): number;
}

interface SeqCounts {
  blocks: number;
  /** Blocks whose seqs are base + (row − blockStart). */
  rowOrdered: number;
  /** Shards whose every block is. */
  shardsRowOrdered: number;
  /** Shards whose seqs are one contiguous range / whose seq order is ts order (ts never falls as seq rises). */
  contiguous: number;
  seqOrderIsTsOrder: number;
  /** Rows whose ts equals the previous row's in seq order (a tie the rows' order must break by seq). */
  ties: number;
  /**
   * Rows in groups of equal ts whose row order is not their seq order: what deriving seq from the ts rank with
   * ties broken by row (docs/storage-v2.md, step 5f's (B)) would have to list as exceptions.
   */
  tiesOutOfOrder: number;
  /** Share of adjacent rows whose seqs differ by exactly 1. */
  steps: number;
  pairs: number;
  shards: number;
}

function countSeq(rows: Rows, c: SeqCounts): void {
  const n = rows.n;
  c.shards++;
  let all = true;
  for (let b = 0; b < n; b += kBlockRows) {
    c.blocks++;
    const s0 = rows.seq(b);
    let ok = true;
    for (let i = b + 1, end = Math.min(n, b + kBlockRows); i < end && ok; i++) ok = rows.seq(i) === s0 + (i - b);
    if (ok) c.rowOrdered++;
    else all = false;
  }
  if (all) c.shardsRowOrdered++;
  const bySeq = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows.seq(a) - rows.seq(b));
  let mono = true;
  for (let j = 1; j < n; j++) {
    const d = rows.ts(bySeq[j]!) - rows.ts(bySeq[j - 1]!);
    if (d < 0) mono = false;
    if (d === 0) c.ties++;
  }
  if (mono) c.seqOrderIsTsOrder++;
  const byTs = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const t = rows.ts(i);
    const g = byTs.get(t);
    if (g) g.push(i);
    else byTs.set(t, [i]);
  }
  for (const g of byTs.values()) if (g.some((r, j) => j > 0 && rows.seq(r) < rows.seq(g[j - 1]!))) c.tiesOutOfOrder += g.length;
  if (n > 0 && rows.seq(bySeq[n - 1]!) - rows.seq(bySeq[0]!) === n - 1) c.contiguous++;
  for (let i = 1; i < n; i++) if (rows.seq(i) === rows.seq(i - 1) + 1) c.steps++;
  c.pairs += Math.max(0, n - 1);
}

const newCounts = (): SeqCounts => ({ blocks: 0, rowOrdered: 0, shardsRowOrdered: 0, contiguous: 0, seqOrderIsTsOrder: 0, ties: 0, tiesOutOfOrder: 0, steps: 0, pairs: 0, shards: 0 });

function report(label: string, c: SeqCounts): string {
  return `${label}: seq = block base + row in ${c.rowOrdered} of ${c.blocks} blocks (every block in ${c.shardsRowOrdered} of ${c.shards} shards); `
    + `adjacent rows with seqs 1 apart ${((100 * c.steps) / Math.max(1, c.pairs)).toFixed(2)} %; seqs one contiguous range in ${c.contiguous} of ${c.shards} shards, `
    + `seq order = ts order in ${c.seqOrderIsTsOrder} of ${c.shards}; ts ties in seq order ${c.ties}, rows of equal ts not in seq order ${c.tiesOutOfOrder}`;
}

/** Extents of each run of `size` rows (lat/lon in 1e-7°, ts in ms). */
function extents(rows: Rows, size: number): Float64Array {
  const out = new Float64Array(Math.ceil(rows.n / size) * 6);
  for (let b = 0, k = 0; b < rows.n; b += size, k += 6) {
    out.set([Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity], k);
    for (let i = b, end = Math.min(rows.n, b + size); i < end; i++) {
      const lat = rows.latE7(i), lon = rows.lonE7(i), ts = rows.ts(i);
      out[k] = Math.min(out[k]!, lat); out[k + 1] = Math.max(out[k + 1]!, lat);
      out[k + 2] = Math.min(out[k + 2]!, lon); out[k + 3] = Math.max(out[k + 3]!, lon);
      out[k + 4] = Math.min(out[k + 4]!, ts); out[k + 5] = Math.max(out[k + 5]!, ts);
    }
  }
  return out;
}

// query kinds for the skipping count: [label, half box side in 1e-7° (0 = no box), half window in ms (0 = none)]
const kQueries: Array<[string, number, number]> = [['±0.005° box (~1.1 km a side)', 50_000, 0], ['±0.025° box (~5.5 km)', 250_000, 0], ['1 h window', 0, 1_800_000], ['±0.005° box + 1 h', 50_000, 1_800_000],
  // bench:peers' '2x2 km bbox, 1 day' (bench/peers/query-set.ts): ±1 km (0.009° of latitude) and ±12 h
  ['±0.009° box + ±12 h (bench:peers)', 90_000, 43_200_000]];
const kQueriesAShard = 200;

/** Sums, per query kind, the share of runs of `size` a query centred on a random row's place and time must read. */
function countSkips(rows: Rows, size: number, centres: number[], sums: number[]): void {
  const ex = extents(rows, size);
  const runs = ex.length / 6;
  for (const c of centres) {
    const lat = rows.latE7(c), lon = rows.lonE7(c), ts = rows.ts(c);
    kQueries.forEach(([, box, window], q) => {
      let read = 0;
      for (let k = 0; k < ex.length; k += 6) {
        const inBox = box === 0 || (ex[k + 1]! >= lat - box && ex[k]! <= lat + box && ex[k + 3]! >= lon - box && ex[k + 2]! <= lon + box);
        const inWindow = window === 0 || (ex[k + 5]! >= ts - window && ex[k + 4]! <= ts + window);
        if (inBox && inWindow) read++;
      }
      sums[q]! += read / runs;
    });
  }
}

const { values } = parseArgs({ options: { reads: { type: 'string' }, days: { type: 'string' }, vehicles: { type: 'string' }, seed: { type: 'string' }, 'data-dir': { type: 'string' }, scan: { type: 'string' } }, strict: true });

/** (ts, seq) order: a stable sort by ts of rows given in seq order. */
const tsSeqOrder = (src: ShardSource) => Uint32Array.from({ length: src.length }, (_, i) => i).sort((a, b) => src.ts(a) - src.ts(b) || a - b);

const kScanQueries = 50;

if (values['data-dir']) {
  const engine = await openEngine({ dataDir: values['data-dir'], threads: 0 });
  const stores = (engine as unknown as { stores: Map<string, { shards: readonly LoadedShard[] }> }).stores;
  const c = newCounts();
  let width = '';
  for (const { shards } of stores.values()) {
    for (const s of shards) {
      countSeq({ n: s.rows, seq: (i) => s.seqAt(i), ts: (i) => s.tsAt(i), latE7: (i) => s.latE7(i), lonE7: (i) => s.lonE7(i) }, c);
      width += `${s.layout.seqWidth ?? 8} `;
    }
  }
  process.stdout.write(`${report('loaded shards, shard order', c)}\nseq widths in memory: ${width.trim()}\n`);
  await engine.close();
} else {
  const reads = Number(values.reads ?? 2_160_000);
  const groups = new Map<string, RowRecord[]>();
  const seqs = new Map<string, number>();
  for (const r of generateReads({ reads, seed: Number(values.seed ?? 1), tenants: kDefaultTenants.slice(0, 3), days: Number(values.days ?? 3), vehicles: Number(values.vehicles ?? 2_000_000) })) {
    const seq = (seqs.get(r.tenant) ?? 0) + 1;
    seqs.set(r.tenant, seq);
    const x = r.read;
    const k = `${r.tenant}/${dayOf(x.ts)}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push({ seq, plate: x.plate, ts: x.ts, latE7: Math.round(x.lat * 1e7), lonE7: Math.round(x.lon * 1e7), camera: x.camera, region: x.region, confidence: x.confidence, make: x.make, color: x.color });
  }
  const orders = { 'shard order (hour ‖ cell ‖ seq)': newCounts(), '(ts, seq) order': newCounts() };
  const skips = new Map<string, number[]>();
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const g of groups.values()) {
    const shardOrder = sortOrder(rowRecordSource(g));
    const tsOrder = tsSeqOrder(rowRecordSource(g));
    const centres = Array.from({ length: kQueriesAShard }, () => Math.floor(random() * g.length));
    for (const [label, order] of [[Object.keys(orders)[0]!, shardOrder], [Object.keys(orders)[1]!, tsOrder]] as const) {
      const at = (i: number) => g[order[i]!]!;
      const rows: Rows = { n: g.length, seq: (i) => at(i).seq, ts: (i) => at(i).ts, latE7: (i) => at(i).latE7, lonE7: (i) => at(i).lonE7 };
      countSeq(rows, orders[label as keyof typeof orders]);
      // the centres are rows of the same set in either order: the same queries
      const inOrder = new Uint32Array(g.length);
      order.forEach((src, i) => (inOrder[src] = i));
      for (const size of [kBaseRows, kBlockRows]) {
        const key = `${label}, ${size}-row ${size === kBaseRows ? 'runs' : 'blocks'}`;
        const sums = skips.get(key) ?? kQueries.map(() => 0);
        countSkips(rows, size, centres.map((c) => inOrder[c]!), sums);
        skips.set(key, sums);
      }
    }
  }
  const out = [`${groups.size} shards, ${reads} reads (seq a tenant)`];
  for (const [label, c] of Object.entries(orders)) out.push(report(label, c));
  out.push('', `share of runs / blocks a query must read (mean of ${kQueriesAShard} a shard, centred on random rows' place and time)`, '',
    `| order, unit | ${kQueries.map(([l]) => l).join(' | ')} |`, `| --- | ${kQueries.map(() => '---:').join(' | ')} |`);
  for (const [key, sums] of skips) out.push(`| ${key} | ${sums.map((s) => `${((100 * s) / (kQueriesAShard * groups.size)).toFixed(1)} %`).join(' | ')} |`);
  process.stdout.write(out.join('\n') + '\n');
  if (values.scan) await scanOrders(groups, Number(values.scan));
}

/** See `--scan` above. */
async function scanOrders(groups: Map<string, RowRecord[]>, passes: number): Promise<void> {
  const arenas = new ArenaSet({ arenaBytes: 1024 * 1024 * 1024 });
  const sets: Record<'shard order' | '(ts, seq) order', ShardFile[]> = { 'shard order': [], '(ts, seq) order': [] };
  for (const [k, rows] of groups) {
    const day = Number(k.split('/')[1]);
    sets['shard order'].push({ name: `${k}/shard`, day, rows: rows.length, bytes: buildShard('t', 1, day, rows).bytes.slice() });
    sets['(ts, seq) order'].push({ name: `${k}/ts`, day, rows: rows.length, bytes: buildShard('t', 1, day, rows, tsSeqOrder).bytes.slice() });
  }
  // the same centres (rows of the source) for both orders
  let seed = 777;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const centres = [...groups.values()].map((g) => Array.from({ length: kScanQueries }, () => g[Math.floor(random() * g.length)]!));
  const kernels = new Map<number, Kernels>();
  const runs = new Map<string, Array<{ k: Kernels; s: LoadedShard; filters: CompiledFilter[][] }>>();
  for (const [label, files] of Object.entries(sets)) {
    const shards = await loadShardFiles(arenas, files);
    runs.set(label, shards.map((s, j) => {
      let k = kernels.get(s.layout.arena);
      if (!k) kernels.set(s.layout.arena, (k = Kernels.forArena(arenas.arena(s.layout.arena), undefined, 64 * 1024 * 1024)));
      const filters = kQueries.map(([, box, window]) => centres[j]!.map((c) => {
        const f: ReadFilter = {};
        if (box) f.bbox = [(c.lonE7 - box) / 1e7, (c.latE7 - box) / 1e7, (c.lonE7 + box) / 1e7, (c.latE7 + box) / 1e7];
        if (window) {
          f.from = c.ts - window;
          f.to = c.ts + window;
        }
        return k!.compileFilter(f, { cameras: s.cameras, regions: s.regions }, s.layout);
      }));
      return { k, s, filters };
    }));
  }
  const counts = new Map<string, number[][]>();
  for (const [label, list] of runs) counts.set(label, kQueries.map((_, q) => list.flatMap((r) => r.filters[q]!.map((f) => r.k.countSegment(r.s.layout, f, null)))));
  const [a, b] = [...counts.values()];
  const differ = a!.reduce((n, qs, q) => n + qs.filter((c, i) => c !== b![q]![i]).length, 0);
  const cpu = new Map<string, number[]>([...runs.keys()].map((l) => [l, kQueries.map(() => 0)]));
  const now = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (let p = 0; p < passes; p++) {
    for (const label of p % 2 === 0 ? [...runs.keys()] : [...runs.keys()].reverse()) {
      const list = runs.get(label)!;
      kQueries.forEach((_, q) => {
        const t0 = now();
        for (const r of list) for (const f of r.filters[q]!) r.k.countSegment(r.s.layout, f, null);
        cpu.get(label)![q]! += now() - t0;
      });
    }
  }
  const queries = kScanQueries * groups.size;
  const out = ['', `scan: ${queries} queries a kind (${kScanQueries} a shard), ${passes} passes; process CPU µs a query (rows counted a query); counts differing between the orders: ${differ}`, '',
    `| order | ${kQueries.map(([l]) => l).join(' | ')} |`, `| --- | ${kQueries.map(() => '---:').join(' | ')} |`];
  for (const [label, ms] of cpu) {
    const rows = counts.get(label)!;
    out.push(`| ${label} | ${ms.map((t, q) => `${((t * 1000) / passes / queries).toFixed(1)} (${Math.round(rows[q]!.reduce((x, y) => x + y, 0) / queries)})`).join(' | ')} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
}
