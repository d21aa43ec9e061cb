/**
 * A streaming RFC 4180 reader: quoted fields may hold `,`, `""` and line breaks; rows end in LF or CRLF; a
 * leading UTF-8 BOM is skipped. Chunks go in, complete records come out, so files of any size stream through
 * bounded memory. Used by `platesearch ingest` for `.csv` files (the inverse of the CSV export).
 */
export interface CsvRecord {
  fields: string[];
  /** 1-based physical line on which the record starts. */
  line: number;
}

export class CsvReader {
  private field = '';
  private fields: string[] = [];
  private quoted = false;
  /** Just saw a closing quote inside a quoted field: `"` next means an escaped quote. */
  private quoteEnd = false;
  private line = 1;
  private recordLine = 1;
  private started = false;
  private sawCr = false;

  /**
   * `skipBom: false` for a reader that starts mid-file (bulk ingest hands each worker a piece starting at a
   * record boundary; only the file's own start may hold a BOM).
   */
  constructor(options: { skipBom?: boolean } = {}) {
    if (options.skipBom === false) this.started = true;
  }

  /** Feeds a chunk; returns the records it completed. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.quoted) {
        if (this.quoteEnd) {
          this.quoteEnd = false;
          if (c === '"') {
            this.field += '"';
            continue;
          }
          this.quoted = false; // the quote closed the field; handle c below as unquoted
        } else {
          if (c === '"') this.quoteEnd = true;
          else {
            if (c === '\n') this.line++;
            this.field += c;
          }
          continue;
        }
      }
      if (c === '"' && this.field === '') {
        this.quoted = true;
      } else if (c === ',') {
        this.fields.push(this.field);
        this.field = '';
      } else if (c === '\n') {
        this.endRecord(out);
        this.line++;
        this.recordLine = this.line;
      } else if (c === '\r') {
        this.sawCr = true;
      } else {
        if (this.sawCr) this.field += '\r';
        this.field += c;
      }
      if (c !== '\r') this.sawCr = false;
    }
    return out;
  }

  /** Ends the input; returns the last record if the file did not end in a newline. */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.quoted && !this.quoteEnd) {
      // an unterminated quote: hand back what there is; validation names the broken read
      this.quoted = false;
    }
    if (this.field !== '' || this.fields.length > 0) this.endRecord(out);
    return out;
  }

  private endRecord(out: CsvRecord[]): void {
    this.fields.push(this.field);
    const fields = this.fields;
    this.fields = [];
    this.field = '';
    this.quoted = false;
    this.quoteEnd = false;
    this.sawCr = false;
    if (fields.length === 1 && fields[0] === '') return; // blank line
    out.push({ fields, line: this.recordLine });
  }
}
