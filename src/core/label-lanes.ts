/**
 * The labels lane: a segment's region, make and color codes held as one code per row into a per-segment
 * table of the distinct (region, make, color) triples (issue 11: resident bytes per read; docs/storage-v2.md
 * "Round 4", step 5d). In memory only: a shard file keeps its three u8 lanes (format 2), and the loader packs
 * them at load (src/store/shard-labels.ts) when the shard has at most kMaxLabelTriples distinct triples.
 *
 *   lanes (file)             memory after packing
 *   region  u8 × rows        labels   u8 × rows (≤ 256 triples) or u16 × rows     the row's triple, or (past 256)
 *                                     u8 entries of run tables (labelRuns, labelTable: see below)
 *   make    u8 × rows        triples  u8 × count  region codes of the triples, in (region, make, color) order
 *   color   u8 × rows                 u8 × count  make codes
 *                                     u8 × count  color codes   (u16 each when some code is past 255)
 *
 * Why it fits: region, make and color are attributes of the vehicle (the plate's issuing jurisdiction, its make
 * and color), so a tenant-day holds few distinct triples: at most 3,278 in a shard at 20M density (359 at 100k),
 * against 16.8M possible. So 3 B a read become 2 (1 below 257 triples), for 3 B a triple (6 with u16 codes).
 *
 * By runs (issue 11, docs/storage-v2.md "The labels lane by runs"): a shard of more than 256 triples has them
 * numbered by descending row count and is held as a u16 code lane held as runs (src/core/run-lane.ts) when that is
 * smaller: u8 entries, the ~200 most frequent triples (86% of rows at 20M) entries of their own, shared by every
 * run, the others in a table per run of 256 rows (~32 a run). The kernel reads it with the region field of
 * S_WIDTHS = 3 (ABI 11, tables at S_LABEL_RUNS / S_LABEL_TABLE, the shared count at S_LABEL_SHARED).
 *
 * The labels lane takes the region lane's slot in the segment descriptor (S_REGION, its width in W_REGION), and a filter naming regions, makes or colors compiles, for such a
 * segment, to one byte mask over the triples in the region mask's slot (a triple passes when its region, its make
 * and its color each pass: src/core/filter.ts), with the make and color tests off. JS readers go through
 * labelReader (tasks, from a layout) or LoadedShard.regionAt / makeAt / colorAt (src/store/shard-loader.ts), never
 * a lane directly: `layout.region`, `make` and `color` are 0 in a packed segment, as for absent lanes.
 */
import { runLaneReader } from './run-lane.js';
import { codeLane, type CodeLane, type SegmentLayout } from './segment.js';

/** The most triples a labels lane can index (u16 codes). */
export const kMaxLabelTriples = 0x10000;

/** The three fields a labels lane packs. */
export type LabelField = 'region' | 'make' | 'color';

/** A segment's triple table: the codes of triple t are region[t], make[t], color[t] (dictionary ids; 0 = none). */
export interface LabelTriples {
  count: number;
  region: Uint8Array | Uint16Array;
  make: Uint8Array | Uint16Array;
  color: Uint8Array | Uint16Array;
}

/** Bytes of a triple table of `count` triples with codes of `width` bytes. */
export function labelTriplesBytes(count: number, width: 1 | 2): number {
  return 3 * width * count;
}

/** Views of a triple table of `count` triples at `ptr`, codes of `width` bytes. */
export function triplesAt(buffer: ArrayBufferLike, ptr: number, count: number, width: 1 | 2): LabelTriples {
  const codes = (at: number) => (width === 1 ? new Uint8Array(buffer, at, count) : new Uint16Array(buffer, at, count));
  return { count, region: codes(ptr), make: codes(ptr + width * count), color: codes(ptr + 2 * width * count) };
}

/** The part of a segment layout that holds its region, make and color codes, in either form. */
export type LabelLanes = Pick<
  SegmentLayout,
  'rows' | 'region' | 'regionWidth' | 'make' | 'makeWidth' | 'color' | 'colorWidth' | 'labels' | 'labelsWidth' | 'labelTriples' | 'labelTriplesWidth' | 'labelCount'
  | 'labelRuns' | 'labelTable' | 'labelEntries' | 'labelShared'
