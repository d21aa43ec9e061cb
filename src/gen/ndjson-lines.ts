/**
 * A generator chunk as NDJSON bytes (one read a line, with its `tenant`) and as truth-file entries.
 *
 * A line is mostly constant pieces, copied whole, with the variable fields written in between:
 *
 *   {"tenant":"pd-metro","plate":"                     ← per camera
 *   7ZHR903                                             ← per vehicle (its record), or the misread
 *   ","camera":"pd-metro-fx-0182","ts":"2026-11-02T     ← per camera and UTC day
 *   08:00:00. 259Z","lat":                              ← per second of the day, per millisecond
 *   37.466101 ,"lon": -122.146183                       ← digits from integers (micro-degrees)
 *   ,"confidence":0.891                                 ← per thousandth
 *   ,"region":"CA","make":"JEEP","color":"BLACK"}\n     ← per label combination × the labels the read carries
 *
 * Numbers are written from integers (micro-degrees, thousandths) with all their fraction digits:
 * exact, locale-free, and they parse back to the doubles `generateReads` yields.
 * String building topped out near 180k reads/s (cons-string flattening, number formatting, GC);
 * copying pieces byte by byte, near 1.6M lines/s; in words, with the vehicle records gathered ahead
 * (see kWord, kGatherRows), about 3M lines/s on one core of the 2-core EPYC.
 */
import { formatTimestamp } from '../model/time.js';
import type { ReadChunk, ReadGenerator } from './generator.js';
import type { LineEncoder } from './line-encoder.js';
import { kMisreadKinds, type MisreadKind } from './ocr-errors.js';
import { kMsPerDay } from './traffic.js';

// Bytes reserved per vehicle for its plate: the longest plate API.md allows.
const kPlateSlot = 10;

/**
 * Pieces are copied 8 bytes at a time: read as one float64 from an aligned table, written with one
 * DataView store at any offset of the line buffer. A piece's last word may carry up to 7 bytes past its
 * end, which the next store overwrites (the buffer keeps room for them). Lines are ASCII and the words'
 * top byte is text or padding (< 0x7f), so no word is a NaN and every bit pattern survives the trip.
 * Measured: a 37-byte piece in ~15 ns this way, ~25 ns by TypedArray#set, ~50 ns by a byte loop.
 */
const kWord = 8;
/**
 * Words are read in the host's byte order (a Float64Array over the bytes) and stored little-endian: a
 * literal `true` keeps DataView's store at one instruction (the host's order in a constant cost ~5% of
 * encoding). Every host Node runs on here is little-endian; a big-endian one is refused, not garbled.
 */
const kHostLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Copies the `length`-byte piece at word `at` of `words` to out[p], in whole words; returns the new p. */
function piece(out: DataView, p: number, words: Float64Array, at: number, length: number): number {
  for (let k = 0; k < length; k += kWord) out.setFloat64(p + k, words[at++]!, true);
  return p + length;
}

/**
 * Constant pieces in one word-aligned table: `add` appends a piece and returns its word index
 * (its length is the string's). Text must be ASCII below 0x7f (see kWord).
 */
class PieceTable {
  private bytes = new Uint8Array(1 << 12);
  private used = 0;

  add(text: string): number {
    const at = this.used;
    const words = Math.ceil(text.length / kWord);
    if (at + words * kWord > this.bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.bytes.length, at + words * kWord));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x7f) throw new Error(`gen: line piece is not ASCII: ${JSON.stringify(text)}`);
      this.bytes[at + i] = c;
    }
    this.used = at + words * kWord;
    return at / kWord;
  }

  /** The pieces as words; the table may grow on, into a new buffer. */
  words(): Float64Array {
    return new Float64Array(this.bytes.buffer, 0, this.used / kWord);
  }
}

const two = (n: number) => String(n).padStart(2, '0');

/** `count` pieces of the same length, text(k) at word k · words-per-piece. */
function fixedWidthTable(count: number, text: (k: number) => string): { words: Float64Array; width: number; stride: number } {
  const width = text(0).length;
  const t = new PieceTable();
  for (let k = 0; k < count; k++) {
    if (text(k).length !== width) throw new Error('gen: pieces of a fixed-width table differ in length');
    t.add(text(k));
  }
  return { words: t.words(), width, stride: Math.ceil(width / kWord) };
}

