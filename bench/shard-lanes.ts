/**
 * Bytes per read of format 2 shards, lane by lane (src/store/shard-format.ts), for the bench:peers data:
 * the generated reads are cut into tenant-day shards as sealing cuts them and built with buildShard (no
 * engine, no encryption). A shard is loaded into the arena as it is, so this is also what it holds there.
 *
 *   node dist/bench/shard-lanes.js [--reads 1000000] [--seed 1] [--days 28] [--tenants 3] [--memory] [--tenant-seqs] [--three-lanes] [--scan 5]
 *
 * `--memory`: the lanes as the loader leaves them in the arena instead of the file's: region, make and color as
 * one labels lane with its triple table (src/store/shard-labels.ts; not with `--three-lanes`), a u16 camera lane as u8
 * entries of per-run tables (src/store/shard-cameras.ts), ts / lat / lon as u24
 * lanes where they fit, u32 postings and plate lanes as u24 (src/store/shard-u24.ts), seq as u16 or u24 from
 * block bases or u16 from time buckets (src/store/seq-blocks.ts); the
 * widths column then counts shards per width. Seqs are numbered with one counter over all tenants unless
 * `--tenant-seqs`, which numbers them per tenant as the engine does (a block's seq span is then that
 * tenant's appends over the hours the block covers, not every tenant's).
 *
 * The last lines say which label lanes are functions of others (what dropping them at load would need): the
 * shards where every camera sees one region (region as a function of camera: none in generated data, where
 * region is the plate's issuing state), and the most distinct (region, make, color) triples in a shard (one
 * u16 labels code would replace the three u8 lanes when they fit).
 *
 * `--scan N`: the shards loaded as the engine loads them (loadShard: the in-memory lanes above, own slots kept)
 * and the scan kernel run N times over every shard for the bench:peers plate patterns, each matched once per
 * shard (matchDictionary, not timed), after one untimed pass: the plate-only count (`dist[plate[r]]` per row) and a scan with a 6-hour
 * window a day that writes rows. Reports process CPU time (user + system) per pass over all shards and per row:
 * on a shared box CPU time, not wall time, is what compares (the load does not add to it).
 */
import { parseArgs } from 'node:util';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { buildShard, dayOf, ShardView } from '../src/store/shard-format.js';
import { buildShardV1 } from '../src/store/shard-format-v1.js';
import { compactSeqLane } from '../src/store/seq-blocks.js';
import { narrowU24Lanes } from '../src/store/shard-u24.js';
import { packLabelLanes } from '../src/store/shard-labels.js';
import { packCameraLane } from '../src/store/shard-cameras.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { ArenaSet } from '../src/core/arena.js';
import { Kernels } from '../src/core/kernels.js';
import type { PlateMatch } from '../src/model/query.js';
import type { LoadedShard } from '../src/store/shard-loader.js';
import { loadShardFiles, type ShardFile } from './shard-files.js';

