/**
 * The seq lane of a loaded shard, re-encoded in memory as u16 or u24 offsets from per-block bases: 2 or 3 B
 * a read instead of the file's 4 (issue 11: resident bytes per read). The file keeps its u32 lane (format 2
 * unchanged); this runs once at load, in place in the shard's arena region, which the loader then shrinks.
 *
 *   file (from the seq lane on)          memory after compactSeqLane
 *   seq         u32 × rows               seq        u16 × rows           seq − seqBase − base of the row's block
 *                                                   (or u24 × rows + 4 B of padding, little-endian)
 *   confidence  …                        seqBlocks  u32 × blocks         min (seq − seqBase) of each block
 *   readId…     …                        confidence, readId… moved down, each still 64-aligned
 *
 * Why it fits: rows are ordered by hour, then cell, then seq, and a tenant's seqs follow arrival, so one
 * block of kBlockRows rows spans about two hours of the tenant's appends (≈ 20k seqs for a tenant-day of
 * 240k reads). The width is the narrowest that holds every block's span: u16 below 2^16, u24 below 2^24
 * (a tenant appending more than ~8M reads in the two hours a block covers, or reads of one day that arrived
 * days apart, merged by compaction), else the u32 lane stays: nothing is approximated. Seq is read only to
 * materialise hits and break ts ties (src/core/segment.ts seqReader), one extra load per row read; the u24
 * lane is read as a masked unaligned u32 load (DataView), which the padding keeps inside the lane.
 *
 * Seq by time (issue 11: ≤ 24 B a read at 20M). Rows are in place order inside an hour, so a block of a big
 * tenant-day spans an hour's seqs or more (~104k at 2.5M reads a day: u24 above). But seqs follow arrival and
 * arrival follows ts, so a row's seq lies just above the least seq of the rows read in the same minute. When the
 * blocks are too wide for u16, the bases are taken per bucket of ts instead (a minute from the shard's first ts,
 * ×4 while the bases would cost more than 1/16 B a row), and the lane holds u16 offsets from the row's bucket's
 * base when every row's fits (at most 4,054 at 20M):
 *
 *   seq        u16 × rows           seq − seqBase − base of bucket floor((ts − origin) / ms)
 *   seqBlocks  u32 × buckets        min (seq − seqBase) of each bucket's rows (0 for a bucket without rows)
 *   header.seqTime                  { origin: meta.minTs, ms }   (in memory only, as seqBlocks)
 *
 * A shard where one read arrived long after its ts (a backfill, a camera's buffer uploaded late: an offset past
 * 2^16) keeps the block bases. Every reader of seq by time reads the row's ts first (LoadedShard.seqAt,
 * segmentSeqReader in src/core/segment.ts for the tasks, ShardView.seqReader): a few loads more per hit; no
 * kernel reads seq.
 */
import { baseRuns, kBaseBytes, kBaseRows, kBaseShift, kBaseTs, kU24Pad, writeU24 } from '../core/base-lanes.js';
import { kBlockRows } from '../core/segment.js';
import type { ShardHeader, ShardLane, ShardView } from './shard-format.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * Re-encodes `view`'s seq lane in place (see above) at width 2 when every block's seqs span < 2^16, 3 when
 * they span < 2^24. Returns the new header (lanes after seq moved down) and the bytes the shard now needs
 * from its start, or undefined when the lane stays as it is (not u32, no rows, a block too wide, or a tiny
 * shard that alignment would not shrink).
 */
