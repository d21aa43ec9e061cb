/**
 * A generator chunk as NDJSON bytes (one read a line, with its `tenant`) and as truth-file entries.
 *
 * A line is mostly constant pieces, copied whole, with the variable fields written in between:
 *
 *   {"tenant":"pd-metro","plate":"  ← per camera
 *   7ZHR903                          ← per vehicle (or the misread)
 *   ","camera":"pd-metro-fx-0182","ts":"          ← per camera
 *   2026-11-02T 08:00:00. 259Z","lat":           ← per day, per second of day, per millisecond
 *   37.466101 ,"lon": -122.146183 ,"confidence": 0.891
 *   ,"region":"CA","make":"JEEP","color":"BLACK"}\n   ← per vehicle × which labels the read carries
 *
 * Numbers are written from integers (micro-degrees, thousandths) with all their fraction digits:
 * exact, locale-free, and they parse back to the doubles `generateReads` yields.
 * String building topped out near 180k reads/s (cons-string flattening, number formatting, GC);
 * this layout is what makes `gen` fast.
 */
import { formatTimestamp } from '../model/time.js';
import type { ReadChunk, ReadGenerator } from './generator.js';
import type { LineEncoder } from './line-encoder.js';
import { kMisreadKinds, type MisreadKind } from './ocr-errors.js';
import { kMsPerDay } from './traffic.js';

// Bytes reserved per vehicle for its plate: the longest plate API.md allows.
const kPlateSlot = 10;

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Table of `count` entries of `width` bytes, entry k = text(k). */
function table(count: number, width: number, text: (k: number) => string): Uint8Array {
  const t = new Uint8Array(count * width);
  for (let k = 0; k < count; k++) {
    const s = text(k);
    for (let i = 0; i < width; i++) t[k * width + i] = s.charCodeAt(i);
  }
  return t;
}

const two = (n: number) => String(n).padStart(2, '0');
// "HH:MM:SS." for every second of a day (778 kB).
const kClockWidth = 9;
const kClock = table(86_400, kClockWidth, (s) => `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.`);
// `mmmZ","lat":` for every millisecond.
const kMillisWidth = 12;
const kMillis = table(1000, kMillisWidth, (ms) => `${String(ms).padStart(3, '0')}Z","lat":`);
const kLon = ascii(',"lon":');
const kConfidence = ascii(',"confidence":');
// "00" … "99"
const kTwoDigits = table(100, 2, two);

/**
 * Writes k / 10^digits (|k| < 2^31, digits 3 or 6) with all its fraction digits at buf[p]; returns the new p.
 * (37466100, 6) → 37.466100, (891, 3) → 0.891.
 */
function fixed(buf: Uint8Array, p: number, k: number, digits: 3 | 6): number {
  if (k < 0) {
    buf[p++] = 45; // '-'
    k = -k;
  }
  const scale = digits === 6 ? 1_000_000 : 1000;
  const whole = (k / scale) | 0;
  let frac = k - whole * scale;
  if (whole >= 100) {
    const h = (whole / 100) | 0;
    const r = whole - h * 100;
    buf[p++] = 48 + h;
    buf[p++] = kTwoDigits[2 * r]!;
    buf[p++] = kTwoDigits[2 * r + 1]!;
  } else if (whole >= 10) {
    buf[p++] = kTwoDigits[2 * whole]!;
    buf[p++] = kTwoDigits[2 * whole + 1]!;
  } else {
    buf[p++] = 48 + whole;
  }
  buf[p++] = 46; // '.'
  if (digits === 6) {
    const a = (frac / 10000) | 0;
    frac -= a * 10000;
    buf[p++] = kTwoDigits[2 * a]!;
    buf[p++] = kTwoDigits[2 * a + 1]!;
    const b = (frac / 100) | 0;
    frac -= b * 100;
    buf[p++] = kTwoDigits[2 * b]!;
    buf[p++] = kTwoDigits[2 * b + 1]!;
  } else {
    const b = (frac / 100) | 0;
    frac -= b * 100;
    buf[p++] = 48 + b;
  }
  buf[p++] = kTwoDigits[2 * frac]!;
  buf[p++] = kTwoDigits[2 * frac + 1]!;
  return p;
}

