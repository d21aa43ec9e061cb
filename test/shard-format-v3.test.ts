/**
 * Shard format 3 (src/store/shard-format-v3.ts): the lanes stored as a loaded shard holds them. Held equal to its
 * definition, format 2 re-encoded at load: for shards of every form the passes make (labels packed or as runs, the
 * camera lane by runs, u24 ts / lat / lon with their bases, plate and postings bit-packed or u24, seq from block
 * or minute bases, confidence as codes, read ids, tiny shards the passes leave alone), the format 3 file loads to
 * the same header and the same bytes from the first lane on as the format 2 file re-encoded at load, and reads back
 * every row written. Then the format 3 header's checks: each damage a coded error naming the file.
 *
 * PLATESEARCH_TEST_PLATE_U16_MAX / POSTINGS_U16_MAX = 0 give these small shards the u32 plate and postings lanes
 * (buildShard runs on this thread), so the u24 and bit-packed forms are made.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ArenaSet } from '../src/core/arena.js';
import { buildShard, kShardVersion, readShardHeader, shardBytesVersion, ShardView, type ShardHeader } from '../src/store/shard-format.js';
import { storedShardBytes } from '../src/store/shard-format-v3.js';
import { loadShard, type LoadedShard } from '../src/store/shard-loader.js';
import { toE7 } from '../src/store/tenant-store.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { loadShardFiles } from '../bench/shard-files.js';
import type { ObjectStore } from '../src/store/object-store.js';
import type { ShardEntry } from '../src/store/manifest.js';
import { crc32c } from '../src/store/crc32c.js';
import { makeReads, rng } from './helpers/engine-data.js';

process.env.PLATESEARCH_TEST_PLATE_U16_MAX = '0';
process.env.PLATESEARCH_TEST_POSTINGS_U16_MAX = '0';
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_PLATE_U16_MAX;
  delete process.env.PLATESEARCH_TEST_POSTINGS_U16_MAX;
});

const kDayNo = 20758;
const kDayMs = 86_400_000;

interface Shape {
  n: number;
  seed: number;
  /** format 2's lanes this much further from its header than the builder puts them */
  slack?: number;
  /** distinct cameras (> 256: a u16 camera lane) */
  cameras: number;
  /** distinct makes and colors (their product with 3 regions: the label triples) */
  makes: number;
  colors: number;
  /** every k-th row's seq arrives late (a backfill: seq by blocks, or the u24 / u32 seq lane) */
  late: number;
  lateBy: number;
  confidence: boolean;
  readIds: boolean;
  /** seqs this far apart (a big tenant's arrivals: blocks too wide for u16, seq by time) */
  step?: number;
  /** cameras by place (a 16 × 20 grid over the generator's 0.2° × 0.2°, as test/camera-runs.test.ts) and labels by
   * vehicle, skewed (as test/label-runs.test.ts): the forms held as runs */
  byPlace?: boolean;
}

function rowsOf(s: Shape): RowRecord[] {
  const day0 = kDayNo * kDayMs;
  const reads = makeReads({ seed: s.seed, reads: s.n, days: 1 }).map((r) => ({ ...r, ts: day0 + (r.ts % kDayMs) })).sort((a, b) => a.ts - b.ts);
  return reads.map((r, i) => {
    const place = Math.min(15, Math.floor(((r.lat - 37.6) / 0.2) * 16)) * 20 + Math.min(19, Math.floor(((r.lon + 122.5) / 0.2) * 20));
    const camera = `cam-${s.byPlace ? place : (i * 7919) % s.cameras}`;
    const row: RowRecord = { seq: 1000 + i * (s.step ?? 1) + (s.late > 0 && i % s.late === 0 ? s.lateBy : 0), plate: r.plate, ts: r.ts, latE7: toE7(r.lat), lonE7: toE7(r.lon), camera };
    let h = s.seed;
    for (let j = 0; j < r.plate.length; j++) h = (Math.imul(h, 31) + r.plate.charCodeAt(j)) | 0;
    const v = rng(h);
    const pick = (n: number) => Math.floor(v() ** 6 * n);
    if (s.byPlace) {
      if (v() < 0.95) row.region = `R${pick(40)}`;
      if (v() < 0.85) row.make = `mk-${pick(s.makes)}`;
      if (v() < 0.85) row.color = `co-${pick(s.colors)}`;
    } else {
      if (r.region) row.region = r.region;
      if (s.makes > 0 && i % 4 !== 0) row.make = `mk-${(i * 31) % s.makes}`;
      if (s.colors > 0 && i % 5 !== 0) row.color = `co-${(i * 17) % s.colors}`;
    }
    if (s.confidence && r.confidence !== undefined && i % 3 !== 0) row.confidence = r.confidence;
    if (s.readIds && i % 5 === 0) row.readId = `rid-${i}`;
    return row;
  });
}

