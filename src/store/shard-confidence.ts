/**
 * A loaded shard's u16 confidence lane held in memory as codes into a table of the values it holds, packed at the
 * exact bits that table needs (issue 11: resident bytes per read; docs/storage-v2.md, "Confidence by its values,
 * the code → id maps by Elias–Fano"). The file keeps its lane (format 2 unchanged, no migration); this runs once at
 * load, in place in the shard's arena region, after every other re-encoding (the confidence lane lies after seq),
 * and the loader then shrinks the region.
 *
 *   file                          memory after packConfidenceLane
 *   confidence  u16 × rows        confidence        bits × rows + kPackedPad   code of the row's value
 *                                 confidenceValues  u16 × count                the values held, ascending (0xffff = none last)
 *   readId… (every later lane)    readId…           moved down, each still 64-aligned
 *
 * Why by values: a reader reports confidence at some precision (thousandths, hundredths), so a shard holds far
 * fewer distinct values than the u16 lane's 10,001: bench:peers' generator gives thousandths in [0.3, 0.999], ~700
 * values a shard, 10 bits a row instead of 16 (−0.75 B/read). The table holds whatever the shard holds, so
 * nothing is assumed of the precision or the spread; a shard whose table would not pay (more values than
 * `confidenceLimits.bits` a code, or codes and table, each 64-aligned, larger than the u16 lane) keeps its u16 lane. An f64 lane (values that are
 * not k / 10,000) stays as it is. Nothing is approximated.
 *
 * Only materialising hits reads it (no filter names confidence, no kernel reads it), through one reader,
 * confidenceLane (src/core/confidence-lane.ts): a packed load, a shift, a mask and a table load a hit.
 */
import { kPackedPad, packedLaneBytes, writePacked, bitsFor } from '../core/packed-lanes.js';
import type { ShardHeader, ShardLane, ShardLaneName, ShardView } from './shard-format.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * The widest code: a shard of more than 2^15 distinct values saves at most a bit a row, for a table of 64 KiB.
 * A knob for tests (`confidenceLimits.bits`), which lower it so some small shards keep their u16 lane.
 */
export const confidenceLimits = { bits: 15 };

// a value's code while a shard is packed, and the rows' codes: made once a thread, reused shard to shard
const codeOf = new Uint16Array(0x10000);
let codes = new Uint16Array(0);

/**
 * Packs `view`'s confidence lane in place (see above). Returns the new header (`confidence` at width 0 with its
 * bits, `confidenceValues` after it, later lanes moved down) and the bytes the shard now needs from its start, or
 * undefined when the lane stays as it is.
 */
export function packConfidenceLane(view: ShardView): { header: ShardHeader; bytes: number } | undefined {
  const h = view.header;
  const n = view.rows;
  const lane = h.lanes.confidence;
  if (!lane || lane.width !== 2 || n === 0 || h.lanes.confidenceValues) return undefined;
  const buf = view.bytes.buffer, off = view.bytes.byteOffset;
  const raw = new Uint16Array(buf, off + lane.at, n);
  // the values held, ascending: a presence pass over the u16 range, then each value's code
  codeOf.fill(0);
  for (let i = 0; i < n; i++) codeOf[raw[i]!] = 1;
  const values: number[] = [];
  for (let v = 0; v < 0x10000; v++) if (codeOf[v] === 1) codeOf[v] = values.push(v) - 1;
  const bits = bitsFor(values.length - 1);
  if (bits > confidenceLimits.bits) return undefined;
  const laneBytes = Math.ceil((n * bits) / 8);
  const table: ShardLane = { at: roundUp(lane.at + laneBytes + kPackedPad, kLaneAlign), bytes: 2 * values.length, width: 2 };
  let end = roundUp(table.at + table.bytes, kLaneAlign);
  // the codes and the table must fit in the u16 lane's bytes: writing them then overwrites nothing still to read,
  // and every later lane moves down (or stays)
  if (end > lane.at + lane.bytes) return undefined;
  const lanes: ShardHeader['lanes'] = { ...h.lanes, confidence: { at: lane.at, bytes: laneBytes, width: 0, bits }, confidenceValues: table };
  const after = (Object.entries(h.lanes) as Array<[ShardLaneName, ShardLane]>)
    .filter(([, l]) => l.at > lane.at)
    .sort((a, b) => a[1].at - b[1].at);
  const moves: Array<[from: ShardLane, to: number]> = [];
  for (const [name, l] of after) {
    moves.push([l, end]);
    lanes[name] = { ...l, at: end };
    end = roundUp(end + l.bytes, kLaneAlign);
  }

  // the codes first (the lane is overwritten from its start as they are packed), then the table, then each later
  // lane to its lower place in file order
  if (codes.length < n) codes = new Uint16Array(Math.max(n, 2 * codes.length));
  for (let i = 0; i < n; i++) codes[i] = codeOf[raw[i]!]!;
  const bytes = new Uint8Array(buf, off, view.bytes.length);
  writePacked(bytes.subarray(lane.at, lane.at + packedLaneBytes(n, bits)), codes, n, bits);
  new Uint16Array(buf, off + table.at, values.length).set(values);
  for (const [l, to] of moves) bytes.copyWithin(to, l.at, l.at + l.bytes);
  return { header: { ...h, lanes }, bytes: end };
}
