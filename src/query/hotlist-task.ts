/**
 * The probe side of the hot-list join (issue 12): one shard (a segment resident in an arena) against a
 * query's entry index (src/query/hotlist-index.ts). A plain function of (memory, task), so the same code
 * runs on the calling thread and in the executor's workers (src/query/worker.ts); it reads the shard's
 * columns and the index where they lie (shared memory) and returns only each matched entry's exact count
 * and its best `limit` rows, never every match.
 *
 *   1. probe     the shard's distinct plates (16-byte slots) against the index: exact entries by hash
 *                (every slot probes; or, for a few entries next to a big dictionary, a binary search per
 *                entry), fuzzy entries by the plate's own delete keys, candidates verified by the
 *                bounded edit distance → (entry, plate, distance) pairs. Or, given `pairs` (the probe
 *                made once per query against the dictionary the plate lane codes into: a tenant's, once
 *                shards' lanes hold tenant plate ids), nothing to probe; or, given `through` (a covered
 *                shard: its slots dropped, its plates read through its code → id map in the tenant
 *                dictionary), the shard's plates probed through the map, or that tenant probe's pairs
 *                the shard holds, in the shard's codes (src/query/shard-pairs.ts)
 *   2. rows      pairs grouped by entry; each plate's rows from the plate → rows index (`plate_rows`),
 *                newest first, tested against the filter (the reference's predicates) and counted
 *   3. top-k     per entry a bounded heap by (distance, ts desc, seq): a row that cannot beat the worst
 *                kept costs one compare, so a plate read 100,000 times costs a pass over its rows and
 *                `limit` slots, whatever the count
 *   4. fields    the kept rows' other fields (coordinates, plate/camera/region/make/color codes, confidence)
 *                read here into two compact columns (`KeptFields`), so the caller builds their hits
 *                without touching the shard's lanes: each kept row's lanes are ~8 scattered reads (cache
 *                misses) that were the largest part of building a hit on the calling thread, one after
 *                the other, where the tasks take them side by side on the workers
 */
import { confidenceLane, type ConfidenceLaneAt } from '../core/confidence-lane.js';
import { labelReader } from '../core/label-lanes.js';
import { cameraReader } from '../core/camera-lane.js';
import { coordReader, kCoordScale, kPlateSlotBytes, plateCodeReader, rowsReader, segmentSeqReader, tsReader, type CodeAt, type SegmentLayout } from '../core/segment.js';
import { int32List, type TypedList } from '../core/typed-list.js';
import { ascendingOrder } from '../core/ascending-order.js';
import { boundedDistance } from '../hotlist/edit-distance.js';
import { ocrMap } from '../model/plate.js';
import type { ReadFilter } from '../model/query.js';
import type { QueryBudget } from './budget.js';
import { attributeMask, prepareFilter, type PreparedFilter } from './filter-plan.js';
import { forEachDeleteValue, keyHash, keyHi, kFilterExtraBits, slotHash, type HotlistIndex } from './hotlist-index.js';
import { pairsInShard, type TenantPairs } from './shard-pairs.js';
import { idCursor, plateIdReader, plateIdsInto, type IdAt, type PlateIdLane } from '../store/plate-id-lane.js';