>;

/** The triple table of a packed segment (undefined when it keeps three lanes). */
export function labelTriples(buffer: ArrayBufferLike, seg: LabelLanes): LabelTriples | undefined {
  return seg.labels ? triplesAt(buffer, seg.labelTriples!, seg.labelCount!, seg.labelTriplesWidth!) : undefined;
}

/** Row i's code of one label field. */
export type LabelAt = (i: number) => number;

const none: LabelAt = () => 0;

/**
 * Row i's region, make or color code (dictionary id; 0 = none) in `seg`, whichever form it has: through the
 * labels lane (u8 / u16 triple ids, or u8 entries of run tables of triple ids) and its triple table, the field's own lane, or 0 for every row when the lane is absent.
 */
export function labelReader(buffer: ArrayBufferLike, seg: LabelLanes, field: LabelField): LabelAt {
  if (seg.labels) {
    const codes = labelTriples(buffer, seg)![field];
    if (seg.labelRuns) {
      const triple = runLaneReader(buffer, { entries: seg.labels, runs: seg.labelRuns, table: seg.labelTable!, tableEntries: seg.labelEntries!, shared: seg.labelShared ?? 0 }, seg.rows);
      return (i) => codes[triple(i)]!;
    }
    const lane = codeLane(buffer, seg.labels, seg.labelsWidth, seg.rows);
    return (i) => codes[lane[i]!]!;
  }
  const ptr = seg[field];
  if (!ptr) return none;
  const lane: CodeLane = codeLane(buffer, ptr, seg[`${field}Width`], seg.rows);
  return (i) => lane[i]!;
}

/**
 * Row i's region, make and color codes at once, in a packed segment: `triple(i)` (the labels lane read once)
 * indexes its triple table's `region`, `make` and `color`. labelReader reads the labels lane once a field, each
 * with views of its own: three times a hit, when a hit's fields are read from the lanes (src/query/kept-page.ts
 * writeShardRow).
 */
export interface LabelsAt {
  triple: (i: number) => number;
  region: Uint8Array | Uint16Array;
  make: Uint8Array | Uint16Array;
  color: Uint8Array | Uint16Array;
}

/** The packed segment's labels lane and triple table (undefined when the segment keeps three lanes: labelReader). */
export function labelsReader(buffer: ArrayBufferLike, seg: LabelLanes): LabelsAt | undefined {
  if (!seg.labels) return undefined;
  const t = labelTriples(buffer, seg)!;
  if (seg.labelRuns) {
    const triple = runLaneReader(buffer, { entries: seg.labels, runs: seg.labelRuns, table: seg.labelTable!, tableEntries: seg.labelEntries!, shared: seg.labelShared ?? 0 }, seg.rows);
    return { triple, region: t.region, make: t.make, color: t.color };
  }
  const lane = codeLane(buffer, seg.labels, seg.labelsWidth, seg.rows);
  return { triple: (i) => lane[i]!, region: t.region, make: t.make, color: t.color };
}

/**
 * The byte mask over triples of a filter given as per-field masks over each field's dictionary (null: the field
 * is not filtered): triple t passes when each filtered field's mask passes its code. Returns the mask and
 * whether any triple passes.
 */
export function tripleMask(
  triples: LabelTriples, region: ArrayLike<number | boolean> | null, make: ArrayLike<number | boolean> | null, color: ArrayLike<number | boolean> | null,
  out = new Uint8Array(triples.count),
): { mask: Uint8Array; any: boolean } {
  let any = false;
  for (let t = 0; t < triples.count; t++) {
    const pass = (!region || !!region[triples.region[t]!]) && (!make || !!make[triples.make[t]!]) && (!color || !!color[triples.color[t]!]);
    out[t] = pass ? 1 : 0;
    if (pass) any = true;
  }
  return { mask: out, any };
}

