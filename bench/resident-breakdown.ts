/**
 * Where `engine.stats().residentBytes` goes, byte for byte, after opening a data dir (issue 11: "resident bytes
 * per read at 20M reads ≤ 24"). Every live arena region (Arena.regions) is given its owner
 * (StoreEngine.residentRegions); a shard's lane region is cut lane by lane from its in-memory header (the file's
 * lanes as the loader re-encoded them: src/store/shard-loader.ts), the rest of it being the header and the
 * lanes' 64-byte alignment and u24 padding. A region no owner names is listed as such (a leak, or a transient
 * that nobody freed). The rows sum to `residentBytes` exactly; the script checks it.
 *
 *   npm run build && node dist/bench/resident-breakdown.js --dir D [--threads 2] [--queries]
 *
 * Reported twice: right after `openEngine` returns (what bench/load-open-rss.ts's `resident` reads: the tenant
 * dictionaries are still being built on the plate-index thread then), and once they are installed (the covered
 * shards read their plates through them and have dropped their own slots). With `--queries`, a third time after
 * a few searches of every match mode, a hot list and an analysis (what a query leaves behind). Also shown, not
 * counted in `residentBytes`: the tenant dictionaries' JS-side indexes (masks, rank counts, n-gram index) and the
 * shards' plate run tables.
 *
 * Bytes are deterministic (the same data dir gives the same figures under any machine load).
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openEngine } from '../src/engine/index.js';
import type { ResidentRegion, StoreEngine } from '../src/engine/store-engine.js';
import type { MatchMode, PlateMatch } from '../src/model/query.js';
import type { ShardLane } from '../src/store/shard-format.js';
import type { LoadedShard } from '../src/store/shard-loader.js';

const { values } = parseArgs({ options: { dir: { type: 'string' }, threads: { type: 'string' }, queries: { type: 'boolean' } }, strict: true });
if (!values.dir) throw new Error('--dir is required');

interface Row {
  bytes: number;
  note?: string;
}

/** The breakdown of every live arena region, by owner (shard lanes by lane). */
function breakdown(engine: StoreEngine): { rows: Map<string, Row>; total: number; reads: number } {
  const rows = new Map<string, Row>();
  const add = (key: string, bytes: number, note?: string) => {
    const r = rows.get(key);
    if (r) r.bytes += bytes;
    else rows.set(key, { bytes, ...(note ? { note } : {}) });
  };
  const owned = new Map<string, ResidentRegion>();
  for (const r of engine.residentRegions()) owned.set(`${r.arena}:${r.ptr}`, r);
  // a shard's lane regions, cut by lane (ranges in arena offsets)
  const shardRegions = new Map<LoadedShard, Array<[from: number, to: number]>>();
  let total = 0;
  for (const arena of engine.arenas.arenas) {
    for (const [ptr, bytes] of arena.regions()) {
      total += bytes;
      const r = owned.get(`${arena.index}:${ptr}`);
      if (!r) {
        add('not owned (leaked or transient)', bytes);
        continue;
      }
      if (r.owner === 'shard lanes') {
        let list = shardRegions.get(r.shard!);
        if (!list) shardRegions.set(r.shard!, (list = []));
        list.push([ptr, ptr + bytes]);
        continue;
      }
      add(r.owner === 'shard plate ids' ? 'code → id maps' : r.owner, bytes);
    }
  }
  for (const [shard, ranges] of shardRegions) {
    const h = shard.view.header;
    const base = shard.view.bytes.byteOffset;
    const lanes: Array<[string, ShardLane]> = Object.entries(h.lanes) as Array<[string, ShardLane]>;
    if (h.seqBlocks) lanes.push(['seqBlocks', h.seqBlocks]);
    if (h.bases) lanes.push(['bases', h.bases]);
    let inLanes = 0;
    for (const [name, l] of lanes) {
      // the part of the lane inside the shard's regions (the slots are outside once dropped)
      let b = 0;
      for (const [from, to] of ranges) b += Math.max(0, Math.min(to, base + l.at + l.bytes) - Math.max(from, base + l.at));
      if (b === 0) continue;
      inLanes += b;
      add(`shard lane ${name}`, b);
    }
    const all = ranges.reduce((n, [from, to]) => n + to - from, 0);
    add('shard header, alignment, u24 padding', all - inLanes);
  }
  const reads = engine.stats().reads;
  return { rows, total, reads };
}

