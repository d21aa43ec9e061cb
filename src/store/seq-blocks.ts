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
 */
import { kU24Pad } from '../core/base-lanes.js';
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
  const mins = new Uint32Array(blocks);
  let span = 0;
  for (let b = 0; b < blocks; b++) {
    let lo = 0xffffffff, hi = 0;
    for (let i = b * kBlockRows, end = Math.min(n, i + kBlockRows); i < end; i++) {
      const s = seq[i]!;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (hi - lo > 0xffffff) return undefined;
    if (hi - lo > span) span = hi - lo;
    mins[b] = lo;
  }
  const width = span <= 0xffff ? 2 : 3;
  // a u24 lane's padding lies past its `bytes` (as src/store/shard-u24.ts lays out its lanes)
  const laneBytes = width === 2 ? 2 * n : 3 * n + kU24Pad;
  // the new places: u16 / u24 lane, bases, then the lanes after seq (hit-only ones, in file order) moved down
  const lanes: ShardHeader['lanes'] = { ...h.lanes, seq: { at: lane.at, bytes: width * n, width } };
  let end = roundUp(lane.at + laneBytes, kLaneAlign);
  const seqBlocks: ShardLane = { at: end, bytes: 4 * blocks, width: 4 };
  end = roundUp(end + 4 * blocks, kLaneAlign);
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
  if (width === 2) {
    const seq16 = new Uint16Array(buf, at, n);
    for (let i = 0; i < n; i++) seq16[i] = seq[i]! - mins[(i / kBlockRows) | 0]!;
  } else {
    const out = new Uint8Array(buf, at, 3 * n);
    for (let i = 0; i < n; i++) {
      const o = seq[i]! - mins[(i / kBlockRows) | 0]!;
      out[3 * i] = o & 0xff;
      out[3 * i + 1] = (o >>> 8) & 0xff;
      out[3 * i + 2] = o >>> 16;
    }
  }
  // each lane moves to a lower offset, in file order: a copy never reaches a source not yet moved
  const bytes = new Uint8Array(buf, view.bytes.byteOffset, view.bytes.length);
  for (const [l, to] of moves) bytes.copyWithin(to, l.at, l.at + l.bytes);
  // the bases last: they land in the u32 lane's old tail, which nothing reads any more
  new Uint32Array(buf, view.bytes.byteOffset + seqBlocks.at, blocks).set(mins);
  return { header: { ...h, lanes, seqBlocks }, bytes: end };
}
