/**
 * Where a loaded shard keeps the two tables of a lane held as runs (src/core/run-lane.ts): the run starts and the
 * table, each 64-aligned, right after the lane's u8 entries. Shared by the camera lane (src/store/shard-cameras.ts)
 * and the labels lane (src/store/shard-labels.ts), which each decide when the form pays and move the later lanes.
 *
 *   … entries u8 × rows | runs u32 × (runs + 1) | table u16 × entries | (the next lane)
 */
import type { ShardLane } from './shard-format.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** The places of the run tables after entries ending at `entriesEnd`, and the first byte after them (64-aligned). */
export function placeRunTables(entriesEnd: number, runs: Uint32Array): { runs: ShardLane; table: ShardLane; end: number } {
  const runsAt = roundUp(entriesEnd, kLaneAlign);
  const tableAt = roundUp(runsAt + runs.byteLength, kLaneAlign);
  const tableBytes = 2 * runs[runs.length - 1]!;
  return {
    runs: { at: runsAt, bytes: runs.byteLength, width: 4 },
    table: { at: tableAt, bytes: tableBytes, width: 2 },
    end: roundUp(tableAt + tableBytes, kLaneAlign),
  };
}

/** Writes the run starts and the table at their places in `bytes` (the shard's bytes from its start). */
export function writeRunTables(bytes: Uint8Array, places: { runs: ShardLane; table: ShardLane }, runs: Uint32Array, table: Uint16Array): void {
  new Uint32Array(bytes.buffer, bytes.byteOffset + places.runs.at, runs.length).set(runs);
  new Uint16Array(bytes.buffer, bytes.byteOffset + places.table.at, table.length).set(table);
}
