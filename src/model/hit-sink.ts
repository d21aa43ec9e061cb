/**
 * Where a search may put its page's hits as it reads them, instead of building a `Hit` object a row: the
 * server's JSON answer (src/server/hit-bytes.ts SearchAnswerWriter) writes each one's text straight from the
 * shard's lane values and dictionary strings. An all-time exact plate answers ~40 hits; building their
 * objects (and each one's id string) cost about as much of the server's main thread as the rest of the
 * engine's work, and writing their text read every field back (bench/RESULTS.md, "Issue 12: an exact page
 * written as read").
 *
 * The contract (src/engine/engine.ts `search`): an engine writes to a sink only a page it answers whole
 * (`truncated` false: no cursor needs the last hit), `begin` first, then its hits in answer order, and then answers `written: true` with
 * `hits` empty; otherwise it writes nothing and answers its hits as always. Strings passed are the shard's own
 * dictionary strings (no copy is made); the sink must take what it needs before the call returns.
 */
import type { Hit } from './query.js';

export interface HitSink {
  /** How many hits follow (`read` and `hit` calls), before the first: the answer's room is made once. */
  begin(hits: number): void;
  /**
   * A sealed read's hit: its fields as the shard stores them (lat/lon in 1e-7°, the integers behind a hit's
   * `lat = latE7 / 1e7`), `confidence` NaN when absent, `region` / `make` / `color` undefined when absent.
   * Its id is (`ordinal`, `seq`) (src/store/ids.ts readIdOf).
   */
  read(tenant: string, ordinal: number, seq: number, plate: string, ts: number, latE7: number, lonE7: number,
    camera: string, region: string | undefined, confidence: number, make: string | undefined, color: string | undefined,
    distance: number): void;
  /** Any other hit (a live row's), as its object. */
  hit(h: Hit): void;
}