// "HH:MM:SS." for every second of a day (1.4 MB; reads are in time order, so it is read in sequence).
const kClock = fixedWidthTable(86_400, (s) => `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.`);
// `mmmZ","lat":` for every millisecond.
const kMillis = fixedWidthTable(1000, (ms) => `${String(ms).padStart(3, '0')}Z","lat":`);
// `,"confidence":0.891` for every confidence in thousandths, 0 … 1.
const kConfidence = fixedWidthTable(1001, (k) => `,"confidence":${Math.floor(k / 1000)}.${String(k % 1000).padStart(3, '0')}`);
const kLon = fixedWidthTable(1, () => ',"lon":');
/** ASCII digits as little-endian words, for one DataView store of 4 or 2 digits. */
const kFourDigits = new Uint32Array(10_000);
const kTwoDigits = new Uint16Array(100);
// "7." … "180." (whole degrees and the point, up to 4 bytes) and their lengths.
const kWholeDot = new Uint32Array(1000);
const kWholeDotLength = new Uint8Array(1000);
{
  const word = (s: string) => {
    let w = 0;
    for (let i = s.length - 1; i >= 0; i--) w = (w << 8) | s.charCodeAt(i);
    return w >>> 0; // little-endian: the first character in the low byte
  };
  for (let k = 0; k < 10_000; k++) kFourDigits[k] = word(String(k).padStart(4, '0'));
  for (let k = 0; k < 100; k++) kTwoDigits[k] = word(two(k));
  for (let k = 0; k < 1000; k++) {
    kWholeDot[k] = word(`${k}.`);
    kWholeDotLength[k] = `${k}.`.length;
  }
}

/**
 * Writes k / 10^6 (a coordinate in micro-degrees, |k| < 10^9) with its 6 fraction digits at out[p];
 * returns the new p. 37466100 → 37.466100, -122146183 → -122.146183.
 */
function microDegrees(out: DataView, p: number, k: number): number {
  if (k < 0) {
    out.setUint8(p++, 45); // '-'
    k = -k;
  }
  const whole = Math.floor(k / 1_000_000);
  const frac = k - whole * 1_000_000;
  const high = Math.floor(frac / 100);
  out.setUint32(p, kWholeDot[whole]!, true);
  p += kWholeDotLength[whole]!;
  out.setUint32(p, kFourDigits[high]!, true);
  out.setUint16(p + 4, kTwoDigits[frac - high * 100]!, true);
  return p + 6;
}

/**
 * The constant pieces lines are made of, per camera and per vehicle: built once from the generator's
 * set-up, and plain data (typed arrays, strings), so the encoding thread can be handed them instead of
 * building the fleet again.
 */
export interface LineTables {
  /** Per camera: `{"tenant":…,"plate":"`. */
  head: string[];
  /** Per camera: `","camera":…,"ts":"` (the date follows, per day). */
  cameraField: string[];
  /**
   * Tails (region, make, colour, end of line), 4 per label combination by the read's label bits:
   * `}\n`, `,"region":…}\n`, `,"make":…,"color":…}\n`, both.
   */
  tails: string[];
  /**
   * One 16-byte record per vehicle, so that a read touches one cache line of its (random) vehicle:
   *
   *   0 … 9   plate, ASCII, zero-padded   (copied as two words; the padding is overwritten)
   *   12, 13  tail combination id, u16 little-endian
   *   15      plate length (the top byte of the second word: small, so the word is no NaN)
   */
  vehicles: Uint8Array;
  tenantJson: string[];
}

// Layout of LineTables.vehicles (see there).
const kVehicleBytes = 16;
const kVehicleTail = 12;
const kVehicleLength = 15;
/**
 * Rows whose vehicle records are gathered before their lines are written. Vehicles are random, so each
 * record is a cache miss; fetched in a loop of independent loads, the CPU overlaps them, where the line
 * loop (each store's offset depends on the last line's length) waited for each in turn: 40% of encoding.
 */
const kGatherRows = 256;

