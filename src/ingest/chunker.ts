/**
 * Cuts an input file's bytes into pieces that parse on their own (src/ingest/parse-chunk.ts): each piece
 * ends just after a line break at which a line-at-a-time reader would be at the start of a line (NDJSON)
 * or of a record (CSV, outside any quoted field). Pieces are about `pieceBytes` long; a line or record
 * longer than that makes its piece longer (it must be whole somewhere).
 *
 * CSV needs the reader's own state to know whether a LF ends a record: a quote opens a quoted field only at
 * the start of a field (src/server/export/csv-reader.ts), so quote parity alone is not enough. The scanner
 * below is that reader's state machine over bytes (every byte it looks at is ASCII; UTF-8 continuation
 * bytes are never ASCII), run only over pieces that hold a quote: a piece without one is cut at its last LF.
 */
export class CsvBoundaryScanner {
  private quoted = false;
  private quoteEnd = false;
  /** The current field holds something (a quote then opens no quoted field). */
  private fieldFull = false;

  /** Scans `buf[from..]`; returns the offset just past the last record-ending LF in it, or -1. */
  scan(buf: Uint8Array, from = 0): number {
    const b = buf as Buffer;
    if (!this.quoted && !this.quoteEnd && b.indexOf(0x22, from) < 0) {
      // no quote: every LF ends a record; the state after is the tail's
      const lastLf = b.lastIndexOf(0x0a);
      if (lastLf >= from) this.fieldFull = false;
      const start = Math.max(from, lastLf + 1);
      for (let i = start; i < buf.length; i++) this.step(buf[i]!);
      return lastLf >= from ? lastLf + 1 : -1;
    }
    let last = -1;
    for (let i = from; i < buf.length; i++) if (this.step(buf[i]!)) last = i + 1;
    return last;
  }

  /** One byte, as CsvReader.push treats one character; true when it ends a record. */
  private step(c: number): boolean {
    if (this.quoted) {
      if (this.quoteEnd) {
        this.quoteEnd = false;
        if (c === 0x22) {
          this.fieldFull = true;
          return false;
        }
        this.quoted = false; // fall through: c as unquoted
      } else {
        if (c === 0x22) this.quoteEnd = true;
        else this.fieldFull = true;
        return false;
      }
    }
    let ended = false;
    if (c === 0x22 && !this.fieldFull) {
      this.quoted = true;
    } else if (c === 0x2c) {
      this.fieldFull = false;
    } else if (c === 0x0a) {
      this.fieldFull = false;
      this.quoted = false;
      this.quoteEnd = false;
      ended = true;
    } else if (c !== 0x0d) {
      // a CR (of a CRLF) fills no field
      this.fieldFull = true;
    }
    return ended;
  }
}

/** Where a piece of `format` may end in `buf[from..]` (just past a LF), or -1; keeps CSV state across calls. */
export class PieceCutter {
  private readonly csv: CsvBoundaryScanner | undefined;

  constructor(format: 'ndjson' | 'csv') {
    this.csv = format === 'csv' ? new CsvBoundaryScanner() : undefined;
  }

  /** Feeds the bytes `buf[from..]` (each byte exactly once over the calls); the last cut point in them, or -1. */
  cut(buf: Uint8Array, from: number): number {
    if (this.csv) return this.csv.scan(buf, from);
    const lf = (buf as Buffer).lastIndexOf(0x0a);
    return lf >= from ? lf + 1 : -1;
  }
}

/** Whether `buf` starts with a UTF-8 byte order mark. */
export function hasBom(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}