const { values } = parseArgs({ options: { reads: { type: 'string' }, seed: { type: 'string' }, days: { type: 'string' }, tenants: { type: 'string' }, vehicles: { type: 'string' }, memory: { type: 'boolean' }, 'tenant-seqs': { type: 'boolean' }, 'three-lanes': { type: 'boolean' }, scan: { type: 'string' } }, strict: true });
const inMemory = values.memory ?? false;
const reads = Number(values.reads ?? 1_000_000);
const groups = new Map<string, RowRecord[]>();
let seq = 1;
const tenantSeqs = new Map<string, number>();
const nextSeq = (tenant: string) => {
  if (!values['tenant-seqs']) return seq++;
  const s = (tenantSeqs.get(tenant) ?? 0) + 1;
  tenantSeqs.set(tenant, s);
  return s;
};
for (const r of generateReads({ reads, seed: Number(values.seed ?? 1), tenants: kDefaultTenants.slice(0, Number(values.tenants ?? 3)), days: Number(values.days ?? 28), vehicles: Number(values.vehicles ?? Math.max(50, Math.round(reads / 10))) })) {
  const x = r.read;
  const row: RowRecord = { seq: nextSeq(r.tenant), plate: x.plate, ts: x.ts, latE7: Math.round(x.lat * 1e7), lonE7: Math.round(x.lon * 1e7), camera: x.camera };
  if (x.region !== undefined) row.region = x.region;
  if (x.confidence !== undefined) row.confidence = x.confidence;
  if (x.make !== undefined) row.make = x.make;
  if (x.color !== undefined) row.color = x.color;
  if (x.readId !== undefined) row.readId = x.readId;
  const k = `${r.tenant}/${dayOf(x.ts)}`;
  let g = groups.get(k);
  if (!g) groups.set(k, (g = []));
  g.push(row);
}
const by = new Map<string, { bytes: number; widths: Map<number, number> }>();
const files: ShardFile[] = [];
let total = 0, v1 = 0, n = 0;
let regionByCamera = 0, maxTriples = 0, maxRegionsOfCamera = 0;
for (const [k, rows] of groups) {
  const regionsOf = new Map<string, Set<string>>();
  const triples = new Set<string>();
  for (const r of rows) {
    let set = regionsOf.get(r.camera);
    if (!set) regionsOf.set(r.camera, (set = new Set()));
    set.add(r.region ?? '');
    triples.add(`${r.region ?? ''}\u0000${r.make ?? ''}\u0000${r.color ?? ''}`);
  }
  const most = Math.max(...[...regionsOf.values()].map((x) => x.size));
  if (most === 1) regionByCamera++;
  maxRegionsOfCamera = Math.max(maxRegionsOfCamera, most);
  maxTriples = Math.max(maxTriples, triples.size);
  const day = Number(k.split('/')[1]);
  const { bytes } = buildShard('t', 1, day, rows);
  if (values.scan) files.push({ name: k, bytes: bytes.slice(), rows: rows.length, day });
  v1 += buildShardV1('t', 1, day, rows).bytes.length;
  let view = new ShardView(k, bytes);
  if (inMemory) {
    const labels = values['three-lanes'] ? undefined : packLabelLanes(view);
    if (labels) view = new ShardView(k, bytes.subarray(0, labels.bytes), labels.header);
    const cameras = packCameraLane(view);
    if (cameras) view = new ShardView(k, bytes.subarray(0, cameras.bytes), cameras.header);
    const u24 = narrowU24Lanes(view);
    if (u24) view = new ShardView(k, bytes.subarray(0, u24.bytes), u24.header);
    const seq = compactSeqLane(view);
    if (seq) view = new ShardView(k, bytes.subarray(0, seq.bytes), seq.header);
  }
  total += view.bytes.length;
  n += rows.length;
  const h = view.header;
  const inMemoryLanes = { ...(h.bases ? { bases: h.bases } : {}), ...(h.seqBlocks ? { seqBlocks: h.seqBlocks } : {}) };
  for (const [name, l] of Object.entries({ ...h.lanes, ...inMemoryLanes })) {
    const e = by.get(name) ?? { bytes: 0, widths: new Map<number, number>() };
    e.bytes += l!.bytes;
    e.widths.set(l!.width, (e.widths.get(l!.width) ?? 0) + 1);
    by.set(name, e);
  }
}
const lanes = [...by.values()].reduce((a, e) => a + e.bytes, 0);
const out = [`${groups.size} shards, ${n} reads: format 2 ${inMemory ? 'in memory' : 'file'} ${(total / n).toFixed(2)} B/read; format 1 file ${(v1 / n).toFixed(2)} B/read (+ 16-byte slots built at load)`, '', '| lane | B/read | widths (shards) |', '| --- | ---: | --- |'];
for (const [name, e] of by) out.push(`| ${name} | ${(e.bytes / n).toFixed(2)} | ${[...e.widths].map(([w, c]) => `${w} (${c})`).join(', ')} |`);
out.push(`| header + alignment | ${((total - lanes) / n).toFixed(2)} | |`);
out.push('', `region a function of camera in ${regionByCamera} of ${groups.size} shards (a camera sees up to ${maxRegionsOfCamera} regions, none counted as one); at most ${maxTriples} distinct (region, make, color) in a shard`);
process.stdout.write(out.join('\n') + '\n');