/**
 * Packs three code lanes (null: absent, every row 0) into triple ids, for the loader and for test segments: the
 * ids per row and the triple table sorted by (region, make, color), or undefined past `limit` triples (at most
 * kMaxLabelTriples: an id is a u16). The ids are written to `idsInto` when given (at least `rows` long; the
 * loader's reused buffer), else to a new array. With `byUse`, more than 256 triples are numbered instead by
 * descending row count, ties in (region, make, color) order: the order a labels lane held as runs needs, its most
 * frequent triples first (src/core/run-lane.ts sharedCodesOf; src/store/shard-labels.ts).
 *
 * Two passes over the rows: the first writes each row's first-seen triple id (< 2^16) into the ids array itself
 * and counts the rows of each, the second replaces it in place by its triple's number. No other array of the rows:
 * an Int32Array of first-seen ids, kept from shard to shard, was 4 B a row more (5.6 MiB at a 20M dir's 1.4M-row
 * shards, grown to twice that), and on each shard-open worker fresh pages (~8k of a 20M open's page faults;
 * docs/storage-v2.md, "The lanes re-encoded on the shard-open workers"). Numbering by use in the same second pass
 * saves the loader three passes (a count, a renumbering, and the ranks' own) against sorting first and then
 * renumbering (docs/storage-v2.md, "The open's lane passes").
 */
export function packLabels(
  rows: number, region: ArrayLike<number> | null, make: ArrayLike<number> | null, color: ArrayLike<number> | null, limit = kMaxLabelTriples,
  idsInto?: Uint16Array, byUse = false,
): { ids: Uint16Array; region: Uint16Array; make: Uint16Array; color: Uint16Array } | undefined {
  const ids = idsInto ? idsInto.subarray(0, rows) : new Uint16Array(rows);
  const keys: number[] = [];
  const cap = Math.min(limit, kMaxLabelTriples);
  const rowsOf = (rowsScratch ??= new Int32Array(kMaxLabelTriples));
  const found = byteTriples(rows, region, make, color, cap, ids, keys, rowsOf) ?? wideTriples(rows, region, make, color, cap, ids, keys, rowsOf);
  if (!found) return undefined;
  const byKey = (a: number, b: number) => keys[a]! - keys[b]!;
  const order = keys.map((_, t) => t).sort(byUse && keys.length > 0x100 ? (a, b) => rowsOf[b]! - rowsOf[a]! || byKey(a, b) : byKey);
  const rank = new Uint16Array(keys.length);
  const out = { ids, region: new Uint16Array(keys.length), make: new Uint16Array(keys.length), color: new Uint16Array(keys.length) };
  order.forEach((t, r) => {
    const key = keys[t]!;
    rank[t] = r;
    out.region[r] = Math.floor(key / 0x100000000);
    out.make[r] = Math.floor(key / 0x10000) % 0x10000;
    out.color[r] = key % 0x10000;
  });
  for (let i = 0; i < rows; i++) ids[i] = rank[ids[i]!]!;
  return out;
}

/** (region, make, color) codes as one number < 2^48, ordered as the triples are. */
function tripleKey(g: number, m: number, c: number): number {
  return (g * 0x10000 + m) * 0x10000 + c;
}

// rows of each first-seen triple (packLabels), one scratch a thread
let rowsScratch: Int32Array | undefined;

// the open-addressing table of byteTriples, 2 × 2^slotBits int32: key + 1 (0: an empty slot) and id side by side, so
// a probe touches one cache line; grown ×2 whenever it is half full (at most 2^18 slots), so a shard of ~3,600
// triples probes 64 KiB, not the 1 MiB a table sized for 65,536 took
let slotBits = 12;
let slots = new Int32Array(2 << slotBits);
// every row's code of an absent lane, grown as needed (a tenant without make or color)
let zeros = new Uint8Array(0);

/**
 * The triples of lanes whose codes are all < 256 (every shard file's lanes are u8): each row's first-seen
 * triple id into `firstIds`, the triples' keys into `keys`, the rows of each into `rowsOf`; true, or false past
 * `limit` triples, or undefined when a code is past 255 (then wideTriples does it). Rows are keyed by the 24
 * bits of their three codes in an int32 open-addressing table: a Map keyed by numbers up to 2^48, as wideTriples
 * does, cost ~94 ns a row at load (1.9 s of a 20M-read open), this ~7 (tripleRows).
 */
