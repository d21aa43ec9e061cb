/**
 * What shards' plate lanes as ids into their tenant's sorted plate dictionary would cost and save
 * (docs/storage-v2.md, "Round 4: plates as tenant ids"), on the bench:peers data cut into tenant-day shards
 * as sealing cuts them (buildShard, no engine): the bytes of the plate lane and the per-shard slots today
 * against a u24 lane of tenant ids; the CPU of mapping every shard into its tenant's dictionary when a data
 * dir opens (src/store/plate-id-map.ts: the tenant dictionary merged with each shard's ids, mergeWithIds,
 * against searching each shard's plates in the built dictionary, idsIn; then remapCodes); and, for a seal that brings a new day, the
 * CPU of following the dictionary's growth (old ids → new ids over every earlier shard's lane). Every
 * mapped row is checked to name its own plate.
 *
 * For a 20M-read tenant-day shard (~240k rows) without 20M reads: 3 days of a 2M-vehicle fleet,
 *   node dist/bench/plate-ids.js --reads 2160000 --days 3 --vehicles 2000000
 */
import { parseArgs } from 'node:util';
import { kPlateSlotBytes } from '../src/core/segment.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { buildShard, dayOf, ShardView } from '../src/store/shard-format.js';
import { idsIn, mergeWithIds, remapCodes, slotWords } from '../src/store/plate-id-map.js';
import type { RowRecord } from '../src/store/wal-record.js';

const { values } = parseArgs({
  options: { reads: { type: 'string' }, seed: { type: 'string' }, days: { type: 'string' }, tenants: { type: 'string' }, vehicles: { type: 'string' } },
  strict: true,
});
const reads = Number(values.reads ?? 1_000_000);
const days = Number(values.days ?? 28);
const groups = new Map<string, RowRecord[]>();
let seq = 1;
for (const r of generateReads({ reads, seed: Number(values.seed ?? 1), tenants: kDefaultTenants.slice(0, Number(values.tenants ?? 3)), days, vehicles: Number(values.vehicles ?? Math.max(50, Math.round(reads / 10))) })) {
  const x = r.read;
  const k = `${r.tenant}/${dayOf(x.ts)}`;
  let g = groups.get(k);
  if (!g) groups.set(k, (g = []));
  g.push({ seq: seq++, plate: x.plate, ts: x.ts, latE7: Math.round(x.lat * 1e7), lonE7: Math.round(x.lon * 1e7), camera: x.camera });
}

interface Shard {
  day: number;
  view: ShardView;
  plates: string[];
}
const tenants = new Map<string, Shard[]>();
for (const [k, rows] of groups) {
  const [tenant, d] = k.split('/') as [string, string];
  const view = new ShardView(k, buildShard(tenant, 1, Number(d), rows).bytes);
  let list = tenants.get(tenant);
  if (!list) tenants.set(tenant, (list = []));
  list.push({ day: Number(d), view, plates: view.plates() });
}
groups.clear();

/** A sorted, duplicate-free dictionary of 16-byte slots (as words) from plate strings. */
function dictionary(plates: Iterable<string>): { words: Uint32Array; plates: string[] } {
  const sorted = [...new Set(plates)].sort();
  const bytes = new Uint8Array(sorted.length * kPlateSlotBytes);
  sorted.forEach((p, d) => {
    for (let j = 0; j < p.length; j++) bytes[d * kPlateSlotBytes + j] = p.charCodeAt(j);
    bytes[d * kPlateSlotBytes + 15] = p.length;
  });
  return { words: slotWords(bytes, sorted.length), plates: sorted };
}