const kShapes: Shape[] = [
  // labels packed u8, u24 / packed lanes, seq from block bases, confidence codes, read ids
  { n: 20_000, seed: 1, cameras: 6, makes: 4, colors: 5, late: 0, lateBy: 0, confidence: true, readIds: true },
  // > 256 cameras (u16 lane → runs), > 256 triples (labels as runs or u16), late reads (seq by blocks, u24)
  { n: 30_000, seed: 2, cameras: 400, makes: 40, colors: 9, late: 97, lateBy: 70_000, confidence: true, readIds: false },
  // cameras and labels by place and vehicle (both as runs), seqs 60 apart (seq by time)
  { n: 30_000, seed: 6, cameras: 320, makes: 10, colors: 8, late: 0, lateBy: 0, confidence: true, readIds: false, step: 60, byPlace: true },
  // seqs spanning 2^24 within a block: the u32 seq lane kept; no optional fields
  { n: 12_000, seed: 3, cameras: 3, makes: 0, colors: 0, late: 50, lateBy: 2 ** 25, confidence: false, readIds: false },
  // tiny shards the passes leave as they are (or mostly)
  { n: 100, seed: 4, cameras: 2, makes: 3, colors: 2, late: 0, lateBy: 0, confidence: true, readIds: true },
  { n: 1, seed: 5, cameras: 1, makes: 1, colors: 1, late: 0, lateBy: 0, confidence: true, readIds: true },
  // format 2 files whose lanes begin well past their header (as a bulk load's small shards' did): format 3's header
  // needs less room, so the lanes move down
  { n: 3, seed: 7, cameras: 2, makes: 0, colors: 0, late: 0, lateBy: 0, confidence: true, readIds: true, slack: 320 },
  { n: 5_000, seed: 8, cameras: 6, makes: 4, colors: 5, late: 0, lateBy: 0, confidence: true, readIds: true, slack: 640 },
];

/** `v2` with its lanes moved `slack` bytes further from its header (a multiple of 64): a valid format 2 file. */
function withSlack(v2: Uint8Array, slack: number): Uint8Array {
  const h = readShardHeader('slack', v2);
  const first = firstLane(v2);
  const out = new Uint8Array(v2.length + slack);
  out.set(v2.subarray(0, 16));
  out.set(v2.subarray(first), first + slack);
  const json = new TextEncoder().encode(JSON.stringify(moved(h, slack)));
  out.set(json, 16);
  new DataView(out.buffer).setUint32(12, json.length, true);
  return out;
}

/** Where a shard file's lanes begin: its first lane (format 2's `ts`, where format 3 keeps it). */
function firstLane(of: Uint8Array | ShardHeader): number {
  const h = of instanceof Uint8Array ? readShardHeader('first', of) : of;
  return Math.min(...Object.values(h.lanes).map((l) => l.at));
}

/** `h` with every lane and table moved by `delta` (as format 3 moves them). */
function moved(h: ShardHeader, delta: number): ShardHeader {
  const lanes: ShardHeader['lanes'] = {};
  for (const [k, l] of Object.entries(h.lanes)) lanes[k as keyof ShardHeader['lanes']] = { ...l, at: l.at + delta };
  return { ...h, lanes, ...(h.bases ? { bases: { ...h.bases, at: h.bases.at + delta } } : {}), ...(h.seqBlocks ? { seqBlocks: { ...h.seqBlocks, at: h.seqBlocks.at + delta } } : {}) };
}

