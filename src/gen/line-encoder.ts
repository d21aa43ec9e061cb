/**
 * The byte buffer that NDJSON lines are encoded into (see ndjson-lines.ts), handed to the output
 * whole once full: `take` gives it away (a fresh buffer follows: an output stream may still hold the
 * old one), `filled` + `clear` lend it to a synchronous write and reuse it (no fresh pages to fault in).
 */
export class LineEncoder {
  buffer: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  /** The filled bytes, for the caller to write out; encoding goes on in a fresh buffer. */
  take(): Uint8Array {
    const out = this.buffer.subarray(0, this.pos);
    this.buffer = new Uint8Array(this.buffer.length);
    this.pos = 0;
    return out;
  }

  /** The filled bytes, valid until `clear`. */
  filled(): Uint8Array {
    return this.buffer.subarray(0, this.pos);
  }

  clear(): void {
    this.pos = 0;
  }
}
