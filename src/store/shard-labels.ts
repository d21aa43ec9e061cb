/**
 * A loaded shard's region, make and color lanes packed in memory into one labels lane and a triple table
 * (src/core/label-lanes.ts): 2 B a read instead of 3 (1 at ≤ 256 triples) for 6 B a distinct triple (issue 11:
 * resident bytes per read; docs/storage-v2.md "Round 4", step 5d), for 3 B a distinct triple. The file keeps its lanes (format 2
 * unchanged, no migration); this runs once at load, in place in the shard's arena region, first of the
 * in-memory re-encodings (then narrowU24Lanes, compactSeqLane, which move the new lanes as any other), and
 * the loader then shrinks the region.
 *
 *   file                         memory after packLabelLanes
 *   region   u8 × rows           labels        u8 / u16 × rows   the row's triple (at the first of the three's place)
 *   make     u8 × rows           labelTriples  u8 × 3 × count    region codes, make codes, color codes by triple
 *                                                                (u16 × 3 × count when a code is past 255)
 *   color    u8 × rows
 *   postings … (every later lane) postings …   moved down, each still 64-aligned
 *
 * Past 256 triples, when it is smaller (labelRunsFor), the labels lane is held as runs (src/core/run-lane.ts):
 *
 *   labels        u8 × rows           entries: the shard's most frequent triples' ids, or into the row's run's table
 *   labelRuns     u32 × (runs + 1)    where each run's own triples start in labelTable
 *   labelTable    u16 × entries       each run's own triple ids, ascending
 *   labelTriples  …                   as above (the triples numbered by descending row count)
 *
 * with `header.labelShared` the count of shared triples (in memory only, as the two lanes).
 *
 * A shard keeps its three lanes when it has more than kMaxLabelTriples distinct triples (or `labelLimits.max`,
 * a knob for tests), when a code does not fit u16, or when packing would not shrink it (a shard with a region
 * lane only, or a tiny one). Nothing is approximated: each row's three codes are read back exactly.
 */
import { kMaxLabelTriples, labelTriplesBytes, packLabels } from '../core/label-lanes.js';
import { packRunsOf, runCodes, runScratch, runStartsOf, runTablesBytes, sharedCodesOf, type RunCodes } from '../core/run-lane.js';
import { codeLane } from '../core/segment.js';
import type { ShardHeader, ShardLane, ShardLaneName, ShardView } from './shard-format.js';
import { placeRunTables, writeRunTables } from './shard-runs.js';

const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;
const kFields = ['region', 'make', 'color'] as const;

/**
 * The most triples a shard may have to be packed (tests lower it to keep some shards' three lanes), and whether a
 * shard of more than 256 may be held as runs (tests and benchmarks turn it off for the u16 lane), sharing at most
 * `shared` triples between its runs (tests lower it: fewer shared, wider runs).
 */
export const labelLimits = { max: kMaxLabelTriples, runs: true, shared: 256 };

// the rows' triple ids before they are copied into the labels lane (packLabels' one array of the rows), reused from
// shard to shard: fresh pages a shard otherwise
let idsScratch = new Uint16Array(0);

/** Shards packed (of them, by runs) and kept since the process started (tests, benchmarks). */
export const labelLanesPacked = { shards: 0, kept: 0, runs: 0 };

/**
 * A shard's labels lane as runs (src/core/run-lane.ts), when that is smaller than its u16 lane: its triples were
 * numbered by descending row count (packLabels' `byUse`: nothing reads their order), the most frequent `shared` of
 * them are made entries of their own, and each run's distinct triples and the run starts of the others are returned;
 * undefined when the run tables (4 B a run, 2 B an entry) would not cost less than the byte a row they save.
 */
function labelRunsFor(ids: Uint16Array, rows: number): { codes: RunCodes; runs: Uint32Array; shared: number } | undefined {
  const codes = runCodes(ids, rows, runScratch());
  const shared = sharedCodesOf(codes, labelLimits.shared);
  const runs = runStartsOf(codes, shared);
  return runTablesBytes(rows, runs[runs.length - 1]!) < rows ? { codes, runs, shared } : undefined;
}

/**
 * Packs `view`'s region, make and color lanes in place (see above). Returns the new header (`labels` and
 * `labelTriples` lanes instead of the three, later lanes moved down) and the bytes the shard now needs from its
 * start, or undefined when the lanes stay as they are. Must run before narrowU24Lanes (on the file's header).
 */
