/**
 * The seq lane of a loaded shard, re-encoded in memory as u16 offsets from per-block bases: 2 B a read
 * instead of the file's 4 (issue 11: resident bytes per read). The file keeps its u32 lane (format 2
 * unchanged); this runs once at load, in place in the shard's arena region, which the loader then shrinks.
 *
 *   file (from the seq lane on)          memory after compactSeqLane
 *   seq         u32 × rows               seq        u16 × rows           seq − seqBase − base of the row's block
 *   confidence  …                        seqBlocks  u32 × blocks         min (seq − seqBase) of each block
 *   readId…     …                        confidence, readId… moved down, each still 64-aligned
 *
 * Why it fits: rows are ordered by hour, then cell, then seq, and a tenant's seqs follow arrival, so one
 * block of kBlockRows rows spans about two hours of the tenant's appends (≈ 20k seqs for a tenant-day of
 * 240k reads). A shard with a block spanning 2^16 or more seqs (reads of one day that arrived weeks apart,
 * merged by compaction) keeps the u32 lane: nothing is approximated. Seq is read only to materialise hits
 * and break ts ties (src/core/segment.ts seqReader), one extra load per row read.
 */
import { kBlockRows } from '../core/segment.js';
import type { ShardHeader, ShardLane, ShardView } from './shard-format.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * Re-encodes `view`'s seq lane in place (see above) when every block's seqs span < 2^16. Returns the new
 * header (lanes after seq moved down) and the bytes the shard now needs from its start, or undefined when
 * the lane stays as it is (not u32, no rows, or a block too wide).
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
  for (let b = 0; b < blocks; b++) {
    let lo = 0xffffffff, hi = 0;
    for (let i = b * kBlockRows, end = Math.min(n, i + kBlockRows); i < end; i++) {
      const s = seq[i]!;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (hi - lo > 0xffff) return undefined;
    mins[b] = lo;
  }
  // the new places: u16 lane, bases, then the lanes after seq (hit-only ones, in file order) moved down
  const lanes: ShardHeader['lanes'] = { ...h.lanes, seq: { at: lane.at, bytes: 2 * n, width: 2 } };
  let end = roundUp(lane.at + 2 * n, kLaneAlign);
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
  // u16 i is written at byte 2i while u32 i is read at 4i: forward, every read precedes the write over it
  const seq16 = new Uint16Array(buf, at, n);
  for (let i = 0; i < n; i++) seq16[i] = seq[i]! - mins[(i / kBlockRows) | 0]!;
  // each lane moves to a lower offset, in file order: a copy never reaches a source not yet moved
  const bytes = new Uint8Array(buf, view.bytes.byteOffset, view.bytes.length);
  for (const [l, to] of moves) bytes.copyWithin(to, l.at, l.at + l.bytes);
  // the bases last: they land in the u32 lane's old tail, which nothing reads any more
  new Uint32Array(buf, view.bytes.byteOffset + seqBlocks.at, blocks).set(mins);
  return { header: { ...h, lanes, seqBlocks }, bytes: end };
}
