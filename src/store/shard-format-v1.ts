/**
 * Shard files, format 1 (kept to read data dirs written before format 2, and to write them in tests of the
 * migration, src/store/shard-migrate.ts): an uncompressed Arrow IPC file (Feather v2) of full-width columns.
 * Format 2 (src/store/shard-format.ts) replaced it; nothing but the migration and its tests uses this file.
 *
 *   D/tenants/<tenant>/shards/<yyyymmdd>-<generation 8 hex>.arrow   (generation: a per-tenant counter)
 *
 *   column     Arrow type                          note
 *   ts         Timestamp(ms, UTC)
 *   lat_e7     Int32   degrees × 1e7
 *   lon_e7     Int32   degrees × 1e7
 *   plate      Dictionary<Int32, Utf8>, sorted
 *   camera     Dictionary<Int32, Utf8>
 *   region     Dictionary<Int32, Utf8>, nullable   entry 0 is a placeholder, null rows hold 0
 *   seq        Int64   the tenant's append seq
 *   confidence Float64, nullable
 *   make       Dictionary<Int32, Utf8>, nullable   entry 0 placeholder, as region
 *   color      Dictionary<Int32, Utf8>, nullable   entry 0 placeholder, as region
 *   read_id    Utf8, nullable
 *   plate_rows UInt32  row indexes ordered by (plate, row)
 *
 * Schema metadata: platesearch.format = "platesearch-shard", platesearch.version = "1", platesearch.meta
 * (ShardMeta JSON), block_rows, zones (base64 of f64[blocks × 6]).
 */
import {
  Dictionary, Field, Float64, Int32, Int64, makeData, makeVector, RecordBatch, Schema, Struct, Table, tableFromIPC,
  tableToIPC, TimestampMillisecond, Uint32, Utf8, type Data, type Vector,
} from 'apache-arrow';
import { kBlockRows, kCoordScale } from '../core/segment.js';
import { CorruptFile, UnsupportedFormat } from '../errors.js';
import { encodeDict, kMaxShardRows, kShardFormat, rowRecordSource, sortOrder, type ShardMeta, type ShardSource } from './shard-format.js';
import type { RowRecord } from './wal-record.js';

export const kShardVersionV1 = 1;

const utf8 = new Utf8();
const enc = new TextEncoder();

function utf8Vector(values: readonly string[]): Vector<Utf8> {
  const offsets = new Int32Array(values.length + 1);
  const joined = values.join('');
  let data: Uint8Array;
  if (Buffer.byteLength(joined) === joined.length) {
    // ASCII (every plate, most labels): one encode, offsets from string lengths
    data = enc.encode(joined);
    for (let i = 0; i < values.length; i++) offsets[i + 1] = offsets[i]! + values[i]!.length;
  } else {
    const bytes = values.map((v) => enc.encode(v));
    for (let i = 0; i < bytes.length; i++) offsets[i + 1] = offsets[i]! + bytes[i]!.length;
    data = new Uint8Array(offsets[values.length]!);
    for (let i = 0; i < bytes.length; i++) data.set(bytes[i]!, offsets[i]!);
  }
  return makeVector(makeData({ type: utf8, length: values.length, nullCount: 0, valueOffsets: offsets, data }));
}

/** Dictionary id counter: ids only need to be unique inside one file. */
function dictColumn(id: number, values: readonly string[], indices: Int32Array, validity?: Uint8Array, nullCount = 0): Data<Dictionary<Utf8, Int32>> {
  const type = new Dictionary(utf8, new Int32(), id, false);
  return makeData({ type, length: indices.length, nullCount, nullBitmap: validity, data: indices, dictionary: utf8Vector(values) });
}

/** Writes integer `v` (|v| < 2^53) into an i64 slot viewed as two i32 (little-endian lo, hi). */
function setI64(view: Int32Array, i: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  view[2 * i] = (v - hi * 4294967296) | 0;
  view[2 * i + 1] = hi;
}

