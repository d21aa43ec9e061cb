/**
 * The lines of a piece (bulk ingest, src/ingest/parse-chunk.ts) or of an NDJSON request body
 * (src/ingest/parse-body.ts), found once:
 *
 *   bytes   {"plate":…}\n{"plate":…}\r\n{"plate":…}
 *   line k  [start(k), ends[k])   start(0) = from, start(k+1) = nexts[k]
 *
 * Both callers used to find every line break twice: once to count the rows the piece's columns need, once
 * more line by line while reading (native `indexOf` was ~15 % of a parse worker's samples in a 2M load's
 * profile, much of it the first touch of the piece's bytes). Now the breaks are found in one pass into two
 * reused arrays and the count of lines is exact. In-process this measured level (0.99 ×, bench/RESULTS.md
 * "Bulk load: lines found once …"): kept as one pass instead of two twin loops.
 */
export class LineBreaks {
  /** Line k's content ends before ends[k] (its break, or the end of the bytes). */
  ends = new Int32Array(1024);
  /** Line k+1 starts at nexts[k] (past line k's break: 1 byte, 2 for CR LF). */
  nexts = new Int32Array(1024);

  /**
   * A file's lines as node:readline splits them (crlfDelay: Infinity): at LF, CR LF or a lone CR; no empty
   * line after a final break. Returns the number of lines.
   */
  splitFile(b: Uint8Array): number {
    const len = b.length;
    let n = 0;
    let pos = 0;
    let cr = b.indexOf(0x0d); // the next CR at or after pos (-1: none left); looked up again only once passed
    while (pos < len) {
      let lf = b.indexOf(0x0a, pos);
      if (lf < 0) lf = len;
      let end = lf;
      let next = lf + 1;
      if (cr >= 0 && cr < pos) cr = b.indexOf(0x0d, pos);
      if (cr >= 0 && cr < lf) {
        end = cr;
        next = cr + 1 === lf ? lf + 1 : cr + 1;
      }
      if (n === this.ends.length) this.grow();
      this.ends[n] = end;
      this.nexts[n++] = next;
      pos = next;
    }
    return n;
  }

  /**
   * An HTTP NDJSON body's lines from `from`: split at LF only (a CR stays in its line), and the part after
   * the last LF is a line too (empty when the body ends with one). Returns the number of lines (LFs + 1).
   */
  splitLf(b: Uint8Array, from: number): number {
    const len = b.length;
    let n = 0;
    for (let pos = from; pos <= len; ) {
      let lf = b.indexOf(0x0a, pos);
      if (lf < 0) lf = len;
      if (n === this.ends.length) this.grow();
      this.ends[n] = lf;
      this.nexts[n++] = lf + 1;
      pos = lf + 1;
    }
    return n;
  }

  private grow(): void {
    const ends = new Int32Array(this.ends.length * 2);
    const nexts = new Int32Array(this.nexts.length * 2);
    ends.set(this.ends);
    nexts.set(this.nexts);
    this.ends = ends;
    this.nexts = nexts;
  }
}
