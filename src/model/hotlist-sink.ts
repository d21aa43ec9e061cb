/**
 * Where a hot-list search may put its answer's hits as it merges them, instead of building a `Hit` object a
 * hit: the server's JSON answer (src/server/hotlist-answer.ts) keeps each one's fields as columns and writes
 * the text from them while the audit record is made durable. A 100-entry list answers ~1,000 hits; building
 * their objects and then writing their text from the objects was most of its ~2 ms of one-client overhead
 * (bench/RESULTS.md, "Issue 12: a hot list alone in the server").
 *
 * The contract (src/engine/engine.ts `searchHotlist`): an engine that takes the sink writes every match to
 * it in entry order — `match`, then exactly that match's `hits` hits best first through `read` (a sealed
 * read, its fields as the shard stores them: src/model/hit-sink.ts) or `hit` (any other, as its object) — and
 * answers `written: true` with `matches` empty; otherwise it writes nothing and answers its matches as
 * always. Strings passed are the shard's own dictionary strings (no copy is made).
 */
import type { HitSink } from './hit-sink.js';

export interface HotlistSink extends Pick<HitSink, 'read' | 'hit'> {
  /** The next entry with a match: its pattern, exact count, whether hits were cut, and how many follow. */
  match(entry: string, total: number, truncated: boolean, hits: number): void;
}