export interface HotlistTask {
  layout: SegmentLayout;
  /** Arena offsets of the shard's seq lane and plate → rows lane (widths in `layout`). */
  seq: number;
  postings: number;
  /** The query's filter with the tenant's retention floor folded into `from`. */
  filter: ReadFilter;
  /** The shard's camera and region dictionaries, for the filter's label masks (empty when it names none). */
  cameras: readonly string[];
  regions: readonly string[];
  makes?: readonly string[];
  colors?: readonly string[];
  /** limitPerPlate. */
  limit: number;
  index: HotlistIndex;
  /**
   * The index already probed with the layout's dictionary (`layout.dict`: the one its plate lane codes
   * into), by `probeDictionary`: one probe per query and tenant, shared by the tasks of that tenant's
   * shards once their lanes hold tenant plate ids (docs/storage-v2.md, "Round 4", step 3). A pair whose
   * plate a shard does not hold finds no rows there.
   */
  pairs?: ProbePairs;
  /**
   * For a shard reading its plates through its tenant's dictionary (its slots dropped), its code → id map
   * (`ids`, as stored in arena memory: src/store/plate-id-lane.ts) and either that dictionary's slots, which the task probes through the map (`probeThrough`), or
   * the index already probed once per query with them (tenant plate ids, in shared memory), of which the
   * task keeps the pairs whose plate the shard holds, in its own codes (src/query/shard-pairs.ts). Which
   * one: src/query/covered-probes.ts.
   */
  through?: { ids: PlateIdLane } & ({ slots: Uint8Array } | { pairs: TenantPairs });
  /** Where the shard's confidence lane lies in the arena and how it is held (src/core/confidence-lane.ts); absent: no lane. */
  confidence?: ConfidenceLaneAt;
}

/** (entry, dictionary entry, distance) triples of a probe, in the order the probe found them. */
export interface ProbePairs {
  entries: Int32Array;
  plates: Int32Array;
  distances: Int32Array;
}

export interface HotlistTaskResult {
  /** Matched entries (those with at least one passing row), ascending. */
  entries: Int32Array;
  /** Per matched entry: its exact count of passing rows in this shard. */
  totals: Int32Array;
  /**
   * Per matched entry j: its kept rows are [offsets[j], offsets[j + 1]) of the columns below, best first by
   * (distance, ts desc, seq), so the caller merges the tasks' runs without sorting them again.
   */
  offsets: Int32Array;
  rows: Uint32Array;
  distances: Uint8Array;
  ts: Float64Array;
  seqs: Float64Array;
  /** The kept rows' fields, in `rows` order (shard tasks; a live task's caller reads its rows itself). */
  fields?: KeptFields;
}

/**
 * Per kept row, what its hit needs besides ts and seq: `kKeptCodes` i32 a row in `codes` (lat and lon in
 * 1e-7°, then the plate, camera, region, make and color codes of the shard's dictionaries; 0 = none for
 * region, make and color) and its confidence (NaN = none). Client read ids stay with the caller: few
 * shards have them, and a string does not fit a column.
 */
export interface KeptFields {
  codes: Int32Array;
  confidence: Float64Array;
}

/** i32 fields a kept row in KeptFields.codes, in this order: lat, lon, plate, camera, region, make, color. */
export const kKeptCodes = 7;
/** The plate code's place (a code of the layout's dictionary: a tenant's where the plate lane holds its ids). */
export const kKeptPlate = 2;

/** Each character's OCR class representative, as bytes (src/model/plate.ts ocrMap). */
const kOcrBytes: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = c < 128 ? ocrMap(String.fromCharCode(c)).charCodeAt(0) : c;
  return t;
})();

/** The kept rows of a task's entries, column by column, grown by whole entries (`reserve`, then `n` more). */
class KeptRows {
  rows = new Uint32Array(1024);
  distances = new Uint8Array(1024);
  ts = new Float64Array(1024);
  seqs = new Float64Array(1024);
  n = 0;

  /** Room for `more` rows after the first `n`. */
  reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.rows.length) return;
    let cap = this.rows.length * 2;
    while (cap < need) cap *= 2;
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.rows = grow(this.rows, Uint32Array);
    this.distances = grow(this.distances, Uint8Array);
    this.ts = grow(this.ts, Float64Array);
    this.seqs = grow(this.seqs, Float64Array);
  }
}

/**
 * Per-entry bounded heap by (distance, ts desc, seq), root = the worst kept row; reused across entries
 * (reset), struct of arrays (no object per row). `seq` is read only when a row enters or ties the root.
 */
export class EntryTop {
  size = 0;
  total = 0;
  readonly d: Uint8Array;
  readonly ts: Float64Array;
  readonly seq: Float64Array;
  readonly row: Uint32Array;
  constructor(readonly limit: number) {
    this.d = new Uint8Array(limit);
    this.ts = new Float64Array(limit);
    this.seq = new Float64Array(limit);
    this.row = new Uint32Array(limit);
  }

