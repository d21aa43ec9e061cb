/**
 * The columnar WAL record (kind 3, src/store/wal-record-columns.ts): random batches round trip through it
 * (every optional field present, absent and mixed; non-ASCII labels; more distinct labels than each code
 * width holds; a batch's subset with seqs, as a batch spanning days is split); damage that passes the
 * frame's CRC is refused with PS_CORRUPT_FILE naming the file; and a log mixing kinds 1, 2 and 3 replays
 * to the same reads as the same rows written as kinds 1 and 2 only (the format current main wrote).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { decodeColumnsRecord, encodeColumnsRecord, type WalColumns } from '../src/store/wal-record-columns.js';
import { decodeRecord, encodeReadsRecord, encodeRewriteRecord, type RowRecord } from '../src/store/wal-record.js';
import type { ReadColumns } from '../src/store/read-columns.js';
import { columnsOfRows } from './helpers/wal-columns.js';
import { plateKey } from '../src/store/plate-key.js';
import { WalWriter } from '../src/store/wal.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { lastBySeq } from '../src/store/rows-by-seq.js';
import { dayOf } from '../src/store/shard-format.js';
import { openEngine } from '../src/engine/index.js';
import { kDay, kT0, randomPlate, rng, tempDataDir } from './helpers/engine-data.js';

/** Row k of a decoded record as a row record (absent fields left out). */
function rowOf(w: WalColumns, k: number): RowRecord {
  const c = w.columns;
  const r: RowRecord = {
    seq: w.seqs ? w.seqs[k]! : w.firstSeq + k, plate: '', ts: c.ts[k]!, latE7: c.latE7[k]!, lonE7: c.lonE7[k]!, camera: c.camera.values[c.camera.ids[k]!]!,
  };
  const label = (col: ReadColumns['region']) => (col.ids[k]! < 0 ? undefined : col.values[col.ids[k]!]);
  if (label(c.region) !== undefined) r.region = label(c.region);
  if (!Number.isNaN(c.confidence[k]!)) r.confidence = c.confidence[k]!;
  if (label(c.make) !== undefined) r.make = label(c.make);
  if (label(c.color) !== undefined) r.color = label(c.color);
  if (label(c.readId) !== undefined) r.readId = label(c.readId);
  return r;
}

const strange = ['Région-Île', 'Ümlaut', '東京都', 'emoji 🚓', '', 'ascii', 'x'.repeat(300)];

/** A random batch; `labels` distinct cameras (and regions), `p` the chance each optional field is present. */
function randomRows(r: () => number, n: number, firstSeq: number, labels: number, p: number): RowRecord[] {
  const plates = Array.from({ length: Math.max(1, n >> 2) }, () => randomPlate(r));
  const label = (prefix: string) => (r() < 0.2 ? strange[Math.floor(r() * strange.length)]! : `${prefix}-${Math.floor(r() * labels)}`);
  return Array.from({ length: n }, (_, i) => {
    const row: RowRecord = {
      seq: firstSeq + i, plate: plates[Math.floor(r() * plates.length)]!, ts: kT0 + Math.floor(r() * 3 * kDay) - (r() < 0.05 ? 40 * 365 * kDay : 0),
      latE7: Math.round((r() * 180 - 90) * 1e7), lonE7: Math.round((r() * 360 - 180) * 1e7), camera: label('cam'),
    };
    if (r() < p) row.region = label('reg');
    if (r() < p) row.confidence = r() < 0.5 ? Math.floor(r() * 101) / 100 : r();
    if (r() < p) row.make = ['FORD', 'TOYOTA', 'Škoda', ''][Math.floor(r() * 4)];
    if (r() < p) row.color = ['RED', 'BLUE', 'grün'][Math.floor(r() * 3)];
    if (r() < p) row.readId = `rid-${i}-${Math.floor(r() * 1e9)}-${r() < 0.1 ? 'ß' : ''}`;
    return row;
  });
}

