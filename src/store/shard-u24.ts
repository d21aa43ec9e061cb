/**
 * A loaded shard's ts, lat and lon lanes re-encoded in memory as u24 offsets from per-run bases
 * (src/core/base-lanes.ts): 3 B a value instead of the file's 4, −3 B a read when all three fit (issue 11:
 * resident bytes per read; docs/storage-v2.md "Round 4", step 5). The file keeps its lanes (format 2
 * unchanged, no migration); this runs once at load, in place in the shard's arena region, before
 * compactSeqLane (src/store/seq-blocks.ts), and the loader then shrinks the region.
 *
 *   file                                memory after narrowU24Lanes
 *   ts      u32 × rows (from tsBase)    ts      u24 × rows + pad     ts − tsBase − the run's ts base
 *   lat     i32 × rows                  lat     u24 × rows + pad     lat − the run's lat base
 *   lon     i32 × rows                  lon     u24 × rows + pad
 *                                       bases   32 B × runs          i32 [ts, lat, lon, 0] minima, then maxima, per kBaseRows rows
 *   plate   u32 × rows (> 65,536 plates) plate u24 × rows + pad      the code itself (no base)
 *   camera … (every later lane)         camera … moved down, each still 64-aligned
 *   postings u32 × rows (> 65,536 rows) postings u24 × rows + pad     the row index itself (no base)
 *
 * Each of the three lanes is narrowed only when every run of kBaseRows rows spans < 2^24 (a ts lane only
 * when it is u32: an i64 lane holds rows outside the shard's day); otherwise it keeps its width, so a shard
 * may narrow lat and lon but not ts. Nothing is approximated.
 *
 * The plate → rows lane (postings) is u32 in a file of more than 65,536 rows (u16 up to that): its values are
 * row numbers, < 2^24 in any shard (a tenant-day shard at 20M reads holds ~240k rows), so it is u24 in memory
 * with no bases (step 5b: 3.96 → 3.00 B/read at 20M density). Only JS reads it (rowsReader in
 * src/core/segment.ts: the kernels never see postings), so the kernel ABI is unchanged. It narrows whether or
 * not ts / lat / lon do; the bases exist only when one of those does.
 *
 * The plate lane likewise (step 5e): u32 in a file whose shard dictionary has more than 65,536 plates (u16 up to
 * that), its values the shard's own codes (< its dictionary's size, which no install changes: a covered shard
 * reads its plates through a code → tenant id map, src/store/shard-loader.ts), so it is u24 in memory whenever
 * the dictionary has at most 2^24 entries (`plateU24Limit`). The kernel reads it (`dist[plate[r]]`: ABI 9,
 * the plate field of S_WIDTHS = 3), and every JS reader through plateCodeReader (src/core/segment.ts).
 *
 * Both lanes at their exact bits (docs/storage-v2.md, "Plate and postings lanes at their exact bits"): a u32 postings
 * or plate lane whose largest value (rows − 1, dictCount − 1) fits `packedLimit.bits` bits (default 23: at 24 the
 * u24 lane is as small and cheaper to read) is bit-packed instead of u24 (src/core/packed-lanes.ts): 18 bits a row
 * index in a shard of at most 262,144 rows, 2.25 B instead of 3. The lane then has width 0 and `bits` in the header,
 * the layout plateWidth / postingsWidth 0 and plateBits / postingsBits; the kernel reads the plate lane's bits from
 * S_WIDTHS (ABI 11). A lane whose values need more bits stays u24 (or u32 past 2^24), as before.
 *
 *   file                                  memory
 *   plate     u32 × rows                  plate     w bits × rows + 4 pad   w = bits(dictCount − 1) ≤ 23, else u24
 *   postings  u32 × rows                  postings  w bits × rows + 4 pad   w = bits(rows − 1) ≤ 23, else u24
 */
import { baseRuns, fitsU24, kBaseBytes, runExtents, u24LaneBytes, writeBases, writeU24 } from '../core/base-lanes.js';
import { bitsFor, packedLaneBytes, writePacked } from '../core/packed-lanes.js';
import { kBlockRows } from '../core/segment.js';
import type { ShardHeader, ShardLane, ShardLaneName, ShardView } from './shard-format.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;
const kNarrowable = ['ts', 'lat', 'lon'] as const;
/** The most rows a u24 postings lane can index. */
const kU24Rows = 0x1000000;

/**
 * The most plate dictionary entries a u24 plate lane holds (its codes are 0 … entries − 1): 2^24. Above it the
 * lane keeps the file's u32. A knob so tests can keep some small shards' lanes u32 (test/plate-u24.test.ts).
 */
export const plateU24Limit = { codes: 0x1000000 };

/**
 * The most bits a value of a bit-packed plate or postings lane may take: a lane whose values need more is u24 (as
 * small at 24, and a masked load without a shift). A knob so tests keep some lanes u24 (test/packed-lanes-engine.test.ts).
 */
export const packedLimit = { bits: 23 };

/**
 * Re-encodes `view`'s ts / lat / lon lanes in place (see above), those whose runs all fit, and a u32 postings
 * lane. Returns the new header (narrowed lanes at width 3, later lanes moved down, `bases` when ts / lat / lon
 * narrowed) and the bytes the shard now needs from its start, or undefined when nothing changes (no lane fits,
 * no rows, or a tiny shard that would not shrink).
 * Must run before compactSeqLane (it lays the lanes out from the file's header).
 */
