/**
 * A loaded shard's u16 camera lane packed in memory into u8 entries of per-run tables (src/core/camera-lane.ts):
 * 1 B a read instead of 2, for 4 B a run of 256 rows and 2 B a distinct camera of each run (issue 11: resident
 * bytes per read; docs/storage-v2.md, "The camera lane by runs, seq by time"). The file keeps its lane (format 2
 * unchanged, no migration); this runs once at load, in place in the shard's arena region, after packLabelLanes
 * and before narrowU24Lanes and compactSeqLane (which move the new lanes as any other), and the loader then
 * shrinks the region.
 *
 *   file                         memory after packCameraLane
 *   camera   u16 × rows          camera       u8 × rows          at the lane's place
 *                                cameraRuns   u32 × (runs + 1)   in the old lane's second half (64-aligned)
 *                                cameraTable  u16 × entries
 *   labels … (every later lane)  labels …     moved down, each still 64-aligned
 *
 * Only a u16 lane is packed (a shard of 257 to 65,536 cameras): a u8 lane has nothing to gain, and a u32 one
 * (more cameras than a u16 table entry holds) stays. A shard keeps its lane too when the tables would not fit in
 * the bytes the entries free (runs of many cameras each: they cost more than they save), or when moving the later
 * lanes would not shrink it (a tiny shard). Nothing is approximated: each row's code is read back exactly.
 */
import { packRunsOf, runCodes, runScratch, runStartsOf } from '../core/run-lane.js';
import type { ShardHeader, ShardLane, ShardLaneName, ShardView } from './shard-format.js';
import { placeRunTables, writeRunTables } from './shard-runs.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * Packs `view`'s camera lane in place (see above). Returns the new header (`camera` at width 1, `cameraRuns` and
 * `cameraTable` after it, later lanes moved down) and the bytes the shard now needs from its start, or undefined
 * when the lane stays as it is. Must run before narrowU24Lanes and compactSeqLane.
 */
export function packCameraLane(view: ShardView): { header: ShardHeader; bytes: number } | undefined {
  const h = view.header;
  const n = view.rows;
  const lane = h.lanes.camera;
  if (!lane || lane.width !== 2 || n === 0 || h.bases || h.seqBlocks || h.lanes.cameraRuns) return undefined;
  const buf = view.bytes.buffer, off = view.bytes.byteOffset;
  const codes = new Uint16Array(buf, off + lane.at, n);
  // the tables' size first (a pass that writes nothing): they must fit where the u16 lane's second half was
  const distinct = runCodes(codes, n, runScratch());
  const runs = runStartsOf(distinct);
  const places = placeRunTables(lane.at + n, runs);
  let end = places.end;
  const order = (Object.entries(h.lanes) as Array<[ShardLaneName, ShardLane]>).sort((a, b) => a[1].at - b[1].at);
  const lanes: ShardHeader['lanes'] = { ...h.lanes, camera: { at: lane.at, bytes: n, width: 1 } };
  lanes.cameraRuns = places.runs;
  lanes.cameraTable = places.table;
  const moves: Array<[from: ShardLane, to: number]> = [];
  for (const [name, l] of order) {
    if (l.at <= lane.at) continue;
    // tables too big for the freed bytes, or a shard the packing would not shrink: moving up would overwrite a
    // lane not yet moved
    if (end > l.at) return undefined;
    moves.push([l, end]);
    lanes[name] = { ...l, at: end };
    end = roundUp(end + l.bytes, kLaneAlign);
  }
  if (end >= view.bytes.length) return undefined;

  // the entries overwrite the lane's first half as they are made (run by run, each run read first), the tables
  // land in its second half (every code read by then), then each later lane moves to its lower place in file order
  const bytes = new Uint8Array(buf, off, view.bytes.length);
  const table = packRunsOf(codes, n, distinct, runs, bytes.subarray(lane.at, lane.at + n));
  writeRunTables(bytes, places, runs, table);
  for (const [l, to] of moves) bytes.copyWithin(to, l.at, l.at + l.bytes);
  return { header: { ...h, lanes }, bytes: end };
}
