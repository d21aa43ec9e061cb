/**
 * A hit's string field — its key and its value, `,"camera":"pd-metro-fx-0150"` — as one JsonPiece made once
 * per value and written a word at a time (src/server/json-bytes.ts), instead of its key's piece and then the
 * value checked and copied a character at a time. The values are the shards' dictionary strings (tenants,
 * cameras, regions, makes, colours): few, and the same in every answer, so a hit's five string fields cost
 * five lookups and a dozen stores. Writing the strings was ~40 % of a hot list's ~1,000-hit answer
 * (bench/RESULTS.md, "Issue 12: the hot list's answer text a word at a time").
 *
 * A value is made a piece only when JSON writes it as itself between quotes in printable ASCII (no escape, so
 * the piece is as long as the reservation counted: src/server/hit-bytes.ts); any other value is written as
 * before (`JsonBytes.string`), and so is every value once a field has kMaxPieces of them (a field of free
 * text, or a dictionary larger than a cache should hold): the cache is then emptied and refilled, never grown.
 */
import { type JsonBytes, JsonPiece } from './json-bytes.js';

// values a field keeps pieces of (~40 B each): the bench's cameras are ~200 a tenant
const kMaxPieces = 16_384;

export class StringFieldPieces {
  // null: the value is written a character at a time (not printable ASCII, or it needs an escape)
  private readonly pieces = new Map<string, JsonPiece | null>();
  // the last value and its piece: a hot list's match is one vehicle's reads, mostly of one make, colour,
  // region and tenant, so most lookups are this compare
  private last: string | undefined;
  private lastPiece: JsonPiece | null = null;

  /** `key`: the field's key piece, `,"name":`. */
  constructor(private readonly key: JsonPiece) {}

  /** The key and `v` as a JSON string: the reservation counts the key's piece and 2 + v.length. */
  write(w: JsonBytes, v: string): void {
    let p = this.lastPiece;
    if (v !== this.last) {
      const kept = this.pieces.get(v);
      p = kept === undefined ? this.made(v) : kept;
      this.last = v;
      this.lastPiece = p;
    }
    if (p !== null) {
      w.piece(p);
      return;
    }
    w.piece(this.key);
    w.string(v);
  }

  private made(v: string): JsonPiece | null {
    if (this.pieces.size >= kMaxPieces) this.pieces.clear();
    let p: JsonPiece | null = null;
    if (isPlain(v)) p = new JsonPiece(`${this.key.text}"${v}"`);
    this.pieces.set(v, p);
    return p;
  }
}

/** Whether JSON writes `v` as its own characters (printable ASCII, no quote or backslash). */
function isPlain(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}