/** Builds the bytes of one format 1 shard file from one tenant's rows of one UTC day (in seq order). */
export function buildShardV1(tenant: string, ordinal: number, day: number, rowsOrSource: readonly RowRecord[] | ShardSource): { bytes: Uint8Array; meta: ShardMeta } {
  const src = Array.isArray(rowsOrSource) ? rowRecordSource(rowsOrSource as readonly RowRecord[]) : (rowsOrSource as ShardSource);
  const n = src.length;
  if (n > kMaxShardRows) throw new RangeError(`a shard holds at most ${kMaxShardRows} rows`);
  // row i of the shard is row order[i] of the source
  const order = sortOrder(src);

  const plateDict = encodeDict(n, (i) => src.plate(order[i]!), false);
  const cameraDict = encodeDict(n, (i) => src.camera(order[i]!), false);
  const plates = plateDict.values;
  const cameras = cameraDict.values;
  const plate = plateDict.indices;
  const camera = cameraDict.indices;

  const ts = new BigInt64Array(n);
  const ts32 = new Int32Array(ts.buffer);
  const lat = new Int32Array(n);
  const lon = new Int32Array(n);
  const seq = new BigInt64Array(n);
  const seq32 = new Int32Array(seq.buffer);
  const conf = new Float64Array(n);
  const confValid = new Uint8Array(Math.ceil(n / 8));
  let confNulls = 0;
  let minTs = Infinity, maxTs = -Infinity, minSeq = Infinity, maxSeq = -Infinity;
  const tsOf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = order[i]!;
    const t = src.ts(o), s = src.seq(o);
    tsOf[i] = t;
    setI64(ts32, i, t);
    lat[i] = src.latE7(o);
    lon[i] = src.lonE7(o);
    setI64(seq32, i, s);
    const c = src.confidence(o);
    if (c !== undefined) {
      conf[i] = c;
      confValid[i >> 3]! |= 1 << (i & 7);
    } else confNulls++;
    if (t < minTs) minTs = t;
    if (t > maxTs) maxTs = t;
    if (s < minSeq) minSeq = s;
    if (s > maxSeq) maxSeq = s;
  }
  const region = encodeDict(n, (i) => src.region(order[i]!), true);
  const make = encodeDict(n, (i) => src.make(order[i]!), true);
  const color = encodeDict(n, (i) => src.color(order[i]!), true);

  // read ids: a plain nullable Utf8 column
  const ridOffsets = new Int32Array(n + 1);
  const ridBytes: Uint8Array[] = [];
  const ridValid = new Uint8Array(Math.ceil(n / 8));
  let ridNulls = 0;
  const none = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    const id = src.readId(order[i]!);
    const b = id === undefined ? none : enc.encode(id);
    if (id === undefined) ridNulls++;
    else ridValid[i >> 3]! |= 1 << (i & 7);
    ridBytes.push(b);
    ridOffsets[i + 1] = ridOffsets[i]! + b.length;
  }
  const ridData = new Uint8Array(ridOffsets[n]!);
  for (let i = 0; i < n; i++) ridData.set(ridBytes[i]!, ridOffsets[i]!);

  // plate → rows: a counting sort of row indexes by plate (stable, so rows ascend within a plate)
  const counts = new Uint32Array(plates.length + 1);
  for (let i = 0; i < n; i++) counts[plate[i]! + 1]!++;
  for (let p = 0; p < plates.length; p++) counts[p + 1]! += counts[p]!;
  const postings = new Uint32Array(n);
  for (let i = 0; i < n; i++) postings[counts[plate[i]!]!++] = i;

  // zone maps per block, in degrees as the kernels compare them
  const blocks = Math.ceil(n / kBlockRows);
  const zones = new Float64Array(blocks * 6);
  for (let b = 0; b < blocks; b++) {
    let a0 = Infinity, a1 = -Infinity, b0 = Infinity, b1 = -Infinity, c0 = Infinity, c1 = -Infinity;
    for (let i = b * kBlockRows, end = Math.min(n, i + kBlockRows); i < end; i++) {
      const t = tsOf[i]!;
      if (t < a0) a0 = t;
      if (t > a1) a1 = t;
      const la = lat[i]! / kCoordScale, lo = lon[i]! / kCoordScale;
      if (la < b0) b0 = la;
      if (la > b1) b1 = la;
      if (lo < c0) c0 = lo;
      if (lo > c1) c1 = lo;
    }
    zones.set([a0, a1, b0, b1, c0, c1], b * 6);
  }

  const meta: ShardMeta = { tenant, ordinal, day, rows: n, minTs, maxTs, minSeq, maxSeq, dictCount: plates.length };
  const metadata = new Map<string, string>([
    ['platesearch.format', kShardFormat],
    ['platesearch.version', String(kShardVersionV1)],
    ['platesearch.meta', JSON.stringify(meta)],
    ['platesearch.block_rows', String(kBlockRows)],
    ['platesearch.zones', Buffer.from(zones.buffer, zones.byteOffset, zones.byteLength).toString('base64')],
    ['platesearch.coords', 'lat_e7 and lon_e7 are degrees x 1e7'],
  ]);

  const datas: Data[] = [
    makeData({ type: new TimestampMillisecond('UTC'), length: n, nullCount: 0, data: ts }),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: lat }),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: lon }),
    dictColumn(0, plates, plate),
    dictColumn(1, cameras, camera),
    dictColumn(2, region.values, region.indices, region.validity, region.nulls),
    makeData({ type: new Int64(), length: n, nullCount: 0, data: seq }),
    makeData({ type: new Float64(), length: n, nullCount: confNulls, nullBitmap: confValid, data: conf }),
    dictColumn(3, make.values, make.indices, make.validity, make.nulls),
    dictColumn(4, color.values, color.indices, color.validity, color.nulls),
    makeData({ type: utf8, length: n, nullCount: ridNulls, nullBitmap: ridValid, valueOffsets: ridOffsets, data: ridData }),
    makeData({ type: new Uint32(), length: n, nullCount: 0, data: postings }),
  ];
  const names = ['ts', 'lat_e7', 'lon_e7', 'plate', 'camera', 'region', 'seq', 'confidence', 'make', 'color', 'read_id', 'plate_rows'];
  const nullable = new Set(['region', 'confidence', 'make', 'color', 'read_id']);
  const schema = new Schema(datas.map((d, i) => new Field(names[i]!, d.type, nullable.has(names[i]!))), metadata);
  const table = new Table(schema, [new RecordBatch(schema, structOf(schema, datas, n))]);
  return { bytes: tableToIPC(table, 'file'), meta };
}

