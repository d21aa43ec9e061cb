/**
 * Kernel micro-benchmarks (tinybench): plates/s for every dictionary match mode, rows/s and GB/s for
 * row scans, on one core, plus a two-thread full scan. Synthetic data shaped like DESIGN.md's
 * (7-character plates mostly, ~10 reads per distinct plate, one city, one week).
 *
 *   npm run bench                       (builds, then node dist/bench/kernels.js)
 *   node dist/bench/kernels.js --rows 20000000 --plates 2000000 --time 500
 *
 * Writes bench/results/kernels.json and prints a table. GB/s counts the bytes of the columns a scan
 * must read (e.g. 8 B/row for a time filter), not the bytes of the output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { Arena } from '../src/core/arena.js';
import { kSegmentDescBytes, S_BASES, S_BLOCKS, S_CAMERA, S_DICT, S_DICT_COUNT, S_LAT, S_LON, S_PLATE, S_REGION, S_ROWS, S_TS, S_TS_BASE, S_WIDTHS, S_ZONES } from '../src/core/abi.js';
import { u24LaneBytes, withU24Lanes } from '../src/core/base-lanes.js';
import { bitsFor, packedLaneBytes, writePacked } from '../src/core/packed-lanes.js';
import { Kernels, widthsWord } from '../src/core/kernels.js';
import { kernelModule } from '../src/core/module.js';
import { labelTriplesBytes, packLabels, triplesAt } from '../src/core/label-lanes.js';
import { codeLane, kBlockRows, kPlateSlotBytes, kZoneBytes, laneWidthFor, type LaneWidth, type SegmentLayout } from '../src/core/segment.js';
import type { PlateMatch, ReadFilter } from '../src/model/query.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const kRows = arg('rows', 10_000_000);
const kPlates = arg('plates', Math.max(16, Math.floor(kRows / 10)));
const kTimeMs = arg('time', 400);
/** `--only REGEX`: run only the cases whose name matches. */
const kOnly = process.argv.includes('--only') ? new RegExp(process.argv[process.argv.indexOf('--only') + 1]!) : null;
/**
 * `--clock wall` times with the wall clock. The default, `cpu`, times with this process's CPU time
 * (getrusage): on a machine shared with other jobs, wall time measures the scheduler, CPU time
 * measures the kernel per core. The bench is single-threaded while timing, so the two agree on an
 * idle machine.
 */
const kClock = process.argv.includes('--clock') ? process.argv[process.argv.indexOf('--clock') + 1]! : 'cpu';
/**
 * `--narrow`: the row lanes as format 2 shards lay them out (src/store/shard-format.ts): u32 ts offsets from
 * the first day's midnight, plate codes u16 up to 65,536 plates (else u32), camera / region codes by
 * dictionary size. The same rows and the same cases, so the two runs compare the kernel over both layouts.
 */
const kNarrow = process.argv.includes('--narrow') || process.argv.includes('--u24') || process.argv.includes('--plate-lane');
/**
 * `--u24` (implies `--narrow`): then ts, lat and lon as loaded shards hold them (src/store/shard-u24.ts): u24
 * offsets from a base per 1024 rows, each lane where every run fits (the random-time copy keeps its u32 ts).
 */
const kU24 = process.argv.includes('--u24');
/**
 * `--plate-lane u24|packed` (implies `--narrow`): the plate lane as a loaded shard holds a u32 one (src/store/shard-u24.ts):
 * u24 codes (ABI 9) or bit-packed at the dictionary's exact bits (ABI 11, src/core/packed-lanes.ts), to compare the two
 * forms' plate gathers on the same rows (the plate cases: `--only plate`).
 */
const kPlateLane = process.argv.includes('--plate-lane') ? process.argv[process.argv.indexOf('--plate-lane') + 1]! : '';
if (kPlateLane !== '' && kPlateLane !== 'u24' && kPlateLane !== 'packed') throw new Error('--plate-lane must be u24 or packed');
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const kT0 = Date.UTC(2026, 10, 1);
const kWeekMs = 7 * 86_400_000;
const kArea = { minLat: 37.70, maxLat: 37.83, minLon: -122.52, maxLon: -122.35 };
const kCameraCount = 500;

/** xorshift32: fast, seeded, good enough for synthetic data. */
let seed = 0x9e3779b9;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

const kChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function randomPlate(): string {
  const u = rand();
  const len = u < 0.7 ? 7 : u < 0.85 ? 6 : u < 0.95 ? 8 : 1 + Math.floor(rand() * 10);
  let s = '';
  for (let i = 0; i < len; i++) s += kChars[Math.floor(rand() * 36)];
  return s;
}

interface Data {
  arena: Arena;
  seg: SegmentLayout;
  /** Same columns, rows sorted by time, with zone maps that prune. */
  sorted: SegmentLayout;
  cameras: string[];
  regions: string[];
  makes: string[];
  colors: string[];
  /** The random-time copy with its region, make and color lanes packed into one labels lane (src/core/label-lanes.ts). */
  labeled: SegmentLayout;
}

function generate(): Data {
  const bytes = kRows * 28 * 2 + kPlates * 16 + (kRows >> 13) * 48 * 2 + 256 * 1024 * 1024;
  const arena = new Arena(0, { maxBytes: Math.min(4096 * 1024 * 1024, Math.ceil(bytes / 65536) * 65536), initialBytes: 64 << 20 });
  const alloc = (n: number) => {
    const p = arena.alloc(Math.max(16, n), 64);
    if (p < 0) throw new Error('arena full');
    return p;
  };
  const dictPtr = alloc(kPlates * kPlateSlotBytes);
  const dict = new Uint8Array(arena.memory.buffer, dictPtr, kPlates * kPlateSlotBytes);
  // A family around 3EU1012 (wildcard, contains and fuzzy queries find something), the rest random.
  const family = ['3EU1012', '3EU7012', '3EU10I2', 'BEU1012', '3EU1O12', '3EU101', '3EU10122', 'XUS01Y', 'AUS01'];
  for (let id = 0; id < kPlates; id++) {
    const p = id < family.length ? family[id]! : randomPlate();
    for (let j = 0; j < p.length; j++) dict[id * 16 + j] = p.charCodeAt(j);
    dict[id * 16 + 15] = p.length;
  }
  const cameras = Array.from({ length: kCameraCount }, (_, i) => `cam-${i}`);
  const regions = ['', 'CA', 'NV', 'OR'];
  const make = (sortedByTime: boolean): SegmentLayout => {
    const blocks = Math.ceil(kRows / kBlockRows);
    const tsBase = Math.floor(kT0 / 86_400_000) * 86_400_000;
    const plateWidth = kNarrow ? (kPlates <= 0x10000 ? 2 : 4) : 4;
    const cameraWidth = kNarrow ? laneWidthFor(kCameraCount) : 4;
    const regionWidth = kNarrow ? laneWidthFor(4) : 4;
    const seg: SegmentLayout = {
      arena: 0, rows: kRows, ts: alloc((kNarrow ? 4 : 8) * kRows), lat: alloc(4 * kRows), lon: alloc(4 * kRows), plate: alloc(plateWidth * kRows),
      camera: alloc(cameraWidth * kRows), region: alloc(regionWidth * kRows), dict: dictPtr, dictCount: kPlates, zones: alloc(kZoneBytes * blocks), blocks,
      ...(kNarrow ? { tsWidth: 4 as const, tsBase, plateWidth, cameraWidth, regionWidth } : {}),
    };
    const buf = arena.memory.buffer;
    const ts64 = kNarrow ? null : new BigInt64Array(buf, seg.ts, kRows);
    const ts32 = kNarrow ? new Uint32Array(buf, seg.ts, kRows) : null;
    const tsAt = (i: number) => (ts32 ? tsBase + ts32[i]! : Number(ts64![i]!));
    const lat = new Int32Array(buf, seg.lat, kRows);
    const lon = new Int32Array(buf, seg.lon, kRows);
    const plate = codeLane(buf, seg.plate, seg.plateWidth as LaneWidth, kRows); // built u8 / u16 / u32 here
    const camera = codeLane(buf, seg.camera, seg.cameraWidth, kRows);
    const region = codeLane(buf, seg.region, seg.regionWidth, kRows);
    const zones = new Float64Array(buf, seg.zones, 6 * blocks);
    for (let i = 0; i < kRows; i++) {
      const t = sortedByTime ? kT0 + Math.floor((i / kRows) * kWeekMs) : kT0 + Math.floor(rand() * kWeekMs);
      if (ts32) ts32[i] = t - tsBase;
      else ts64![i] = BigInt(t);
      lat[i] = Math.round((kArea.minLat + rand() * (kArea.maxLat - kArea.minLat)) * 1e7);
      lon[i] = Math.round((kArea.minLon + rand() * (kArea.maxLon - kArea.minLon)) * 1e7);
      plate[i] = Math.floor(rand() * kPlates);
      camera[i] = Math.floor(rand() * kCameraCount);
      region[i] = Math.floor(rand() * 4);
    }
    for (let b = 0; b < blocks; b++) {
      let z = [Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity];
      for (let i = b * kBlockRows; i < Math.min(kRows, (b + 1) * kBlockRows); i++) {
        const t = tsAt(i), la = lat[i]! / 1e7, lo = lon[i]! / 1e7;
        z = [Math.min(z[0]!, t), Math.max(z[1]!, t), Math.min(z[2]!, la), Math.max(z[3]!, la), Math.min(z[4]!, lo), Math.max(z[5]!, lo)];
      }
      zones.set(z, 6 * b);
    }
    return withPlateLane(kU24 ? toU24(seg) : seg);
  };
  // the plate lane re-laid out as `--plate-lane` asks (the codes read from the lane made above)
  const withPlateLane = (seg: SegmentLayout): SegmentLayout => {
    if (kPlateLane === '') return seg;
    const codes = Uint32Array.from(codeLane(arena.memory.buffer, seg.plate, seg.plateWidth as LaneWidth, kRows));
    if (kPlateLane === 'u24') {
      const ptr = alloc(u24LaneBytes(kRows));
      const out = new Uint8Array(arena.memory.buffer, ptr, u24LaneBytes(kRows));
      codes.forEach((c, i) => out.set([c & 0xff, (c >>> 8) & 0xff, c >>> 16], 3 * i));
      return { ...seg, plate: ptr, plateWidth: 3 };
    }
    const bits = bitsFor(kPlates - 1);
    const ptr = alloc(packedLaneBytes(kRows, bits));
    writePacked(new Uint8Array(arena.memory.buffer, ptr, packedLaneBytes(kRows, bits)), codes, kRows, bits);
    return { ...seg, plate: ptr, plateWidth: 0, plateBits: bits };
  };
  const toU24 = (seg: SegmentLayout): SegmentLayout => withU24Lanes(arena.memory, seg, alloc);
  const seg = make(false);
  // make and color lanes on the random-time copy (own generator: the other lanes stay as they were), and the same
  // codes packed as loaded shards pack them: random independent labels, so 4 × 12 × 10 triples (a u16 labels lane)
  const makes = ['', 'Toyota', 'Honda', 'Ford', 'Tesla', 'Kia', 'BMW', 'Audi', 'Subaru', 'Mazda', 'Nissan', 'Volvo'];
  const colors = ['', 'White', 'Black', 'Red', 'Grey', 'Blue', 'Silver', 'Green', 'Brown', 'Gold'];
  const labelRand = xorshift(0x2545f491);
  const lane = (count: number) => {
    const width = kNarrow ? laneWidthFor(count) : 4;
    const ptr = alloc(width * kRows);
    const codes = codeLane(arena.memory.buffer, ptr, width, kRows);
    for (let i = 0; i < kRows; i++) codes[i] = Math.floor(labelRand() * count);
    return { ptr, width, codes };
  };
  const mk = lane(makes.length), co = lane(colors.length);
  Object.assign(seg, { make: mk.ptr, color: co.ptr, ...(kNarrow ? { makeWidth: mk.width, colorWidth: co.width } : {}) });
  const packed = packLabels(kRows, codeLane(arena.memory.buffer, seg.region, seg.regionWidth, kRows), mk.codes, co.codes)!;
  const count = packed.region.length, labelsWidth = count <= 0x100 ? 1 : 2;
  const labels = alloc(labelsWidth * kRows), labelTriples = alloc(labelTriplesBytes(count, 1));
  codeLane(arena.memory.buffer, labels, labelsWidth, kRows).set(packed.ids);
  const t = triplesAt(arena.memory.buffer, labelTriples, count, 1);
  t.region.set(packed.region);
  t.make.set(packed.make);
  t.color.set(packed.color);
  const labeled: SegmentLayout = { ...seg, region: 0, make: 0, color: 0, labels, labelsWidth, labelTriples, labelTriplesWidth: 1, labelCount: count };
  return { arena, seg, sorted: make(true), cameras, regions, makes, colors, labeled };
}