/** The line tables of a generator's cameras and fleet. */
export function lineTables(gen: ReadGenerator): LineTables {
  const { cameras } = gen.geography;
  const { fleet } = gen;
  // label combinations: small ids per region, make and colour, then one id per combination seen
  const small = new Map<string, number>();
  const idOf = (s: string) => {
    let id = small.get(s);
    if (id === undefined) small.set(s, (id = small.size));
    return id;
  };
  const combos = new Map<number, number>();
  const tails: string[] = [];
  const vehicles = new Uint8Array(fleet.size * kVehicleBytes);
  for (let v = 0; v < fleet.size; v++) {
    const region = fleet.region[v]!;
    const make = fleet.make[v]!;
    const color = fleet.color[v]!;
    const key = (idOf(region) * 4096 + idOf(make)) * 4096 + idOf(color);
    let id = combos.get(key);
    if (id === undefined) {
      id = combos.size;
      if (id > 0xffff) throw new Error('too many distinct region/make/colour combinations');
      combos.set(key, id);
      const r = `,"region":${JSON.stringify(region)}`;
      const labels = `,"make":${JSON.stringify(make)},"color":${JSON.stringify(color)}`;
      tails.push('}\n', `${r}}\n`, `${labels}}\n`, `${r}${labels}}\n`);
    }
    const plate = fleet.plate[v]!;
    if (plate.length > kPlateSlot) throw new Error(`plate ${plate} is longer than ${kPlateSlot} characters`);
    const at = v * kVehicleBytes;
    for (let k = 0; k < plate.length; k++) vehicles[at + k] = plate.charCodeAt(k);
    vehicles[at + kVehicleTail] = id & 0xff;
    vehicles[at + kVehicleTail + 1] = id >>> 8;
    vehicles[at + kVehicleLength] = plate.length;
  }
  return {
    head: cameras.map((c) => `{"tenant":${JSON.stringify(gen.tenants[c.tenant])},"plate":"`),
    cameraField: cameras.map((c) => `","camera":${JSON.stringify(c.id)},"ts":"`),
    tails,
    vehicles,
    tenantJson: gen.tenants.map((t) => JSON.stringify(t)),
  };
}

/** The buffers of `t` that postMessage may move instead of copying. */
export function lineTablesTransferList(t: LineTables): ArrayBuffer[] {
  return [t.vehicles.buffer as ArrayBuffer];
}

export class NdjsonLines {
  readonly counts: Record<MisreadKind | 'total', number> = {
    confusable: 0, 'other-substitution': 0, drop: 0, extra: 0, transposition: 0, total: 0,
  };
  /** Truth entries gathered since the last takeTruth(), comma-separated, one per line. */
  private truth = '';
  private firstMisread = true;
  /** Heads and tails: word index and length of each. */
  private readonly pieces: Float64Array;
  private readonly headAt: Int32Array;
  private readonly headLength: Int32Array;
  private readonly tailAt: Int32Array;
  private readonly tailLength: Int32Array;
  private readonly cameraField: readonly string[];
  private readonly vehicles: Uint8Array;
  private readonly vehicleWords: Float64Array;
  /** The records of the next kGatherRows rows' vehicles, gathered (see encode); bytes and words of one buffer. */
  private readonly gathered = new Uint8Array(kGatherRows * kVehicleBytes);
  private readonly gatheredWords = new Float64Array(this.gathered.buffer);
  private readonly tenantJson: readonly string[];
  /** The current UTC day's camera fields with the date: `","camera":…,"ts":"2026-11-02T`. */
  private day = Number.NaN;
  private dayPieces: Float64Array = new Float64Array(0);
  private readonly fieldAt: Int32Array;
  private readonly fieldLength: Int32Array;

  constructor(t: LineTables) {
    if (!kHostLittleEndian) throw new Error('gen: the NDJSON line encoder needs a little-endian host');
    const table = new PieceTable();
    const cameras = t.head.length;
    this.headAt = new Int32Array(cameras);
    this.headLength = new Int32Array(cameras);
    t.head.forEach((s, k) => {
      this.headAt[k] = table.add(s);
      this.headLength[k] = s.length;
    });
    this.tailAt = new Int32Array(t.tails.length);
    this.tailLength = new Int32Array(t.tails.length);
    t.tails.forEach((s, k) => {
      this.tailAt[k] = table.add(s);
      this.tailLength[k] = s.length;
    });
    this.pieces = table.words();
    this.cameraField = t.cameraField;
    this.fieldAt = new Int32Array(cameras);
    this.fieldLength = new Int32Array(cameras);
    this.vehicles = t.vehicles;
    this.vehicleWords = new Float64Array(t.vehicles.buffer, t.vehicles.byteOffset, t.vehicles.length / kWord);
    this.tenantJson = t.tenantJson;
  }