/** Copies a whole constant piece to buf[p]; returns the new p. One native copy (TypedArray#set) beats
 * the byte loop from about 16 bytes on (measured: 28 ns against 63 ns for 32 bytes). */
function piece(buf: Uint8Array, p: number, src: Uint8Array): number {
  buf.set(src, p);
  return p + src.length;
}

/** Copies `length` bytes of `src` from `offset` to buf[p]; returns the new p. */
function copy(buf: Uint8Array, p: number, src: Uint8Array, offset: number, length: number): number {
  for (let i = 0; i < length; i++) buf[p++] = src[offset + i]!;
  return p;
}

/**
 * The constant pieces lines are made of, per camera and per vehicle: built once from the generator's
 * set-up, and plain data (typed arrays, strings), so the encoding thread can be handed them instead of
 * building the fleet again.
 */
export interface LineTables {
  /** Per camera: `{"tenant":…,"plate":"`. */
  head: Uint8Array[];
  /** Per camera: `","camera":…,"ts":"`. */
  cameraField: Uint8Array[];
  /**
   * Tails (region, make, colour, end of line) in a small shared table, 4 per label combination by the
   * read's label bits; vehicles point into it by a 16-bit id, so the hot loop touches a few kB
   * instead of one object per vehicle (random vehicles made that a cache miss per read).
   */
  tails: Uint8Array[];
  tailOf: Uint16Array;
  tenantJson: string[];
  truePlate: string[];
  /** True plates as bytes, kPlateSlot per vehicle, and their lengths: a correct read copies them. */
  plateBytes: Uint8Array;
  plateLength: Uint8Array;
}

/** The line tables of a generator's cameras and fleet. */
export function lineTables(gen: ReadGenerator): LineTables {
  const { cameras } = gen.geography;
  const { fleet } = gen;
  const ids = new Map<string, number>();
  const tails: Uint8Array[] = [];
  const tailOf = new Uint16Array(fleet.size);
  for (let v = 0; v < fleet.size; v++) {
    const region = `,"region":${JSON.stringify(fleet.region[v])}`;
    const labels = `,"make":${JSON.stringify(fleet.make[v])},"color":${JSON.stringify(fleet.color[v])}`;
    const key = region + labels;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      if (id > 0xffff) throw new Error('too many distinct region/make/colour combinations');
      ids.set(key, id);
      tails.push(ascii('}\n'), ascii(`${region}}\n`), ascii(`${labels}}\n`), ascii(`${region}${labels}}\n`));
    }
    tailOf[v] = id;
  }
  const plateBytes = new Uint8Array(fleet.size * kPlateSlot);
  const plateLength = new Uint8Array(fleet.size);
  fleet.plate.forEach((plate, v) => {
    plateLength[v] = plate.length;
    for (let k = 0; k < plate.length; k++) plateBytes[v * kPlateSlot + k] = plate.charCodeAt(k);
  });
  return {
    head: cameras.map((c) => ascii(`{"tenant":${JSON.stringify(gen.tenants[c.tenant])},"plate":"`)),
    cameraField: cameras.map((c) => ascii(`","camera":${JSON.stringify(c.id)},"ts":"`)),
    tails,
    tailOf,
    tenantJson: gen.tenants.map((t) => JSON.stringify(t)),
    truePlate: [...fleet.plate],
    plateBytes,
    plateLength,
  };
}

/** The buffers of `t` that postMessage may move instead of copying. */
export function lineTablesTransferList(t: LineTables): ArrayBuffer[] {
  return [t.tailOf, t.plateBytes, t.plateLength].map((a) => a.buffer as ArrayBuffer);
}

