/**
 * One shard of a bulk load (src/store/bulk-load.ts) built from its own lanes: the job holds the shard's rows
 * in seq order, copied out of the load's accumulator (typed arrays; plates as keys, src/store/plate-key.ts;
 * labels as the load's codes, with the load's label values), and owns them. That makes the build a pure
 * function of the job, so it runs on the build thread (src/store/bulk-build-thread.ts) with the lanes
 * transferred, not copied, while the loading thread goes on feeding the parse workers; or on the loading
 * thread itself (small shards, no built worker). Both give the same bytes.
 *
 * The build: row order (sortOrder: hour ‖ Z-order cell ‖ seq), each lane permuted into it one at a time (into
 * the buffer of the lane permuted before it, so the job's lanes exist about once), plates sorted
 * and deduped as numbers (codePlates), labels coded into the shard's sorted dictionaries, then the file
 * (shard-format.ts writeShardFile). Sealing and the put stay with the caller (the keys and the object store
 * are the loading thread's).
 */
import { storedShardBytes } from './shard-format-v3.js';
import { sortOrder, writeShardFile, type CodedDict, type ShardMeta, type ShardSource } from './shard-format.js';
import { plateOfKey, writePlateSlot } from './plate-key.js';
import { kPlateSlotBytes } from '../core/segment.js';
import { freshLanes, type LaneSource } from './lane-pool.js';

/** A label field's load-wide values: `codes` index them (optional fields: code 0 = none, values[0] = ""). */
export interface JobLabel {
  values: readonly string[];
  optional: boolean;
  codes: Int32Array;
}

/** The rows of one shard, in seq order, owned by the job (the build may detach or reuse every array). */
export interface BulkShardJob {
  tenant: string;
  ordinal: number;
  day: number;
  ts: Float64Array;
  seq: Float64Array;
  /** NaN when absent. */
  conf: Float64Array;
  /** Plate keys. */
  plate: Float64Array;
  lat: Int32Array;
  lon: Int32Array;
  camera: JobLabel;
  region: JobLabel;
  make: JobLabel;
  color: JobLabel;
  /** Each row's client read id; empty when no row has one. */
  readId: (string | undefined)[];
}

/** The job's buffers, for a transfer list. */
export function bulkJobTransfer(job: BulkShardJob): ArrayBuffer[] {
  const lanes = [job.ts, job.seq, job.conf, job.plate, job.lat, job.lon, job.camera.codes, job.region.codes, job.make.codes, job.color.codes];
  return lanes.map((l) => l.buffer as ArrayBuffer);
}

const kNoF64 = new Float64Array(0);
const kNoI32 = new Int32Array(0);

/**
 * The shard file of a job, and its meta (the job's lanes are let go on the way: their buffers hold garbage
 * after, for the caller to reuse). `letGo` runs once the lanes are in shard order and the plates coded (the
 * build thread collects garbage there). The build's own big arrays come from `lanes` and go back to it.
 */