if (values.scan) await scanShards(Number(values.scan));

/** See `--scan` above. */
async function scanShards(passes: number): Promise<void> {
  const arenas = new ArenaSet({ arenaBytes: 1024 * 1024 * 1024 });
  const shards = await loadShardFiles(arenas, files);
  const kernels = new Map<number, Kernels>();
  const kernelsOf = (s: LoadedShard) => {
    let k = kernels.get(s.layout.arena);
    if (!k) kernels.set(s.layout.arena, (k = Kernels.forArena(arenas.arena(s.layout.arena), undefined, 64 * 1024 * 1024)));
    return k;
  };
  const rows = shards.reduce((a, s) => a + s.rows, 0);
  const widths = new Map<number, number>();
  for (const s of shards) widths.set(s.layout.plateWidth ?? 4, (widths.get(s.layout.plateWidth ?? 4) ?? 0) + 1);
  const m = (pattern: string, mode: PlateMatch['mode'], maxEdits = 0, ocr = false): PlateMatch => ({ pattern, mode, maxEdits, ocr, transpositions: false });
  const patterns: Array<[string, PlateMatch]> = [
    ['fuzzy "3ABEX58" k=1', m('3ABEX58', 'fuzzy', 1)],
    ['fuzzy "3A8E55X" k=2 ocr', m('3A8E55X', 'fuzzy', 2, true)],
    ['wildcard "3AB?55*"', m('3AB?55*', 'wildcard')],
    ['wildcard "*BE55*"', m('*BE55*', 'wildcard')],
    ['wildcard "3*"', m('3*', 'wildcard')],
  ];
  const out = ['', `scan: ${shards.length} shards, ${rows} rows, plate widths ${[...widths].map(([w, c]) => `${w} (${c})`).join(', ')}; ${passes} passes; process CPU ms a pass over all shards (ns a row)`, '',
    '| pattern | matched rows | plate only, count | 6 h a day, rows out |', '| --- | ---: | ---: | ---: |'];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  shards.forEach(kernelsOf);
  for (const [label, match] of patterns) {
    const marks = [...kernels.values()].map((k) => [k, k.scratch.mark()] as const);
    // per shard: its distances (matched once, not timed), a 6-hour window of its day, an output for its rows
    const runs = shards.map((s) => {
      const k = kernelsOf(s);
      const dist = k.scratch.alloc(Math.max(16, s.layout.dictCount), 16);
      k.matchDictionary(s.layout, match, dist);
      const from = s.meta.day * 86_400_000 + 12 * 3_600_000;
      const filter = k.compileFilter({ from, to: from + 6 * 3_600_000 }, { cameras: s.cameras, regions: s.regions }, s.layout);
      return { s, k, dist, filter, output: k.allocOutput(s.rows) };
    });
    // one pass of each, not timed: the kernel's code tiered up, the lanes in cache as much as they will be
    for (const r of runs) r.k.scanSegment(r.s.layout, r.filter, r.dist, r.output);
    let matched = 0;
    for (const r of runs) matched += r.k.countSegment(r.s.layout, null, r.dist);
    const t0 = cpu();
    for (let p = 0; p < passes; p++) for (const r of runs) r.k.countSegment(r.s.layout, null, r.dist);
    const t1 = cpu();
    for (let p = 0; p < passes; p++) for (const r of runs) r.k.scanSegment(r.s.layout, r.filter, r.dist, r.output);
    const t2 = cpu();
    const fmt = (ms: number) => `${(ms / passes).toFixed(2)} (${((ms * 1e6) / passes / rows).toFixed(2)})`;
    out.push(`| ${label} | ${matched} | ${fmt(t1 - t0)} | ${fmt(t2 - t1)} |`);
    for (const [k, mark] of marks) k.scratch.release(mark);
  }
  process.stdout.write(out.join('\n') + '\n');
}