export class NdjsonLines {
  readonly counts: Record<MisreadKind | 'total', number> = {
    confusable: 0, 'other-substitution': 0, drop: 0, extra: 0, transposition: 0, total: 0,
  };
  /** Truth entries gathered since the last takeTruth(), comma-separated, one per line. */
  private truth = '';
  private firstMisread = true;
  private readonly head: Uint8Array[];
  private readonly cameraField: Uint8Array[];
  private readonly tails: Uint8Array[];
  private readonly tailOf: Uint16Array;
  private readonly tenantJson: string[];
  private readonly truePlate: readonly string[];
  private readonly plateBytes: Uint8Array;
  private readonly plateLength: Uint8Array;
  private day = Number.NaN;
  private date: Uint8Array = new Uint8Array(0);

  constructor(t: LineTables) {
    this.head = t.head;
    this.cameraField = t.cameraField;
    this.tails = t.tails;
    this.tailOf = t.tailOf;
    this.tenantJson = t.tenantJson;
    this.truePlate = t.truePlate;
    this.plateBytes = t.plateBytes;
    this.plateLength = t.plateLength;
  }

  /**
   * Encodes rows `from`… of `chunk` into `enc` until the chunk ends or `enc` holds `limit` bytes
   * (its capacity must exceed `limit` by one line); returns the next row to encode.
   */
  encode(chunk: ReadChunk, from: number, enc: LineEncoder, limit: number): number {
    const buf = enc.buffer;
    let p = enc.pos;
    let i = from;
    for (; i < chunk.count && p < limit; i++) {
      const vehicle = chunk.vehicle[i]!;
      const camera = chunk.camera[i]!;
      p = piece(buf, p, this.head[camera]!);
      const code = chunk.misread[i]!;
      if (code === 0) {
        p = copy(buf, p, this.plateBytes, vehicle * kPlateSlot, this.plateLength[vehicle]!);
      } else {
        const plate = chunk.plate[i]!;
        for (let k = 0; k < plate.length; k++) buf[p++] = plate.charCodeAt(k);
        this.recordMisread(chunk, i, code);
      }
      p = piece(buf, p, this.cameraField[camera]!);

      const ts = chunk.ts[i]!;
      const day = Math.floor(ts / kMsPerDay);
      if (day !== this.day) this.setDay(day);
      p = copy(buf, p, this.date, 0, this.date.length);
      const msOfDay = ts - day * kMsPerDay;
      const second = Math.floor(msOfDay / 1000);
      p = copy(buf, p, kClock, second * kClockWidth, kClockWidth);
      p = copy(buf, p, kMillis, (msOfDay - second * 1000) * kMillisWidth, kMillisWidth);

      p = fixed(buf, p, Math.round(chunk.lat[i]! * 1e6), 6);
      p = copy(buf, p, kLon, 0, kLon.length);
      p = fixed(buf, p, Math.round(chunk.lon[i]! * 1e6), 6);
      p = copy(buf, p, kConfidence, 0, kConfidence.length);
      p = fixed(buf, p, Math.round(chunk.confidence[i]! * 1000), 3);
      p = piece(buf, p, this.tails[4 * this.tailOf[vehicle]! + chunk.labels[i]!]!);
    }
    enc.pos = p;
    return i;
  }

  /** The date part of `ts`, "YYYY-MM-DDT", from formatTimestamp once per UTC day. */
  private setDay(day: number): void {
    this.day = day;
    const iso = formatTimestamp(day * kMsPerDay);
    this.date = ascii(iso.slice(0, iso.length - 13));
  }

  private recordMisread(chunk: ReadChunk, i: number, code: number): void {
    const kind = kMisreadKinds[code - 1]!;
    this.counts[kind]++;
    this.counts.total++;
    this.truth += (this.firstMisread ? '' : ',\n') + '{"line":' + (chunk.first + i) + ',"tenant":' +
      this.tenantJson[chunk.tenant[i]!] + ',"plate":"' + chunk.plate[i] + '","truePlate":"' +
      this.truePlate[chunk.vehicle[i]!] + '","kind":"' + kind + '","edits":' + chunk.edits[i] + '}';
    this.firstMisread = false;
  }

  /** The truth entries gathered so far (for the `misreads` array), emptied. */
  takeTruth(): string {
    const out = this.truth;
    this.truth = '';
    return out;
  }
}