export function buildBulkShard(job: BulkShardJob, letGo?: () => void, lanes: LaneSource = freshLanes): { bytes: Uint8Array; meta: ShardMeta } {
  const n = job.ts.length;
  const order = sortOrder(laneSource(job), lanes);
  // one lane at a time into a spare lane of its type, and the seq-order lane it came from is the next one's
  // spare: the build holds the job's lanes plus one lane of each type, not a second copy of every lane
  // (a copy of each cost ~70 MiB more peak RSS at 2M reads, in 1M-row day shards). The two spares taken
  // from `lanes` end as the ts and lat lanes; the job's last two lanes are left over.
  const tookF64 = lanes.f64(n), tookI32 = lanes.i32(n);
  let spareF64: Float64Array = tookF64;
  let spareI32: Int32Array = tookI32;
  const f64 = (lane: 'ts' | 'seq' | 'conf' | 'plate') => {
    const out = gatherF64(job[lane], order, spareF64);
    spareF64 = job[lane];
    job[lane] = kNoF64;
    return out;
  };
  const i32 = (lane: 'lat' | 'lon') => {
    const out = gatherI32(job[lane], order, spareI32);
    spareI32 = job[lane];
    job[lane] = kNoI32;
    return out;
  };
  const label = (name: 'camera' | 'region' | 'make' | 'color') => {
    const out = codeLabel(job[name], order, spareI32);
    spareI32 = job[name].codes;
    job[name].codes = kNoI32;
    return out;
  };
  const ts = f64('ts'), seq = f64('seq'), conf = f64('conf'), keys = f64('plate'), lat = i32('lat'), lon = i32('lon');
  const camera = label('camera'), region = label('region'), make = label('make'), color = label('color');
  spareF64 = kNoF64;
  spareI32 = kNoI32;
  // without read ids the writer reads past the end of an empty list (undefined: none)
  const readId: (string | undefined)[] = [];
  if (job.readId.length > 0) for (let i = 0; i < n; i++) readId.push(job.readId[order[i]!]);
  const { plate, dict, m } = codePlates(keys, lanes);
  lanes.give(order);
  // the label lists and what a fresh build's spare lanes, sort keys and plate table left are garbage now: the
  // build thread collects them before the file is laid out, so they are not held beside it
  letGo?.();
  const writeSlots = (slots: Uint8Array) => writePlateSlots(dict, m, slots);
  // the file in a buffer of `lanes` too: the caller gives it back once sealed (src/store/bulk-build-thread.ts)
  const file = writeShardFile(job.tenant, job.ordinal, job.day, { ts, seq, lat, lon, conf, readId, plate, plateCount: m, writeSlots, camera, region, make, color }, lanes);
  lanes.give(tookF64, tookI32, plate, dict);
  // the lanes as an open holds them (format 3: src/store/shard-format-v3.ts), re-encoded here on the build thread,
  // in place in the file's buffer
  return { bytes: storedShardBytes(file.bytes), meta: file.meta };
}

// Loops of the build's once-a-shard steps are functions of their own (here, in codeLabel, codePlates and
// shard-format.ts): V8 optimizes a function called once a shard only on-stack in a loop, and that code was thrown
// away at the first line after the loop, once a shard (bench/RESULTS.md "Bulk load: lines found once …").
function writePlateSlots(dict: Float64Array, m: number, slots: Uint8Array): void {
  for (let d = 0; d < m; d++) writePlateSlot(dict[d]!, slots, d * kPlateSlotBytes);
}

/** The job's rows as a ShardSource (what sortOrder reads: ts, lat, lon). */
function laneSource(job: BulkShardJob): ShardSource {
  const label = (l: JobLabel) => (i: number) => (l.optional && l.codes[i] === 0 ? undefined : l.values[l.codes[i]!]);
  return {
    length: job.ts.length,
    seq: (i) => job.seq[i]!,
    ts: (i) => job.ts[i]!,
    latE7: (i) => job.lat[i]!,
    lonE7: (i) => job.lon[i]!,
    plate: (i) => plateOfKey(job.plate[i]!),
    camera: label(job.camera) as (i: number) => string,
    region: label(job.region),
    confidence: (i) => (Number.isNaN(job.conf[i]!) ? undefined : job.conf[i]!),
    make: label(job.make),
    color: label(job.color),
    readId: (i) => job.readId[i],
  };
}

/**
 * The shard dictionary of a label over the rows `order` picks (shard order): the values used, sorted (as
 * encodeDictValues sorts them; optional: "" first), and each row's index into it (written into `into`).
 */
function codeLabel(label: JobLabel, order: Uint32Array, into: Int32Array): CodedDict {
  const { values, optional, codes } = label;
  const n = order.length;
  const used = new Uint8Array(values.length);
  markUsed(codes, n, used);
  const base = optional ? 1 : 0;
  const list: number[] = [];
  for (let c = base; c < used.length; c++) if (used[c]) list.push(c);
  list.sort((x, y) => (values[x]! < values[y]! ? -1 : values[x]! > values[y]! ? 1 : 0));
  const remap = new Int32Array(values.length);
  list.forEach((c, rank) => (remap[c] = rank + base));
  const indices = into;
  const nulls = remapRows(codes, order, remap, indices, optional);
  const sorted = list.map((c) => values[c]!);
  return { values: optional ? ['', ...sorted] : sorted, indices, nulls };
}