function expectRows(s: LoadedShard, rows: RowRecord[]): void {
  const back = s.view.rowRecords().sort((a, b) => a.seq - b.seq);
  expect(back).toEqual([...rows].sort((a, b) => a.seq - b.seq));
  for (let i = 0; i < s.rows; i += 97) expect(s.seqAt(i)).toBe(back.find((r) => r.ts === s.tsAt(i) && r.latE7 === s.latE7(i) && r.seq === s.seqAt(i))?.seq);
}

describe('shard format 3: the lanes stored as they are loaded', () => {
  it('loads to the header and bytes format 2 is re-encoded to at load, for every form, and reads back every row', async () => {
    const arenas = new ArenaSet({ arenaBytes: 256 << 20 });
    const forms = new Set<string>();
    for (const [k, shape] of kShapes.entries()) {
      const rows = rowsOf(shape);
      const built = withSlack(buildShard('pd-a', 1, kDayNo, rows).bytes, shape.slack ?? 0);
      const v2 = Uint8Array.from(built);
      const v3 = storedShardBytes(Uint8Array.from(built), `s${k}`);
      expect(shardBytesVersion(v2)).toBe(2);
      expect(shardBytesVersion(v3)).toBe(kShardVersion);
      const [a, b] = await loadShardFiles(arenas, [
        { name: `v2-${k}`, day: kDayNo, rows: rows.length, bytes: v2 },
        { name: `v3-${k}`, day: kDayNo, rows: rows.length, bytes: v3 },
      ]);
      const delta = firstLane(b!.view.header) - firstLane(a!.view.header);
      expect(Math.abs(delta) % 64).toBe(0);
      forms.add(delta < 0 ? 'lanes moved down' : delta > 0 ? 'lanes moved up' : 'lanes in place');
      expect(moved(b!.view.header, -delta), `shape ${k}`).toEqual(a!.view.header);
      expect(b!.view.bytes.length - firstLane(b!.view.header)).toBe(a!.view.bytes.length - firstLane(a!.view.header));
      expect(Buffer.from(b!.view.bytes.subarray(firstLane(b!.view.header))).equals(Buffer.from(a!.view.bytes.subarray(firstLane(a!.view.header)))), `shape ${k}`).toBe(true);
      // the layouts the kernels get: every lane at the same place from the region's first lane
      const rel = (s: LoadedShard) => Object.fromEntries(Object.entries(s.view.header.lanes).map(([n, l]) => [n, l.at - firstLane(s.view.header)]));
      expect(rel(b!)).toEqual(rel(a!));
      expect(b!.layout.plateWidth).toBe(a!.layout.plateWidth);
      expect(b!.layout.postingsWidth).toBe(a!.layout.postingsWidth);
      expectRows(a!, rows);
      expectRows(b!, rows);
      const h = b!.view.header;
      if (h.lanes.labels) forms.add(h.lanes.labelRuns ? 'label runs' : `labels u${8 * h.lanes.labels.width}`);
      if (h.lanes.cameraRuns) forms.add('camera runs');
      if (h.bases) forms.add('u24 bases');
      if (h.lanes.plate!.width === 0) forms.add('plate packed');
      if (h.lanes.postings!.width === 0) forms.add('postings packed');
      if (h.seqTime) forms.add('seq by time');
      else if (h.seqBlocks) forms.add(`seq blocks u${8 * h.lanes.seq!.width}`);
      if (h.lanes.seq!.width === 4) forms.add('seq u32');
      if (h.lanes.confidenceValues) forms.add('confidence codes');
      if (!h.bases && !h.seqBlocks && !h.lanes.labels) forms.add('as built');
    }
    // every form the passes make was held to its definition (a shape that stopped making one fails here)
    expect([...forms].sort()).toEqual([
      'as built', 'camera runs', 'confidence codes', 'label runs', 'labels u16', 'labels u8', 'lanes moved down', 'lanes moved up', 'plate packed', 'postings packed',
      'seq blocks u16', 'seq blocks u24', 'seq by time', 'seq u32', 'u24 bases',
    ]);
  });

  it('a damaged format 3 header or a file of another format than its entry: a coded error naming the file', async () => {
    const rows = rowsOf(kShapes[1]!);
    const v3 = storedShardBytes(buildShard('pd-a', 1, kDayNo, rows).bytes, 'x');
    const first = firstLane(v3);
    const h = readShardHeader('x', v3);
    /** v3 with its header replaced by `edit(h)` (shorter or as long: the lanes stay where they are). */
    const withHeader = (edit: (h: ShardHeader) => unknown): Uint8Array => {
      const out = Uint8Array.from(v3);
      const json = new TextEncoder().encode(JSON.stringify(edit(structuredClone(h))));
      expect(16 + json.length).toBeLessThanOrEqual(first);
      out.fill(0, 16, first);
      out.set(json, 16);
      new DataView(out.buffer).setUint32(12, json.length, true);
      return out;
    };
    const cases: Array<[string, Uint8Array, string, RegExp]> = [
      ['bases dropped', withHeader(({ bases: _, ...x }) => x), 'PS_CORRUPT_FILE', /u24 lanes and their bases disagree: f\.shard/],
      ['seq bases dropped', withHeader(({ seqBlocks: _, seqTime: __, ...x }) => x), 'PS_CORRUPT_FILE', /seq lane and its bases disagree: f\.shard/],
      ['a lane past the end', withHeader((x) => ({ ...x, lanes: { ...x.lanes, zones: { ...x.lanes.zones!, at: v3.length } } })), 'PS_CORRUPT_FILE', /lane zones lies outside the file: f\.shard/],
      ['a packed lane without bits', withHeader((x) => ({ ...x, lanes: { ...x.lanes, postings: { ...x.lanes.postings!, bits: undefined } } })), 'PS_CORRUPT_FILE', /lane postings has undefined bits: f\.shard/],
      ['a u24 lane of the wrong size', withHeader((x) => ({ ...x, lanes: { ...x.lanes, ts: { ...x.lanes.ts!, bytes: x.lanes.ts!.bytes - 3 } } })), 'PS_CORRUPT_FILE', /lane ts has \d+ bytes: f\.shard/],
      ['labels without their triples', withHeader((x) => ({ ...x, lanes: { ...x.lanes, labelTriples: undefined } })), 'PS_CORRUPT_FILE', /labels lane is incomplete: f\.shard/],
      ['version 4', (() => { const o = Uint8Array.from(v3); new DataView(o.buffer).setUint32(8, 4, true); return o; })(), 'PS_UNSUPPORTED_FORMAT', /version 4 is not supported: f\.shard/],
    ];
    expect(h.bases && h.seqBlocks && h.lanes.postings!.width === 0 && h.lanes.ts!.width === 3 && h.lanes.labels).toBeTruthy();
    for (const [what, bytes, code, message] of cases) {
      let err: { code?: string; message?: string } | undefined;
      try {
        new ShardView('f.shard', bytes);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.code, what).toBe(code);
      expect(err?.message, what).toMatch(message);
    }
    // a format 2 file naming an in-memory lane is still refused
    const v2 = buildShard('pd-a', 1, kDayNo, rows).bytes;
    const v2h = readShardHeader('y', v2);
    const bad2 = Uint8Array.from(v2);
    const json = new TextEncoder().encode(JSON.stringify({ ...v2h, bases: { at: 0, bytes: 0, width: 32 } }));
    bad2.set(json, 16);
    new DataView(bad2.buffer).setUint32(12, json.length, true);
    expect(() => new ShardView('g.shard', bad2)).toThrow(/in-memory lane: g\.shard/);
    // an entry that names format 3 for a format 2 file (and the loader's checks after it)
    const arenas = new ArenaSet({ arenaBytes: 64 << 20 });
    const objects = {
      locate: (key: string) => key,
      head: async () => v2.length,
      getRange: async (_k: string, offset: number, length: number, out: Uint8Array) => void out.set(v2.subarray(offset, offset + length)),
    } as unknown as ObjectStore;
    const entry: ShardEntry = { file: 'h.shard', day: kDayNo, rows: rows.length, minTs: v2h.meta.minTs, maxTs: v2h.meta.maxTs, minSeq: v2h.meta.minSeq, maxSeq: v2h.meta.maxSeq, bytes: v2.length, dictCount: v2h.meta.dictCount, crc: crc32c(v2), format: kShardVersion };
    await expect(loadShard(arenas, objects, entry)).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE', message: expect.stringMatching(/not of the format its manifest entry names \(3\): h\.shard/) });
    expect(arenas.allocatedBytes).toBe(0);
  });
});