  /**
   * Encodes rows `from`… of `chunk` into `enc` until the chunk ends or `enc` holds `limit` bytes
   * (its capacity must exceed `limit` by one line and a word); returns the next row to encode.
   */
  encode(chunk: ReadChunk, from: number, enc: LineEncoder, limit: number): number {
    const buf = enc.buffer;
    const out = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const { vehicle: vehicleOf, camera: cameraOf, misread, ts: tsOf, latE6, lonE6, confidenceE3, labels } = chunk;
    const { pieces, vehicleWords, gathered, gatheredWords } = this;
    const count = chunk.count;
    let p = enc.pos;
    let i = from;
    let gatheredFrom = from;
    let gatheredTo = from;
    for (; i < count && p < limit; i++) {
      if (i === gatheredTo) {
        gatheredFrom = i;
        gatheredTo = Math.min(count, i + kGatherRows);
        for (let k = i, g = 0; k < gatheredTo; k++, g += 2) {
          const v = vehicleOf[k]!;
          gatheredWords[g] = vehicleWords[2 * v]!;
          gatheredWords[g + 1] = vehicleWords[2 * v + 1]!;
        }
      }
      const g = i - gatheredFrom;
      const camera = cameraOf[i]!;
      p = piece(out, p, pieces, this.headAt[camera]!, this.headLength[camera]!);
      const code = misread[i]!;
      if (code === 0) {
        out.setFloat64(p, gatheredWords[2 * g]!, true);
        out.setFloat64(p + kWord, gatheredWords[2 * g + 1]!, true);
        p += gathered[g * kVehicleBytes + kVehicleLength]!;
      } else {
        const plate = chunk.plate[i]!;
        for (let k = 0; k < plate.length; k++) out.setUint8(p++, plate.charCodeAt(k));
        this.recordMisread(chunk, i, code);
      }

      const ts = tsOf[i]!;
      const day = Math.floor(ts / kMsPerDay);
      if (day !== this.day) this.setDay(day);
      p = piece(out, p, this.dayPieces, this.fieldAt[camera]!, this.fieldLength[camera]!);
      const msOfDay = ts - day * kMsPerDay;
      const second = Math.floor(msOfDay / 1000);
      p = piece(out, p, kClock.words, second * kClock.stride, kClock.width);
      p = piece(out, p, kMillis.words, (msOfDay - second * 1000) * kMillis.stride, kMillis.width);

      p = microDegrees(out, p, latE6[i]!);
      p = piece(out, p, kLon.words, 0, kLon.width);
      p = microDegrees(out, p, lonE6[i]!);
      const thousandths = confidenceE3[i]!;
      if (thousandths > 1000) throw new Error(`gen: confidence ${thousandths / 1000} is not in [0, 1]`);
      p = piece(out, p, kConfidence.words, thousandths * kConfidence.stride, kConfidence.width);
      const at = g * kVehicleBytes + kVehicleTail;
      const tail = 4 * (gathered[at]! | (gathered[at + 1]! << 8)) + labels[i]!;
      p = piece(out, p, pieces, this.tailAt[tail]!, this.tailLength[tail]!);
    }
    enc.pos = p;
    return i;
  }

  /** The camera fields of UTC day `day`, with its date "YYYY-MM-DDT" from formatTimestamp. */
  private setDay(day: number): void {
    this.day = day;
    const iso = formatTimestamp(day * kMsPerDay);
    const date = iso.slice(0, iso.length - 13);
    const table = new PieceTable();
    this.cameraField.forEach((s, k) => {
      this.fieldAt[k] = table.add(s + date);
      this.fieldLength[k] = s.length + date.length;
    });
    this.dayPieces = table.words();
  }

  /** Vehicle `v`'s true plate, from its record. */
  private truePlate(v: number): string {
    const at = v * kVehicleBytes;
    let plate = '';
    for (let k = 0; k < this.vehicles[at + kVehicleLength]!; k++) plate += String.fromCharCode(this.vehicles[at + k]!);
    return plate;
  }

  private recordMisread(chunk: ReadChunk, i: number, code: number): void {
    const kind = kMisreadKinds[code - 1]!;
    this.counts[kind]++;
    this.counts.total++;
    this.truth += (this.firstMisread ? '' : ',\n') + '{"line":' + (chunk.first + i) + ',"tenant":' +
      this.tenantJson[chunk.tenant[i]!] + ',"plate":"' + chunk.plate[i] + '","truePlate":"' +
      this.truePlate(chunk.vehicle[i]!) + '","kind":"' + kind + '","edits":' + chunk.edits[i] + '}';
    this.firstMisread = false;
  }

  /** The truth entries gathered so far (for the `misreads` array), emptied. */
  takeTruth(): string {
    const out = this.truth;
    this.truth = '';
    return out;
  }
}
