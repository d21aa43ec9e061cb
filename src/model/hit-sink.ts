/**
 * Where a search may put its page's hits as it reads them, instead of building a `Hit` object a row: the
 * server's JSON answer (src/server/hit-bytes.ts SearchAnswerWriter) writes each one's text straight from the
 * shard's lane values and dictionary strings. An all-time exact plate answers ~40 hits; building their
 * objects (and each one's id string) cost about as much of the server's main thread as the rest of the
 * engine's work, and writing their text read every field back (bench/RESULTS.md, "Issue 12: an exact page
 * written as read").
 *
 * The contract (src/engine/engine.ts `search`): given a sink, an engine answers in one of three ways.
 *   written   it wrote a page it answers whole (`truncated` false: no cursor needs the last hit) to the sink
 *             during the call (`begin` first, then its hits in answer order) and answers `written: true`
 *             with `hits` empty (an exact plate's one page, src/query/plate-page.ts);
 *   pending   it answers `pending` (PendingHits) with `hits` empty: the page's rows, kept and their shards
 *             held, written to a sink when the caller asks, once (a scan's page, src/query/kept-page.ts). The
 *             server asks while the request's audit record is made durable, so the text stays off the
 *             answer's critical path as built hits' text was, and no hit object is made;
 *   built     it writes nothing and answers its hits as always.
 * Strings passed are the shard's own dictionary strings (no copy is made); the sink must take what it needs
 * before the call returns.
 */
import type { Hit, SearchKey } from './query.js';

export interface HitSink {
  /** How many hits follow (`read` and `hit` calls), before the first: the answer's room is made once. */
  begin(hits: number): void;
  /**
   * Where a caller may put a plate's characters (A–Z0–9, at most kMaxPlateLength: src/model/plate.ts) copied
   * from its dictionary slot, and pass their count as `read`'s `plate`: no string is made of it (decoding a
   * scan page's plate from its slot was ~30 % of writing the page).
   */
  readonly plateChars: Uint8Array;
  /**
   * A sealed read's hit: its fields as the shard stores them (lat/lon in 1e-7°, the integers behind a hit's
   * `lat = latE7 / 1e7`), `confidence` NaN when absent, `region` / `make` / `color` undefined when absent.
   * Its id is (`ordinal`, `seq`) (src/store/ids.ts readIdOf); `plate` is its plate, or the count of its
   * characters in `plateChars`.
   */
  read(tenant: string, ordinal: number, seq: number, plate: string | number, ts: number, latE7: number, lonE7: number,
    camera: string, region: string | undefined, confidence: number, make: string | undefined, color: string | undefined,
    distance: number): void;
  /** Any other hit (a live row's), as its object. */
  hit(h: Hit): void;
}

/**
 * A page of hits not yet written (src/query/kept-page.ts): its rows' shards stay held (pinned) until it is
 * written or released, so exactly one of `writeTo` and `release` must follow every pending page.
 */
export interface PendingHits {
  /** How many hits the page has. */
  readonly count: number;
  /** The last hit's sort key (a truncated page's cursor is made from it); undefined for an empty page. */
  readonly last: SearchKey | undefined;
  /** Writes the page to `sink` (`begin`, then its hits in answer order) and lets go of its shards. */
  writeTo(sink: HitSink): void;
  /** Lets go of its shards without writing (the answer failed before its text was made). Idempotent. */
  release(): void;
}