export function packLabelLanes(view: ShardView): { header: ShardHeader; bytes: number } | undefined {
  const h = view.header;
  const n = view.rows;
  const present = kFields.filter((f) => h.lanes[f]);
  if (n === 0 || present.length < 2 || h.bases || h.seqBlocks || h.lanes.labels) return undefined;
  const lane = (f: (typeof kFields)[number]) => (h.lanes[f] ? view.codes(f)! : null);
  if (idsScratch.length < n) idsScratch = new Uint16Array(Math.max(n, 2 * idsScratch.length));
  const packed = packLabels(n, lane('region'), lane('make'), lane('color'), labelLimits.max, idsScratch, labelLimits.runs);
  if (!packed) {
    labelLanesPacked.kept++;
    return undefined;
  }
  const count = packed.region.length;
  // past 256 triples, u8 entries of run tables when they cost less than the u16 lane's second byte
  const byRuns = count > 0x100 && labelLimits.runs ? labelRunsFor(packed.ids, n) : undefined;
  const width = count <= 0x100 || byRuns ? 1 : 2;
  const codeWidth = [packed.region, packed.make, packed.color].every((c) => c.every((x) => x <= 0xff)) ? 1 : 2;
  const tableBytes = labelTriplesBytes(count, codeWidth);

  // the new places: labels where the first of the three lay, the triples after it, then every lane after the
  // three (in file order) moved down; the three must be adjacent (they are, in format 2's lane order)
  const three = present.map((f) => h.lanes[f]!).sort((a, b) => a.at - b.at);
  const from = three[0]!.at;
  const lastEnd = three[three.length - 1]!.at + three[three.length - 1]!.bytes;
  const order = (Object.entries(h.lanes) as Array<[ShardLaneName, ShardLane]>).sort((a, b) => a[1].at - b[1].at);
  if (order.some(([name, l]) => l.at > from && l.at < lastEnd && !present.includes(name as (typeof kFields)[number]))) return undefined;
  const lanes: ShardHeader['lanes'] = { ...h.lanes };
  for (const f of present) delete lanes[f];
  lanes.labels = { at: from, bytes: width * n, width };
  const places = byRuns && placeRunTables(from + n, byRuns.runs);
  if (places) {
    lanes.labelRuns = places.runs;
    lanes.labelTable = places.table;
  }
  const triplesAt = places ? places.end : roundUp(from + width * n, kLaneAlign);
  lanes.labelTriples = { at: triplesAt, bytes: tableBytes, width: codeWidth };
  let end = roundUp(triplesAt + tableBytes, kLaneAlign);
  const moves: Array<[from: ShardLane, to: number]> = [];
  for (const [name, l] of order) {
    if (l.at < lastEnd) continue;
    // a shard the packing would not shrink (or where moving up would overwrite a lane not yet moved)
    if (end > l.at) return undefined;
    moves.push([l, end]);
    lanes[name] = { ...l, at: end };
    end = roundUp(end + l.bytes, kLaneAlign);
  }
  if (end >= view.bytes.length) return undefined;

  // the three lanes were read into `packed`: the labels lane overwrites them, then each later lane moves to its
  // lower place in file order (a copy never reaches a source not yet moved), the triples last (they land where
  // only lanes already moved lay)
  const buf = view.bytes.buffer, off = view.bytes.byteOffset;
  const bytes = new Uint8Array(buf, off, view.bytes.length);
  const table = byRuns && packRunsOf(packed.ids, n, byRuns.codes, byRuns.runs, bytes.subarray(from, from + n), byRuns.shared);
  if (!table) codeLane(buf, off + from, width, n).set(packed.ids);
  for (const [l, to] of moves) bytes.copyWithin(to, l.at, l.at + l.bytes);
  if (places && table) {
    writeRunTables(bytes, places, byRuns.runs, table);
    labelLanesPacked.runs++;
  }
  const t = codeLane(buf, off + triplesAt, codeWidth, 3 * count);
  t.set(packed.region, 0);
  t.set(packed.make, count);
  t.set(packed.color, 2 * count);
  labelLanesPacked.shards++;
  return { header: { ...h, lanes, ...(byRuns ? { labelShared: byRuns.shared } : {}) }, bytes: end };
}
