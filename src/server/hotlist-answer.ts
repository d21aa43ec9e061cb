/**
 * A hot list's JSON answer kept as columns while the engine merges it (src/model/hotlist-sink.ts), written as
 * text only when the pipeline asks for it (`bytes`): that is while the search's audit record is made durable
 * (src/server/pipeline.ts jsonText), so the ~1,000 hits' text of a 100-entry list overlaps the record's two
 * sync writes instead of following the engine, and no hit object, id string or boxed coordinate is made.
 *
 *   per match   entries[m]   totals[m]   truncated[m]   ends[m] (its hits are [ends[m − 1], ends[m]))
 *   per hit     nums[7h ..]  ordinal, seq, ts, latE7, lonE7, confidence (NaN: none), distance
 *               strs[6h ..]  tenant, plate, camera, region, make, color (undefined: none)
 *               objs[h]      a hit handed over as its object (a live row's, a held read's), else unset
 *
 * The strings are the shards' own dictionary strings (the sink's contract): kept by reference, not copied,
 * so the columns need none of the shards' memory after the engine's call returns.
 */
import type { HotlistSink } from '../model/hotlist-sink.js';
import type { Hit } from '../model/query.js';
import { HotlistAnswerText } from './hit-bytes.js';

// number and string columns a hit (the layout above)
const kNums = 7;
const kStrs = 6;

export class HotlistAnswerColumns implements HotlistSink {
  private readonly entries: string[] = [];
  private readonly totals: number[] = [];
  private readonly truncated: boolean[] = [];
  private readonly ends: number[] = [];
  private nums = new Float64Array(kNums * 1024);
  private strs: Array<string | undefined> = [];
  private objs: Array<Hit | undefined> | undefined;
  private n = 0;

  match(entry: string, total: number, truncated: boolean, hits: number): void {
    this.entries.push(entry);
    this.totals.push(total);
    this.truncated.push(truncated);
    this.ends.push(this.n + hits);
    if ((this.n + hits) * kNums > this.nums.length) {
      const grown = new Float64Array(Math.max(2 * this.nums.length, (this.n + hits) * kNums));
      grown.set(this.nums.subarray(0, this.n * kNums));
      this.nums = grown;
    }
  }

  read(tenant: string, ordinal: number, seq: number, plate: string, ts: number, latE7: number, lonE7: number,
    camera: string, region: string | undefined, confidence: number, make: string | undefined, color: string | undefined,
    distance: number): void {
    const h = this.n++, v = this.nums, o = h * kNums;
    v[o] = ordinal;
    v[o + 1] = seq;
    v[o + 2] = ts;
    v[o + 3] = latE7;
    v[o + 4] = lonE7;
    v[o + 5] = confidence;
    v[o + 6] = distance;
    const s = this.strs;
    if (s.length !== h * kStrs) s.length = h * kStrs; // past the slots of hits handed over as objects
    s.push(tenant, plate, camera, region, make, color);
  }

  hit(h: Hit): void {
    (this.objs ??= [])[this.n++] = h;
  }

  /** The sum of the matches' totals (the audit record's `resultCount`). */
  resultCount(): number {
    let n = 0;
    for (const t of this.totals) n += t;
    return n;
  }

  /** The answer's JSON text as UTF-8 bytes: the matches written so far, then `queryId` and `tookMs`. */
  bytes(queryId: string, tookMs: number): Buffer {
    const w = new HotlistAnswerText(this.entries.length, this.n);
    const v = this.nums, s = this.strs, objs = this.objs;
    let h = 0;
    for (let m = 0; m < this.entries.length; m++) {
      w.match(this.entries[m]!, this.totals[m]!, this.truncated[m]!);
      for (const end = this.ends[m]!; h < end; h++) {
        const obj = objs?.[h];
        if (obj) {
          w.hit(obj);
          continue;
        }
        const o = h * kNums, q = h * kStrs;
        w.read(s[q]!, v[o]!, v[o + 1]!, s[q + 1]!, v[o + 2]!, v[o + 3]!, v[o + 4]!, s[q + 2]!, s[q + 3], v[o + 5]!, s[q + 4], s[q + 5], v[o + 6]!);
      }
    }
    return w.end(queryId, tookMs);
  }
}