function markUsed(codes: Int32Array, n: number, used: Uint8Array): void {
  for (let i = 0; i < n; i++) used[codes[i]!] = 1;
}

/** indices[i] = remap[codes[order[i]]]; returns the rows of code 0 when optional (none). */
function remapRows(codes: Int32Array, order: Uint32Array, remap: Int32Array, indices: Int32Array, optional: boolean): number {
  let nulls = 0;
  for (let i = 0; i < order.length; i++) {
    const c = codes[order[i]!]!;
    indices[i] = remap[c]!;
    if (c === 0 && optional) nulls++;
  }
  return nulls;
}

// One function per array type: a loop over lanes of both types in one function makes its element reads
// polymorphic, several times slower than these.
export function gatherF64(lane: Float64Array, at: Uint32Array, out: Float64Array = new Float64Array(at.length)): Float64Array {
  for (let i = 0; i < at.length; i++) out[i] = lane[at[i]!]!;
  return out;
}

export function gatherI32(lane: Int32Array, at: Uint32Array, out: Int32Array = new Int32Array(at.length)): Int32Array {
  for (let i = 0; i < at.length; i++) out[i] = lane[at[i]!]!;
  return out;
}

/**
 * The sorted plate dictionary of a shard's plate keys, and each row's index into it: the distinct keys found
 * with an open-addressing hash table over the numbers (one probe or two a row), then only those sorted by a
 * stable LSD radix sort of their indices, which gives each distinct key its rank as it places it. Numeric
 * order of keys = string order of plates.
 *
 * A key is an integer below 2^53 (src/store/plate-key.ts): its low 32 bits sort in three passes (11, 11, 10
 * bits) and its high 21 in two (11, 10), all five histograms counted in one pass first; a pass whose digit is
 * the same for every key is skipped. Before, the distinct keys went through the native Float64Array sort and
 * each then back through the hash table for its rank: half of codePlates' time at 300k rows with 146k
 * distinct (bench/RESULTS.md "Bulk load: lines found once, plate ranks by radix …"). Sorting all rows by key
 * instead of the distinct ones was slower: the last pass over the rows in key order reads and writes at
 * random. `codePlatesPlain` is the definition it is held to (test/plate-key.test.ts).
 */
export function codePlates(keys: Float64Array, lanes: LaneSource = freshLanes): { plate: Int32Array; dict: Float64Array; m: number } {
  const n = keys.length;
  const size = Math.max(16, 2 ** Math.ceil(Math.log2(2 * n + 1)));
  // a distinct key's index + 1; 0 = empty. Cleared, as a pooled buffer holds its last use (a memset of pages
  // already in memory, where a fresh table faulted each of its pages in: 8–16 B a row)
  const table = lanes.i32(size).fill(0);
  const distinct = lanes.f64(n);
  const first = lanes.i32(n);
  const m = distinctKeys(keys, table, distinct, first);
  lanes.give(table);
  const { dict, rankOf } = rankKeys(distinct, m, lanes);
  lanes.give(distinct);
  const plate = lanes.i32(n);
  rowRanks(first, rankOf, plate);
  lanes.give(first, rankOf);
  return { plate, dict, m };
}

/** The distinct keys in order of first appearance into `distinct`, each row's index among them into `first`; returns their count. */
function distinctKeys(keys: Float64Array, table: Int32Array, distinct: Float64Array, first: Int32Array): number {
  const mask = table.length - 1;
  let m = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    for (let h = slotOfKey(k, mask); ; h = (h + 1) & mask) {
      const d = table[h]! - 1;
      if (d < 0) {
        table[h] = m + 1;
        distinct[m] = k;
        first[i] = m++;
        break;
      }
      if (distinct[d] === k) {
        first[i] = d;
        break;
      }
    }
  }
  return m;
}

