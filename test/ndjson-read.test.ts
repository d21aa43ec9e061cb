/**
 * The NDJSON byte reader (src/ingest/ndjson-read.ts) against the path it short-cuts, JSON.parse then
 * validateRead: on random lines (valid reads, and reads mutated in every way the reader has a branch for:
 * escapes, non-ASCII, odd numbers, duplicates, nulls, extra and missing fields, whitespace, nesting, very
 * long values) the reader accepts a line only when the slow path accepts it, and then gives the same read.
 * It must also take the common shapes itself (else the fast path would be dead code).
 */
import { describe, expect, it } from 'vitest';
import { csvFieldBits, NdjsonByteReader } from '../src/ingest/ndjson-read.js';
import { csvRowToObject } from '../src/ingest/parse-chunk.js';
import { validateRead } from '../src/model/read.js';
import { plateOfKey } from '../src/store/plate-key.js';
import { StringColumnBuilder } from '../src/store/read-columns.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const kNumbers = ['0', '-0', '1', '-1', '1e2', '1E-2', '0.5', '-0.0', '1.', '.5', '01', '-', '+1', '1e', '1e+', '45.123456789012345678',
  '37.337934', '-121.841393', '90', '90.0000001', '-180', '180.5', '1e400', '-1e-400', '0.000000000000000000001234', '123456789012345678901234',
  '2.2250738585072014e-308', '0.1e1', '1e22', '1e23', '9007199254740993', '0.892', '1.0', '1e0', '0e5', '-0e-5', 'NaN', 'Infinity', '1_0'];
const kStrings = ['"ABC123"', '"abc 123"', '"AB-C1"', '"ÄBC1"', '"\\u0041BC"', '"A\\"B"', '""', '" "', '"ABCDEFGHIJK"', '"ABCDEFGHIJ"',
  '"cam-1"', '"cam\\n1"', '"cäm"', '"\u200bcam"', '"x"', `"${'c'.repeat(64)}"`, `"${'c'.repeat(65)}"`, '"\x7f"', '"\u00a0cam"',
  '"2026-11-02T08:00:01.370Z"', '"2026-11-02T08:00:01Z"', '"2026-11-02T08:00:01.370+01:00"', '"2026-02-30T08:00:01.370Z"',
  '"2026-11-02T24:00:01.370Z"', '"2026-11-02t08:00:01.370z"', '"2026-11-02T08:00:01.3709Z"', '"2026-11-02T08:60:01.370Z"',
  '"1700000000000"', '"2024-02-29T23:59:59.999Z"', '"2023-02-29T23:59:59.999Z"', '"0000-01-01T00:00:00.000Z"', '"2026-1a-02T08:00:01.370Z"'];
const kLiterals = ['null', 'true', 'false', 'nul', '{}', '[]', '[1]', '{"a":1}', 'tru'];

function value(rnd: () => number): string {
  const k = rnd();
  return k < 0.45 ? pick(rnd, kNumbers) : k < 0.9 ? pick(rnd, kStrings) : pick(rnd, kLiterals);
}

function goodRead(rnd: () => number): Record<string, unknown> {
  const r: Record<string, unknown> = {
    tenant: 'pd-metro',
    plate: pick(rnd, ['CM62TAW', '1PHF778', 'ab12cd', 'A B-1', 'X']),
    camera: `pd-metro-fx-${Math.floor(rnd() * 400)}`,
    ts: rnd() < 0.7 ? new Date(1.7e12 + Math.floor(rnd() * 1e11)).toISOString() : Math.floor(1.7e12 + rnd() * 1e11) + (rnd() < 0.2 ? 0.5 : 0),
    lat: Math.round((rnd() * 180 - 90) * 1e6) / 1e6,
    lon: Math.round((rnd() * 360 - 180) * 1e6) / 1e6,
  };
  if (rnd() < 0.6) r.confidence = Math.round(rnd() * 1000) / 1000;
  if (rnd() < 0.6) r.region = pick(rnd, ['CA', 'GB', '', 'NV']);
  if (rnd() < 0.3) r.make = pick(rnd, ['MERCEDES-BENZ', 'FORD', '']);
  if (rnd() < 0.3) r.color = pick(rnd, ['BLACK', 'WHITE']);
  if (rnd() < 0.1) r.readId = `rid-${Math.floor(rnd() * 1e6)}`;
  return r;
}

const kKeys = ['plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color', 'readId', 'tenant', 'extra', 'Plate', 'pläte'];

// keys one byte off a read field's, as long as it: a learned key shape (KeyShape) must not take them
const kNearKeys = ['"platE"', '"plates"', '"camerb"', '"tz"', '"lan"', '"lot"', '"confidencE"', '"regioN"', '"makes"', '"colour"', '"readID"', '"tenanT"', '"ts "', '"p\u0041"'];