/** Bytes outside the arenas that the dictionaries and shards keep (not in residentBytes). */
function outside(engine: StoreEngine): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, b: number) => out.set(k, (out.get(k) ?? 0) + b);
  const e = engine as unknown as { tenantPlates: Map<string, { masks: Uint32Array; ranks: Uint32Array; grams?: { offsets: Uint32Array; postings: Uint32Array } }>; stores: Map<string, { shards: readonly LoadedShard[] }> };
  for (const p of e.tenantPlates.values()) {
    add('tenant shard masks (8 B a plate)', p.masks.byteLength);
    add('tenant mask rank counts', p.ranks.byteLength);
    if (p.grams) add('tenant n-gram index', p.grams.offsets.byteLength + p.grams.postings.byteLength);
  }
  for (const s of e.stores.values()) {
    for (const sh of s.shards) {
      if (!sh.hasPlateRuns) continue;
      const runs = sh.plateRuns() as unknown as Record<string, unknown>;
      for (const v of Object.values(runs)) if (ArrayBuffer.isView(v)) add('shard plate run tables', v.byteLength);
    }
  }
  return out;
}

function print(title: string, engine: StoreEngine): void {
  const { rows, total, reads } = breakdown(engine);
  const resident = engine.stats().residentBytes;
  const covered = [...(engine as unknown as { stores: Map<string, { shards: readonly LoadedShard[] }> }).stores.values()].flatMap((s) => s.shards);
  const lines = [`### ${title}`, '', `${reads} reads, ${covered.length} shards (${covered.filter((s) => s.slotsDropped).length} with their slots dropped), residentBytes ${resident} = ${(resident / reads).toFixed(3)} B/read; regions sum ${total}${total === resident ? ' (equal)' : ' (DIFFERENT)'}`, '', '| owner | bytes | B/read |', '| --- | ---: | ---: |'];
  for (const [k, r] of [...rows].sort((a, b) => b[1].bytes - a[1].bytes)) lines.push(`| ${k} | ${r.bytes.toLocaleString('en-US')} | ${(r.bytes / reads).toFixed(3)} |`);
  lines.push(`| **total** | **${total.toLocaleString('en-US')}** | **${(total / reads).toFixed(3)}** |`, '');
  const o = outside(engine);
  if (o.size > 0) {
    lines.push('Outside the arenas (JS heap, not in residentBytes):', '', '| what | bytes | B/read |', '| --- | ---: | ---: |');
    for (const [k, b] of o) lines.push(`| ${k} | ${b.toLocaleString('en-US')} | ${(b / reads).toFixed(3)} |`);
    lines.push('');
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (total !== resident) process.exitCode = 1;
}

const t0 = performance.now();
const engine = (await openEngine({ dataDir: values.dir, threads: Number(values.threads ?? 2), sealAgeMs: 0 })) as StoreEngine;
const opened = performance.now();
try {
  print('Right after the open', engine);
  await engine.plateIndexesSettled();
  print(`Once the tenant dictionaries are installed (${((performance.now() - opened) / 1000).toFixed(1)} s after the open returned, ${((opened - t0) / 1000).toFixed(1)} s after it began; wall time)`, engine);
  if (values.queries) {
    const scopes = engine.tenants().map((tenant) => ({ tenant, minTs: 0 }));
    const s = await engine.search(scopes, { filter: {}, limit: 100 });
    const plate = s.hits[0]?.plate ?? 'ABC123';
    const m = (pattern: string, mode: MatchMode, maxEdits = 0): PlateMatch => ({ pattern, mode, maxEdits, ocr: false, transpositions: false });
    const matches = [m(plate, 'exact'), m(`${plate.slice(0, 3)}*`, 'wildcard'), m(`*${plate.slice(1, 4)}*`, 'wildcard'), m(`${plate.slice(0, 2)}?${plate.slice(3)}`, 'wildcard'), m(plate, 'fuzzy', 1)];
    for (const plateMatch of matches) await engine.search(scopes, { plate: plateMatch, filter: {}, limit: 100 });
    await engine.searchHotlist(scopes, { entries: matches, filter: {}, limitPerPlate: 10 });
    print('After searches of every match mode and a hot list', engine);
  }
} finally {
  await engine.close();
}