describe('columnar WAL record (kind 3)', () => {
  it('round trips random batches: whole, and subsets with seqs; optional fields present, absent, mixed; non-ASCII; every code width', () => {
    const r = rng(3);
    const cases: Array<[n: number, labels: number, p: number]> = [
      [0, 4, 0.5], [1, 4, 0], [1, 4, 1], [7, 3, 0.5], [500, 20, 0], [500, 20, 1], [3000, 40, 0.5],
      [2000, 600, 0.7], // > 255 distinct: u16 codes
      [100_000, 1_000_000, 1], // > 65535 distinct cameras and readIds: i32 codes
    ];
    for (const [n, labels, p] of cases) {
      const rows = randomRows(r, n, 1 + Math.floor(r() * 1e9), labels, p);
      if (n === 100_000) expect(new Set(rows.map((x) => x.camera)).size).toBeGreaterThan(0xffff);
      const c = columnsOfRows(rows);
      const file = `/x/${n}.wal`;
      // the whole batch, consecutive seqs
      const whole = decodeColumnsRecord(file, encodeColumnsRecord(c, Int32Array.from(rows, (_, i) => i), rows[0]?.seq ?? 1));
      expect(whole.seqs).toBeUndefined();
      expect(whole.columns.length).toBe(n);
      const back = rows.map((_, k) => rowOf(whole, k));
      for (let k = 0; k < n; k++) back[k]!.plate = rows[k]!.plate;
      expect(back).toEqual(rows);
      expect(Array.from(whole.columns.plate)).toEqual(rows.map((x) => plateKey(x.plate)));
      // through the row reader (tests and tools): plates as strings
      expect(decodeRecord(file, encodeColumnsRecord(c, Int32Array.from(rows, (_, i) => i), rows[0]?.seq ?? 1)).rows).toEqual(rows);
      // a random subset in random order with its own seqs, as one UTC day of a batch: only its own labels
      const pick = rows.map((_, i) => i).filter(() => r() < 0.4).sort(() => r() - 0.5);
      const seqs = pick.map(() => Math.floor(r() * 2 ** 40));
      const part = decodeColumnsRecord(file, encodeColumnsRecord(c, pick, 0, seqs));
      expect(Array.from(part.seqs ?? [])).toEqual(seqs);
      const want = pick.map((i, k) => ({ ...rows[i]!, seq: seqs[k]! }));
      const got = pick.map((_, k) => ({ ...rowOf(part, k), plate: want[k]!.plate }));
      expect(got).toEqual(want);
      const used = (f: (x: RowRecord) => string | undefined) => new Set(want.map(f).filter((v) => v !== undefined)).size;
      expect(part.columns.camera.values.length).toBe(used((x) => x.camera));
      expect(part.columns.readId.values.length).toBe(used((x) => x.readId));
    }
  });

  it('refuses damage that passes the CRC (every truncation, a wrong layout or flag, codes and plate keys out of range, trailing bytes) with PS_CORRUPT_FILE naming the file', () => {
    const rows = randomRows(rng(5), 40, 1000, 5, 0.6);
    rows[3]!.region = 'R';
    rows[4]!.readId = 'id-4';
    const payload = encodeColumnsRecord(columnsOfRows(rows), rows.map((_, i) => i), 1000);
    const file = '/data/tenants/pd-a/wal/00000000000000a1.wal';
    const refused = (p: Uint8Array) => {
      try {
        decodeColumnsRecord(file, p);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('PS_CORRUPT_FILE');
        expect((err as Error).message).toContain(file);
        return true;
      }
      return false;
    };
    expect(refused(payload)).toBe(false);
    for (let cut = 0; cut < payload.length; cut++) expect(refused(payload.subarray(0, cut)), `cut at ${cut}`).toBe(true);
    expect(refused(Buffer.concat([payload, Buffer.from([0])]))).toBe(true);
    const edit = (at: number, v: number) => {
      const p = Buffer.from(payload);
      p[at] = v;
      return p;
    };
    expect(refused(edit(1, 2))).toBe(true); // layout version
    expect(refused(edit(3, 0x80))).toBe(true); // unknown flag
    expect(refused(edit(4, 41))).toBe(true); // row count
    const n = rows.length;
    const plateAt = 16 + 16 * n;
    const p = Buffer.from(payload);
    p.writeDoubleLE(37 ** 10, plateAt + 8 * 5);
    expect(refused(p)).toBe(true);
    const q = Buffer.from(payload);
    q.writeDoubleLE(0.5, plateAt);
    expect(refused(q)).toBe(true);
    // the camera codes are the bytes right after the camera labels: one row coded past the labels, one absent
    const cameraAt = plateAt + 8 * n + (rows.some((x) => x.confidence !== undefined) ? 8 * n : 0);
    const count = payload.readUInt32LE(cameraAt);
    let valueBytes = 0;
    for (let v = 0; v < count; v++) valueBytes += payload.readUInt32LE(cameraAt + 4 + 4 * v);
    const codesAt = cameraAt + 4 + 4 * count + valueBytes;
    expect(payload[codesAt]).toBeLessThan(count);
    expect(refused(edit(codesAt + 7, count))).toBe(true);
    expect(refused(edit(codesAt + 7, 0xff))).toBe(true);
  });
});