  reset(): void {
    this.size = 0;
    this.total = 0;
  }

  offer(d: number, ts: number, row: number, seqOf: (row: number) => number): void {
    this.total++;
    if (this.size < this.limit) {
      this.siftUp(this.size++, d, ts, seqOf(row), row);
      return;
    }
    const rd = this.d[0]!, rts = this.ts[0]!;
    if (d > rd || (d === rd && ts < rts)) return;
    const seq = seqOf(row);
    if (d === rd && ts === rts && seq > this.seq[0]!) return;
    this.siftDown(d, ts, seq, row);
  }

  /**
   * Empties the heap into `out` best first (rows [out.n, out.n + size)): the worst kept row is the root,
   * so popping it fills the run from its end.
   */
  drainSorted(out: KeptRows): void {
    const k = this.size;
    out.reserve(k);
    for (let at = out.n + k - 1; this.size > 0; at--) {
      out.rows[at] = this.row[0]!;
      out.distances[at] = this.d[0]!;
      out.ts[at] = this.ts[0]!;
      out.seqs[at] = this.seq[0]!;
      const last = --this.size;
      if (last > 0) this.siftDown(this.d[last]!, this.ts[last]!, this.seq[last]!, this.row[last]!);
    }
    out.n += k;
  }

  private worse(i: number, d: number, ts: number, seq: number): boolean {
    const di = this.d[i]!;
    if (di !== d) return di > d;
    const ti = this.ts[i]!;
    if (ti !== ts) return ti < ts;
    return this.seq[i]! > seq;
  }

  private put(i: number, d: number, ts: number, seq: number, row: number): void {
    this.d[i] = d;
    this.ts[i] = ts;
    this.seq[i] = seq;
    this.row[i] = row;
  }

  private siftUp(i: number, d: number, ts: number, seq: number, row: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.worse(parent, d, ts, seq)) break;
      this.put(i, this.d[parent]!, this.ts[parent]!, this.seq[parent]!, this.row[parent]!);
      i = parent;
    }
    this.put(i, d, ts, seq, row);
  }

  private siftDown(d: number, ts: number, seq: number, row: number): void {
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.worse(child + 1, this.d[child]!, this.ts[child]!, this.seq[child]!)) child++;
      if (!this.worse(child, d, ts, seq)) break;
      this.put(i, this.d[child]!, this.ts[child]!, this.seq[child]!, this.row[child]!);
      i = child;
    }
    this.put(i, d, ts, seq, row);
  }
}

/**
 * Probes `ix` with the `count` 16-byte slots at `dict` of `buf` (a shard's dictionary, or a tenant's):
 * the (entry, dictionary entry, distance) triples, exact ones first, each kind in dictionary order.
 * `sorted`: the slots are in plate order (a sealed dictionary), so a few exact entries may each be found
 * by a binary search; live plates gathered in first-seen order are not (live-hotlist-task.ts).
 */
export function probeDictionary(ix: HotlistIndex, buf: ArrayBufferLike, dict: number, count: number, budget?: QueryBudget, sorted = true): ProbePairs {
  const pe = int32List(), pd = int32List(), pdist = int32List();
  if (count > 0) probe(ix, new Uint8Array(buf, dict, count * kPlateSlotBytes), null, count, sorted, pe, pd, pdist, budget);
  return { entries: pe.done(), plates: pd.done(), distances: pdist.done() };
}

/**
 * `probeDictionary` over a covered shard's plates, read through its code → id map (`ids`, ascending) in its
 * tenant's sorted slots (`slots`): the pairs in the shard's codes, as probing its own slots gave.
 */
export function probeThrough(ix: HotlistIndex, slots: Uint8Array, ids: PlateIdLane, budget?: QueryBudget): ProbePairs {
  const pe = int32List(), pd = int32List(), pdist = int32List();
  if (ids.count > 0) probe(ix, slots, ids, ids.count, true, pe, pd, pdist, budget);
  return { entries: pe.done(), plates: pd.done(), distances: pdist.done() };
}