/** Another xorshift32 stream. */
function xorshift(state: number): () => number {
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

interface Row {
  name: string;
  unit: 'plates/s' | 'rows/s';
  meanMs: number;
  perSecond: number;
  gbPerSecond: number | null;
  matched: number;
  samples: number;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const data = generate();
  const { arena, seg, sorted } = data;
  console.log(`generated ${kRows.toLocaleString()} rows, ${kPlates.toLocaleString()} distinct plates in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const module = kernelModule();
  const k = Kernels.forArena(arena, module, 64 << 20);
  const dist = k.scratch.alloc(kPlates);
  const out = k.allocOutput(kRows);
  // Zone maps off: a full scan of the random-time copy touches every row.
  const noZones: SegmentLayout = { ...seg, zones: 0, blocks: 0 };
  const dicts = { cameras: data.cameras, regions: data.regions, makes: data.makes, colors: data.colors };

  const bench = new Bench({ time: kTimeMs, warmupTime: 100, ...(kClock === 'cpu' ? { now: cpuNow } : {}) });
  const add = (name: string, fn: () => void) => {
    if (!kOnly || kOnly.test(name)) bench.add(name, fn);
  };
  const meta = new Map<string, { unit: Row['unit']; items: number; bytesPerItem: number | null; run: () => void }>();
  let last = 0;

  const plateCase = (name: string, match: PlateMatch) => {
    const pq = k.compilePlateMatch(match);
    const run = () => {
      last = k.matchDictionary(seg, pq, dist);
    };
    meta.set(name, { unit: 'plates/s', items: kPlates, bytesPerItem: kPlateSlotBytes, run });
    add(name, run);
  };
  const m = (pattern: string, mode: PlateMatch['mode'], maxEdits = 0, ocr = false, transpositions = false): PlateMatch =>
    ({ pattern, mode, maxEdits, ocr, transpositions });
  plateCase('exact("3EU1012") dict', m('3EU1012', 'exact'));
  plateCase('exact("3EU1012", ocr) dict', m('3EU1012', 'exact', 0, true));
  plateCase('wildcard("3EU?012") dict', m('3EU?012', 'wildcard'));
  plateCase('wildcard("3EU?01*") dict', m('3EU?01*', 'wildcard'));
  plateCase('wildcard("*US01*") dict', m('*US01*', 'wildcard'));
  plateCase('fuzzy("3EU1012", k=1) dict', m('3EU1012', 'fuzzy', 1));
  plateCase('fuzzy("3EU1012", k=2) dict', m('3EU1012', 'fuzzy', 2));
  plateCase('fuzzy("3EU1012", k=2, ocr) dict', m('3EU1012', 'fuzzy', 2, true));
  plateCase('osa("3EU1012", k=2, ocr) dict', m('3EU1012', 'fuzzy', 2, true, true));
  plateCase('fuzzy("3EU1012XY9", k=2) dict (16-bit lanes)', m('3EU1012XY9', 'fuzzy', 2));

  // Row scans. The distance array of an exact match makes the plate condition selective.
  const exactDist = k.scratch.alloc(kPlates);
  k.matchDictionary(seg, m('3EU1012', 'exact'), exactDist);
  const fuzzyDist = k.scratch.alloc(kPlates);
  k.matchDictionary(seg, m('3EU1012', 'fuzzy', 2, true), fuzzyDist);
  const day = { from: kT0 + 2 * 86_400_000, to: kT0 + 3 * 86_400_000 };
  const c = { lat: 37.7749, lon: -122.4194 };
  const rowCase = (name: string, layout: SegmentLayout, filter: ReadFilter | null, d: number | null, bytesPerRow: number | null, materialise = false) => {
    const compiled = filter ? k.compileFilter(filter, dicts, layout) : null;
    const run = () => {
      last = k.scanSegment(layout, compiled, d, materialise ? out : null);
    };
    meta.set(name, { unit: 'rows/s', items: kRows, bytesPerItem: bytesPerRow, run });
    add(name, run);
  };
  rowCase('scan plate=exact, count', noZones, null, exactDist, 4);
  rowCase('scan plate=fuzzy k=2 ocr, rows out', noZones, null, fuzzyDist, 4, true);
  rowCase('scan time 1 day of 7, count (no zone maps)', noZones, day, null, 8);
  rowCase('scan time 1 day of 7, rows out (no zone maps)', noZones, day, null, 8, true);
  rowCase('scan bbox 2x2 km, count', noZones, { bbox: [c.lon - 0.0114, c.lat - 0.009, c.lon + 0.0114, c.lat + 0.009] }, null, 8);
  rowCase('scan near 500 m, count', noZones, { near: { ...c, radiusM: 500 } }, null, 8);
  rowCase('scan polygon (5 vertices), count', noZones, { polygon: [[-122.43, 37.77], [-122.41, 37.765], [-122.40, 37.78], [-122.42, 37.79], [-122.435, 37.785]] }, null, 8);
  rowCase('scan cameras (10 of 500), count', noZones, { cameras: data.cameras.slice(0, 10) }, null, 4);
  rowCase('scan regions CA, count', noZones, { regions: ['CA'] }, null, 4);
  // region / make / color filters on the three lanes and on the labels lane (one mask over the triples)
  const labeledNoZones: SegmentLayout = { ...data.labeled, zones: 0, blocks: 0 };
  const labelFilter: ReadFilter = { regions: ['CA', 'NV'], makes: ['toyota', 'ford'], colors: ['white', 'black', 'red'] };
  const laneBytes = kNarrow ? 1 : 4;
  rowCase('scan regions CA, count (labels lane)', labeledNoZones, { regions: ['CA'] }, null, data.labeled.labelsWidth!);
  rowCase('scan regions+makes+colors, count (three lanes)', noZones, labelFilter, null, 3 * laneBytes);
  rowCase('scan regions+makes+colors, count (labels lane)', labeledNoZones, labelFilter, null, data.labeled.labelsWidth!);
  rowCase('scan time 1 day + regions+makes+colors, count (three lanes)', noZones, { ...day, ...labelFilter }, null, null);
  rowCase('scan time 1 day + regions+makes+colors, count (labels lane)', labeledNoZones, { ...day, ...labelFilter }, null, null);
  rowCase('scan time+bbox+plate, rows out', noZones, { ...day, bbox: [kArea.minLon, kArea.minLat, -122.4, 37.8] }, fuzzyDist, 16, true);
  rowCase('scan sorted: near 500 m + 2 h (zone maps prune)', sorted, { near: { ...c, radiusM: 500 }, from: kT0 + 3 * 86_400_000, to: kT0 + 3 * 86_400_000 + 7_200_000 }, null, null);
  rowCase('scan sorted: 1 day (zone maps contain), count', sorted, day, null, null);
  // the time-sorted copy without zone maps: every row compared (its ts is the one that fits u24 lanes)
  const sortedNoZones: SegmentLayout = { ...sorted, zones: 0, blocks: 0 };
  rowCase('scan sorted: time 1 day of 7, count (no zone maps)', sortedNoZones, day, null, null);
  rowCase('scan sorted: bbox 2x2 km + 1 day, count (no zone maps)', sortedNoZones, { ...day, bbox: [c.lon - 0.0114, c.lat - 0.009, c.lon + 0.0114, c.lat + 0.009] }, null, null);
  rowCase('scan sorted: near 500 m + 1 day, count (no zone maps)', sortedNoZones, { ...day, near: { ...c, radiusM: 500 } }, null, null);

  await bench.run();

  const rows: Row[] = [];
  for (const task of bench.tasks) {
    const info = meta.get(task.name)!;
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    const meanMs = r.latency.mean;
    const perSecond = info.items / (meanMs / 1000);
    rows.push({
      name: task.name, unit: info.unit, meanMs, perSecond,
      gbPerSecond: info.bytesPerItem === null ? null : (perSecond * info.bytesPerItem) / 1e9,
      matched: 0, samples: r.latency.samplesCount ?? 0,
    });
  }
  // Re-run each case once to report its match count (the last run of the bench is some other case).
  for (const row of rows) {
    meta.get(row.name)!.run();
    row.matched = last;
  }

  const twoThreads = kOnly ? { rowsPerSecond: 0, gbPerSecond: 0, iterations: 0 } : await twoThreadScan(module, arena, noZones, k, dicts, day);
  const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : `${(n / 1e6).toFixed(1)} M`);
  console.table(rows.map((r) => ({
    case: r.name, 'mean ms': r.meanMs.toFixed(2), throughput: `${fmt(r.perSecond)}${r.unit}`,
    'GB/s': r.gbPerSecond === null ? '' : r.gbPerSecond.toFixed(1), matched: r.matched,
  })));
  console.log(`two threads, time filter count over ${kRows.toLocaleString()} rows: ${fmt(twoThreads.rowsPerSecond)}rows/s, ${twoThreads.gbPerSecond.toFixed(1)} GB/s`);

  const result = {
    date: new Date().toISOString(),
    command: `node dist/bench/kernels.js --rows ${kRows} --plates ${kPlates} --time ${kTimeMs} --clock ${kClock}${kU24 ? ' --u24' : kNarrow ? ' --narrow' : ''}`,
    clock: kClock === 'cpu' ? 'process CPU time (getrusage), per core' : 'wall clock',
    loadAverage: os.loadavg(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    rows: kRows, plates: kPlates,
    results: rows,
    twoThreads: { case: 'scan time 1 day of 7, count (no zone maps), 2 workers', ...twoThreads },
  };
  const dir = new URL('../../bench/results/', import.meta.url);
  if (kOnly) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('kernels.json', dir), JSON.stringify(result, null, 2) + '\n');
  console.log('wrote bench/results/kernels.json');
}

/** Two workers, each instantiating the module over the same arena and scanning half of the rows. */
async function twoThreadScan(module: WebAssembly.Module, arena: Arena, seg: SegmentLayout, k: Kernels, dicts: { cameras: string[]; regions: string[] }, window: ReadFilter) {
  const filter = k.compileFilter(window, dicts);
  const desc = k.scratch.alloc(kSegmentDescBytes);
  const v = new DataView(arena.memory.buffer);
  const put = (off: number, val: number) => v.setUint32(desc + off, val, true);
  put(S_ROWS, seg.rows); put(S_TS, seg.ts); put(S_LAT, seg.lat); put(S_LON, seg.lon); put(S_PLATE, seg.plate);
  put(S_CAMERA, seg.camera); put(S_REGION, seg.region); put(S_DICT, seg.dict); put(S_DICT_COUNT, seg.dictCount);
  put(S_ZONES, seg.zones); put(S_BLOCKS, seg.blocks);
  // lane widths as Kernels.writeSegment packs them (src/core/abi.ts S_WIDTHS)
  put(S_WIDTHS, widthsWord(seg));
  v.setBigInt64(desc + S_TS_BASE, BigInt(seg.tsWidth === 4 || seg.tsWidth === 3 ? seg.tsBase ?? 0 : 0), true);
  put(S_BASES, seg.bases ?? 0);
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { module, memory, desc, filter, start, end, iterations } = workerData;
    const x = new WebAssembly.Instance(module, { env: { memory, abort() {}, radiusRecheck() { return 0; } } }).exports;
    x.scan(desc, filter, 0, start, end, 0, 0, 0);
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      let n = 0;
      for (let i = 0; i < iterations; i++) n += x.scan(desc, filter, 0, start, end, 0, 0, 0);
      parentPort.postMessage(n);
    });`;
  const iterations = Math.max(3, Math.round(2e8 / seg.rows));
  const half = Math.floor(seg.rows / 2);
  const workers = [[0, half], [half, seg.rows]].map(([start, end]) => new Worker(source, {
    eval: true, workerData: { module, memory: arena.memory, desc, filter: filter.ptr, start, end, iterations },
  }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const t = performance.now();
  const done = workers.map((w) => new Promise((resolve) => w.once('message', resolve)));
  workers.forEach((w) => w.postMessage('go'));
  await Promise.all(done);
  const seconds = (performance.now() - t) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  const rowsPerSecond = (seg.rows * iterations) / seconds;
  return { rowsPerSecond, gbPerSecond: (rowsPerSecond * 8) / 1e9, iterations };
}

await main();
