/**
 * packLabelLanes (src/store/shard-labels.ts) on built shard files: region, make and color read back exactly through
 * ShardView.labelReader and rowRecords after packing, u8 up to 256 triples and u16 past it (by runs past it:
 * test/label-runs.test.ts; off here), the three lanes kept past
 * the limit (at the limit packed), when packing would not shrink the shard (a region lane alone, a tiny shard), and
 * every later lane moved down intact (ts, plate, postings, seq, confidence, read ids read back as the rows').
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kMaxLabelTriples, packLabels } from '../src/core/label-lanes.js';
import { buildShard, ShardView } from '../src/store/shard-format.js';
import { labelLimits, packLabelLanes } from '../src/store/shard-labels.js';
import type { RowRecord } from '../src/store/wal-record.js';
import { rng } from './helpers/engine-data.js';

const kDayMs = 86_400_000;
const kDay = 20_000;

/** `n` rows whose (region, make, color) cycle through `triples` distinct triples (some fields absent). */
function rows(n: number, triples: number, seed: number, fields: { make?: boolean; color?: boolean; regions?: number } = {}): RowRecord[] {
  const regions = fields.regions ?? 40;
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const t = i % triples;
    const row: RowRecord = {
      seq: i + 1, plate: `P${Math.floor(r() * 500)}`, ts: kDay * kDayMs + Math.floor(r() * kDayMs), latE7: 377_000_000 + Math.floor(r() * 1e6),
      lonE7: -1_224_000_000 + Math.floor(r() * 1e6), camera: `cam-${i % 7}`,
    };
    // triple t: region t % R (R = 40 regions), make ⌊t / R⌋ % 30, color (t + ⌊t / 30R⌋) % 9 (0 = none): distinct for
    // t < 270R (t and t + 30Rk share region and make, and 30R + 1 is prime to 9 for these R)
    const color = (t + Math.floor(t / (30 * regions))) % 9;
    if (t % regions !== 0) row.region = `R${t % regions}`;
    if (fields.make !== false && Math.floor(t / regions) % 30 !== 0) row.make = `M${Math.floor(t / regions) % 30}`;
    if (fields.color !== false && color !== 0) row.color = `C${color}`;
    if (r() < 0.5) row.confidence = Math.round(r() * 1000) / 1000;
    if (r() < 0.3) row.readId = `rid-${i}`;
    return row;
  });
}

const key = (r: RowRecord) => `${r.seq}|${r.plate}|${r.ts}|${r.latE7}|${r.lonE7}|${r.camera}|${r.region}|${r.make}|${r.color}|${r.confidence}|${r.readId}`;

/** Builds a shard of `input`, packs it, and checks every row reads back; returns the packed header's labels lane. */
function packAndCheck(input: RowRecord[]) {
  const { bytes } = buildShard('t', 1, kDay, input);
  const before = new ShardView('t', bytes.slice()).rowRecords().map(key);
  const view = new ShardView('t', bytes);
  const packed = packLabelLanes(view);
  const after = packed ? new ShardView('t', bytes.subarray(0, packed.bytes), packed.header) : view;
  expect(after.rowRecords().map(key)).toEqual(before);
  expect(before.slice().sort()).toEqual(input.map(key).sort());
  if (packed) {
    expect(packed.bytes).toBeLessThan(bytes.length);
    for (const f of ['region', 'make', 'color'] as const) expect(packed.header.lanes[f]).toBeUndefined();
  }
  return { packed, lanes: after.labelLanes() };
}

describe('packLabelLanes', () => {
  afterEach(() => {
    labelLimits.max = kMaxLabelTriples;
    labelLimits.runs = true;
  });

  it('packs as u8 up to 256 triples and as u16 past it (runs off), reading every row back', () => {
    labelLimits.runs = false;
    const a = packAndCheck(rows(6000, 256, 1));
    expect([a.lanes.labelsWidth, a.lanes.labelCount, a.lanes.labelTriplesWidth]).toEqual([1, 256, 1]);
    const b = packAndCheck(rows(6000, 257, 2));
    expect([b.lanes.labelsWidth, b.lanes.labelCount, b.lanes.labelTriplesWidth]).toEqual([2, 257, 1]);
    const c = packAndCheck(rows(30_000, 3600, 3));
    expect([c.lanes.labelsWidth, c.lanes.labelCount, c.lanes.labelTriplesWidth]).toEqual([2, 3600, 1]);
    expect([c.lanes.region, c.lanes.make, c.lanes.color]).toEqual([0, 0, 0]);
    // 300 regions: region codes past 255 (a u16 region lane in the file), so the table's codes are u16
    const d = packAndCheck(rows(40_000, 2000, 10, { regions: 300 }));
    expect([d.lanes.labelsWidth, d.lanes.labelCount, d.lanes.labelTriplesWidth]).toEqual([2, 2000, 2]);
  });

  it('keeps the three lanes past the limit, packs at it', () => {
    labelLimits.max = 1000;
    expect(packAndCheck(rows(20_000, 1001, 4)).packed).toBeUndefined();
    const at = packAndCheck(rows(20_000, 1000, 5));
    expect(at.lanes.labelCount).toBe(1000);
  });

  it('keeps the lanes when packing would not shrink the shard', () => {
    // a region lane alone (1 B a row already)
    expect(packAndCheck(rows(6000, 40, 6, { make: false, color: false })).packed).toBeUndefined();
    // more triples than a u16 lane saves bytes on (3 B a triple against 1 B a row)
    expect(packAndCheck(rows(3000, 2000, 7)).packed).toBeUndefined();
    // a tiny shard: alignment eats the saving
    expect(packAndCheck(rows(20, 5, 8)).packed).toBeUndefined();
    // region and make only: 2 B a row become 1
    expect(packAndCheck(rows(6000, 200, 9, { color: false })).lanes.labelsWidth).toBe(1);
  });
});