/**
 * Plates a probe pass takes the slots of at a time: a covered shard's map decoded a block at a time
 * (`plateIdsInto`: one loop over the map's arrays, where a reader call a plate cost the Elias–Fano form ~4× the
 * blocked one's; bench/RESULTS.md, "Issue 11/12: the hot list's covered probe walks its map a block at a time").
 */
const kWalkPlates = 256;

/** Blocks of a covered shard's map a probe pass took on this thread (tests: an engine test's hot list reached the walk). */
export const probeWalkCounts = { blocks: 0 };

/** The slots of plates lo, lo + 1, … (up to `out`'s length or `count`) into `out`: through the map, or plate d at slot d. */
function slotsFrom(ids: PlateIdLane | null, lo: number, count: number, out: Uint32Array): number {
  if (ids !== null) {
    probeWalkCounts.blocks++;
    return plateIdsInto(ids, lo, out);
  }
  const m = Math.min(out.length, count - lo);
  for (let k = 0; k < m; k++) out[k] = lo + k;
  return m;
}

/**
 * Probes a dictionary of `count` plates, plate d at slot `ids ? ids[d] : d` of `bytes` (16-byte slots):
 * (entry, d, distance) triples into `pe`, `pd`, `pdist`. A pass over every plate takes their slots a block at a
 * time (`slotsFrom`); the binary search of a few exact entries reads the map at its probes (`plateIdReader`).
 */