export function compactSeqLane(view: ShardView): { header: ShardHeader; bytes: number } | undefined {
  const h = view.header;
  const lane = h.lanes.seq;
  const n = view.rows;
  if (!lane || lane.width !== 4 || n === 0 || h.blockRows !== kBlockRows) return undefined;
  const buf = view.bytes.buffer;
  const at = view.bytes.byteOffset + lane.at;
  const seq = new Uint32Array(buf, at, n);
  const blocks = Math.ceil(n / kBlockRows);
  let mins: Uint32Array = new Uint32Array(blocks);
  let span = 0;
  for (let b = 0; b < blocks; b++) {
    let lo = 0xffffffff, hi = 0;
    for (let i = b * kBlockRows, end = Math.min(n, i + kBlockRows); i < end; i++) {
      const s = seq[i]!;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (hi - lo > span) span = hi - lo;
    mins[b] = lo;
  }
  // blocks too wide for u16 offsets: u16 offsets from a base per span of time when they fit, else u24 from blocks
  const time = span > seqTimeLimits.blockSpan ? seqBasesByTime(view, seq) : undefined;
  if (time) mins = time.mins;
  else if (span > 0xffffff) return undefined;
  const width = time || span <= 0xffff ? 2 : 3;
  const count = mins.length;
  // a u24 lane's padding lies past its `bytes` (as src/store/shard-u24.ts lays out its lanes)
  const laneBytes = width === 2 ? 2 * n : 3 * n + kU24Pad;
  // the new places: u16 / u24 lane, bases, then the lanes after seq (hit-only ones, in file order) moved down
  const lanes: ShardHeader['lanes'] = { ...h.lanes, seq: { at: lane.at, bytes: width * n, width } };
  let end = roundUp(lane.at + laneBytes, kLaneAlign);
  const seqBlocks: ShardLane = { at: end, bytes: 4 * count, width: 4 };
  end = roundUp(end + 4 * count, kLaneAlign);
  const after = (Object.entries(h.lanes) as Array<[keyof ShardHeader['lanes'], ShardLane]>)
    .filter(([, l]) => l.at > lane.at)
    .sort((a, b) => a[1].at - b[1].at);
  const moves: Array<[from: ShardLane, to: number]> = [];
  for (const [name, l] of after) {
    // a tiny shard gains nothing (alignment): moving up could overwrite the next lane before it moves
    if (end > l.at) return undefined;
    moves.push([l, end]);
    lanes[name] = { ...l, at: end };
    end = roundUp(end + l.bytes, kLaneAlign);
  }
  if (end >= view.bytes.length) return undefined;
  // offset i is written at byte 2i (u16) or 3i (u24) while u32 i is read at 4i: forward, every read precedes
  // the write over it (a tiny lane's u24 padding, past 4n, is never written: readers mask it off)
  if (time) new Uint16Array(buf, at, n).set(time.offsets.subarray(0, n));
  else if (width === 2) {
    const seq16 = new Uint16Array(buf, at, n);
    for (let b = 0; b < blocks; b++) {
      const m = mins[b]!;
      for (let i = b * kBlockRows, end = Math.min(n, i + kBlockRows); i < end; i++) seq16[i] = seq[i]! - m;
    }
  } else {
    // u24 offsets through the u24 lanes' writer, with a base a run of kBaseRows rows: its block's
    const runMins = Float64Array.from({ length: baseRuns(n) }, (_, r) => mins[Math.floor((r * kBaseRows) / kBlockRows)]!);
    writeU24(new Uint8Array(buf, at, 3 * n), seq, n, runMins);
  }
  // each lane moves to a lower offset, in file order: a copy never reaches a source not yet moved
  const bytes = new Uint8Array(buf, view.bytes.byteOffset, view.bytes.length);
  for (const [l, to] of moves) bytes.copyWithin(to, l.at, l.at + l.bytes);
  // the bases last: they land in the u32 lane's old tail, which nothing reads any more
  new Uint32Array(buf, view.bytes.byteOffset + seqBlocks.at, count).set(mins);
  const header: ShardHeader = { ...h, lanes, seqBlocks };
  if (time) header.seqTime = { origin: time.origin, ms: time.ms };
  return { header, bytes: end };
}

/**
 * Knobs of seq by time (tests lower them so that small shards take it, or fail it): the widest block span kept
 * as u16 offsets from block bases, and the largest offset from a time bucket's base that u16 by time holds.
 */
export const seqTimeLimits = { blockSpan: 0xffff, offset: 0xffff };

/** Bucket of a time base: one minute, widened ×4 while the bases would cost more than kTimeBasesPerRow a row. */
const kSeqTimeMs = 60_000;
const kTimeBasesPerRow = 1 / 16;

// each row's bucket, made once a shard (ts read once a row) and reused from shard to shard: u16 while a shard has
// at most 65,536 buckets (4M rows at 1/16 B a row of bases), else u32
let keys16 = new Uint16Array(0);
let keys32 = new Uint32Array(0);

/**
 * The bases of seq by time: per bucket of `ms` of ts from the shard's first read, the least seq offset of the
 * bucket's rows (0 for a bucket without rows), when every row's seq lies within seqTimeLimits.offset of its
 * bucket's base; undefined when one does not (reads that arrived long after their ts: a backfill, a camera's
 * buffer uploaded late) or the shard spans too long a time for its rows.
 */
function seqBasesByTime(view: ShardView, seq: Uint32Array): { mins: Uint32Array; origin: number; ms: number; offsets: Uint16Array | Uint32Array } | undefined {
  const n = view.rows;
  const { minTs: origin, maxTs } = view.header.meta;
  let ms = kSeqTimeMs;
  while ((Math.floor((maxTs - origin) / ms) + 1) * 4 > n * kTimeBasesPerRow) {
    ms *= 4;
    if (ms > 2 ** 40) return undefined;
  }
  const count = Math.floor((maxTs - origin) / ms) + 1;
  let keys: Uint16Array | Uint32Array;
  if (count <= 0x10000) {
    if (keys16.length < n) keys16 = new Uint16Array(Math.max(n, 2 * keys16.length));
    keys = keys16;
  } else {
    if (keys32.length < n) keys32 = new Uint32Array(Math.max(n, 2 * keys32.length));
    keys = keys32;
  }
  const mins = new Uint32Array(count).fill(0xffffffff);
  if (view.header.lanes.ts!.width === 3) {
    // a u24 lane (narrowU24Lanes ran first) read in place, its run's base once: ts − origin = (tsBase + base −
    // origin) + offset, the same integers as ShardView.tsReader's, without a call and a base load a row
    const lane = new Uint8Array(view.bytes.buffer, view.ptr('ts'), 3 * n);
    const bases = new Int32Array(view.bytes.buffer, view.basesPtr(), baseRuns(n) * (kBaseBytes / 4));
    for (let i = 0; i < n; ) {
      const from = view.header.tsBase + bases[((i >>> kBaseShift) << 3) + kBaseTs]! - origin;
      for (const end = Math.min(n, i + kBaseRows); i < end; i++) {
        const at = 3 * i;
        const b = Math.floor((from + (lane[at]! | (lane[at + 1]! << 8) | (lane[at + 2]! << 16))) / ms);
        keys[i] = b;
        if (seq[i]! < mins[b]!) mins[b] = seq[i]!;
      }
    }
  } else {
    const ts = view.tsReader();
    for (let i = 0; i < n; i++) {
      const b = Math.floor((ts(i) - origin) / ms);
      keys[i] = b;
      if (seq[i]! < mins[b]!) mins[b] = seq[i]!;
    }
  }
  // each row's bucket replaced by its offset from the bucket's base (at most the limit, < 2^16: it fits either
  // array), which compactSeqLane copies into the lane
  const limit = seqTimeLimits.offset;
  for (let i = 0; i < n; i++) {
    const o = seq[i]! - mins[keys[i]!]!;
    if (o > limit) return undefined;
    keys[i] = o;
  }
  for (let b = 0; b < count; b++) if (mins[b] === 0xffffffff) mins[b] = 0;
  return { mins, origin, ms, offsets: keys };
}