/** packLabels' plain definition: the distinct triples sorted by (region, make, color); a row's id is its triple's rank. */
function plainPack(rows: number, lanes: Array<ArrayLike<number> | null>, limit: number) {
  const at = (l: ArrayLike<number> | null, i: number) => (l ? l[i]! : 0);
  const triples = new Map<string, number[]>();
  for (let i = 0; i < rows; i++) {
    const t = lanes.map((l) => at(l, i));
    if (t.some((c) => c > 0xffff)) return undefined;
    triples.set(t.join(','), t);
  }
  if (triples.size > limit) return undefined;
  const sorted = [...triples.values()].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
  const rank = new Map(sorted.map((t, r) => [t.join(','), r]));
  return {
    ids: Array.from({ length: rows }, (_, i) => rank.get(lanes.map((l) => at(l, i)).join(','))!),
    region: sorted.map((t) => t[0]!), make: sorted.map((t) => t[1]!), color: sorted.map((t) => t[2]!),
  };
}

describe('packLabels = its plain definition', () => {
  it('on random lanes: u8 codes, u16 codes (from the first row or first met late), absent lanes, limits', () => {
    const r = rng(77);
    const reusedIds = new Uint16Array(20_000 + 7);
    for (let round = 0; round < 300; round++) {
      const rows = 1 + Math.floor(r() * (round % 10 === 0 ? 20_000 : 500));
      const distinct = [1, 3, 30, 300][round % 4]!;
      const wideAt = round % 3 === 0 ? Math.floor(r() * rows) : -1;
      const lane = (): Uint16Array | null => {
        if (r() < 0.15) return null;
        const l = new Uint16Array(rows);
        for (let i = 0; i < rows; i++) l[i] = Math.floor(r() * Math.min(distinct, 256));
        return l;
      };
      const lanes = [lane(), lane(), lane()];
      // a code past 255 at row wideAt: the byte path must hand the whole lane to the wide one
      if (wideAt >= 0 && lanes[1]) lanes[1][wideAt] = 256 + Math.floor(r() * 1000);
      const limit = r() < 0.3 ? 1 + Math.floor(r() * 200) : kMaxLabelTriples;
      // every other round into the same reused ids buffer (longer than rows, junk in it), as the loader does
      const into = round % 2 === 1 ? reusedIds.fill(0xbeef) : undefined;
      const got = packLabels(rows, lanes[0]!, lanes[1]!, lanes[2]!, limit, into);
      const want = plainPack(rows, lanes, limit);
      if (!want) {
        expect(got, `round ${round}`).toBeUndefined();
        continue;
      }
      expect(got, `round ${round}`).toBeDefined();
      expect(got!.ids.length, `round ${round}`).toBe(rows);
      expect([Array.from(got!.ids), Array.from(got!.region), Array.from(got!.make), Array.from(got!.color)], `round ${round}`)
        .toEqual([want.ids, want.region, want.make, want.color]);
    }
  });

  it('at the u16 edge: 65,536 distinct triples packed (ids up to 0xffff), 65,537 not, nor past a limit above it', () => {
    const r = rng(5);
    for (const distinct of [0x10000, 0x10001]) {
      const rows = distinct + 5_000;
      // triple t = (t >> 8, t & 0xff, t % 7): u8 codes in region and make (the byte path), every triple met, rows shuffled
      const t = Array.from({ length: rows }, (_, i) => (i < distinct ? i : Math.floor(r() * distinct)));
      for (let i = rows - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [t[i], t[j]] = [t[j]!, t[i]!];
      }
      const lanes = [Uint16Array.from(t, (x) => x >> 8), Uint16Array.from(t, (x) => x & 0xff), Uint16Array.from(t, (x) => x % 7)];
      for (const limit of [kMaxLabelTriples, 2 * kMaxLabelTriples]) {
        const got = packLabels(rows, lanes[0]!, lanes[1]!, lanes[2]!, limit, new Uint16Array(rows + 3));
        const want = distinct <= kMaxLabelTriples ? plainPack(rows, lanes, limit) : undefined;
        if (!want) {
          expect(got, `${distinct} triples, limit ${limit}`).toBeUndefined();
          continue;
        }
        expect([Array.from(got!.ids), Array.from(got!.region), Array.from(got!.make), Array.from(got!.color)], `${distinct} triples`)
          .toEqual([want.ids, want.region, want.make, want.color]);
      }
    }
  });

  it('tells apart triples whose codes would share bits in a byte key: (1, 0, 0) and (0, 256, 0)', () => {
    const region = Uint16Array.from([1, 0, 1, 0]), make = Uint16Array.from([0, 256, 0, 256]), color = new Uint16Array(4);
    const got = packLabels(4, region, make, color)!;
    expect([Array.from(got.ids), Array.from(got.region), Array.from(got.make)]).toEqual([[1, 0, 1, 0], [0, 1], [256, 0]]);
  });
});