/**
 * A line: a good read written with a random key order (or, `feedOrder`, the order feeds send: every line's
 * keys in the same order, so the reader's learned key shape is met), then mutated.
 */
function line(rnd: () => number, feedOrder = false): string {
  const r = goodRead(rnd);
  let entries = Object.entries(r).map(([k, v]) => [JSON.stringify(k), JSON.stringify(v)] as [string, string]);
  if (!feedOrder) entries.sort(() => rnd() - 0.5);
  else if (rnd() < 0.15 && entries.length > 0) entries[Math.floor(rnd() * entries.length)]![0] = pick(rnd, kNearKeys);
  const mutations = rnd() < 0.4 ? 0 : 1 + Math.floor(rnd() * 3);
  for (let m = 0; m < mutations; m++) {
    const k = rnd();
    if (k < 0.35 && entries.length > 0) entries[Math.floor(rnd() * entries.length)]![1] = value(rnd); // a field's value replaced
    else if (k < 0.5) entries.push([JSON.stringify(pick(rnd, kKeys)), value(rnd)]); // a field added (or duplicated)
    else if (k < 0.6 && entries.length > 0) entries.splice(Math.floor(rnd() * entries.length), 1); // a field dropped
    else if (k < 0.65) entries.push(['"plate"', JSON.stringify(pick(rnd, ['ab\u00e9c1', 'a\u{1F600}b', 'zz-9', '\u00c4']))]);
    else if (k < 0.7 && entries.length > 0) entries[0]![0] = '"\\u0070late"'; // an escaped key
    else if (k < 0.75) entries.push(['"ts"', JSON.stringify('2026-11-02T08:00:01.370Z')]);
    else if (k < 0.8) entries.push(['"region"', 'null']);
    else if (k < 0.85) entries.push(['"confidence"', 'null']);
  }
  const ws = () => pick(rnd, ['', '', '', ' ', '\t', '  ']);
  let text = `${ws()}{${ws()}${entries.map(([k, v]) => `${k}${ws()}:${ws()}${v}`).join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
  const t = rnd();
  if (t < 0.02) text = text.slice(0, Math.floor(rnd() * text.length)); // cut short
  else if (t < 0.03) text += ',';
  else if (t < 0.04) text = `[${text}]`;
  else if (t < 0.05) text = text.replace('{', '{"a":{"b":[1,2,{"c":null}]},');
  else if (t < 0.06) text = text.replace('}', `,"note":"${'é'.repeat(5000)}"}`); // a very long line
  else if (t < 0.07) text = text.replace(':', ': \u00a0');
  else if (t < 0.08) text = text.replace('{', '{,');
  else if (t < 0.09) text = '\ufeff' + text;
  return text;
}

/** The slow path's read of `text` (undefined = rejected), as the byte reader's fields. */
function slow(text: string) {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = validateRead(value);
  if (!v.ok) return undefined;
  const r = v.read;
  return { plate: r.plate, ts: r.ts, lat: r.lat, lon: r.lon, camera: r.camera, region: r.region, make: r.make, color: r.color, confidence: r.confidence ?? NaN, readId: r.readId };
}

describe('NDJSON byte reader = JSON.parse + validateRead', () => {
  it.each([
    ['random key orders', false],
    ['the keys in feed order (the learned key shape met and missed)', true],
  ])('accepts only what the slow path accepts, with the same read (random lines, %s)', (_, feedOrder) => {
    const rnd = prng(feedOrder ? 12 : 11);
    const reader = new NdjsonByteReader();
    let fast = 0, slowOk = 0;
    for (let t = 0; t < 25_000; t++) {
      const text = line(rnd, feedOrder);
      const bytes = Buffer.from(`xx${text}yy`); // the line inside a bigger piece
      const want = slow(text);
      if (want) slowOk++;
      const got = reader.read(bytes, 2, bytes.length - 2);
      if (!got) continue;
      fast++;
      expect(want, text).toBeDefined();
      const o = reader.out;
      const text1 = (at: number, end: number) => (at < 0 ? undefined : bytes.toString('latin1', at, end));
      const mine = { plate: plateOfKey(o.plateKey), ts: o.ts, lat: o.lat, lon: o.lon, camera: text1(o.cameraAt, o.cameraEnd), region: text1(o.regionAt, o.regionEnd),
        make: text1(o.makeAt, o.makeEnd), color: text1(o.colorAt, o.colorEnd), confidence: o.confidence, readId: o.readId };
      // Object.is: -0 and 0 told apart, NaN equal to NaN
      expect(Object.entries(mine).every(([k, v]) => Object.is(v, (want as Record<string, unknown>)[k])), `${text}\n${JSON.stringify(mine)}\n${JSON.stringify(want)}`).toBe(true);
    }
    // the common shapes go the fast way (most accepted lines)
    expect(fast).toBeGreaterThan(slowOk * 0.6);
    expect(slowOk).toBeGreaterThan(4_000);
  });

  it('numbers: every JSON number token converts as JSON.parse converts it', () => {
    const rnd = prng(5);
    const reader = new NdjsonByteReader();
    for (let t = 0; t < 30_000; t++) {
      const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
      let tok = (rnd() < 0.3 ? '-' : '') + (rnd() < 0.2 ? '0' : String(1 + Math.floor(rnd() * 9)) + digits(Math.floor(rnd() * 18)));
      if (rnd() < 0.7) tok += '.' + digits(1 + Math.floor(rnd() * 20));
      if (rnd() < 0.3) tok += pick(rnd, ['e', 'E']) + pick(rnd, ['', '+', '-']) + String(Math.floor(rnd() * 30));
      const text = `{"plate":"A1","ts":1,"lat":0,"lon":0,"camera":"c","confidence":0.5,"x":${tok},"lat":${tok}}`.replace('"lat":0,', '');
      const want = slow(text);
      const got = reader.read(Buffer.from(text), 0, text.length);
      expect(got, text).toBe(want !== undefined);
      if (got) expect(Object.is(reader.out.lat, want!.lat), text).toBe(true);
    }
  });

  it('a label column coded from bytes gives every row its value (many distinct values, table growth, strings mixed in)', () => {
    const rnd = prng(8);
    const n = 30_000;
    const col = new StringColumnBuilder(n);
    const want: (string | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      const v = rnd() < 0.05 ? undefined : `cam-${Math.floor(rnd() * (i < 10_000 ? 50 : 5000))}${rnd() < 0.1 ? 'x'.repeat(Math.floor(rnd() * 50)) : ''}`;
      want.push(v);
      if (v === undefined || rnd() < 0.1) col.set(i, v);
      else {
        const b = Buffer.from(`..${v}..`);
        col.setBytes(i, b, 2, 2 + v.length);
      }
    }
    const c = col.build(n);
    expect(Array.from(c.ids, (id) => (id < 0 ? undefined : c.values[id]))).toEqual(want);
    expect(c.values.length).toBeLessThan(n / 2);
  });

  it('plain CSV rows: accepted only when csvRowToObject + validateRead accept them, with the same read', () => {
    const rnd = prng(21);
    const reader = new NdjsonByteReader();
    const header = ['id', 'plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color', 'readId'];
    const bits = csvFieldBits(header)!;
    const cells = ['', ' ', '1', '-0', '0x10', 'Infinity', ' 1', '1e2', '-0123', '0012', '45.5', '1.', '\t', 'ÄB', 'ab c', 'cam\tx', 'x'.repeat(65),
      '2026-11-02T08:00:01.370Z', '2026-11-02T08:00:01+02:00', '1700000000000', '-1', '0.5', '1.5', 'pd-cam'];
    let fast = 0;
    for (let t = 0; t < 20_000; t++) {
      const r = goodRead(rnd);
      const row = header.map((h) => (h === 'id' ? 'x' : r[h] === undefined ? '' : String(r[h])));
      for (let m = Math.floor(rnd() * 3); m > 0; m--) row[Math.floor(rnd() * row.length)] = pick(rnd, cells);
      const text = row.join(',');
      const v = validateRead(csvRowToObject(header, row));
      const bytes = Buffer.from(text);
      const starts = new Int32Array(header.length), ends = new Int32Array(header.length);
      let k = 0, s0 = 0;
      for (let i = 0; i <= bytes.length; i++) if (i === bytes.length || bytes[i] === 0x2c) { starts[k] = s0; ends[k++] = i; s0 = i + 1; }
      if (k !== header.length || !reader.readCsvRow(bytes, starts, ends, bits)) continue;
      fast++;
      expect(v.ok, text).toBe(true);
      if (!v.ok) continue;
      const o = reader.out;
      const text1 = (at: number, end: number) => (at < 0 ? undefined : bytes.toString('latin1', at, end));
      const mine = { plate: plateOfKey(o.plateKey), ts: o.ts, lat: o.lat, lon: o.lon, camera: text1(o.cameraAt, o.cameraEnd), region: text1(o.regionAt, o.regionEnd),
        make: text1(o.makeAt, o.makeEnd), color: text1(o.colorAt, o.colorEnd), confidence: o.confidence, readId: o.readId };
      const w = v.read;
      const want = { plate: w.plate, ts: w.ts, lat: w.lat, lon: w.lon, camera: w.camera, region: w.region, make: w.make, color: w.color, confidence: w.confidence ?? NaN, readId: w.readId };
      expect(Object.entries(mine).every(([key, x]) => Object.is(x, (want as Record<string, unknown>)[key])), `${text}\n${JSON.stringify(mine)}\n${JSON.stringify(want)}`).toBe(true);
    }
    expect(fast).toBeGreaterThan(5_000);
  });
});