describe('replay of a log mixing kinds 1, 2 and 3', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  /**
   * A data dir of tenant pd-a (one read appended through the engine, so seq 1) plus these records, each
   * group of them appended to a WAL file of its own by the log writer (encrypted, as the engine writes):
   * every read the engine then serves, as JSON, sorted. Nothing is sealed (the rows are replay's).
   */
  async function replayed(files: Uint8Array[][]): Promise<string[]> {
    const { dir, cleanup } = await tempDataDir('ps-walcols-');
    cleanups.push(cleanup);
    const e1 = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 3_600_000 });
    await e1.append('pd-a', [{ plate: 'FIRST1', ts: kT0, lat: 40, lon: -74, camera: 'cam-first' }]);
    await e1.close();
    const { keys } = await openDataDirKeys(dir, undefined);
    for (const [f, records] of files.entries()) {
      const w = await WalWriter.create(join(dir, 'tenants', 'pd-a', 'wal'), 100 + f, { keys, tenant: 'pd-a' });
      await Promise.all(records.map((p) => w.append(p, dayOfRecord(p))));
      await w.close();
    }
    const engine = await openEngine({ dataDir: dir, threads: 0, sealAgeMs: 3_600_000 });
    try {
      expect(engine.stats().corruptFiles).toEqual([]);
      const got = await engine.search([{ tenant: 'pd-a', minTs: 0 }], { filter: {}, limit: 1_000_000 });
      return got.hits.map((h) => JSON.stringify(h)).sort();
    } finally {
      await engine.close();
    }
  }

  /** The UTC day of a record's first row (the lane it is written under). */
  function dayOfRecord(p: Uint8Array): number {
    const rows = decodeRecord('x', p).rows;
    return rows.length > 0 ? dayOf(rows[0]!.ts) : 0;
  }

  it('answers the same reads as the same rows written as kinds 1 and 2', { timeout: 120_000 }, async () => {
    const r = rng(9);
    const written: RowRecord[] = [];
    const legacy: Uint8Array[][] = [[], []];
    const mixed: Uint8Array[][] = [[], []];
    let seq = 2;
    for (let b = 0; b < 60; b++) {
      const f = b < 30 ? 0 : 1;
      const rows = randomRows(r, 1 + Math.floor(r() * 400), seq, 30, r());
      seq += rows.length;
      written.push(...rows);
      // one record per UTC day, as appends write a batch spanning days
      const days = new Map<number, number[]>();
      rows.forEach((x, i) => {
        const d = dayOf(x.ts);
        days.set(d, [...(days.get(d) ?? []), i]);
      });
      const c = columnsOfRows(rows);
      const kind = r();
      for (const idx of days.values()) {
        const dayRows = idx.map((i) => rows[i]!);
        legacy[f]!.push(encodeRewriteRecord(dayRows));
        if (days.size === 1) mixed[f]!.push(kind < 0.5 ? encodeColumnsRecord(c, idx, rows[0]!.seq) : encodeReadsRecord(rows[0]!.seq, rows));
        else mixed[f]!.push(kind < 0.5 ? encodeColumnsRecord(c, idx, 0, dayRows.map((x) => x.seq)) : encodeRewriteRecord(dayRows));
      }
      if (r() < 0.3) {
        // a retention-style rewrite repeating earlier rows, some changed: the copy read last wins
        const again = Array.from({ length: 1 + Math.floor(r() * 50) }, () => {
          const old = written[Math.floor(r() * written.length)]!;
          return r() < 0.5 ? old : { ...randomRows(r, 1, old.seq, 30, 0.5)[0]!, readId: old.readId };
        });
        const rewrite = encodeRewriteRecord(again);
        legacy[f]!.push(rewrite);
        mixed[f]!.push(rewrite);
        written.push(...again);
      }
    }
    const mixedKinds = new Set(mixed.flat().map((p) => p[0]));
    expect(mixedKinds).toEqual(new Set([0x93, 3]));
    const want = await replayed(legacy);
    expect(want.length).toBe(lastBySeq(written).length + 1);
    expect(await replayed(mixed)).toEqual(want);
  });
});
