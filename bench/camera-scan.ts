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
 * With `--labels`, the filters name regions, makes and colors instead (the labels lane by runs,
 * src/core/label-lanes.ts): the most frequent region, make and color, a rarer one of each (rank 5), and a rare
 * (region, make, color) combination, each alone, with the window and with the box; `--labels-u16` loads the labels
 * lane as u16 triple ids (labelLimits.runs off: the form before runs) for a comparison in the same build.
 *
 *   node dist/bench/camera-scan.js [--reads 2000000] [--days 1] [--seed 1] [--scan 20] [--labels [--labels-u16]]
 */
import { parseArgs } from 'node:util';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { buildShard, dayOf } from '../src/store/shard-format.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { ArenaSet } from '../src/core/arena.js';
import { Kernels, type CompiledFilter } from '../src/core/kernels.js';
import type { ReadFilter } from '../src/model/query.js';
import { labelLimits } from '../src/store/shard-labels.js';
import { loadShardFiles, type ShardFile } from './shard-files.js';

const { values } = parseArgs({
  options: { reads: { type: 'string' }, seed: { type: 'string' }, days: { type: 'string' }, scan: { type: 'string' }, labels: { type: 'boolean' }, 'labels-u16': { type: 'boolean' } },
  strict: true,
});
if (values['labels-u16']) labelLimits.runs = false;
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
const byCount = (field: (r: RowRecord) => string | undefined) => {
  const counts = new Map<string, number>();
  for (const rows of groups.values()) for (const r of rows) {
    const v = field(r);
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
};
const ranked = byCount((r) => r.camera);
const rankedLabels = { regions: byCount((r) => r.region), makes: byCount((r) => r.make), colors: byCount((r) => r.color) };
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
const labelsForm = shards.map((s) => (s.layout.labelRuns ? `runs (${s.layout.labelShared} shared)` : s.layout.labels ? `u${8 * s.layout.labelsWidth!}` : 'three lanes')).join(', ');
const out = [`${shards.length} shards, ${rows} rows, ${ranked.length} cameras; camera lanes: ${cameraForm}; labels lanes: ${labelsForm}; loaded (loadShard, every re-encoding) in ${loadMs.toFixed(0)} ms of process CPU; ${passes} passes; process CPU ms a pass over all shards (ns a row)`, '',
  '| filter | matched rows | count | rows out |', '| --- | ---: | ---: | ---: |'];
// the filters' names and conditions: cameras (1, 8, 64 of them), or with --labels, regions / makes / colors
const rankOf = (list: string[], k: number) => list[Math.min(k, list.length - 1)]!;
const named: Array<[label: string, filter: ReadFilter]> = values.labels
  ? [
    [`region #0`, { regions: [rankOf(rankedLabels.regions, 0)] }],
    [`region #5`, { regions: [rankOf(rankedLabels.regions, 5)] }],
    [`make #0`, { makes: [rankOf(rankedLabels.makes, 0)] }],
    [`color #5`, { colors: [rankOf(rankedLabels.colors, 5)] }],
    [`region #1, make #5, color #5`, { regions: [rankOf(rankedLabels.regions, 1)], makes: [rankOf(rankedLabels.makes, 5)], colors: [rankOf(rankedLabels.colors, 5)] }],
  ]
  : [1, 8, 64].map((k): [string, ReadFilter] => [`${k} camera${k > 1 ? 's' : ''}`, { cameras: ranked.slice(Math.min(10, ranked.length - k), Math.min(10, ranked.length - k) + k) }]);
// the box: around the first read of the tenth camera by count (the one the 1-camera filter names)
const [lat, lon] = firstAt.get(ranked[Math.min(10, ranked.length - 1)]!)!;
for (const [name, condition] of named) {
  const filters: Array<[string, (day: number) => ReadFilter]> = [
    [name, () => condition],
    [`${name}, 6 h`, (day) => ({ ...condition, from: day * 86_400_000 + 12 * 3_600_000, to: day * 86_400_000 + 18 * 3_600_000 })],
    [`${name}, 6 h, 2 km box`, (day) => ({ ...condition, from: day * 86_400_000 + 12 * 3_600_000, to: day * 86_400_000 + 18 * 3_600_000, bbox: [lon - 0.012, lat - 0.009, lon + 0.012, lat + 0.009] })],
  ];
  for (const [label, filterOf] of filters) {
    const marks = [...kernels.values()].map((kn) => [kn, kn.scratch.mark()] as const);
    const runs = shards.map((s) => {
      const kn = kernels.get(s.layout.arena)!;
      const filter: CompiledFilter = kn.compileFilter(filterOf(s.meta.day), { cameras: s.cameras, regions: s.regions, ...s.attributes() }, s.layout);
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
