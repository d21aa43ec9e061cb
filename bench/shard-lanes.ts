/**
 * Bytes per read of format 2 shards, lane by lane (src/store/shard-format.ts), for the bench:peers data:
 * the generated reads are cut into tenant-day shards as sealing cuts them and built with buildShard (no
 * engine, no encryption). A shard is loaded into the arena as it is, so this is also what it holds there.
 *
 *   node dist/bench/shard-lanes.js [--reads 1000000] [--seed 1] [--days 28] [--tenants 3] [--memory] [--tenant-seqs] [--three-lanes]
 *
 * `--memory`: the lanes as the loader leaves them in the arena instead of the file's: region, make and color as
 * one labels lane with its triple table (src/store/shard-labels.ts; not with `--three-lanes`), ts / lat / lon as u24
 * lanes where they fit and a u32 postings lane as u24 (src/store/shard-u24.ts), seq as u16 or u24 from block
 * bases (src/store/seq-blocks.ts); the
 * widths column then counts shards per width. Seqs are numbered with one counter over all tenants unless
 * `--tenant-seqs`, which numbers them per tenant as the engine does (a block's seq span is then that
 * tenant's appends over the hours the block covers, not every tenant's).
 *
 * The last lines say which label lanes are functions of others (what dropping them at load would need): the
 * shards where every camera sees one region (region as a function of camera: none in generated data, where
 * region is the plate's issuing state), and the most distinct (region, make, color) triples in a shard (one
 * u16 labels code would replace the three u8 lanes when they fit).
 */
import { parseArgs } from 'node:util';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import { buildShard, dayOf, ShardView } from '../src/store/shard-format.js';
import { buildShardV1 } from '../src/store/shard-format-v1.js';
import { compactSeqLane } from '../src/store/seq-blocks.js';
import { narrowU24Lanes } from '../src/store/shard-u24.js';
import { packLabelLanes } from '../src/store/shard-labels.js';
import type { RowRecord } from '../src/store/wal-record.js';

const { values } = parseArgs({ options: { reads: { type: 'string' }, seed: { type: 'string' }, days: { type: 'string' }, tenants: { type: 'string' }, vehicles: { type: 'string' }, memory: { type: 'boolean' }, 'tenant-seqs': { type: 'boolean' }, 'three-lanes': { type: 'boolean' } }, strict: true });
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
  v1 += buildShardV1('t', 1, day, rows).bytes.length;
  let view = new ShardView(k, bytes);
  if (inMemory) {
    const labels = values['three-lanes'] ? undefined : packLabelLanes(view);
    if (labels) view = new ShardView(k, bytes.subarray(0, labels.bytes), labels.header);
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
