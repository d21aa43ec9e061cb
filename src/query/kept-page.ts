/**
 * A scan's page handed to the answer's writer as its kept rows, not as hits (src/model/hit-sink.ts, "pending"):
 * the TopK's kept candidates of a bbox, radius, wildcard, contains, fuzzy or no-plate search (and of an exact
 * plate with more rows than its page), each written later straight from its shard's lanes and dictionary
 * strings — no hit object, id string or boxed coordinate a hit.
 *
 * Why later and not during the search, as an exact plate's one page is (src/query/plate-page.ts): a scan's
 * page is up to 1,000 hits, ~0.15–0.3 ms of text. Built hits' text is made by the server while the request's
 * audit record is made durable (src/server/pipeline.ts), off the answer's critical path; text made inside the
 * search would sit on it (http-eight2 measured a 1,000-hit page's text moved before the record: one client's
 * overhead +0.3 ms; bench/RESULTS.md "Issue 12: an exact page written as read"). So the search keeps the rows
 * and the text is made where built hits' text was; what leaves the request is building the hits.
 *
 *   kept      the candidates in answer order: (distance, ts, ordinal, seq, source, row), made by the scan
 *             anyway; a live row's hit is built at once (its generation may be replaced once the search returns)
 *   held      each shard of the page is pinned (LoadedShard.pin) until the page is written or released, so a
 *             retention drop or compaction between the search and the text cannot free the lanes it reads
 *   plate     an exact plate's hits are given it; else its characters are copied from the dictionary slot
 *             into the sink's `plateChars` (no string a hit: decoding them was ~30 % of writing a bbox page)
 */
import type { HitSink, PendingHits } from '../model/hit-sink.js';
import type { Hit, SearchKey } from '../model/query.js';
import { readIdOf } from '../store/ids.js';
import type { LoadedShard } from '../store/shard-loader.js';
import type { Candidate } from './executor.js';
import { liveHit } from './live-hit.js';
import type { Source } from './sources.js';

export class KeptPage implements PendingHits {
  readonly count: number;
  readonly last: SearchKey | undefined;
  private kept: readonly Candidate[] | undefined;
  /** The live rows' hits, built at once (by position in `kept`); undefined when the page has none. */
  private readonly liveHits: Array<Hit | undefined> | undefined;
  private readonly held: LoadedShard[] = [];

  /** `kept`: the page's candidates in answer order; `plate`: the plate every hit has (an exact lookup's). */
  constructor(kept: readonly Candidate[], private readonly plate: string | undefined) {
    this.kept = kept;
    this.count = kept.length;
    const tail = kept[kept.length - 1];
    this.last = tail && { distance: tail.distance, ts: tail.ts, id: readIdOf(tail.ordinal, tail.seq) };
    let liveHits: Array<Hit | undefined> | undefined;
    let lastShard: LoadedShard | undefined;
    for (let j = 0; j < kept.length; j++) {
      const c = kept[j]!, src = c.source;
      if (src.kind === 'live') {
        (liveHits ??= new Array<Hit | undefined>(kept.length))[j] = liveHit(src.view, src.tenant, src.ordinal, c.row, c.distance);
        continue;
      }
      // a page's rows come a shard at a time more often than not: one pin a shard
      if (src.shard === lastShard || this.held.includes(src.shard)) continue;
      lastShard = src.shard;
      src.shard.pin();
      this.held.push(src.shard);
    }
    this.liveHits = liveHits;
  }

  writeTo(sink: HitSink): void {
    const kept = this.kept;
    if (!kept) throw new Error('KeptPage: written or released already');
    try {
      sink.begin(kept.length);
      for (let j = 0; j < kept.length; j++) {
        const c = kept[j]!, src = c.source;
        if (src.kind === 'live') {
          sink.hit(this.liveHits![j]!);
          continue;
        }
        // a scan's plates are copied from their slots as characters (HitSink.plateChars), not decoded to strings
        const plate = this.plate ?? src.shard.plateChars(src.shard.plate(c.row), sink.plateChars);
        writeShardRow(sink, src, c.row, c.ts, c.seq, plate, c.distance);
      }
    } finally {
      this.release();
    }
  }

  release(): void {
    if (!this.kept) return;
    this.kept = undefined;
    for (const s of this.held.splice(0)) s.unpin();
  }
}

/**
 * Row `row` of a shard source written to `sink` as a sealed read's hit: the fields ShardHits.hit reads
 * (src/query/shard-hits.ts), from the shard's lanes and dictionaries, with `plate` as its plate (or the count of
 * its characters in `sink.plateChars`).
 */
export function writeShardRow(sink: HitSink, src: Source & { kind: 'shard' }, row: number, ts: number, seq: number, plate: string | number, distance: number): void {
  const s = src.shard, x = s.extraLanes(), labels = s.labels();
  let region: number, make: number, color: number;
  if (labels) {
    // the row's triple read once for its three codes
    const t = labels.triple(row);
    region = labels.region[t]!;
    make = labels.make[t]!;
    color = labels.color[t]!;
  } else {
    region = s.regionAt(row);
    make = s.makeAt(row);
    color = s.colorAt(row);
  }
  sink.read(src.tenant, src.ordinal, seq, plate, ts, s.latE7(row), s.lonE7(row), s.cameras[s.camera(row)]!,
    region !== 0 ? s.regions[region]! : undefined, x.conf(row) ?? Number.NaN,
    make !== 0 ? x.makes[make]! : undefined, color !== 0 ? x.colors[color]! : undefined, distance);
}