/** A hash table slot of a key (an integer below 2^53: its low and high 32 bits, mixed). */
function slotOfKey(k: number, mask: number): number {
  let h = Math.imul((k >>> 0) ^ Math.imul(Math.floor(k / 4294967296), 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return h & mask;
}

/** keys[0..m) (distinct) sorted ascending, and each one's place in that order (radix, see codePlates). */
function rankKeys(keys: Float64Array, m: number, lanes: LaneSource): { dict: Float64Array; rankOf: Int32Array } {
  const lo = lanes.u32(m), hi = lanes.u32(m);
  // histograms of the five digits, one after another: 2048 buckets each (the last two use 1024)
  const counts = new Int32Array(5 << 11);
  digitCounts(keys, m, lo, hi, counts);
  let order = lanes.u32(m), spare = lanes.u32(m);
  identity(order);
  for (let pass = 0; pass < 5; pass++) {
    const base = pass << 11;
    if (!startsOfDigit(counts, base, m)) continue; // one bucket holds every key: the order stays
    radixPass(order, spare, pass < 3 ? lo : hi, pass === 0 || pass === 3 ? 0 : pass === 1 || pass === 4 ? 11 : 22, counts, base);
    const t = order;
    order = spare;
    spare = t;
  }
  const dict = lanes.f64(m);
  const rankOf = lanes.i32(m);
  placeKeys(order, keys, dict, rankOf);
  lanes.give(lo, hi, order, spare);
  return { dict, rankOf };
}

function digitCounts(keys: Float64Array, m: number, lo: Uint32Array, hi: Uint32Array, counts: Int32Array): void {
  for (let i = 0; i < m; i++) {
    const k = keys[i]!;
    const l = k >>> 0, h = Math.floor(k / 4294967296) >>> 0;
    lo[i] = l;
    hi[i] = h;
    counts[l & 0x7ff]!++;
    counts[2048 + ((l >>> 11) & 0x7ff)]!++;
    counts[4096 + (l >>> 22)]!++;
    counts[6144 + (h & 0x7ff)]!++;
    counts[8192 + (h >>> 11)]!++;
  }
}

function rowRanks(first: Int32Array, rankOf: Int32Array, plate: Int32Array): void {
  for (let i = 0; i < first.length; i++) plate[i] = rankOf[first[i]!]!;
}

function identity(order: Uint32Array): void {
  for (let i = 0; i < order.length; i++) order[i] = i;
}

/** One stable counting pass: `from` reordered into `to` by the 11-bit digit of `lane` at `shift`. */
function radixPass(from: Uint32Array, to: Uint32Array, lane: Uint32Array, shift: number, counts: Int32Array, base: number): void {
  for (let j = 0; j < from.length; j++) {
    const i = from[j]!;
    to[counts[base + ((lane[i]! >>> shift) & 0x7ff)]!++] = i;
  }
}

/** dict in key order, and each key's place in it. */
function placeKeys(order: Uint32Array, keys: Float64Array, dict: Float64Array, rankOf: Int32Array): void {
  for (let j = 0; j < order.length; j++) {
    const i = order[j]!;
    dict[j] = keys[i]!;
    rankOf[i] = j;
  }
}

/**
 * counts[base .. base + 2048) → each bucket's first place (an exclusive prefix sum, in place); false when one
 * bucket holds all `n` keys (the pass would move nothing).
 */
function startsOfDigit(counts: Int32Array, base: number, n: number): boolean {
  let at = 0;
  for (let d = base; d < base + 2048; d++) {
    const c = counts[d]!;
    if (c === n) return false;
    counts[d] = at;
    at += c;
  }
  return true;
}

/**
 * The definition codePlates is held to (test/plate-key.test.ts): the distinct keys sorted as numbers, and each
 * row's index among them.
 */
export function codePlatesPlain(keys: Float64Array): { plate: Int32Array; dict: Float64Array; m: number } {
  const dict = Float64Array.from(new Set(keys)).sort();
  const rank = new Map<number, number>();
  dict.forEach((k, j) => rank.set(k, j));
  return { plate: Int32Array.from(keys, (k) => rank.get(k)!), dict, m: dict.length };
}