function probe(ix: HotlistIndex, bytes: Uint8Array, ids: PlateIdLane | null, count: number, sorted: boolean, pe: TypedList<Int32Array>, pd: TypedList<Int32Array>, pdist: TypedList<Int32Array>, budget: QueryBudget | undefined): void {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const walk = new Uint32Array(kWalkPlates);
  const es = ix.slots;
  const eb = new Uint8Array(es.buffer, es.byteOffset, es.byteLength);
  const hit = (e: number, d: number, dist: number) => {
    pe.push(e);
    pd.push(d);
    pdist.push(dist);
  };
  const list = ix.exactList;
  for (const ocr of [false, true]) {
    const ex = ix.exact[ocr ? 1 : 0];
    if (!ex) continue;
    if (!ocr && sorted && list.length * 24 < count) {
      // few entries: a binary search each over the sorted slots (~log2(count) slot compares); the pairs found
      // in entry order are put in plate order, as a probe pass gives them: a task then finds each plate's rows
      // by galloping forward from the last plate's, not by a binary search over every row
      const fe = int32List(), fd = int32List();
      const at = ids === null ? null : plateIdReader(ids);
      for (let t = 0; t < list.length; t++) {
        budget?.tick();
        const e = list[t]!;
        const d = findSlot(bytes, at, count, eb, e * 16);
        if (d >= 0) {
          fe.push(e);
          fd.push(d);
        }
      }
      const found = fd.items.subarray(0, fd.length);
      const order = ascendingOrder(found);
      for (let q = 0; q < found.length; q++) {
        const o = order === null ? q : order[q]!;
        hit(fe.items[o]!, found[o]!, 0);
      }
      continue;
    }
    const { head, next, bits, filter } = ex;
    const mask = (1 << bits) - 1;
    const fbits = bits + kFilterExtraBits;
    const mapped = new Uint32Array(4);
    const mb = new Uint8Array(mapped.buffer);
    for (let lo = 0; lo < count; lo += kWalkPlates) {
      if ((lo & 1023) === 0) budget?.check();
      const m = slotsFrom(ids, lo, count, walk);
      for (let k = 0; k < m; k++) {
        const d = lo + k;
        const w = walk[k]! * 4;
        let w0 = words[w]!, w1 = words[w + 1]!, w2 = words[w + 2]!, w3 = words[w + 3]!;
        if (ocr) {
          mapped[0] = w0;
          mapped[1] = w1;
          mapped[2] = w2;
          mapped[3] = w3;
          const len = mb[15]!;
          for (let j = 0; j < len; j++) mb[j] = kOcrBytes[mb[j]!]!;
          w0 = mapped[0]!;
          w1 = mapped[1]!;
          w2 = mapped[2]!;
          w3 = mapped[3]!;
        }
        const f = slotHash(w0, w1, w2, w3, fbits);
        if ((filter[f >>> 5]! & (1 << (f & 31))) === 0) continue; // no entry has this slot
        let h = f >>> kFilterExtraBits;
        for (;;) {
          let e = head[h]!;
          if (e < 0) break;
          const v = e * 4;
          if (es[v] === w0 && es[v + 1] === w1 && es[v + 2] === w2 && es[v + 3] === w3) {
            for (; e >= 0; e = next[e]!) hit(e, d, 0);
            break;
          }
          h = (h + 1) & mask;
        }
      }
    }
  }
  for (const ocr of [false, true]) {
    const fz = ix.fuzzy[ocr ? 1 : 0];
    if (!fz) continue;
    const { k, bits, table, filter, entries } = fz;
    const { maxEdits, osa } = ix;
    const mask = (1 << bits) - 1;
    const fbits = bits + kFilterExtraBits;
    const seen = new Int32Array(ix.count); // seen[e] === d + 1: entry e already verified against plate d
    const codes = new Uint8Array(16);
    const pre = new Float64Array(12), suf = new Float64Array(12);
    let d = 0;
    const visit = (v: number): void => {
      const vh = keyHi(v), vl = v >>> 0;
      const f = keyHash(vh, vl, fbits);
      if ((filter[f >>> 5]! & (1 << (f & 31))) === 0) return; // no entry has this key
      let h = f >>> kFilterExtraBits;
      for (;;) {
        const w = 4 * h;
        if (table[w + 3] === 0) return;
        if (table[w] === vh && table[w + 1] === vl) break;
        h = (h + 1) & mask;
      }
      const s = table[4 * h + 2]!, end = s + table[4 * h + 3]!;
      const len = codes[15]!;
      for (let r = s; r < end; r++) {
        const e = entries[r]!;
        if (seen[e] === d + 1) continue;
        seen[e] = d + 1;
        const ke = maxEdits[e]!;
        const dist = boundedDistance(eb, e * 16, eb[e * 16 + 15]!, codes, 0, len, ke, osa[e] === 1);
        if (dist <= ke) hit(e, d, dist);
      }
    };
    for (let lo = 0; lo < count; lo += kWalkPlates) {
      budget?.check();
      const m = slotsFrom(ids, lo, count, walk);
      for (let q = 0; q < m; q++) {
        d = lo + q;
        const b = walk[q]! * kPlateSlotBytes;
        const len = bytes[b + 15]!;
        if (len + k < fz.minLen || len - k > fz.maxLen) continue;
        for (let j = 0; j < len; j++) codes[j] = ocr ? kOcrBytes[bytes[b + j]!]! : bytes[b + j]!;
        codes[15] = len;
        forEachDeleteValue(codes, len, k, pre, suf, visit);
      }
    }
  }
}