function byteTriples(
  rows: number, region: ArrayLike<number> | null, make: ArrayLike<number> | null, color: ArrayLike<number> | null, limit: number,
  firstIds: Uint16Array, keys: number[], rowsOf: Int32Array,
): boolean | undefined {
  // a shard's lanes are u8; any other lane (a test's) is checked first, so that the row loop tests no code's range
  const lanes = [region, make, color];
  for (const lane of lanes) {
    if (!lane || lane instanceof Uint8Array) continue;
    for (let i = 0; i < rows; i++) if (lane[i]! > 0xff) return undefined;
  }
  if (lanes.some((l) => !l) && zeros.length < rows) zeros = new Uint8Array(rows);
  slots.fill(0);
  for (let from = 0; from < rows; ) {
    from = tripleRows(from, rows, region ?? zeros, make ?? zeros, color ?? zeros, limit, firstIds, keys, rowsOf, slots, slotBits);
    if (from < 0) return false;
    if (from < rows) {
      // half full: twice the slots, every key entered again (its + 1 from its 24 bits)
      slots = new Int32Array(2 << ++slotBits);
      keys.forEach((key, t) => putSlot(slots, slotBits, ((Math.floor(key / 0x100000000) << 16) | ((Math.floor(key / 0x10000) % 0x10000) << 8) | (key % 0x10000)) + 1, t));
    }
  }
  return true;
}

/**
 * byteTriples' row loop from row `from`, in `table` of 2^bits slots (the table and its size constant in the loop: a
 * table grown inside it cost ~3 ns a row more): the row after the one whose new triple half fills the table, `rows`
 * when done, −1 past `limit` triples.
 */
function tripleRows(
  from: number, rows: number, region: ArrayLike<number>, make: ArrayLike<number>, color: ArrayLike<number>, limit: number,
  firstIds: Uint16Array, keys: number[], rowsOf: Int32Array, table: Int32Array, bits: number,
): number {
  const mask = (1 << bits) - 1;
  for (let i = from; i < rows; i++) {
    const g = region[i]!, m = make[i]!, c = color[i]!;
    // stored + 1: 0 marks an empty slot
    const k = ((g << 16) | (m << 8) | c) + 1;
    let s = Math.imul(k, 0x9e3779b1) >>> (32 - bits);
    let at = table[2 * s]!;
    while (at !== k && at !== 0) {
      s = (s + 1) & mask;
      at = table[2 * s]!;
    }
    if (at === k) {
      const id = table[2 * s + 1]!;
      rowsOf[id]!++;
      firstIds[i] = id;
      continue;
    }
    if (keys.length === limit) return -1;
    const id = keys.length;
    table[2 * s] = k;
    table[2 * s + 1] = id;
    keys.push(tripleKey(g, m, c));
    rowsOf[id] = 1;
    firstIds[i] = id;
    if (2 * keys.length > mask) return i + 1;
  }
  return rows;
}

/** Enters key + 1 `k` with id `id` into `table` of 2^bits slots (not there yet). */
function putSlot(table: Int32Array, bits: number, k: number, id: number): void {
  const mask = (1 << bits) - 1;
  let s = Math.imul(k, 0x9e3779b1) >>> (32 - bits);
  while (table[2 * s] !== 0) s = (s + 1) & mask;
  table[2 * s] = k;
  table[2 * s + 1] = id;
}

/** byteTriples for codes up to 0xffff (dictionaries past 255 entries): a Map; false past `limit` or past u16. */
function wideTriples(
  rows: number, region: ArrayLike<number> | null, make: ArrayLike<number> | null, color: ArrayLike<number> | null, limit: number,
  firstIds: Uint16Array, keys: number[], rowsOf: Int32Array,
): boolean {
  const seen = new Map<number, number>();
  for (let i = 0; i < rows; i++) {
    const g = region ? region[i]! : 0, m = make ? make[i]! : 0, c = color ? color[i]! : 0;
    if (g > 0xffff || m > 0xffff || c > 0xffff) return false;
    const key = tripleKey(g, m, c);
    let id = seen.get(key);
    if (id === undefined) {
      if (keys.length === limit) return false;
      id = keys.length;
      seen.set(key, id);
      keys.push(key);
      rowsOf[id] = 0;
    }
    rowsOf[id]!++;
    firstIds[i] = id;
  }
  return true;
}