export function narrowU24Lanes(view: ShardView): { header: ShardHeader; bytes: number } | undefined {
  const h = view.header;
  const n = view.rows;
  if (n === 0 || h.blockRows !== kBlockRows || h.bases || h.seqBlocks) return undefined;
  const buf = view.bytes.buffer;
  const off = view.bytes.byteOffset;
  const ts = h.lanes.ts!, lat = h.lanes.lat!, lon = h.lanes.lon!;
  const values = {
    ts: ts.width === 4 ? new Uint32Array(buf, off + ts.at, n) : undefined,
    lat: new Int32Array(buf, off + lat.at, n),
    lon: new Int32Array(buf, off + lon.at, n),
  };
  // every lane's run extents (the kernel skips runs on them, narrowed or not); a lane narrows when all fit
  const extents = {
    ts: values.ts && runExtents(values.ts, n),
    lat: runExtents(values.lat, n),
    lon: runExtents(values.lon, n),
  };
  const fit = (e: ReturnType<typeof runExtents> | undefined) => (e && fitsU24(e) ? e.min : undefined);
  const mins = { ts: fit(extents.ts), lat: fit(extents.lat), lon: fit(extents.lon) };
  const withBases = mins.ts !== undefined || mins.lat !== undefined || mins.lon !== undefined;
  const post = h.lanes.postings;
  const narrowPostings = post?.width === 4 && n <= kU24Rows;
  const narrowPlate = h.lanes.plate?.width === 4 && h.meta.dictCount <= plateU24Limit.codes;
  if (!withBases && !narrowPostings && !narrowPlate) return undefined;
  // the bits of a narrowed lane packed at its exact width, 0 when it is u24
  const packedBits = (max: number) => (bitsFor(max) <= packedLimit.bits ? bitsFor(max) : 0);
  const bits: Partial<Record<ShardLaneName, number>> = {
    postings: narrowPostings ? packedBits(n - 1) : 0,
    plate: narrowPlate ? packedBits(h.meta.dictCount - 1) : 0,
  };

  // the new places, in file order: ts, lat, lon (the first three lanes), the bases, then every later lane
  const order = (Object.entries(h.lanes) as Array<[ShardLaneName, ShardLane]>).sort((a, b) => a[1].at - b[1].at);
  if (order.slice(0, 3).some(([name]) => !(kNarrowable as readonly string[]).includes(name))) return undefined;
  const lanes: ShardHeader['lanes'] = { ...h.lanes };
  const runs = baseRuns(n);
  let end = order[0]![1].at;
  let bases: ShardLane | undefined;
  const moves: Array<[name: ShardLaneName, from: ShardLane, to: number]> = [];
  for (const [k, [name, l]] of order.entries()) {
    if (k === 3 && withBases) {
      bases = { at: end, bytes: kBaseBytes * runs, width: kBaseBytes };
      end = roundUp(end + bases.bytes, kLaneAlign);
    }
    const narrow = k < 3 ? mins[name as (typeof kNarrowable)[number]] !== undefined : (name === 'postings' && narrowPostings) || (name === 'plate' && narrowPlate);
    // a tiny shard gains nothing (alignment, the bases): moving a lane up would overwrite one not yet moved
    if (end > l.at) return undefined;
    moves.push([name, l, end]);
    const w = bits[name] ?? 0;
    if (narrow && w > 0) {
      lanes[name] = { at: end, bytes: Math.ceil((n * w) / 8), width: 0, bits: w };
      end = roundUp(end + packedLaneBytes(n, w), kLaneAlign);
      continue;
    }
    lanes[name] = narrow ? { at: end, bytes: 3 * n, width: 3 } : { ...l, at: end };
    end = roundUp(end + (narrow ? u24LaneBytes(n) : l.bytes), kLaneAlign);
  }
  if (end >= view.bytes.length) return undefined;

  // in file order, each lane to its lower (or equal) place: a narrowed lane written value by value (value i is
  // read before bytes 3i…3i+2 are written, below every value still to read), the others copied
  const bytes = new Uint8Array(buf, off, view.bytes.length);
  for (const [name, from, to] of moves) {
    const m = mins[name as (typeof kNarrowable)[number]];
    if (m !== undefined) writeU24(bytes.subarray(to, to + 3 * n), values[name as (typeof kNarrowable)[number]]!, n, m);
    else if ((name === 'postings' && narrowPostings) || (name === 'plate' && narrowPlate)) {
      const codes = new Uint32Array(buf, off + from.at, n);
      const w = bits[name]!;
      if (w > 0) writePacked(bytes.subarray(to, to + Math.ceil((n * w) / 8)), codes, n, w);
      else writeU24(bytes.subarray(to, to + 3 * n), codes, n, new Float64Array(baseRuns(n))); // codes as they are: a base of 0 a run
    }
    else if (to !== from.at) bytes.copyWithin(to, from.at, from.at + from.bytes);
  }
  if (!bases) return { header: { ...h, lanes }, bytes: end };
  // the bases last: they land where nothing that is read any more lay
  writeBases(new Int32Array(buf, off + bases.at, (kBaseBytes / 4) * runs), runs, extents);
  return { header: { ...h, lanes, bases }, bytes: end };
}