function structOf(schema: Schema, children: Data[], length: number): Data<Struct> {
  return makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
}

/** Schema-level facts of a shard file; throws coded errors naming `file`. */
export function readShardHeaderV1(file: string, table: Table): { meta: ShardMeta; zones: Float64Array } {
  const md = table.schema.metadata;
  if (md.get('platesearch.format') !== kShardFormat) throw CorruptFile(`Not a platesearch shard: ${file}`, { file });
  if (md.get('platesearch.version') !== String(kShardVersionV1)) {
    throw UnsupportedFormat(`Shard format version ${md.get('platesearch.version')} is not supported: ${file}`, { file });
  }
  if (md.get('platesearch.block_rows') !== String(kBlockRows)) {
    throw UnsupportedFormat(`Shard block size ${md.get('platesearch.block_rows')} is not supported: ${file}`, { file });
  }
  let meta: ShardMeta;
  try {
    meta = JSON.parse(md.get('platesearch.meta') ?? '');
  } catch {
    throw CorruptFile(`Shard metadata does not parse: ${file}`, { file });
  }
  const z = Buffer.from(md.get('platesearch.zones') ?? '', 'base64');
  const zones = new Float64Array(z.byteLength / 8);
  new Uint8Array(zones.buffer).set(z);
  if (zones.length !== Math.ceil(meta.rows / kBlockRows) * 6 || table.numRows !== meta.rows) {
    throw CorruptFile(`Shard row count disagrees with its metadata: ${file}`, { file });
  }
  return { meta, zones };
}

/** Parses shard bytes with apache-arrow; a structural failure is a coded error naming the file. */
export function parseShardV1(file: string, bytes: Uint8Array): Table {
  try {
    return tableFromIPC(bytes);
  } catch (err) {
    throw CorruptFile(`Shard is not a readable Arrow IPC file: ${file} (${(err as Error).message})`, { file });
  }
}

/**
 * Every row of a parsed shard as row records (compaction and retention rewrites; never on a query path).
 * Reads the columns as arrays, not through Arrow's row accessors.
 */
export function shardTableRowsV1(table: Table): RowRecord[] {
  const n = table.numRows;
  if (n === 0) return [];
  const col = (name: string) => table.getChild(name)!.data[0]!;
  const ts = new Int32Array((col('ts').values as BigInt64Array).buffer, (col('ts').values as BigInt64Array).byteOffset, 2 * n);
  const seq = new Int32Array((col('seq').values as BigInt64Array).buffer, (col('seq').values as BigInt64Array).byteOffset, 2 * n);
  const i64 = (v: Int32Array, i: number) => v[2 * i + 1]! * 4294967296 + (v[2 * i]! >>> 0);
  const lat = col('lat_e7').values as Int32Array;
  const lon = col('lon_e7').values as Int32Array;
  const dict = (name: string) => ({ idx: col(name).values as Int32Array, values: col(name).dictionary!.toArray() as string[] });
  const plate = dict('plate'), camera = dict('camera'), region = dict('region'), make = dict('make'), color = dict('color');
  const conf = col('confidence');
  const confValues = conf.values as Float64Array;
  const valid = (d: { nullCount: number; nullBitmap?: Uint8Array | null }, i: number) =>
    d.nullCount === 0 || (d.nullBitmap != null && ((d.nullBitmap[i >> 3]! >> (i & 7)) & 1) === 1);
  const rid = col('read_id');
  const ridOffsets = rid.valueOffsets as Int32Array;
  const ridData = rid.values as Uint8Array;
  const dec = new TextDecoder();
  const out: RowRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r: RowRecord = {
      seq: i64(seq, i), plate: plate.values[plate.idx[i]!]!, ts: i64(ts, i), latE7: lat[i]!, lonE7: lon[i]!, camera: camera.values[camera.idx[i]!]!,
    };
    if (region.idx[i] !== 0) r.region = region.values[region.idx[i]!]!;
    if (valid(conf, i)) r.confidence = confValues[i]!;
    if (make.idx[i] !== 0) r.make = make.values[make.idx[i]!]!;
    if (color.idx[i] !== 0) r.color = color.values[color.idx[i]!]!;
    if (rid.nullCount !== n && valid(rid, i)) r.readId = dec.decode(ridData.subarray(ridOffsets[i]!, ridOffsets[i + 1]!));
    out[i] = r;
  }
  return out;
}

/** Every row of format 1 shard bytes as row records (the migration's and the seal worker's reader). */
export function shardRowsV1(file: string, bytes: Uint8Array): RowRecord[] {
  const table = parseShardV1(file, bytes);
  readShardHeaderV1(file, table);
  return shardTableRowsV1(table);
}
