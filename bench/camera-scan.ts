/**
 * The scan kernel over camera filters (issue 11: the camera lane by runs, src/core/camera-lane.ts, must not make a
 * camera-filtered scan slower). Generated reads of one tenant are cut into tenant-day shards (per-tenant seqs, as
 * the engine numbers them), built with buildShard and loaded as the engine loads them (loadShard: every in-memory
 * re-encoding of the build this runs from), then each filter is scanned N times over every shard after one untimed
 * pass: cameras alone (the kernel's label scan), with a 6-hour window a day (its row loop), and with the window and
 * a ~2 km box; counted, and with rows out. The cameras are the shard's by frequency rank (1 camera, 8, 64), so the
 * same names from any build. Reports process CPU time (user + system) per pass and the matched rows (which must
 * agree between builds): on a shared box CPU time, not wall time, is what compares.
 *
 *   node dist/bench/camera-scan.js [--reads 2000000] [--days 1] [--seed 1] [--scan 20]
 */
import { parseArgs } from 'node:util';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { buildShard, dayOf } from '../src/store/shard-format.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { ArenaSet } from '../src/core/arena.js';
import { Kernels, type CompiledFilter } from '../src/core/kernels.js';
import type { ReadFilter } from '../src/model/query.js';
import { loadShardFiles, type ShardFile } from './shard-files.js';

const { values } = parseArgs({ options: { reads: { type: 'string' }, seed: { type: 'string' }, days: { type: 'string' }, scan: { type: 'string' } }, strict: true });
const reads = Number(values.reads ?? 2_000_000);
const passes = Number(values.scan ?? 20);
const groups = new Map<number, RowRecord[]>();
let seq = 0;
for (const r of generateReads({ reads, seed: Number(values.seed ?? 1), tenants: kDefaultTenants.slice(0, 1), days: Number(values.days ?? 1), vehicles: Math.round(reads / 10) })) {
  const x = r.read;
  const row: RowRecord = { seq: ++seq, plate: x.plate, ts: x.ts, latE7: Math.round(x.lat * 1e7), lonE7: Math.round(x.lon * 1e7), camera: x.camera };
  if (x.region !== undefined) row.region = x.region;
  if (x.confidence !== undefined) row.confidence = x.confidence;
  if (x.make !== undefined) row.make = x.make;
  if (x.color !== undefined) row.color = x.color;
  const day = dayOf(x.ts);
  let g = groups.get(day);
  if (!g) groups.set(day, (g = []));
  g.push(row);
}
// the cameras by how many reads each has over all days (ties by name): the filters' names
const counts = new Map<string, number>();
for (const rows of groups.values()) for (const r of rows) counts.set(r.camera, (counts.get(r.camera) ?? 0) + 1);
const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
// where each camera's first read of the first day is (the boxes' centres)
const firstAt = new Map<string, [lat: number, lon: number]>();
for (const r of groups.values().next().value ?? []) if (!firstAt.has(r.camera)) firstAt.set(r.camera, [r.latE7 / 1e7, r.lonE7 / 1e7]);
const files: ShardFile[] = [];
for (const [day, rows] of groups) {
  const { bytes } = buildShard('t', 1, day, rows);
  files.push({ name: `t/${day}`, bytes: bytes.slice(), rows: rows.length, day });
}
groups.clear();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const arenas = new ArenaSet({ arenaBytes: 1024 * 1024 * 1024 });
const loadStart = cpu();
const shards = await loadShardFiles(arenas, files);
const loadMs = cpu() - loadStart;
const rows = shards.reduce((a, s) => a + s.rows, 0);
const kernels = new Map<number, Kernels>();
for (const s of shards) if (!kernels.has(s.layout.arena)) kernels.set(s.layout.arena, Kernels.forArena(arenas.arena(s.layout.arena), undefined, 64 * 1024 * 1024));
const cameraForm = shards.map((s) => (s.layout.cameraRuns ? 'runs' : `u${8 * (s.layout.cameraWidth ?? 4)}`)).join(', ');
const out = [`${shards.length} shards, ${rows} rows, ${counts.size} cameras; camera lanes: ${cameraForm}; loaded (loadShard, every re-encoding) in ${loadMs.toFixed(0)} ms of process CPU; ${passes} passes; process CPU ms a pass over all shards (ns a row)`, '',
  '| filter | matched rows | count | rows out |', '| --- | ---: | ---: | ---: |'];
for (const k of [1, 8, 64]) {
  const cameras = ranked.slice(Math.min(10, ranked.length - k), Math.min(10, ranked.length - k) + k);
  // the box around the first camera's first read
  const [lat, lon] = firstAt.get(cameras[0]!)!;
  const filters: Array<[string, (day: number) => ReadFilter]> = [
    [`${k} camera${k > 1 ? 's' : ''}`, () => ({ cameras })],
    [`${k} camera${k > 1 ? 's' : ''}, 6 h`, (day) => ({ cameras, from: day * 86_400_000 + 12 * 3_600_000, to: day * 86_400_000 + 18 * 3_600_000 })],
    [`${k} camera${k > 1 ? 's' : ''}, 6 h, 2 km box`, (day) => ({ cameras, from: day * 86_400_000 + 12 * 3_600_000, to: day * 86_400_000 + 18 * 3_600_000, bbox: [lon - 0.012, lat - 0.009, lon + 0.012, lat + 0.009] })],
  ];
  for (const [label, filterOf] of filters) {
    const marks = [...kernels.values()].map((kn) => [kn, kn.scratch.mark()] as const);
    const runs = shards.map((s) => {
      const kn = kernels.get(s.layout.arena)!;
      const filter: CompiledFilter = kn.compileFilter(filterOf(s.meta.day), { cameras: s.cameras, regions: s.regions }, s.layout);
      return { s, kn, filter, output: kn.allocOutput(s.rows) };
    });
    let matched = 0;
    for (const r of runs) matched += r.kn.scanSegment(r.s.layout, r.filter, null, r.output);
    const t0 = cpu();
    for (let p = 0; p < passes; p++) for (const r of runs) r.kn.countSegment(r.s.layout, r.filter, null);
    const t1 = cpu();
    for (let p = 0; p < passes; p++) for (const r of runs) r.kn.scanSegment(r.s.layout, r.filter, null, r.output);
    const t2 = cpu();
    const fmt = (ms: number) => `${(ms / passes).toFixed(3)} (${((ms * 1e6) / passes / rows).toFixed(3)})`;
    out.push(`| ${label} | ${matched} | ${fmt(t1 - t0)} | ${fmt(t2 - t1)} |`);
    for (const [kn, mark] of marks) kn.scratch.release(mark);
  }
}
process.stdout.write(out.join('\n') + '\n');