/** CPU ms of this process (user + system): steadier than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const shardWords = (s: Shard) => new Uint32Array(s.view.bytes.buffer, s.view.ptr('slots'), s.view.header.meta.dictCount * 4);

let rows = 0, laneBytes = 0, slotBytes = 0, tenantPlates = 0, biggestShard = 0;
let mergeMs = 0, searchMs = 0, rewriteMs = 0, growMapMs = 0, growRemapMs = 0, grownRows = 0, grownPlates = 0, openPlates = 0;
for (const [tenant, shards] of tenants) {
  shards.sort((a, b) => a.day - b.day);
  const all = dictionary(shards.flatMap((s) => s.plates));
  tenantPlates += all.plates.length;
  // at open, one way: the tenant dictionary merged from the shards' slots, every shard's ids found on the way
  const tm = cpuMs();
  const merged = mergeWithIds(shards.map((s) => ({ words: shardWords(s), count: s.plates.length })));
  mergeMs += cpuMs() - tm;
  if (merged.union.count !== all.plates.length) throw new Error(`${tenant}: the merged dictionary has ${merged.union.count} plates, not ${all.plates.length}`);
  const lanes: Uint32Array[] = [];
  shards.forEach((s, k) => {
    const n = s.view.rows;
    rows += n;
    biggestShard = Math.max(biggestShard, n);
    laneBytes += n * s.view.width('plate');
    slotBytes += s.view.header.lanes.slots!.bytes;
    // the other way: each shard's codes → tenant ids searched in the built dictionary; then the lane rewritten
    const t0 = cpuMs();
    const map = idsIn(shardWords(s), s.plates.length, all.words, all.plates.length);
    const t1 = cpuMs();
    const lane = new Uint32Array(n);
    remapCodes(s.view.codes('plate')!, map, lane);
    searchMs += t1 - t0;
    rewriteMs += cpuMs() - t1;
    openPlates += s.plates.length;
    if (map.some((id, c) => merged.ids[k]![c] !== id)) throw new Error(`${tenant} day ${s.day}: the merge's ids differ from the search's`);
    const codes = s.view.codes('plate')!;
    for (let i = 0; i < n; i++) if (all.plates[lane[i]!] !== s.plates[codes[i]!]) throw new Error(`${tenant} day ${s.day} row ${i}: id names another plate`);
    lanes.push(lane);
  });
  // a seal brings the last day: the dictionary of the earlier days grows to `all`, their lanes follow
  if (shards.length < 2) continue;
  const before = dictionary(shards.slice(0, -1).flatMap((s) => s.plates));
  const t1 = cpuMs();
  const growth = idsIn(before.words, before.plates.length, all.words, all.plates.length);
  const t2 = cpuMs();
  const earlier = shards.slice(0, -1).map((s) => {
    const l = new Uint32Array(s.view.rows);
    remapCodes(s.view.codes('plate')!, idsIn(shardWords(s), s.plates.length, before.words, before.plates.length), l);
    return l;
  });
  const t3 = cpuMs();
  for (const l of earlier) {
    remapCodes(l, growth, l); // copy-on-write in the engine; in place here (the CPU is the same)
    grownRows += l.length;
  }
  const t4 = cpuMs();
  growMapMs += t2 - t1;
  growRemapMs += t4 - t3;
  grownPlates += before.plates.length;
  earlier.forEach((l, k) => {
    for (let i = 0; i < l.length; i++) if (l[i] !== lanes[k]![i]) throw new Error(`${tenant}: a remapped id differs from the id mapped afresh`);
  });
}

const perRead = (b: number) => (b / rows).toFixed(2);
const out = [
  `${[...tenants.values()].reduce((n, s) => n + s.length, 0)} tenant-day shards, ${rows} reads (largest shard ${biggestShard} rows); ${tenantPlates} tenant plates (${(tenantPlates / rows).toFixed(3)} a read)`,
  '',
  '| | B/read |',
  '| --- | ---: |',
  `| today: plate lane (u16/u32 shard codes) | ${perRead(laneBytes)} |`,
  `| today: per-shard plate slots (16 B × distinct plates per shard) | ${perRead(slotBytes)} |`,
  `| ids: plate lane as u24 tenant ids, no per-shard slots | ${perRead(3 * rows)} |`,
  `| tenant dictionaries (16 B × tenant plates; today built by the first plate search) | ${perRead(16 * tenantPlates)} |`,
  '',
  '| CPU (process user + system, one thread) | ms | per unit |',
  '| --- | ---: | --- |',
  `| open: the tenant dictionaries merged from the shards' slots, each shard's ids found while merging | ${mergeMs.toFixed(1)} | ${((mergeMs * 1e6) / openPlates).toFixed(1)} ns a shard plate |`,
  `| open, instead: each shard's ids searched in the built dictionary (galloping) | ${searchMs.toFixed(1)} | ${((searchMs * 1e6) / openPlates).toFixed(1)} ns a shard plate |`,
  `| open: every shard's plate lane rewritten as ids | ${rewriteMs.toFixed(1)} | ${((rewriteMs * 1e6) / rows).toFixed(1)} ns a row |`,
  `| seal of the last day: old → new ids of the grown dictionary | ${growMapMs.toFixed(1)} | ${((growMapMs * 1e6) / Math.max(1, grownPlates)).toFixed(1)} ns an old tenant plate |`,
  `| seal of the last day: remap the earlier shards' lanes | ${growRemapMs.toFixed(1)} | ${((growRemapMs * 1e6) / Math.max(1, grownRows)).toFixed(2)} ns a row (${grownRows} rows) |`,
];
process.stdout.write(out.join('\n') + '\n');