/** The plate (of `count`, plate d at slot `ids ? ids[d] : d`, sorted) equal to the entry slot at `eb[eo..eo+16)`, or -1. */
function findSlot(bytes: Uint8Array, ids: IdAt | null, count: number, eb: Uint8Array, eo: number): number {
  const len = eb[eo + 15]!;
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const base = (ids === null ? mid : ids(mid)) * kPlateSlotBytes;
    let c = 0;
    for (let j = 0; j < len && c === 0; j++) c = bytes[base + j]! - eb[eo + j]!;
    if (c === 0) c = bytes[base + 15]! - len; // a prefix sorts before its extensions
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** A task's answer when nothing matches. */
export function emptyHotlistResult(): HotlistTaskResult {
  return {
    entries: new Int32Array(0), totals: new Int32Array(0), offsets: new Int32Array(1),
    rows: new Uint32Array(0), distances: new Uint8Array(0), ts: new Float64Array(0), seqs: new Float64Array(0),
  };
}

/** Per label filter, a mask by dictionary code (null: no such filter); undefined when no row can pass. */
export interface LabelMasks {
  camera: boolean[] | null;
  region: boolean[] | null;
  make: Uint8Array | null;
  color: Uint8Array | null;
}

/** The label masks of `p` over a source's dictionaries (code 0 of region, make, color is "none"). */
export function labelMasks(p: PreparedFilter, labels: Pick<HotlistTask, 'cameras' | 'regions' | 'makes' | 'colors'>): LabelMasks | undefined {
  const camera = p.cameras ? labels.cameras.map((c) => p.cameras!.has(c)) : null;
  const region = p.regions ? labels.regions.map((r, i) => i > 0 && p.regions!.has(r)) : null;
  const make = p.makes ? attributeMask(labels.makes ?? [], p.makes) : null;
  const color = p.colors ? attributeMask(labels.colors ?? [], p.colors) : null;
  if ((camera && !camera.includes(true)) || (region && !region.includes(true))) return undefined;
  if ((make && !make.includes(1)) || (color && !color.includes(1))) return undefined;
  return { camera, region, make, color };
}

/**
 * The result of a task from its probe's pairs: the pairs grouped by entry, each entry's rows offered to one
 * heap by `offerRows(pair, top)` (the order of an entry's own pairs does not matter: its heap keeps the same
 * rows), drained best first.
 */
export function collectByEntry(pairs: ProbePairs, limit: number, offerRows: (pair: number, distance: number, top: EntryTop) => void): HotlistTaskResult {
  const nPairs = pairs.entries.length;
  const E = pairs.entries, PD = pairs.distances;
  // by entry, natively (src/core/ascending-order.ts), where a comparator called per compare cost as much as the probe
  const order = ascendingOrder(E);
  const top = new EntryTop(limit);
  const outE = int32List(), outT = int32List(), outOff = int32List();
  const kept = new KeptRows();
  outOff.push(0);
  const flush = (e: number) => {
    if (top.total === 0) return;
    outE.push(e);
    outT.push(top.total);
    top.drainSorted(kept);
    outOff.push(kept.n);
  };
  let cur = -1;
  for (let q = 0; q < nPairs; q++) {
    const pi = order === null ? q : order[q]!;
    const e = E[pi]!;
    if (e !== cur) {
      if (cur >= 0) flush(cur);
      top.reset();
      cur = e;
    }
    offerRows(pi, PD[pi]!, top);
  }
  if (cur >= 0) flush(cur);
  return {
    entries: outE.items.slice(0, outE.length), totals: outT.items.slice(0, outT.length), offsets: outOff.items.slice(0, outOff.length),
    rows: kept.rows.slice(0, kept.n), distances: kept.distances.slice(0, kept.n),
    ts: kept.ts.slice(0, kept.n), seqs: kept.seqs.slice(0, kept.n),
  };
}

/** Runs one shard task: see the file comment. `buf` is the arena's memory buffer. */
export function runHotlistTask(buf: ArrayBufferLike, task: HotlistTask, budget?: QueryBudget): HotlistTaskResult {
  const seg = task.layout;
  const p = prepareFilter(task.filter, -Infinity);
  if (p.empty || seg.rows === 0 || seg.dictCount === 0) return emptyHotlistResult();
  const masks = labelMasks(p, task);
  if (!masks) return emptyHotlistResult();
  const { camera: cameraOk, region: regionOk, make: makeOk, color: colorOk } = masks;

  const through = task.through;
  const pairs = task.pairs
    ?? (!through ? probeDictionary(task.index, buf, seg.dict, seg.dictCount, budget)
      : 'slots' in through ? probeThrough(task.index, through.slots, through.ids, budget)
      : pairsInShard(through.pairs, idCursor(through.ids)));
  const nPairs = pairs.entries.length;
  if (nPairs === 0) return emptyHotlistResult();
  const D = pairs.plates;

  const rowsN = seg.rows;
  // lanes at the widths the segment has them (format 2 shards narrow them: src/core/segment.ts)
  const tsAt = tsReader(buf, seg);
  const seqOf = segmentSeqReader(buf, seg, task.seq);
  const plate = plateCodeReader(buf, seg.plate, seg.plateWidth, rowsN, seg.plateBits);
  const post = rowsReader(buf, task.postings, seg.postingsWidth, rowsN, seg.postingsBits);
  const lat = coordReader(buf, seg, 'lat');
  const lon = coordReader(buf, seg, 'lon');
  const camera = cameraReader(buf, seg);
  // region, make and color through the labels lane or their own lanes (absent: every row has code 0, "no value")
  const region = labelReader(buf, seg, 'region'), make = labelReader(buf, seg, 'make'), color = labelReader(buf, seg, 'color');
  const { lo: tLo, hi: tHi, geo } = p;

  // each pair's plate run [runLo, runHi) of the plate → rows index (rows sorted by plate). Probing gives
  // the pairs of a pass in plate order, so the search gallops forward from the last run (a few nearby
  // reads) instead of a binary search over every row from scratch (~log2(rows) scattered reads a pair)
  const runLo = new Int32Array(nPairs), runHi = new Int32Array(nPairs);
  let lastD = -1, lastLo = 0;
  for (let q = 0; q < nPairs; q++) {
    const d = D[q]!;
    // every position before `a` holds a smaller plate; [a, b) is where d's run starts
    let a = 0, b = rowsN;
    if (d >= lastD) {
      a = lastLo;
      b = a;
      for (let step = 1; b < rowsN && plate(post(b)) < d; step *= 2) {
        a = b + 1;
        b = Math.min(rowsN, a + step);
      }
    }
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (plate(post(mid)) < d) a = mid + 1;
      else b = mid;
    }
    let end = a;
    while (end < rowsN && plate(post(end)) === d) end++;
    runLo[q] = a;
    runHi[q] = end;
    lastD = d;
    lastLo = a;
  }

  const result = collectByEntry(pairs, task.limit, (pi, distance, top) => {
    // the plate's run: rows ascending, so newest (by hour bucket) last
    const lo = runLo[pi]!;
    for (let j = runHi[pi]! - 1; j >= lo; j--) {
      if ((j & 255) === 0) budget?.tick();
      const i = post(j);
      const t = tsAt(i);
      if (t < tLo || t >= tHi) continue;
      if (geo && !geo(lat(i) / kCoordScale, lon(i) / kCoordScale)) continue;
      if (cameraOk && !cameraOk[camera(i)]) continue;
      if (regionOk && !regionOk[region(i)]) continue;
      if (makeOk && !makeOk[make(i)]) continue;
      if (colorOk && !colorOk[color(i)]) continue;
      top.offer(distance, t, i, seqOf);
    }
  });
  if (result.rows.length > 0) result.fields = keptFields(buf, seg, task, result.rows, plate, camera);
  return result;
}

/** The fields of the kept `rows` (see KeptFields), read from the shard's lanes where they lie. */
function keptFields(buf: ArrayBufferLike, seg: SegmentLayout, task: HotlistTask, rows: Uint32Array, plate: CodeAt, camera: CodeAt): KeptFields {
  const n = rows.length, rowsN = seg.rows;
  const codes = new Int32Array(n * kKeptCodes), confidence = new Float64Array(n);
  const lat = coordReader(buf, seg, 'lat'), lon = coordReader(buf, seg, 'lon');
  const region = labelReader(buf, seg, 'region'), make = labelReader(buf, seg, 'make'), color = labelReader(buf, seg, 'color');
  const conf = task.confidence ? confidenceLane(buf, task.confidence, rowsN) : null;
  for (let k = 0, o = 0; k < n; k++, o += kKeptCodes) {
    const i = rows[k]!;
    codes[o] = lat(i);
    codes[o + 1] = lon(i);
    codes[o + kKeptPlate] = plate(i);
    codes[o + 3] = camera(i);
    codes[o + 4] = region(i);
    codes[o + 5] = make(i);
    codes[o + 6] = color(i);
    confidence[k] = conf ? conf(i) ?? NaN : NaN;
  }
  return { codes, confidence };
}
